"""The booking engine's writes: the only code that writes bookings, series and blocks.

Every reservation of anything goes through here. Each public function checks permission and rules
(`rules`, no writes), reads what is busy (`schedule`), expands recurrences (`recurrence`, pure), then
changes state in one transaction, writes the audit trail, and records what happened (`events`: the outbox
that e-mails, reminders and other apps subscribe to, run by the task worker after commit). Other apps plug
rules and participants in through `hooks`; the engine never imports them.

Locking protocol (why double booking cannot happen):
- Every write to a resource's schedule runs inside `resource_write_lock`: one transaction that first locks
  the resource rows (`SELECT … FOR UPDATE`, several in the order of their ids, so that two writers taking
  the same rooms never wait for each other in a circle). Writers of one resource queue, and everything is
  then decided from the rows read under the lock — its capacity, its approval rule, what is booked. On
  SQLite, transactions begin IMMEDIATE (settings): one writer at a time, same effect.
- The database holds the rule whatever code writes (see `models`): each live booking holds a place
  1..capacity (a trigger refuses more), and on PostgreSQL an exclusion constraint refuses two overlapping
  live bookings of one place. An exclusive resource has one place.
- One lock per transaction, taken before any read that decides. A refusal raises a `BookingError` and
  leaves the whole transaction to roll back: nothing is half-written.
"""

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cocotte.accounts import permissions
from cocotte.core import intervals
from cocotte.core.models import AuditEntry, audit
from cocotte.core.timeutils import local_date, zone
from cocotte.spaces.models import Resource
from cocotte.spaces.opening import OpeningCalendar

from . import events, hooks, places
from .errors import BookingError, Conflict, DatabaseBusy, Forbidden, InvalidBooking, NotFound
from .models import Block, Booking, BookingEvent, BookingSeries
from .recurrence import Occurrence, expand_rrule
from .rules import (
    System,
    acts_as_staff,
    check_before_deadline,
    check_check_in_window,
    check_may_book_for,
    check_may_manage,
    check_period,
    check_rules,
    initial_status,
    local_label,
    person,
)
from .schedule import Busy, busy_periods, find_conflict

logger = logging.getLogger(__name__)

Status = Booking.Status
Kind = BookingEvent.Kind

# The database constraint and trigger that guard places (migration 0004): their names in an error mean that
# something bypassed the lock, or the places moved under it.
GUARDS = ("bookings_no_overlap", "bookings_place_within_capacity")


# ---------------------------------------------------------------------------------------------------------
# Transactions and locks
# ---------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def write_transaction():
    """One transaction for one change. On SQLite, a writer that waited its whole turn for the database
    lock (settings: 30 s) is told the place is busy, not shown a server error; a write refused by the
    database's guards is said as a conflict."""
    try:
        with transaction.atomic():
            yield
    except OperationalError as error:
        if connection.vendor == "sqlite" and "locked" in str(error):
            raise DatabaseBusy(_("Le service est très sollicité : réessayez dans un instant.")) from error
        raise
    except IntegrityError as error:
        if any(name in str(error) for name in GUARDS):
            raise Conflict(_("Ce créneau vient d’être réservé par quelqu’un d’autre.")) from error
        raise


def _pk(resource: Resource | int) -> int:
    return resource if isinstance(resource, int) else resource.pk


@contextlib.contextmanager
def resources_write_lock(resources):
    """One transaction holding the locks of these resources' rows; yields {pk: Resource read under lock}.
    `resources`: Resource objects or their ids (the API's: no need to read a row before locking it).

    Rows are locked in the order of their ids (one statement), so that two writers never deadlock."""
    with write_transaction():
        # Only the resources' rows (`of=self`): Meta.ordering would join the site and lock it too, queueing
        # every booking of the site behind each other.
        locked = (
            Resource.objects.select_for_update(of=("self",))
            .select_related("site")
            .filter(pk__in={_pk(r) for r in resources})
            .order_by("pk")
        )
        rows = {row.pk: row for row in locked}
        for resource in resources:
            if _pk(resource) not in rows:
                raise NotFound(_("Ressource introuvable."), field="resource")
        yield rows


