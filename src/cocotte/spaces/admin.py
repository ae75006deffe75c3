from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.utils.translation import gettext_lazy as _

from cocotte.accounts import permissions
from cocotte.accounts.models import Role, User

from . import photos
from .models import Closure, Equipment, Network, OpeningHours, Resource, Site, SitePhoto


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0


class SitePhotoForm(forms.ModelForm):
    """An uploaded photo is checked and resized before it is stored (spaces.photos)."""

    class Meta:
        model = SitePhoto
        fields = ["image", "alt_text", "alt_text_en", "position"]

    def clean_image(self):
        image = self.cleaned_data["image"]
        if image and "image" in self.changed_data:
            self._versions = photos.resized(image)
        return image

    def save(self, commit=True):
        photo = super().save(commit=False)
        if versions := getattr(self, "_versions", None):
            large, thumbnail = versions
            photo.image.save(large.name, large, save=False)
            photo.thumbnail.save(thumbnail.name, thumbnail, save=False)
        if commit:
            photo.save()
        return photo


class SitePhotoInline(admin.StackedInline):
    model = SitePhoto
    form = SitePhotoForm
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
    inlines = [OpeningHoursInline, ClosureInline, SitePhotoInline]
    fieldsets = [
        (None, {"fields": ["network", "name", "slug", "is_active", "opened_on", "team"]}),
        (
            _("Page publique"),
            {
                "description": _(
                    "Ce que lit un visiteur. Écrivez en français ; la version anglaise, si elle est vide, "
                    "affiche le français."
                ),
                "fields": [
                    ("description", "description_en"),
                    ("audience", "audience_en"),
                    ("extra_services", "extra_services_en"),
                    ("directions", "directions_en"),
                ],
            },
        ),
        (
            _("Adresse et contact"),
            {
                "fields": [
                    "street",
                    ("postal_code", "city"),
                    ("latitude", "longitude"),
                    ("email", "phone"),
                    ("contact_name", "contact_role", "contact_role_en"),
                ]
            },
        ),
        (
            _("Calendrier"),
            {"fields": ["timezone", "half_day_split", "closed_on_public_holidays", "holiday_subdivision"]},
        ),
    ]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        form.save_team(request.user)


@admin.register(Equipment)
class EquipmentAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en"]
    search_fields = ["name", "name_en"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "kind", "seats", "capacity", "unit", "requires_approval", "is_active"]
    list_filter = ["site", "kind", "unit", "requires_approval", "is_active"]
    search_fields = ["name", "name_en", "description"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["equipment"]
    list_select_related = ["site"]
