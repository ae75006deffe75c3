"""Django permissions that follow Cocotte's roles, so that the staff of a site need no hand-made group.

Django's admin asks `user.has_perm("billing.view_plan")`; this backend answers yes for the staff of any site
where the app opened its admin to them (`permissions.open_admin_to_site_staff`), and the app's admin then shows
only the rows of the sites they run. Losing the role closes the door at the next request. Admins hold every
permission already (superusers) or through `ModelBackend`'s groups.
"""

from django.contrib.auth.backends import BaseBackend

from . import permissions


class RoleBackend(BaseBackend):
    def has_perm(self, user_obj, perm, obj=None):
        app_label, _dot, _codename = perm.partition(".")
        return self.has_module_perms(user_obj, app_label)

    def has_module_perms(self, user_obj, app_label):
        return (
            permissions.site_staff_may_use_admin_of(app_label)
            and permissions.is_member(user_obj)
            and user_obj.is_staff
            and permissions.is_any_site_staff(user_obj)
        )