@contextlib.contextmanager
def resource_write_lock(resource: Resource):
    """One transaction holding the resource row's lock; yields the row as read under the lock."""
    with resources_write_lock([resource]) as rows:
        yield rows[resource.pk]


# ---------------------------------------------------------------------------------------------------------
# Places of pooled spaces
# ---------------------------------------------------------------------------------------------------------


def _holds(resource: Resource, start: datetime, end: datetime, exclude=None) -> list[places.Held]:
    rows = Booking.objects.live().overlapping(start, end).filter(resource=resource)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return [places.Held(pk, s, e, p) for pk, s, e, p in rows.values_list("pk", "start", "end", "place")]


def _cluster(resource: Resource, start: datetime, end: datetime, exclude=None) -> list[places.Held]:
    """The live bookings chained to [start, end) by overlaps: those whose places may have to move."""
    for _round in range(100):
        holds = _holds(resource, start, end, exclude)
        wider = min([start, *(h.start for h in holds)]), max([end, *(h.end for h in holds)])
        if wider == (start, end):
            break
        start, end = wider
    return holds


def _full(resource: Resource) -> Conflict:
    return Conflict(
        _("Toutes les places (%(capacity)s) sont prises sur une partie de ce créneau.")
        % {"capacity": resource.capacity}
    )


def _take_places(resource: Resource, periods: list[tuple[datetime, datetime]], *, exclude=None) -> list[int]:
    """A place for each new live booking of `resource` over `periods`, in order (call under the lock).

    The lowest place free over the whole period; when none is (one place free in the morning, another in
    the afternoon), upcoming bookings move between places so that the new ones fit, as long as no more
    than `capacity` overlap at any instant."""
    if not resource.is_pooled or not periods:
        return [1] * len(periods)
    low, high = min(s for s, _e in periods), max(e for _s, e in periods)
    others = _holds(resource, low, high, exclude)
    taken: list[int] = []
    for index, (start, end) in enumerate(periods):
        place = places.lowest_free(resource.capacity, start, end, others)
        if place is None:
            break
        taken.append(place)
        others.append(places.Held(("new", index), start, end, place))
    else:
        return taken

    cluster = _cluster(resource, low, high, exclude)
    now = timezone.now()
    new = [places.Held(("new", i), s, e, None) for i, (s, e) in enumerate(periods)]
    plan = places.assign(
        resource.capacity, [h for h in cluster if h.end <= now], [h for h in cluster if h.end > now] + new
    )
    if plan is None:
        raise _full(resource)
    _move_places({h.key: plan[h.key] for h in cluster if h.key in plan and plan[h.key] != h.place})
    return [plan[h.key] for h in new]


def _move_places(moves: dict[int, int]) -> None:
    """Give bookings other places, swaps included: PostgreSQL checks the exclusion constraint once they
    are all done (it is deferrable), then at once again for the rest of the transaction."""
    if not moves:
        return
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET CONSTRAINTS bookings_no_overlap DEFERRED")
        for pk, place in moves.items():
            Booking.objects.filter(pk=pk).update(place=place)
        if postgres:
            cursor.execute("SET CONSTRAINTS bookings_no_overlap IMMEDIATE")


# ---------------------------------------------------------------------------------------------------------
# Booking
# ---------------------------------------------------------------------------------------------------------


def _raise_if_conflict(resource, start, end, *, exclude_booking=None, planned=()) -> None:
    busy = busy_periods([resource.pk], start, end, exclude_booking=exclude_booking)[resource.pk]
    if problem := find_conflict(resource, start, end, [*busy, *planned]):
        raise problem


def _audit_many(by, action: str, objects, describe) -> None:
    if not objects:
        return
    content_type = ContentType.objects.get_for_model(objects[0])
    actor = person(by)
    actor = actor if actor is not None and actor.is_authenticated else None
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=actor, action=action, content_type=content_type, object_id=o.pk, data=describe(o)
            )
            for o in objects
        ]
    )


