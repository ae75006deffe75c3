"""Roles: who holds what over which site, read in one query, given and taken back by the team."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from cocotte.accounts import permissions
from cocotte.accounts.models import ApiToken, Role, User
from cocotte.core.models import AuditEntry
from cocotte.spaces.models import Site

pytestmark = pytest.mark.django_db

STAFF = Role.Name.SITE_STAFF


def fresh(user):
    """The same person as a new request sees them (no cached roles)."""
    return User.objects.get(pk=user.pk)


def test_staff_of_one_site_is_not_staff_of_another(sophie, site, other_site):
    assert permissions.has_role(sophie, STAFF, scope=site)
    assert not permissions.has_role(sophie, STAFF, scope=other_site)
    assert permissions.is_site_staff(sophie, site.pk)
    assert not permissions.is_site_staff(sophie, other_site.pk)
    assert permissions.staffed_site_ids(sophie) == {site.pk}


def test_a_role_over_a_site_is_not_a_role_over_another_apps_object_with_the_same_id(sophie, site):
    assert permissions.has_role(sophie, STAFF, scope=("spaces", site.pk))
    assert not permissions.has_role(sophie, STAFF, scope=("contest", site.pk))


def test_an_unscoped_role_is_not_a_role_over_every_object(make_user, site):
    trainer = make_user("t@example.org")
    permissions.grant_role(trainer, Role.Name.TRAINER)
    assert permissions.has_role(trainer, Role.Name.TRAINER)
    assert not permissions.has_role(trainer, Role.Name.TRAINER, scope=site)


def test_a_revoked_role_no_longer_counts_for_the_cached_user_nor_for_the_next_request(sophie, site):
    assert permissions.is_site_staff(sophie, site.pk)  # cached on the object now
    assert permissions.revoke_role(sophie, STAFF, site)
    assert not permissions.is_site_staff(sophie, site.pk)
    assert not permissions.is_any_site_staff(fresh(sophie))
    assert not permissions.revoke_role(sophie, STAFF, site)  # nothing left to take back


def test_a_project_officer_is_staff_of_their_site(make_user, site, other_site):
    officer = make_user("officer@example.org")
    permissions.grant_role(officer, Role.Name.PROJECT_OFFICER, site)
    assert permissions.is_site_staff(officer, site.pk)
    assert not permissions.is_site_staff(officer, other_site.pk)
    assert list(site.team()) == [officer]


def test_an_admin_is_a_superuser_or_holds_the_admin_role(root, alice, site):
    assert permissions.is_admin(root) and permissions.is_site_staff(root, site.pk)
    assert not permissions.is_admin(alice)
    permissions.grant_role(alice, Role.Name.ADMIN)
    assert permissions.is_admin(fresh(alice))
    assert permissions.is_site_staff(fresh(alice), site.pk)
    assert not permissions.has_role(fresh(alice), Role.Name.JUROR)  # admin passes checks, holds no other role


def test_an_inactive_account_holds_no_role(sophie, site):
    sophie.is_active = False
    sophie.save()
    assert not permissions.is_site_staff(fresh(sophie), site.pk)


def test_roles_are_read_in_one_query_per_request(sophie, site, other_site):
    user = fresh(sophie)
    with CaptureQueriesContext(connection) as queries:
        permissions.is_admin(user)
        permissions.is_site_staff(user, site.pk)
        permissions.is_site_staff(user, other_site.pk)
        permissions.is_any_site_staff(user)
        permissions.has_role(user, Role.Name.JUROR)
    assert len(queries) == 1


def test_granting_twice_keeps_one_role(alice, site):
    permissions.grant_role(alice, STAFF, site)
    permissions.grant_role(alice, STAFF, site)
    permissions.grant_role(alice, Role.Name.OBSERVER)
    permissions.grant_role(alice, Role.Name.OBSERVER)
    assert Role.objects.filter(user=alice).count() == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"role": Role.Name.OBSERVER},  # unscoped, twice
        {"role": STAFF, "scope_app_label": "spaces", "scope_id": 1},  # scoped, twice
    ],
)
def test_the_database_refuses_the_same_role_twice(alice, fields):
    Role.objects.create(user=alice, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Role.objects.create(user=alice, **fields)


@pytest.mark.parametrize("fields", [{"scope_app_label": "spaces"}, {"scope_id": 3}])
def test_the_database_refuses_half_a_scope(alice, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Role.objects.create(user=alice, role=Role.Name.TRAINER, **fields)


def test_site_staff_needs_a_site_and_admin_takes_none(alice):
    with pytest.raises(ValidationError):
        Role(user=alice, role=STAFF).full_clean()
    with pytest.raises(ValidationError):
        Role(user=alice, role=Role.Name.ADMIN, scope_app_label="spaces", scope_id=1).full_clean()
    Role(user=alice, role=STAFF, scope_app_label="spaces", scope_id=1).full_clean()


def test_me_lists_the_sites_a_person_is_staff_of(client, sophie, make_user, site, other_site):
    officer = make_user("officer@example.org")
    permissions.grant_role(officer, Role.Name.PROJECT_OFFICER, other_site)
    permissions.grant_role(officer, STAFF, site)
    _token, raw = ApiToken.issue(officer)
    answer = client.get("/api/v1/me", headers={"authorization": f"Bearer {raw}"})
    assert answer.json()["staff_of"] == ["allanche", "murat"]


def site_form_data(site, team):
    data = {k: v for k, v in model_to_dict(site).items() if v is not None}
    data["team"] = [u.pk for u in team]
    for prefix in ("opening_hours", "closures", "photos"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return data


def test_the_site_admin_page_gives_and_takes_back_the_staff_role(client, root, sophie, alice, site):
    client.force_login(root)
    page = client.get(f"/admin/spaces/site/{site.pk}/change/")
    assert page.status_code == 200
    assert page.context["adminform"].form["team"].initial == [sophie.pk]
    answer = client.post(f"/admin/spaces/site/{site.pk}/change/", site_form_data(site, [alice]))
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    assert list(site.team()) == [alice]
    assert Role.objects.get(user=alice).granted_by == root
    assert not permissions.is_site_staff(fresh(sophie), site.pk)
    trail = AuditEntry.objects.filter(actor=root).order_by("pk")
    assert [(e.action, e.object_id, e.data["scope"]) for e in trail] == [
        ("role.revoked", sophie.pk, ["spaces", site.pk]),
        ("role.granted", alice.pk, ["spaces", site.pk]),
    ]


def user_form_data(page, **changes):
    """What the admin's user page would post back, unchanged but for `changes`."""
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data = {k: v for k, v in data.items() if k not in ("password", "last_login", "date_joined")}
    data.update(last_login_0="", last_login_1="", date_joined_0="2026-01-01", date_joined_1="10:00:00")
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
        for inline in formset.formset.forms:
            data.update({inline.add_prefix(k): v for k, v in inline.initial.items() if v is not None})
            if inline.instance.pk:
                data[inline.add_prefix("id")] = inline.instance.pk
                data[inline.add_prefix(formset.formset.fk.name)] = inline.instance.user_id
    data.update(changes)
    return data


