"""Who may do what: the one place where roles are read.

A *member* is any active account (no role needed). Other roles are rows of `accounts.Role`, each held over
an optional *scope* named by (app label, object id), so that this module never imports the apps it serves:
the staff of a site hold `site_staff` over ("spaces", site id); a project officer (site staff with the
follow-up desk) holds `project_officer` over a site and counts as its staff. An *admin* is a superuser or
holds the unscoped `admin` role; admins pass every check of the helpers below.

`has_role` answers what the table says, nothing more: a role over site A says nothing of site B, an unscoped
role is not a role over every object, and being admin does not make one a juror. The helpers (`is_site_staff`
and friends) decide where an admin is let through.

A person's roles are read in one query, the first time a page asks, and kept on the user object for the
rest of the request; `grant_role` and `revoke_role` keep that cache right.
"""

from collections.abc import Callable, Iterable

from django.db import models

from cocotte.core.models import audit

from .models import Role

SITE_SCOPE = "spaces"  # the app whose objects scope a site's roles; spaces registers its sites below
SITE_STAFF_ROLES = frozenset({Role.Name.SITE_STAFF, Role.Name.PROJECT_OFFICER})

_CACHE = "_cocotte_roles"
_scopes: dict[str, Callable[[], models.QuerySet]] = {}


def register_scope(app_label: str, objects: Callable[[], models.QuerySet]) -> None:
    """An app names the objects its roles are held over (spaces: its sites), from its AppConfig.ready()."""
    _scopes[app_label] = objects


def scope_apps() -> frozenset[str]:
    """The app labels that registered scopes."""
    return frozenset(_scopes)


def scope_objects(app_label: str, ids: Iterable[int]) -> models.QuerySet:
    """The objects behind scope ids of an app that registered its scopes."""
    return _scopes[app_label]().filter(pk__in=list(ids))


def scope_of(obj) -> tuple[str, int]:
    """The (app label, id) naming a model instance as a scope; a ready-made pair is returned as is."""
    if isinstance(obj, tuple):
        return obj
    return obj._meta.app_label, obj.pk


def is_member(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def roles_of(user) -> frozenset[tuple[str, str, int | None]]:
    """(role, scope app label, scope id) of every role the user holds: one query a request, then cached."""
    if not is_member(user):
        return frozenset()
    cached = getattr(user, _CACHE, None)
    if cached is None:
        cached = frozenset(Role.objects.filter(user=user).values_list("role", "scope_app_label", "scope_id"))
        setattr(user, _CACHE, cached)
    return cached


def has_role(user, role: str, scope=None) -> bool:
    """Whether the user holds `role` over `scope` (a model instance or an (app label, id) pair).

    Without a scope: whether they hold the role at all, over any scope or none.
    """
    roles = roles_of(user)
    if scope is None:
        return any(held == role for held, _app, _id in roles)
    return (role, *scope_of(scope)) in roles


def scope_ids(user, roles: Iterable[str], app_label: str) -> frozenset[int]:
    """Ids of the objects of `app_label` over which the user holds any of `roles`."""
    wanted = frozenset(roles)
    return frozenset(i for held, app, i in roles_of(user) if held in wanted and app == app_label)


def grant_role(user, role: str, scope=None, *, by=None) -> Role:
    """Give `user` the role (idempotent); `by` is recorded as who granted it, and in the audit trail."""
    app_label, scope_id = scope_of(scope) if scope is not None else ("", None)
    granted, created = Role.objects.get_or_create(
        user=user, role=role, scope_app_label=app_label, scope_id=scope_id, defaults={"granted_by": by}
    )
    if created and by is not None:
        audit(by, "role.granted", user, role=role, scope=[app_label, scope_id])
    _forget(user)
    return granted


def revoke_role(user, role: str, scope=None, *, by=None) -> bool:
    """Take the role back; whether the user held it. `by` is recorded in the audit trail."""
    app_label, scope_id = scope_of(scope) if scope is not None else ("", None)
    deleted, _ = Role.objects.filter(
        user=user, role=role, scope_app_label=app_label, scope_id=scope_id
    ).delete()
    if deleted and by is not None:
        audit(by, "role.revoked", user, role=role, scope=[app_label, scope_id])
    _forget(user)
    return bool(deleted)


def _forget(user) -> None:
    if hasattr(user, _CACHE):
        delattr(user, _CACHE)


def is_admin(user) -> bool:
    return is_member(user) and (user.is_superuser or has_role(user, Role.Name.ADMIN))


def staffed_site_ids(user) -> frozenset[int]:
    """Ids of the sites this user manages (all of them for an admin is handled by callers via is_admin)."""
    return scope_ids(user, SITE_STAFF_ROLES, SITE_SCOPE)


def is_site_staff(user, site_id: int) -> bool:
    return is_admin(user) or site_id in staffed_site_ids(user)


def is_any_site_staff(user) -> bool:
    return is_admin(user) or bool(staffed_site_ids(user))


def can_manage_booking(user, booking) -> bool:
    """May see and change (move, cancel) this booking or series: its member and the site's current staff.

    Who booked it gives no right of its own: staff who booked for a member lose it when they leave the team.
    """
    if not is_member(user):
        return False
    return booking.member_id == user.pk or is_site_staff(user, booking.resource.site_id)


_admin_apps_for_site_staff: set[str] = set()


def open_admin_to_site_staff(app_label: str) -> None:
    """Let the staff of any site use this app's models in the Django admin (all of Django's model permissions:
    view, add, change, delete), from the app's AppConfig.ready(). Only for an app whose admin scopes its rows
    and choices to the sites (or operators) the user runs, and refuses the rest in its `has_*_permission`:
    the permission opens the door, the app's scoping decides what is behind it (`backends.RoleBackend`)."""
    _admin_apps_for_site_staff.add(app_label)


def site_staff_may_use_admin_of(app_label: str) -> bool:
    return app_label in _admin_apps_for_site_staff


def can_see_who_booked(user, site_id: int) -> bool:
    """Names behind busy slots are shown to the site's staff only (members see « occupé »)."""
    return is_site_staff(user, site_id)