def _system_note(by, *, reason: str | None = None) -> dict:
    """What the audit trail adds when the system acts: on whose decision, and why; with `reason`, the
    change's own reason too (a cancellation's), which the system's fills when it is empty."""
    note = {} if reason is None else {"reason": reason}
    if isinstance(by, System):
        note = {"system": True, "reason": reason or by.reason}
    return note


def check_booking(*, resource: Resource, member, start: datetime, end: datetime, by=None) -> None:
    """Refuse now what `book` would refuse (rules, plugged rules, conflicts), writing nothing: for the step
    where a person chooses before confirming. Not a promise: the slot may be taken before they confirm."""
    by = by or member
    check_may_book_for(by, member, resource)
    check_rules(resource, start, end, by=by)
    hooks.run_rules(hooks.Proposal("book", resource, member, by, start, end))
    _raise_if_conflict(resource, start, end)


def book(
    *,
    resource: Resource | int,
    member,
    start: datetime,
    end: datetime,
    by=None,
    note: str = "",
    held_for: str = "",
) -> Booking:
    """Book [start, end) of a resource for a member. Pending if the resource needs approval."""
    [booking] = book_many([(resource, start, end)], member=member, by=by, note=note, held_for=held_for)
    return booking


def book_many(items, *, member, by=None, note: str = "", held_for: str = "") -> list[Booking]:
    """Book several periods of several resources for one member, all or nothing (a forum's three rooms, a
    training sitting's room and machine). `items`: (resource, start, end) triples. The resources are
    locked together, in a fixed order; any refusal refuses them all, with the refusal of the first.
    A resource may be given by its id: it is read under the lock anyway. `held_for` names the house's
    activity that holds the resources (see `Booking.held_for`): only the site's staff may hold them."""
    by = by or member
    items = list(items)
    if not items:
        raise InvalidBooking(_("Rien à réserver."), code="nothing_to_book")
    for _resource, start, end in items:
        check_period(start, end)
    now = timezone.now()
    with resources_write_lock([resource for resource, _s, _e in items]) as locked:
        bookings: list[Booking] = []
        for resource, start, end in items:
            row = locked[_pk(resource)]
            check_may_book_for(by, member, row)
            if held_for and not acts_as_staff(by, row.site_id):
                raise Forbidden(
                    _("Seule l’équipe du site réserve ses salles pour ses formations et événements.")
                )
            check_rules(row, start, end, by=by, now=now)
            hooks.run_rules(hooks.Proposal("book", row, member, by, start, end))
            planned = [Busy(b.start, b.end, "booking", 0) for b in bookings if b.resource_id == row.pk]
            _raise_if_conflict(row, start, end, planned=planned)
            bookings.append(
                Booking(
                    resource=row,
                    member=member,
                    booked_by=person(by),
                    start=start,
                    end=end,
                    status=initial_status(row, by),
                    note=note,
                    held_for=held_for,
                )
            )
        _place_and_insert(bookings)
        extra = _system_note(by)
        for booking in bookings:
            audit(
                person(by),
                "booking.created",
                booking,
                start=booking.start,
                end=booking.end,
                status=booking.status,
                member=member.pk,
                **extra,
            )
        hooks.run_participants(hooks.Change(Kind.BOOKED, bookings, by))
        events.record(Kind.BOOKED, by=by, bookings=bookings, statuses=[b.status for b in bookings])
    return bookings


def _place_and_insert(bookings: list[Booking]) -> None:
    """Give each new booking its place and insert them (under the lock of their resources)."""
    by_resource: dict[int, list[Booking]] = {}
    for booking in bookings:
        by_resource.setdefault(booking.resource_id, []).append(booking)
    for group in by_resource.values():
        taken = _take_places(group[0].resource, [(b.start, b.end) for b in group])
        for booking, place in zip(group, taken, strict=True):
            booking.place = place
    if len(bookings) == 1:
        bookings[0].save(force_insert=True)
        return
    created = Booking.objects.bulk_create(bookings)
    if not all(b.pk for b in created):  # a backend that does not return ids from bulk inserts
        raise RuntimeError("The database did not return the new bookings' ids.")


