from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from cocotte.core.models import audit

from . import permissions
from .models import ApiToken, Organisation, Profile, Role, User


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    autocomplete_fields = ["organisation"]


class RoleForm(forms.ModelForm):
    class Meta:
        model = Role
        fields = ["role", "scope_app_label", "scope_id"]

    def clean(self):
        cleaned = super().clean()
        app_label, scope_id = cleaned.get("scope_app_label"), cleaned.get("scope_id")
        if app_label and scope_id is not None:
            if app_label not in permissions.scope_apps():
                self.add_error("scope_app_label", _("Aucune application ne donne de portée sous ce nom."))
            elif not permissions.scope_objects(app_label, [scope_id]).exists():
                self.add_error("scope_id", _("Aucun objet de cette application ne porte cet identifiant."))
        return cleaned


class RoleInline(admin.TabularInline):
    """The person's roles; a site's role takes « spaces » and the site's id (or use the site's page)."""

    model = Role
    form = RoleForm
    fk_name = "user"
    extra = 0
    fields = ["role", "scope_app_label", "scope_id", "granted_by", "granted_at"]
    readonly_fields = ["granted_by", "granted_at"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "profile__status", "roles__role"]
    search_fields = ["email", "first_name", "last_name", "profile__organisation__name", "profile__commune"]
    inlines = [ProfileInline, RoleInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Identité"), {"fields": ("first_name", "last_name")}),
        (_("Droits"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def save_formset(self, request, form, formset, change):
        if formset.model is Role:  # who granted a role, and the audit trail, as permissions.grant_role does
            for role in formset.save(commit=False):
                created = role.pk is None
                if created:
                    role.granted_by = request.user
                role.save()
                scope = [role.scope_app_label, role.scope_id]
                audit(
                    request.user,
                    "role.granted" if created else "role.changed",
                    role.user,
                    role=role.role,
                    scope=scope,
                )
            for role in formset.deleted_objects:
                scope = [role.scope_app_label, role.scope_id]
                audit(request.user, "role.revoked", role.user, role=role.role, scope=scope)
                role.delete()
            return
        super().save_formset(request, form, formset, change)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "siren"]
    search_fields = ["name", "siren"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "hint", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__email", "name"]
    readonly_fields = ["hint", "created_at", "last_used_at"]
    autocomplete_fields = ["user"]

    def has_add_permission(self, request):
        return False  # a token's secret is shown once: create them with `cocotte api_token`
