"""The back office of evidence: read-mostly. Marks and sheets change through the services (their hash),
certificates never change, and a qualification grant is never deleted (no delete permission, anywhere)."""

from django.contrib import admin
from django.http import Http404
from django.utils.translation import gettext

from cocotte.accounts import permissions
from cocotte.core.admin import ReadOnlyAdmin

from . import complaints
from .admin_scope import SiteScopedMixin
from .models import Certificate, Complaint, Grant, Mark, Qualification, Sheet, SurveyResponse


class MarkInline(admin.TabularInline):
    model = Mark
    extra = 0
    can_delete = False
    fields = ("enrolment", "state", "reason", "method", "signed_name", "signed_at", "signed_by")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Sheet)
class SheetAdmin(SiteScopedMixin, ReadOnlyAdmin):
    site_path = "sitting__session__site"
    list_display = ("__str__", "start", "end", "locked_at")
    list_filter = ("half",)
    date_hierarchy = "start"
    inlines = [MarkInline]
    readonly_fields = ("content_hash",)


@admin.register(Certificate)
class CertificateAdmin(SiteScopedMixin, ReadOnlyAdmin):
    site_path = "enrolment__session__site"
    list_display = ("number", "kind", "enrolment", "hours_attended", "issued_at")
    list_filter = ("kind",)
    search_fields = ("number", "enrolment__trainee__email", "enrolment__trainee__last_name")


@admin.register(SurveyResponse)
class SurveyResponseAdmin(SiteScopedMixin, ReadOnlyAdmin):
    site_path = "enrolment__session__site"
    list_display = ("enrolment", "kind", "overall", "submitted_at")
    list_filter = ("kind", "overall")


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    """Scoped as the register is (`complaints.visible_to`, `may_handle`)."""

    list_display = ("subject", "author_name", "status", "received_at")
    list_filter = ("status",)
    search_fields = ("subject", "author_name", "author_email")
    readonly_fields = ("author", "author_name", "author_email", "received_at", "subject", "description")

    def get_queryset(self, request):
        return complaints.visible_to(request.user).select_related("session", "programme")

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(gettext("Introuvable."))
        return obj

    def has_view_permission(self, request, obj=None):
        allowed = obj is None or complaints.may_handle(request.user, obj)
        return allowed and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        allowed = obj is None or complaints.may_handle(request.user, obj)
        return allowed and super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return False  # filed from the public page, acknowledged by e-mail

    def has_delete_permission(self, request, obj=None):
        return False  # the register keeps every complaint


@admin.register(Qualification)
class QualificationAdmin(admin.ModelAdmin):
    """Defined once for the network: the team reads them, admins write them."""

    list_display = ("name", "valid_for_months")
    prepopulated_fields = {"slug": ("name",)}

    def has_add_permission(self, request):
        return permissions.is_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.is_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Grant)
class GrantAdmin(SiteScopedMixin, admin.ModelAdmin):
    """Grants by hand go through the service (who may grant, the audit); here they are read and their status
    changed, never deleted."""

    list_display = (
        "qualification",
        "holder",
        "status",
        "granted_on",
        "valid_until",
        "granted_by",
        "enrolment",
    )
    list_filter = ("status", "qualification")
    search_fields = ("holder__email", "holder__last_name")
    readonly_fields = ("qualification", "holder", "granted_by", "enrolment", "site", "granted_on")
    fields = (*readonly_fields, "valid_until", "status", "status_reason")
    actions = None

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from django.utils import timezone

        from cocotte.core.models import audit

        if "status" in form.changed_data:
            obj.status_changed_at = timezone.now()
        super().save_model(request, obj, form, change)
        audit(request.user, "learning.grant.changed", obj, fields=list(form.changed_data))