# ---------------------------------------------------------------------------------------------------------
# Series
# ---------------------------------------------------------------------------------------------------------


def _plan_series(resource: Resource, occurrences: list[Occurrence], *, by, member) -> list[Occurrence]:
    """Mark each occurrence with what stops it (rules, plugged rules, calendar, existing bookings, earlier
    occurrences)."""
    tz = zone(resource.site.timezone)
    first, last = occurrences[0].start, max(o.end for o in occurrences)
    calendar = OpeningCalendar.for_site(
        resource.site, local_date(first, tz) - timedelta(1), local_date(last, tz)
    )
    busy = busy_periods([resource.pk], first, last)[resource.pk]
    accepted: list[Busy] = []
    for occurrence in occurrences:
        occurrence.problem = None
        try:
            check_rules(resource, occurrence.start, occurrence.end, by=by, calendar=calendar)
            hooks.run_rules(hooks.Proposal("book", resource, member, by, occurrence.start, occurrence.end))
        except BookingError as error:
            occurrence.problem = error
            continue
        occurrence.problem = find_conflict(resource, occurrence.start, occurrence.end, busy + accepted)
        if occurrence.problem is None:
            accepted.append(Busy(occurrence.start, occurrence.end, "booking", 0))
    return occurrences


SINGLE = "FREQ=DAILY;COUNT=1"  # a preview without a rule: the one slot asked


def preview_series(*, resource, member, start, end, rrule: str | None, by=None) -> list[Occurrence]:
    """Each occurrence of the series (without a rule: the one slot) with its conflict, if any, before
    anything is booked."""
    by = by or member
    check_may_book_for(by, member, resource)
    occurrences = expand_rrule(resource, start, end, rrule or SINGLE)
    return _plan_series(resource, occurrences, by=by, member=member)


@dataclass
class SeriesResult:
    series: BookingSeries | None
    bookings: list[Booking]
    occurrences: list[Occurrence]

    @property
    def skipped(self) -> list[Occurrence]:
        return [o for o in self.occurrences if not o.is_free]


def book_series(
    *, resource, member, start, end, rrule: str, by=None, skip_conflicts: bool = False, note: str = ""
) -> SeriesResult:
    """Book every occurrence of a recurring request, or none.

    With `skip_conflicts`, only the free occurrences are booked (at least one must be). Without, any
    occurrence that cannot be booked refuses the whole series; the error's details list them.
    """
    by = by or member
    check_may_book_for(by, member, resource)
    occurrences = expand_rrule(resource, start, end, rrule)
    with resource_write_lock(resource) as row:
        _plan_series(row, occurrences, by=by, member=member)  # under the lock: what was free may be taken now
        refused = [o for o in occurrences if not o.is_free]
        free = [o for o in occurrences if o.is_free]
        if refused and (not skip_conflicts or not free):
            raise Conflict(
                ngettext(
                    "%(n)s occurrence sur %(total)s ne peut pas être réservée.",
                    "%(n)s occurrences sur %(total)s ne peuvent pas être réservées.",
                    len(refused),
                )
                % {"n": len(refused), "total": len(occurrences)},
                code="series_conflict",
                details=[
                    {"start": o.start, "end": o.end, "code": o.problem.code, "detail": o.problem.message}
                    for o in refused
                ],
            )
        series = BookingSeries.objects.create(
            resource=row,
            member=member,
            booked_by=person(by),
            rrule=rrule.strip(),
            first_start=start,
            first_end=end,
            note=note,
        )
        status = initial_status(row, by)
        bookings = [
            Booking(
                resource=row,
                member=member,
                booked_by=person(by),
                series=series,
                start=o.start,
                end=o.end,
                original_start=o.start,
                status=status,
                note=note,
            )
            for o in free
        ]
        _place_and_insert(bookings)
        audit(
            person(by),
            "series.created",
            series,
            rrule=series.rrule,
            booked=len(bookings),
            skipped=len(refused),
            **_system_note(by),
        )
        _audit_many(
            by, "booking.created", bookings, lambda b: {"start": b.start, "end": b.end, "status": b.status}
        )
        hooks.run_participants(hooks.Change(Kind.SERIES_BOOKED, bookings, by, {"series": series.pk}))
        events.record(
            Kind.SERIES_BOOKED,
            by=by,
            bookings=bookings,
            series=series.pk,
            skipped=[(o.start, o.end, o.problem.message) for o in refused],  # one e-mail for the series
        )
    return SeriesResult(series=series, bookings=bookings, occurrences=occurrences)


