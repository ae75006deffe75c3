"""Background tasks of the booking engine: the reminder the day before.

At booking time (and on a move) the engine enqueues `send_reminder` to run the day before at 18:00, site
time; the database backend's worker (`cocotte db_worker`) runs it. Deployments without a worker run
`cocotte send_reminders` from cron instead, and the scheduler's sweep (`send_due_reminders`) catches any
whose task was lost. All go through `remind`, which records the sending on the
booking (`reminder_sent_at`) before sending: a reminder is never sent twice, whoever sends it first.
"""

import logging
from datetime import datetime, time, timedelta

from django.utils import timezone
from django_tasks import task

from cocotte.core.timeutils import at_local, local_date, zone

from . import emails
from .models import Booking

logger = logging.getLogger(__name__)

REMINDER_TIME = time(18, 0)  # the day before, site time


def reminder_due(booking: Booking) -> datetime:
    """When the reminder of this booking goes out: the day before its start, at 18:00 in the site's zone."""
    tz = zone(booking.resource.site.timezone)
    return at_local(local_date(booking.start, tz) - timedelta(days=1), REMINDER_TIME, tz)


def remind(booking_id: int, *, expected_start: datetime | None = None) -> bool:
    """Send a booking's reminder if it is still live, still to come, at the expected start, and not reminded
    yet. Returns whether it was sent.

    The sending is claimed first, by one conditional UPDATE: of two senders at once (the worker and the
    command), only one claims it. If sending then fails, the claim is released so a later run can retry.
    """
    now = timezone.now()
    claim = Booking.objects.live().filter(pk=booking_id, reminder_sent_at__isnull=True, start__gt=now)
    if expected_start is not None:
        claim = claim.filter(start=expected_start)  # moved since: that move enqueued its own reminder
    if not claim.update(reminder_sent_at=now):
        return False
    try:
        booking = Booking.objects.select_related("resource__site", "member__profile").get(pk=booking_id)
        emails.send_reminder(booking)
    except Exception:
        Booking.objects.filter(pk=booking_id, reminder_sent_at=now).update(reminder_sent_at=None)
        raise
    return True


@task()
def send_reminder(booking_id: int, expected_start_iso: str) -> bool:
    """The enqueued reminder. A booking moved or cancelled since gets none from here (a move enqueues anew)."""
    return remind(booking_id, expected_start=datetime.fromisoformat(expected_start_iso))


def schedule_reminders(booking_ids) -> int:
    """Enqueue the reminders of these bookings, the day before at 18:00; none if that time has passed (the
    member has just been told). Returns how many were enqueued."""
    backend = send_reminder.get_backend()
    if not backend.supports_defer:  # e.g. the immediate backend: `cocotte send_reminders` does the work
        logger.debug("Task backend %s cannot defer: reminders are left to `send_reminders`.", backend.alias)
        return 0
    now = timezone.now()
    enqueued = 0
    for booking in (
        Booking.objects.live().filter(pk__in=booking_ids, held_for="").select_related("resource__site")
    ):
        due = reminder_due(booking)
        if due <= now:
            continue
        send_reminder.using(run_after=due).enqueue(booking.pk, booking.start.isoformat())
        enqueued += 1
    return enqueued


def due_tomorrow(now: datetime | None = None):
    """Live bookings starting tomorrow (in their site's zone) whose reminder has not gone out."""
    now = now or timezone.now()
    # Tomorrow ends within 49 hours from now in any zone (a 25-hour day included); then filter by site zone.
    candidates = (
        Booking.objects.live()
        .filter(
            reminder_sent_at__isnull=True, held_for="", start__gt=now, start__lt=now + timedelta(hours=50)
        )
        .select_related("resource__site")
        .order_by("start", "pk")
    )
    for booking in candidates:
        tz = zone(booking.resource.site.timezone)
        if local_date(booking.start, tz) == local_date(now, tz) + timedelta(days=1):
            yield booking


def send_due_reminders(now: datetime | None = None) -> int:
    """The scheduler's sweep: send the reminders whose time (the day before, 18:00) has come and that have
    not gone out — their task was lost, or the booking was made after 18:00 the day before. Returns how many
    were sent; one failure does not stop the others (it is logged, and the next sweep tries again)."""
    now = now or timezone.now()
    candidates = (
        Booking.objects.live()
        .filter(reminder_sent_at__isnull=True, start__gt=now, start__lt=now + timedelta(days=2))
        .select_related("resource__site")
    )
    sent = 0
    for booking in candidates:
        if reminder_due(booking) > now or booking.created_at > reminder_due(booking):
            continue  # not yet; or booked after the reminder's time: the confirmation just told them
        try:
            sent += remind(booking.pk, expected_start=booking.start)
        except Exception:
            logger.exception("Reminder of booking %s failed; the next sweep tries again.", booking.pk)
    return sent
