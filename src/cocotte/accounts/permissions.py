"""Who may do what: the one place where roles are read.

Roles so far: anonymous visitor, member (any active account), staff of a site (`Site.staff`), admin
(superuser). A booking is visible to and changeable by its member, by whoever booked it for them, and by the
staff of its site; staff of another site see only that a slot is taken.
"""


def is_member(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def is_admin(user) -> bool:
    return is_member(user) and user.is_superuser


def staffed_site_ids(user) -> frozenset[int]:
    """Ids of the sites this user manages (all of them for an admin is handled by callers via is_admin)."""
    if not is_member(user):
        return frozenset()
    cached = getattr(user, "_staffed_site_ids", None)
    if cached is None:
        cached = frozenset(user.staffed_sites.values_list("id", flat=True))
        user._staffed_site_ids = cached
    return cached


def is_site_staff(user, site_id: int) -> bool:
    return is_admin(user) or site_id in staffed_site_ids(user)


def is_any_site_staff(user) -> bool:
    return is_admin(user) or bool(staffed_site_ids(user))


def can_manage_booking(user, booking) -> bool:
    """May change (move, cancel) this booking or series: its member, whoever booked it, the site's staff."""
    if not is_member(user):
        return False
    return (
        booking.member_id == user.pk
        or booking.booked_by_id == user.pk
        or is_site_staff(user, booking.resource.site_id)
    )


def can_see_who_booked(user, site_id: int) -> bool:
    """Names behind busy slots are shown to the site's staff only (members see « occupé »)."""
    return is_site_staff(user, site_id)