# ---------------------------------------------------------------------------------------------------------
# Changes
# ---------------------------------------------------------------------------------------------------------


def _locked_booking(booking: Booking) -> Booking:
    """Re-read the booking under lock, inside the caller's transaction: its status may have just changed.

    Only the booking's row is locked (`of=("self",)`): a plain FOR UPDATE over the join would also lock its
    resource and site rows, a second resource lock that deadlocks moves crossing between two resources."""
    return Booking.objects.select_for_update(of=("self",)).select_related("resource__site").get(pk=booking.pk)


def move(
    booking: Booking, *, by, start: datetime, end: datetime, resource: Resource | None = None
) -> Booking:
    """Move a live booking to another period (and possibly another resource of the same site)."""
    target = resource or booking.resource
    check_may_manage(by, booking)
    if target.site_id != booking.resource.site_id and not acts_as_staff(by, target.site_id):
        raise Forbidden(_("Une réservation ne peut être déplacée que vers une ressource du même site."))
    check_period(start, end)
    now = timezone.now()
    with resource_write_lock(target) as row:
        current = _locked_booking(booking)
        if not current.is_live:
            raise InvalidBooking(_("Cette réservation est annulée ou refusée."), code="not_live")
        check_may_manage(by, current)  # who may manage it is read again too: staff may have left the site
        check_before_deadline(by, current, now)
        check_rules(row, start, end, by=by, now=now)
        hooks.run_rules(hooks.Proposal("move", row, current.member, by, start, end, booking=current))
        _raise_if_conflict(row, start, end, exclude_booking=current.pk)
        [current.place] = _take_places(row, [(start, end)], exclude=current.pk)
        before = {"start": current.start, "end": current.end, "resource": current.resource_id}
        current.resource, current.start, current.end = row, start, end
        if current.status == Status.CONFIRMED:
            current.status = initial_status(row, by)  # a move on an approved resource is asked again
        current.reminder_sent_at = None  # a reminder is for a start time: the new one gets its own
        current.save(
            update_fields=["resource", "start", "end", "place", "status", "reminder_sent_at", "updated_at"]
        )
        audit(
            person(by),
            "booking.moved",
            current,
            before=before,
            start=start,
            end=end,
            resource=row.pk,
            status=current.status,
            **_system_note(by),
        )
        hooks.run_participants(hooks.Change(Kind.MOVED, [current], by, {"before": before}))
        events.record(
            Kind.MOVED, by=by, bookings=[current], before=before, by_team=person(by).pk != current.member_id
        )
    return current


def cancel(booking: Booking, *, by, reason: str = "") -> Booking:
    check_may_manage(by, booking)
    now = timezone.now()
    with write_transaction():
        current = _locked_booking(booking)
        if not current.is_live:
            raise InvalidBooking(_("Cette réservation est déjà annulée ou refusée."), code="not_live")
        check_may_manage(by, current)
        check_before_deadline(by, current, now)
        current.status = Status.CANCELLED
        if reason:
            current.staff_reason = reason
        current.save(update_fields=["status", "staff_reason", "updated_at"])
        audit(person(by), "booking.cancelled", current, **_system_note(by, reason=reason))
        hooks.run_participants(hooks.Change(Kind.CANCELLED, [current], by, {"reason": reason}))
        events.record(
            Kind.CANCELLED,
            by=by,
            bookings=[current],
            reason=reason,
            by_team=person(by).pk != current.member_id,
        )
    return current


