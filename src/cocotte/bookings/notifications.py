"""The engine's own subscribers: e-mails to members, reminders, and the team told of requests to answer.

Registered in `BookingsConfig.ready()`; the task worker calls them after commit with a `BookingEvent`
(see `events`). They only read what was committed and send: the engine never imports this module.
"""

from datetime import datetime

from . import emails, tasks
from .models import Booking, BookingEvent

Kind = BookingEvent.Kind


def _instant(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def email_members(event: BookingEvent) -> None:
    data, pks = event.data, event.bookings
    if event.kind == Kind.BOOKED:
        for pk, status in zip(pks, data["statuses"], strict=True):
            emails.on_booked(pk, status)
    elif event.kind == Kind.SERIES_BOOKED:
        skipped = [(_instant(s), _instant(e), reason) for s, e, reason in data["skipped"]]
        emails.on_series_booked(data["series"], pks, skipped)
    elif event.kind == Kind.MOVED:
        before = data["before"]
        emails.on_moved(
            pks[0],
            _instant(before["start"]),
            _instant(before["end"]),
            before["resource"],
            by_team=data["by_team"],
        )
    elif event.kind in (Kind.CANCELLED, Kind.BLOCKED):
        for pk in pks:
            emails.on_cancelled(pk, reason=data.get("reason", ""), by_team=data["by_team"])
    elif event.kind == Kind.SERIES_CANCELLED:
        emails.on_series_cancelled(data["series"], pks, data["kept"], by_team=data["by_team"])
    elif event.kind in (Kind.APPROVED, Kind.REFUSED):
        emails.on_decided(pks[0], data["status"])


def schedule_reminders(event: BookingEvent) -> None:
    """New start times get their reminder (a moved booking's old one finds the start changed and stays quiet)."""
    if event.kind in (Kind.BOOKED, Kind.SERIES_BOOKED, Kind.MOVED):
        tasks.schedule_reminders(event.bookings)


def tell_the_team(event: BookingEvent) -> None:
    """A request that needs approval: each of the site's staff is e-mailed once, for the first of a series."""
    if event.kind not in (Kind.BOOKED, Kind.SERIES_BOOKED, Kind.MOVED):
        return
    pending = list(
        Booking.objects.filter(pk__in=event.bookings, status=Booking.Status.PENDING)
        .select_related("resource__site", "member")
        .order_by("start")
    )
    if not pending:
        return
    first, site = pending[0], pending[0].resource.site
    staff = site.team().filter(is_active=True).select_related("profile")
    for person in staff:
        if person.pk != first.member_id:
            emails.send_request_to_review(first, person, occurrences=len(pending))
