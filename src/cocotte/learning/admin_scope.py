"""The admin's scope for trainings: the staff of a site see its rows (an admin sees them all), through
`accounts.backends.RoleBackend`'s permissions; another site's row does not exist for them (404), and the
choices of sites and programmes offer only theirs."""

from django.http import Http404
from django.utils.translation import gettext

from cocotte.accounts import permissions
from cocotte.spaces.models import Site

from .models import Programme


class SiteScopedMixin:
    """Rows of the sites the user staffs; `site_path` says how a row reaches its site."""

    site_path = "site"

    def _site_ids(self, request):
        return None if permissions.is_admin(request.user) else permissions.staffed_site_ids(request.user)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        ids = self._site_ids(request)
        return queryset if ids is None else queryset.filter(**{f"{self.site_path}__in": ids})

    def _in_scope(self, request, obj=None) -> bool:
        ids = self._site_ids(request)
        if ids is None:
            return True
        if obj is None:
            return bool(ids)
        value = obj
        for part in self.site_path.split("__"):
            value = getattr(value, f"{part}_id") if part == "site" else getattr(value, part)
        return value in ids

    def has_view_permission(self, request, obj=None):
        return self._in_scope(request, obj) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return self._in_scope(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._in_scope(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._in_scope(request, obj) and super().has_delete_permission(request, obj)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(gettext("Introuvable."))
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        ids = self._site_ids(request)
        if db_field.related_model is Site and ids is not None:
            kwargs["queryset"] = Site.objects.filter(pk__in=ids).order_by("name")
        if db_field.related_model is Programme and ids is not None:
            kwargs["queryset"] = Programme.objects.filter(site_id__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