def check_in(booking: Booking, *, by) -> Booking:
    """Record that the member has arrived: they themselves, or the site's staff for them. Again is a no-op."""
    check_may_manage(by, booking)
    now = timezone.now()
    with write_transaction():
        current = _locked_booking(booking)
        check_may_manage(by, current)
        if current.checked_in_at is not None:
            return current
        check_check_in_window(by, current, now)
        current.checked_in_at = now
        current.checked_in_by = person(by)
        current.save(update_fields=["checked_in_at", "checked_in_by", "updated_at"])
        audit(person(by), "booking.checked_in", current, by_team=person(by).pk != current.member_id)
    return current


@dataclass
class SeriesCancellation:
    cancelled: list[Booking]
    kept: list[tuple[Booking, BookingError]]


def cancel_series(series: BookingSeries, *, by) -> SeriesCancellation:
    """Cancel every upcoming live occurrence that may still be cancelled; say which ones may not."""
    check_may_manage(by, series)
    now = timezone.now()
    result = SeriesCancellation(cancelled=[], kept=[])
    with write_transaction():
        upcoming = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("resource__site")
            .filter(series=series, status__in=Booking.LIVE, start__gt=now)
        )
        for occurrence in upcoming:
            try:
                check_before_deadline(by, occurrence, now)
            except BookingError as error:
                result.kept.append((occurrence, error))
            else:
                result.cancelled.append(occurrence)
        Booking.objects.filter(pk__in=[b.pk for b in result.cancelled]).update(
            status=Status.CANCELLED, updated_at=now
        )
        for occurrence in result.cancelled:
            occurrence.status = Status.CANCELLED
        audit(
            person(by),
            "series.cancelled",
            series,
            cancelled=len(result.cancelled),
            kept=len(result.kept),
            **_system_note(by),
        )
        _audit_many(by, "booking.cancelled", result.cancelled, lambda b: {"series": series.pk})
        hooks.run_participants(
            hooks.Change(Kind.SERIES_CANCELLED, result.cancelled, by, {"series": series.pk})
        )
        events.record(
            Kind.SERIES_CANCELLED,
            by=by,
            bookings=result.cancelled,
            series=series.pk,
            kept=[(b.pk, error.message) for b, error in result.kept],
            by_team=person(by).pk != series.member_id,
        )
    return result


def _decide(booking: Booking, *, by, status: str, reason: str) -> Booking:
    if not acts_as_staff(by, booking.resource.site_id):
        raise Forbidden(_("Seule l’équipe du site valide les demandes."))
    with write_transaction():
        current = _locked_booking(booking)
        if current.status != Status.PENDING:
            raise InvalidBooking(_("Cette demande a déjà été traitée."), code="not_pending")
        current.status = status
        current.staff_reason = reason
        current.save(update_fields=["status", "staff_reason", "updated_at"])
        audit(person(by), f"booking.{status}", current, **_system_note(by, reason=reason))
        kind = Kind.APPROVED if status == Status.CONFIRMED else Kind.REFUSED
        hooks.run_participants(hooks.Change(kind, [current], by, {"reason": reason}))
        events.record(kind, by=by, bookings=[current], status=status)
    return current


def approve(booking: Booking, *, by, reason: str = "") -> Booking:
    return _decide(booking, by=by, status=Status.CONFIRMED, reason=reason)


def refuse(booking: Booking, *, by, reason: str) -> Booking:
    if not reason.strip():
        raise InvalidBooking(
            _("Dites au membre pourquoi sa demande est refusée."), code="reason_required", field="reason"
        )
    return _decide(booking, by=by, status=Status.REFUSED, reason=reason.strip())


