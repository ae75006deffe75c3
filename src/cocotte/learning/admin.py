"""Trainings in the Django admin: the team writes its programmes (with their modules) and creates sessions here.

Rows are scoped to the sites the user staffs (an admin sees them all): another site's programme or session does
not exist for them (404), and the site choices offer only theirs. Sittings and enrolments change through the
services only — on the team's page of each session (`/formations/equipe/…`), linked from here — because a
sitting books its room through the engine and an enrolment counts a place under the session's lock. Enrolments
and installments are shown read-only.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cocotte.core.admin import ReadOnlyAdmin

from . import (
    evidence_admin,  # noqa: F401 — attendance, certificates, surveys, complaints, grants
    services,
)
from .admin_scope import SiteScopedMixin
from .models import Enrolment, Installment, Module, Programme, Session


class ModuleInline(admin.TabularInline):
    model = Module
    extra = 1
    fields = ["position", "title", "hours", "objectives"]


@admin.register(Programme)
class ProgrammeAdmin(SiteScopedMixin, admin.ModelAdmin):
    list_display = ["title", "site", "duration_hours", "price_excl_vat", "published"]
    list_filter = ["published", "site"]
    search_fields = ["title"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ModuleInline]
    fieldsets = [
        (None, {"fields": ["site", "title", "slug", "nature", "summary", "published"]}),
        (
            _("Ce que le candidat doit savoir (Qualiopi, indicateur 1)"),
            {
                "fields": [
                    "objectives",
                    "prerequisites",
                    "audience",
                    "duration_hours",
                    "teaching_methods",
                    "assessment_method",
                    "accessibility",
                    "accessibility_contact",
                ]
            },
        ),
        (_("Prix et financement"), {"fields": ["price_excl_vat", "vat_rate", "funding_notes"]}),
        (
            _("Organisme de formation"),
            {"fields": ["provider_name", "provider_declaration", "provider_siret"]},
        ),
        (
            _("Sessions"),
            {"fields": ["min_trainees", "cancel_days_before", "offer_hours", "grants"]},
        ),
    ]

    def has_delete_permission(self, request, obj=None):
        # A programme with sessions is evidence of what was offered (PROTECT would refuse it anyway).
        if obj is not None and obj.sessions.exists():
            return False
        return super().has_delete_permission(request, obj)


class SessionAdminForm(forms.ModelForm):
    class Meta:
        model = Session
        fields = ["programme", "site", "label", "status", "capacity", "enrolment_opens", "enrolment_closes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "status" in self.fields:
            self.fields["status"].choices = [
                c for c in Session.Status.choices if c[0] != Session.Status.CANCELLED
            ]

    def clean(self):
        data = super().clean()
        if self.instance.pk and data.get("capacity") is not None:
            held = services.held(self.instance)
            if data["capacity"] < held:
                raise ValidationError(
                    _(
                        "%(held)s places sont déjà prises ou proposées : la capacité ne peut pas descendre en dessous."
                    )
                    % {"held": held}
                )
        opens, closes = data.get("enrolment_opens"), data.get("enrolment_closes")
        if opens and closes and closes <= opens:
            raise ValidationError(_("La clôture des candidatures doit suivre leur ouverture."))
        return data


@admin.register(Session)
class SessionAdmin(SiteScopedMixin, admin.ModelAdmin):
    form = SessionAdminForm
    list_display = ["__str__", "site", "starts_at", "status", "capacity", "team_page"]
    list_filter = ["status", "site"]
    search_fields = ["label", "programme__title"]
    list_select_related = ["programme", "site"]
    readonly_fields = ["starts_at", "ends_at", "cancelled_at", "cancel_reason", "team_page"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status == Session.Status.CANCELLED:
            fields += ["status", "capacity", "programme", "site"]
        return fields

    @admin.display(description=_("séances et inscriptions"))
    def team_page(self, obj):
        if obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("learning:staff_session", args=[obj.pk]),
            gettext("Page de la session"),
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and {"capacity", "status"} & set(form.changed_data):
            services.promote_waiting(obj)  # a raised capacity, or enrolment opened: offer the places

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.enrolments.exists() or obj.sittings.exists()):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Enrolment)
class EnrolmentAdmin(SiteScopedMixin, ReadOnlyAdmin):
    site_path = "session__site"
    list_display = ["trainee", "session", "status", "funding", "applied_at", "contract_signed_at"]
    list_filter = ["status", "funding"]
    search_fields = ["trainee__email", "trainee__last_name", "session__label"]
    list_select_related = ["trainee", "session__programme"]


@admin.register(Installment)
class InstallmentAdmin(SiteScopedMixin, ReadOnlyAdmin):
    site_path = "enrolment__session__site"
    list_display = ["enrolment", "due_on", "amount_excl_vat", "handed_over_at", "withdrawn_at"]
    list_select_related = ["enrolment__trainee", "enrolment__session__programme"]