def test_the_user_admin_page_grants_and_revokes_roles(client, root, sophie, site, other_site):
    client.force_login(root)
    url = f"/admin/accounts/user/{sophie.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert client.get("/admin/accounts/user/?roles__role=site_staff").status_code == 200
    data = user_form_data(
        page,
        **{
            "roles-TOTAL_FORMS": 2,
            "roles-1-role": Role.Name.PROJECT_OFFICER,
            "roles-1-scope_app_label": "spaces",
            "roles-1-scope_id": other_site.pk,
            "roles-0-DELETE": "on",
        },
    )
    answer = client.post(url, data)
    assert answer.status_code == 302, [f.errors for f in answer.context["inline_admin_formsets"][1].formset]
    assert set(Role.objects.filter(user=sophie).values_list("role", "scope_id", "granted_by")) == {
        (Role.Name.PROJECT_OFFICER, other_site.pk, root.pk)
    }
    actions = set(AuditEntry.objects.filter(actor=root, object_id=sophie.pk).values_list("action", flat=True))
    assert actions == {"role.granted", "role.revoked"}


@pytest.mark.parametrize(
    ("scope", "error"),
    [
        ({}, "Ce rôle se donne pour un site"),
        ({"scope_app_label": "spaces", "scope_id": 999999}, "Aucun objet de cette application"),
        ({"scope_app_label": "nowhere", "scope_id": 1}, "Aucune application ne donne de portée"),
    ],
)
def test_the_user_admin_page_refuses_a_site_role_without_a_real_site(client, root, alice, scope, error):
    client.force_login(root)
    url = f"/admin/accounts/user/{alice.pk}/change/"
    fields = {"roles-TOTAL_FORMS": 1, "roles-0-role": STAFF, **{f"roles-0-{k}": v for k, v in scope.items()}}
    answer = client.post(url, user_form_data(client.get(url), **fields))
    assert answer.status_code == 200
    assert error in answer.content.decode()
    assert not Role.objects.filter(user=alice).exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_each_site_staff_member_a_site_staff_role():
    before = [("spaces", "0001_initial"), ("accounts", "0002_role")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    OldUser, OldSite = old.get_model("accounts", "User"), old.get_model("spaces", "Site")
    network = old.get_model("spaces", "Network").objects.create(name="HT", slug="ht")
    murat, allanche = (
        OldSite.objects.create(
            network=network, slug=slug, name=slug, street="x", postal_code="15300", city="x"
        )
        for slug in ("murat", "allanche")
    )
    marc, sophie, alice = (
        OldUser.objects.create(email=f"{n}@example.org") for n in ("marc", "sophie", "alice")
    )
    murat.staff.add(marc, sophie)
    allanche.staff.add(sophie)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert set(Role.objects.values_list("user__email", "role", "scope_app_label", "scope_id")) == {
        ("marc@example.org", STAFF, "spaces", murat.pk),
        ("sophie@example.org", STAFF, "spaces", murat.pk),
        ("sophie@example.org", STAFF, "spaces", allanche.pk),
    }
    assert permissions.staffed_site_ids(User.objects.get(pk=sophie.pk)) == {murat.pk, allanche.pk}
    assert not permissions.is_any_site_staff(User.objects.get(pk=alice.pk))
    assert set(Site.objects.get(pk=murat.pk).team().values_list("email", flat=True)) == {
        "marc@example.org",
        "sophie@example.org",
    }