# ---------------------------------------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------------------------------------


def block(
    resource: Resource,
    *,
    by,
    start: datetime,
    end: datetime,
    reason: str,
    kind: str = Block.Kind.MAINTENANCE,
    cancel_conflicting: bool = False,
) -> tuple[Block, list[Booking]]:
    """Take a resource out for [start, end). Live bookings in the way refuse the block, or are cancelled
    (with the block's reason) when `cancel_conflicting` is set. Returns the block and the cancelled bookings."""
    if not acts_as_staff(by, resource.site_id):
        raise Forbidden(_("Seule l’équipe du site peut bloquer une ressource."))
    check_period(start, end)
    if not reason.strip():
        raise InvalidBooking(
            _("Indiquez le motif de l’indisponibilité."), code="reason_required", field="reason"
        )
    if kind not in Block.Kind.values:
        raise InvalidBooking(_("Type d’indisponibilité inconnu."), code="invalid_kind", field="kind")
    reason = reason.strip()
    with resource_write_lock(resource) as row:
        in_the_way = list(
            Booking.objects.select_for_update()
            .live()
            .overlapping(start, end)
            .filter(resource=row)
            .order_by("start")
        )
        if in_the_way and not cancel_conflicting:
            tz = zone(row.site.timezone)
            raise Conflict(
                ngettext(
                    "%(n)s réservation occupe cette période.",
                    "%(n)s réservations occupent cette période.",
                    len(in_the_way),
                )
                % {"n": len(in_the_way)},
                details=[
                    {
                        "booking": b.pk,
                        "member": b.member_id,
                        "start": b.start,
                        "end": b.end,
                        "label": local_label(b.start, tz),
                    }
                    for b in in_the_way
                ],
            )
        new_block = Block.objects.create(
            resource=row, start=start, end=end, reason=reason, kind=kind, created_by=person(by)
        )
        Booking.objects.filter(pk__in=[b.pk for b in in_the_way]).update(
            status=Status.CANCELLED, staff_reason=reason, updated_at=timezone.now()
        )
        for booking in in_the_way:
            booking.status = Status.CANCELLED
        audit(
            person(by),
            "block.created",
            new_block,
            start=start,
            end=end,
            reason=reason,
            cancelled=[b.pk for b in in_the_way],
            **_system_note(by),
        )
        _audit_many(by, "booking.cancelled", in_the_way, lambda b: {"reason": reason, "block": new_block.pk})
        hooks.run_participants(hooks.Change(Kind.BLOCKED, in_the_way, by, {"block": new_block.pk}))
        events.record(
            Kind.BLOCKED, by=by, bookings=in_the_way, block=new_block.pk, reason=reason, by_team=True
        )
    return new_block, in_the_way


def unblock(target: Block, *, by) -> None:
    if not acts_as_staff(by, target.resource.site_id):
        raise Forbidden(_("Seule l’équipe du site peut lever une indisponibilité."))
    with write_transaction():
        audit(person(by), "block.deleted", target, start=target.start, end=target.end, reason=target.reason)
        target.delete()


# ---------------------------------------------------------------------------------------------------------
# Resources' capacity
# ---------------------------------------------------------------------------------------------------------


def _capacity_plan(resource: Resource, capacity: int, now: datetime) -> dict[int, int]:
    """The place moves that fit every live booking still to end into `capacity` places; refuses if none."""
    upcoming = list(
        Booking.objects.live()
        .filter(resource=resource, end__gt=now)
        .values_list("pk", "start", "end", "place")
    )
    if not upcoming:
        return {}
    movable = [places.Held(pk, s, e, p) for pk, s, e, p in upcoming]
    earliest = min(h.start for h in movable)
    ended = Booking.objects.live().filter(resource=resource, end__gt=earliest, end__lte=now)
    fixed = [places.Held(pk, s, e, p) for pk, s, e, p in ended.values_list("pk", "start", "end", "place")]
    plan = places.assign(capacity, fixed, movable)
    if plan is None:
        peak = intervals.max_overlap([(h.start, h.end) for h in movable])
        raise InvalidBooking(
            _("%(peak)s réservations à venir se chevauchent : annulez-en avant de réduire la capacité.")
            % {"peak": peak},
            code="capacity_below_peak",
            field="capacity",
        )
    return {h.key: plan[h.key] for h in movable if plan[h.key] != h.place}


