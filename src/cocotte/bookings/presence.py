"""Who works at a site on a day, from the workspace bookings and their check-ins (SEAMS: booking check-in).

The directory's « who's in today » and the presence statement for a teleworker's employer read these. Each
function is one query that returns plain dicts; days are the site's local days.
"""

from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import timezone

from cocotte.core.timeutils import day_bounds, zone
from cocotte.spaces.models import Resource, Site

from .models import Booking

# Where one works for the day: a desk, a place of the open space, a private office (not a meeting room).
WORKSPACE_KINDS = (Resource.Kind.DESK, Resource.Kind.OPEN_SPACE, Resource.Kind.OFFICE)


def _workspace_bookings(site: Site, start: datetime, end: datetime) -> QuerySet:
    return (
        Booking.objects.filter(
            resource__site=site,
            resource__kind__in=WORKSPACE_KINDS,
            status=Booking.Status.CONFIRMED,
            held_for="",
        )
        .overlapping(start, end)
        .order_by("start", "pk")
    )


def _row(booking: dict) -> dict:
    return {
        "start": booking["start"],
        "end": booking["end"],
        "resource_name": booking["resource__name"],
        "checked_in_at": booking["checked_in_at"],
    }


def expected_on(site: Site, day: date) -> list[dict]:
    """One entry per member with a confirmed workspace booking at the site on `day`, in order of arrival:
    `member_id`, `start` and `end` (first arrival, last departure), `resource_name` (of the first booking),
    `checked_in_at` (the first check-in of the day, or None)."""
    start, end = day_bounds(day, zone(site.timezone))
    members: dict[int, dict] = {}
    for booking in _workspace_bookings(site, start, end).values(
        "member_id", "start", "end", "resource__name", "checked_in_at"
    ):
        entry = members.get(booking["member_id"])
        if entry is None:
            members[booking["member_id"]] = {"member_id": booking["member_id"], **_row(booking)}
            continue
        entry["end"] = max(entry["end"], booking["end"])
        if booking["checked_in_at"] and (
            entry["checked_in_at"] is None or booking["checked_in_at"] < entry["checked_in_at"]
        ):
            entry["checked_in_at"] = booking["checked_in_at"]
    return list(members.values())


def _member_bookings(member, site: Site, first_day: date, last_day: date):
    """(local day, booking as a dict) of the member's confirmed workspace bookings starting in the period."""
    tz = zone(site.timezone)
    start, _ = day_bounds(first_day, tz)
    _, end = day_bounds(last_day, tz)
    rows = (
        _workspace_bookings(site, start, end)
        .filter(member=member)
        .values("start", "end", "resource__name", "checked_in_at")
    )
    for booking in rows:
        day = booking["start"].astimezone(tz).date()
        if first_day <= day <= last_day:
            yield day, booking


def days_worked(member, site: Site, first_day: date, last_day: date) -> list[dict]:
    """The local days of [first_day, last_day] on which the member arrived (a checked-in workspace booking):
    `day`, `start` (first arrival), `end` (last departure), `resource_name`, `checked_in_at`."""
    days: dict[date, dict] = {}
    for day, booking in _member_bookings(member, site, first_day, last_day):
        if booking["checked_in_at"] is None:
            continue
        entry = days.get(day)
        if entry is None:
            days[day] = {"day": day, **_row(booking)}
        else:
            entry["end"] = max(entry["end"], booking["end"])
    return [days[day] for day in sorted(days)]


def days_booked_not_checked_in(member, site: Site, first_day: date, last_day: date) -> list[date]:
    """Days with a confirmed workspace booking, already begun, and no arrival recorded (not on a statement)."""
    now = timezone.now()
    worked, missed = set(), set()
    for day, booking in _member_bookings(member, site, first_day, last_day):
        if booking["checked_in_at"] is not None:
            worked.add(day)
        elif booking["start"] <= now:
            missed.add(day)
    return sorted(missed - worked)
