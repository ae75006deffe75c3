"""Every person in a site's team (the `Site.staff` table) becomes a `site_staff` role over ("spaces", site id)."""

from django.db import migrations

SITE_SCOPE = "spaces"
SITE_STAFF = "site_staff"


def staff_to_roles(apps, schema_editor):
    Site = apps.get_model("spaces", "Site")
    Role = apps.get_model("accounts", "Role")
    held = set(
        Role.objects.filter(role=SITE_STAFF, scope_app_label=SITE_SCOPE).values_list("user_id", "scope_id")
    )
    Role.objects.bulk_create(
        Role(user_id=user_id, role=SITE_STAFF, scope_app_label=SITE_SCOPE, scope_id=site_id)
        for site_id, user_id in Site.staff.through.objects.values_list("site_id", "user_id").order_by("pk")
        if (user_id, site_id) not in held
    )


def roles_to_staff(apps, schema_editor):
    Site = apps.get_model("spaces", "Site")
    Role = apps.get_model("accounts", "Role")
    sites = list(Site.objects.values_list("pk", flat=True))
    pairs = set(
        Role.objects.filter(
            role__in=[SITE_STAFF, "project_officer"], scope_app_label=SITE_SCOPE, scope_id__in=sites
        ).values_list("user_id", "scope_id")
    )
    Site.staff.through.objects.bulk_create(
        Site.staff.through(site_id=site_id, user_id=user_id) for user_id, site_id in sorted(pairs)
    )


class Migration(migrations.Migration):

    dependencies = [
        ('spaces', '0001_initial'),
        ('accounts', '0002_role'),
    ]

    operations = [
        migrations.RunPython(staff_to_roles, roles_to_staff),
    ]