def check_capacity(resource: Resource, capacity: int) -> None:
    """Refuse a capacity that the live bookings still to end do not fit in (reads only: for forms)."""
    if capacity < 1:
        raise InvalidBooking(_("Au moins une place."), code="invalid_capacity", field="capacity")
    if capacity < resource.capacity:
        _capacity_plan(resource, capacity, timezone.now())


def change_capacity(resource: Resource, capacity: int, *, by) -> Resource:
    """Set how many bookings a resource takes at once. Lowering it moves upcoming bookings to the places
    that remain, or refuses when more of them overlap than it leaves; past bookings keep theirs (history
    is never rewritten)."""
    if not acts_as_staff(by, resource.site_id):
        raise Forbidden(_("Seule l’équipe du site peut changer la capacité d’une ressource."))
    if capacity < 1:
        raise InvalidBooking(_("Au moins une place."), code="invalid_capacity", field="capacity")
    with resource_write_lock(resource) as row:
        before = row.capacity
        if capacity < before:
            _move_places(_capacity_plan(row, capacity, timezone.now()))
        Resource.objects.filter(pk=row.pk).update(capacity=capacity)
        row.capacity = resource.capacity = capacity
        audit(person(by), "resource.capacity_changed", row, before=before, after=capacity, **_system_note(by))
    return row


# ---------------------------------------------------------------------------------------------------------
# Reading what a user may touch, and bulk history
# ---------------------------------------------------------------------------------------------------------


def get_booking_for(user, pk: int) -> Booking:
    """The booking if this user may manage it; NotFound otherwise (someone else's booking does not exist)."""
    booking = Booking.objects.select_related("resource__site", "member").filter(pk=pk).first()
    if booking is None or not permissions.can_manage_booking(user, booking):
        raise NotFound(_("Réservation introuvable."))
    return booking


def get_series_for(user, pk: int) -> BookingSeries:
    series = BookingSeries.objects.select_related("resource__site").filter(pk=pk).first()
    if series is None or not permissions.can_manage_booking(user, series):
        raise NotFound(_("Série introuvable."))
    return series


def get_block_for(user, pk: int) -> Block:
    block_ = Block.objects.select_related("resource__site").filter(pk=pk).first()
    if block_ is None or not permissions.is_site_staff(user, block_.resource.site_id):
        raise NotFound(_("Indisponibilité introuvable."))
    return block_


def load_history(bookings: list[Booking], *, batch_size: int = 5000) -> int:
    """Insert bookings in bulk, without the rules' checks: for imports of past data and generated data sets.

    The caller vouches that they do not overfill their resources; overlapping bookings of a pooled space
    get distinct places here (the database refuses what does not fit: the place trigger everywhere, the
    exclusion constraint on PostgreSQL). No audit entries and no events: an import is recorded by whoever
    runs it, not per row.
    """
    active: dict[int, list[tuple]] = {}  # resource → (end, place) of live bookings that may still overlap
    for booking in sorted(bookings, key=lambda b: (b.resource_id, b.start)):
        if booking.status not in Booking.LIVE or booking.resource.capacity == 1:
            continue
        held = [(e, p) for e, p in active.get(booking.resource_id, []) if e > booking.start]
        used = {p for _e, p in held}
        booking.place = next(p for p in range(1, len(used) + 2) if p not in used)
        active[booking.resource_id] = [*held, (booking.end, booking.place)]
    for booking in bookings:
        if booking.series_id and booking.original_start is None:
            booking.original_start = booking.start
    created = Booking.objects.bulk_create(bookings, batch_size=batch_size)
    return len(created)
