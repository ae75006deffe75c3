"""The engine announces, it does not call: an outbox of what happened, handed to subscribers after commit.

`record` writes a `BookingEvent` inside the engine's transaction and enqueues `deliver_event` for the task
worker (`cocotte db_worker`): in the same transaction when the tasks live in this database (one commit, not
two), once it commits otherwise. A rolled-back change leaves neither the event nor the task. `deliver` hands the event to every subscriber registered in `hooks`, each claiming its
delivery by inserting a row that a unique constraint allows once: two workers given the same event, or a
sweep running beside the worker, never call a subscriber twice. A subscriber that fails releases its claim
and is retried by the next sweep (`cocotte deliver_events`, also run by the scheduler); a claim left by a
worker that died is released after `STALE_CLAIM`.
"""

import contextlib
import contextvars
import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from cocotte.core import tasking

from . import hooks
from .models import BookingEvent, EventDelivery

logger = logging.getLogger(__name__)

Kind = BookingEvent.Kind

# A subscriber that has not finished after this long is taken for dead (its worker stopped): its claim
# goes, and the next sweep calls it again. Far longer than any e-mail takes to send.
STALE_CLAIM = timedelta(minutes=15)

_muted = contextvars.ContextVar("cocotte_booking_events_muted", default=False)


@contextlib.contextmanager
def muted():
    """Record no event for the changes made inside (demo data, imports): nobody is told of them.

    Participants still run: what they write belongs to the change itself."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def is_muted() -> bool:
    return _muted.get()


def record(kind: str, *, by, bookings=(), **data) -> BookingEvent | None:
    """Record an event of the current transaction (call it inside the change's transaction)."""
    if is_muted():
        return None
    actor = getattr(by, "decided_by", by)  # the system acts for someone: name them
    event = BookingEvent.objects.create(
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        bookings=[b.pk for b in bookings],
        data=data,
    )
    tasking.enqueue_with(BookingEvent, deliver_event, event.pk)
    return event


@task()
def deliver_event(event_id: int) -> int:
    """The task the engine enqueues on commit: hand one event to its subscribers."""
    return deliver(event_id)


def deliver(event_id: int) -> int:
    """Hand the event to each subscriber that has not had it; returns how many were called and succeeded."""
    event = BookingEvent.objects.filter(pk=event_id, delivered_at__isnull=True).first()
    if event is None:
        return 0
    subscribers = hooks.subscribers()
    handled = 0
    for name, subscriber in subscribers.items():
        try:
            with transaction.atomic():
                claim = EventDelivery.objects.create(event=event, subscriber=name)
        except IntegrityError:
            continue  # done already, or being done by another worker
        try:
            subscriber(event)
        except Exception:
            logger.exception(
                "Booking event %s: subscriber %s failed; the next sweep retries it.", event.pk, name
            )
            claim.delete()
            continue
        EventDelivery.objects.filter(pk=claim.pk).update(done_at=timezone.now())
        handled += 1
    done = EventDelivery.objects.filter(
        event=event, done_at__isnull=False, subscriber__in=subscribers
    ).count()
    if done == len(subscribers):
        BookingEvent.objects.filter(pk=event.pk).update(delivered_at=timezone.now())
    return handled


def deliver_pending(*, older_than: timedelta = timedelta(0), limit: int = 1000) -> int:
    """The sweep: deliver the events still undelivered (their task was lost, or a subscriber failed).

    `older_than` leaves the newest to the worker that is about to take them. Returns how many events were
    looked at."""
    now = timezone.now()
    EventDelivery.objects.filter(done_at__isnull=True, claimed_at__lt=now - STALE_CLAIM).delete()
    pending = list(
        BookingEvent.objects.filter(delivered_at__isnull=True, created_at__lte=now - older_than)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    for event_id in pending:
        deliver(event_id)
    return len(pending)
