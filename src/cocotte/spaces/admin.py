from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.utils.translation import gettext_lazy as _

from cocotte.accounts import permissions
from cocotte.accounts.models import Role, User

from .models import Closure, Equipment, Network, OpeningHours, Resource, Site


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0


@admin.register(Network)
class NetworkAdmin(admin.ModelAdmin):
    list_display = ["name", "operator"]
    prepopulated_fields = {"slug": ["name"]}


class SiteForm(forms.ModelForm):
    """The site with its team: whom to give (or take back) the site-staff role over this site."""

    team = forms.ModelMultipleChoiceField(
        User.objects.filter(is_active=True).order_by("email"),
        label=_("équipe"),
        required=False,
        widget=FilteredSelectMultiple(_("équipe"), is_stacked=False),
        help_text=_("Les chargés de mission se donnent depuis la fiche de la personne."),
    )

    class Meta:
        model = Site
        fields = "__all__"  # noqa: DJ007 — the admin decides which fields it shows

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["team"].initial = list(
                Role.objects.filter(
                    role=Role.Name.SITE_STAFF,
                    scope_app_label=permissions.SITE_SCOPE,
                    scope_id=self.instance.pk,
                ).values_list("user_id", flat=True)
            )

    def save_team(self, by):
        """Grant the role to those added, revoke it from those removed (after the site is saved)."""
        site = self.instance
        wanted = {user.pk: user for user in self.cleaned_data["team"]}
        held = {
            role.user_id: role.user
            for role in Role.objects.filter(
                role=Role.Name.SITE_STAFF, scope_app_label=permissions.SITE_SCOPE, scope_id=site.pk
            ).select_related("user")
        }
        for pk, user in held.items():
            if pk not in wanted:
                permissions.revoke_role(user, Role.Name.SITE_STAFF, site, by=by)
        for pk, user in wanted.items():
            if pk not in held:
                permissions.grant_role(user, Role.Name.SITE_STAFF, site, by=by)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    form = SiteForm
    list_display = ["name", "city", "network", "is_active"]
    list_filter = ["network", "is_active"]
    search_fields = ["name", "city"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OpeningHoursInline, ClosureInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        form.save_team(request.user)


@admin.register(Equipment)
class EquipmentAdmin(admin.ModelAdmin):
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "kind", "seats", "capacity", "unit", "requires_approval", "is_active"]
    list_filter = ["site", "kind", "unit", "requires_approval", "is_active"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["equipment"]
    list_select_related = ["site"]
