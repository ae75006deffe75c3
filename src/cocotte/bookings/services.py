"""The booking engine's writes: the only code that writes bookings, series and blocks.

Every reservation of anything goes through here. Each public function checks permission and rules
(`rules`, no writes), reads what is busy (`schedule`), expands recurrences (`recurrence`, pure), then
changes state in one transaction and writes the audit trail.

Locking protocol (why double booking cannot happen):
- Every write to a resource's schedule runs inside `resource_write_lock(resource)`: one transaction that
  first locks the resource row (`SELECT … FOR UPDATE` on PostgreSQL). Writers of one resource therefore
  queue, and the conflict check that follows sees every committed booking. On SQLite, transactions begin
  IMMEDIATE (settings), so the whole database has one writer at a time: same effect.
- On PostgreSQL an exclusion constraint also refuses overlapping live bookings of an exclusive resource at
  the database, whatever code path writes them. A pooled space (capacity > 1) is guarded by the lock alone:
  the constraint cannot count.
- One lock per transaction, taken before any read that decides.
"""

import contextlib
import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cocotte.accounts import permissions
from cocotte.core.models import AuditEntry, audit
from cocotte.core.timeutils import local_date, zone
from cocotte.spaces.models import Resource
from cocotte.spaces.opening import OpeningCalendar

from . import emails, tasks
from .errors import BookingError, Conflict, DatabaseBusy, Forbidden, InvalidBooking, NotFound
from .models import Block, Booking, BookingSeries
from .recurrence import Occurrence, expand_rrule
from .rules import (
    check_before_deadline,
    check_may_book_for,
    check_may_manage,
    check_period,
    check_rules,
    initial_status,
    local_label,
)
from .schedule import Busy, busy_periods, find_conflict

logger = logging.getLogger(__name__)

Status = Booking.Status
Unit = Resource.Unit


@contextlib.contextmanager
def write_transaction():
    """One transaction for one change. On SQLite, a writer that waited its whole turn for the database
    lock (settings: 30 s) is told the place is busy, not shown a server error."""
    try:
        with transaction.atomic():
            yield
    except OperationalError as error:
        if connection.vendor == "sqlite" and "locked" in str(error):
            raise DatabaseBusy(_("Le service est très sollicité : réessayez dans un instant.")) from error
        raise


@contextlib.contextmanager
def resource_write_lock(resource: Resource):
    """One transaction holding the resource row's lock: the guard every schedule write runs under."""
    with write_transaction():
        # Only the resource's row: without of=self and order_by(), Meta.ordering joins the site and
        # FOR UPDATE would lock it too, queueing every booking of the site behind each other.
        Resource.objects.select_for_update(of=("self",)).filter(pk=resource.pk).order_by().values_list(
            "pk"
        ).first()
        yield


def _after_commit(func, *args, **kwargs) -> None:
    """Call `func` (an e-mail, a reminder to schedule) once the current transaction has committed.

    Never from inside it: the transaction may still roll back (a conflict, or a failure later in the
    caller's own transaction), and the member would be told of a booking that does not exist; a slow mail
    server would also hold the resource's lock. Only primary keys and plain values cross over: the callback
    re-reads what was committed. `robust`: a failed e-mail is logged, never turned into an error about a
    change that did happen."""
    if emails.is_muted():
        return

    @functools.wraps(func)  # Django logs a robust callback's failure by its __qualname__ (a partial has none)
    def callback():
        func(*args, **kwargs)

    transaction.on_commit(callback, robust=True)


def _raise_if_conflict(resource, start, end, *, exclude_booking=None) -> None:
    busy = busy_periods([resource.pk], start, end, exclude_booking=exclude_booking)[resource.pk]
    if problem := find_conflict(resource, start, end, busy):
        raise problem


@contextlib.contextmanager
def _constraint_as_conflict():
    """The database's exclusion constraint speaks only if something bypassed the lock: say it as a conflict."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        if "bookings_no_overlap" in str(error):
            raise Conflict(_("Ce créneau vient d’être réservé par quelqu’un d’autre.")) from error
        raise


def book(*, resource: Resource, member, start: datetime, end: datetime, by=None, note: str = "") -> Booking:
    """Book [start, end) of a resource for a member. Pending if the resource needs approval."""
    by = by or member
    check_may_book_for(by, member, resource)
    check_rules(resource, start, end, by=by)
    with resource_write_lock(resource):
        _raise_if_conflict(resource, start, end)
        with _constraint_as_conflict():
            booking = Booking.objects.create(
                resource=resource,
                member=member,
                booked_by=by,
                start=start,
                end=end,
                status=initial_status(resource, by),
                exclusive=not resource.is_pooled,
                note=note,
            )
        audit(by, "booking.created", booking, start=start, end=end, status=booking.status, member=member.pk)
        _after_commit(emails.on_booked, booking.pk, booking.status)
        _after_commit(tasks.schedule_reminders, [booking.pk])
    return booking


def _plan_series(resource: Resource, occurrences: list[Occurrence], *, by) -> list[Occurrence]:
    """Mark each occurrence with what stops it (rules, calendar, existing bookings, earlier occurrences)."""
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
        except InvalidBooking as error:
            occurrence.problem = error
            continue
        occurrence.problem = find_conflict(resource, occurrence.start, occurrence.end, busy + accepted)
        if occurrence.problem is None:
            accepted.append(Busy(occurrence.start, occurrence.end, "booking", 0))
    return occurrences


def preview_series(*, resource, member, start, end, rrule: str, by=None) -> list[Occurrence]:
    """Each occurrence of the series with its conflict, if any, before anything is booked."""
    by = by or member
    check_may_book_for(by, member, resource)
    return _plan_series(resource, expand_rrule(resource, start, end, rrule), by=by)


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
    with resource_write_lock(resource):
        _plan_series(resource, occurrences, by=by)  # again, under the lock: what was free may be taken now
        refused = [o for o in occurrences if not o.is_free]
        free = [o for o in occurrences if o.is_free]
        if refused and (not skip_conflicts or not free):
            raise Conflict(
                _("%(n)s occurrence(s) sur %(total)s ne peuvent pas être réservées.")
                % {"n": len(refused), "total": len(occurrences)},
                code="series_conflict",
                details=[
                    {"start": o.start, "end": o.end, "code": o.problem.code, "detail": o.problem.message}
                    for o in refused
                ],
            )
        series = BookingSeries.objects.create(
            resource=resource,
            member=member,
            booked_by=by,
            rrule=rrule.strip(),
            first_start=start,
            first_end=end,
            note=note,
        )
        status = initial_status(resource, by)
        with _constraint_as_conflict():
            bookings = Booking.objects.bulk_create(
                [
                    Booking(
                        resource=resource,
                        member=member,
                        booked_by=by,
                        series=series,
                        start=o.start,
                        end=o.end,
                        status=status,
                        exclusive=not resource.is_pooled,
                        note=note,
                    )
                    for o in free
                ]
            )
        if not all(b.pk for b in bookings):  # backends that do not return ids from bulk inserts
            bookings = list(series.bookings.order_by("start"))
        audit(by, "series.created", series, rrule=series.rrule, booked=len(bookings), skipped=len(refused))
        _audit_many(
            by, "booking.created", bookings, lambda b: {"start": b.start, "end": b.end, "status": b.status}
        )
        booked = [b.pk for b in bookings]
        skipped = [(o.start, o.end, o.problem.message) for o in refused]
        _after_commit(emails.on_series_booked, series.pk, booked, skipped)  # one e-mail for the series
        _after_commit(tasks.schedule_reminders, booked)
    return SeriesResult(series=series, bookings=bookings, occurrences=occurrences)


def _audit_many(by, action: str, objects, describe) -> None:
    from django.contrib.contenttypes.models import ContentType

    if not objects:
        return
    content_type = ContentType.objects.get_for_model(objects[0])
    actor = by if by is not None and by.is_authenticated else None
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=actor, action=action, content_type=content_type, object_id=o.pk, data=describe(o)
            )
            for o in objects
        ]
    )


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
    if target.site_id != booking.resource.site_id and not permissions.is_site_staff(by, target.site_id):
        raise Forbidden(_("Une réservation ne peut être déplacée que vers une ressource du même site."))
    now = timezone.now()
    check_rules(target, start, end, by=by, now=now)
    with resource_write_lock(target):
        current = _locked_booking(booking)
        if not current.is_live:
            raise InvalidBooking(_("Cette réservation est annulée ou refusée."), code="not_live")
        check_before_deadline(by, current, now)
        _raise_if_conflict(target, start, end, exclude_booking=current.pk)
        before = {"start": current.start, "end": current.end, "resource": current.resource_id}
        current.resource, current.start, current.end = target, start, end
        current.exclusive = not target.is_pooled
        if current.status == Status.CONFIRMED:
            current.status = initial_status(target, by)  # a move on an approved resource is asked again
        current.reminder_sent_at = None  # a reminder is for a start time: the new one gets its own
        with _constraint_as_conflict():
            current.save(
                update_fields=[
                    "resource",
                    "start",
                    "end",
                    "exclusive",
                    "status",
                    "reminder_sent_at",
                    "updated_at",
                ]
            )
        audit(
            by,
            "booking.moved",
            current,
            before=before,
            start=start,
            end=end,
            resource=target.pk,
            status=current.status,
        )
        by_team = by.pk != current.member_id
        _after_commit(
            emails.on_moved, current.pk, before["start"], before["end"], before["resource"], by_team=by_team
        )
        _after_commit(tasks.schedule_reminders, [current.pk])  # the old one will find the start changed
    return current


def cancel(booking: Booking, *, by, reason: str = "") -> Booking:
    check_may_manage(by, booking)
    now = timezone.now()
    with write_transaction():
        current = _locked_booking(booking)
        if not current.is_live:
            raise InvalidBooking(_("Cette réservation est déjà annulée ou refusée."), code="not_live")
        check_before_deadline(by, current, now)
        current.status = Status.CANCELLED
        if reason:
            current.staff_reason = reason
        current.save(update_fields=["status", "staff_reason", "updated_at"])
        audit(by, "booking.cancelled", current, reason=reason)
        _after_commit(emails.on_cancelled, current.pk, reason=reason, by_team=by.pk != current.member_id)
    return current


@dataclass
class SeriesCancellation:
    cancelled: list[Booking]
    kept: list[tuple[Booking, BookingError]]


def cancel_series(series: BookingSeries, *, by) -> SeriesCancellation:
    """Cancel every upcoming live occurrence that may still be cancelled; say which ones may not."""
    if not permissions.can_manage_booking(by, series):
        raise Forbidden(_("Vous ne pouvez pas modifier cette série."))
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
        audit(by, "series.cancelled", series, cancelled=len(result.cancelled), kept=len(result.kept))
        _audit_many(by, "booking.cancelled", result.cancelled, lambda b: {"series": series.pk})
        _after_commit(
            emails.on_series_cancelled,
            series.pk,
            [b.pk for b in result.cancelled],
            [(b.pk, error.message) for b, error in result.kept],
            by_team=by.pk != series.member_id,
        )
    return result


def _decide(booking: Booking, *, by, status: str, reason: str) -> Booking:
    if not permissions.is_site_staff(by, booking.resource.site_id):
        raise Forbidden(_("Seule l’équipe du site valide les demandes."))
    with write_transaction():
        current = _locked_booking(booking)
        if current.status != Status.PENDING:
            raise InvalidBooking(_("Cette demande a déjà été traitée."), code="not_pending")
        current.status = status
        current.staff_reason = reason
        current.save(update_fields=["status", "staff_reason", "updated_at"])
        audit(by, f"booking.{status}", current, reason=reason)
        _after_commit(emails.on_decided, current.pk, status)
    return current


def approve(booking: Booking, *, by, reason: str = "") -> Booking:
    return _decide(booking, by=by, status=Status.CONFIRMED, reason=reason)


def refuse(booking: Booking, *, by, reason: str) -> Booking:
    if not reason.strip():
        raise InvalidBooking(
            _("Dites au membre pourquoi sa demande est refusée."), code="reason_required", field="reason"
        )
    return _decide(booking, by=by, status=Status.REFUSED, reason=reason.strip())


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
    if not permissions.is_site_staff(by, resource.site_id):
        raise Forbidden(_("Seule l’équipe du site peut bloquer une ressource."))
    check_period(start, end)
    if not reason.strip():
        raise InvalidBooking(
            _("Indiquez le motif de l’indisponibilité."), code="reason_required", field="reason"
        )
    if kind not in Block.Kind.values:
        raise InvalidBooking(_("Type d’indisponibilité inconnu."), code="invalid_kind", field="kind")
    with resource_write_lock(resource):
        in_the_way = list(
            Booking.objects.select_for_update()
            .live()
            .overlapping(start, end)
            .filter(resource=resource)
            .order_by("start")
        )
        if in_the_way and not cancel_conflicting:
            tz = zone(resource.site.timezone)
            raise Conflict(
                _("%(n)s réservation(s) occupent cette période.") % {"n": len(in_the_way)},
                details=[
                    {"booking": b.pk, "start": b.start, "end": b.end, "label": local_label(b.start, tz)}
                    for b in in_the_way
                ],
            )
        new_block = Block.objects.create(
            resource=resource, start=start, end=end, reason=reason.strip(), kind=kind, created_by=by
        )
        Booking.objects.filter(pk__in=[b.pk for b in in_the_way]).update(
            status=Status.CANCELLED, staff_reason=reason.strip(), updated_at=timezone.now()
        )
        for booking in in_the_way:
            booking.status = Status.CANCELLED
        audit(
            by,
            "block.created",
            new_block,
            start=start,
            end=end,
            reason=reason,
            cancelled=[b.pk for b in in_the_way],
        )
        _audit_many(by, "booking.cancelled", in_the_way, lambda b: {"reason": reason, "block": new_block.pk})
        for booking in in_the_way:
            _after_commit(emails.on_cancelled, booking.pk, reason=reason.strip(), by_team=True)
    return new_block, in_the_way


def unblock(target: Block, *, by) -> None:
    if not permissions.is_site_staff(by, target.resource.site_id):
        raise Forbidden(_("Seule l’équipe du site peut lever une indisponibilité."))
    with write_transaction():
        audit(by, "block.deleted", target, start=target.start, end=target.end, reason=target.reason)
        target.delete()


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

    The caller vouches that they do not overlap (nor overfill a pooled space: no constraint counts places);
    on PostgreSQL the exclusion constraint still refuses overlaps on exclusive resources. No audit entries:
    an import is recorded by whoever runs it, not per row.
    """
    for booking in bookings:
        booking.exclusive = booking.resource.capacity == 1
    created = Booking.objects.bulk_create(bookings, batch_size=batch_size)
    return len(created)


def sync_exclusive_flag(resource: Resource) -> int:
    """Keep bookings' copy of "exclusive" in step with the resource's capacity (after an edit in the admin).

    On PostgreSQL, making a pooled space exclusive while it holds overlapping live bookings fails here, at
    the exclusion constraint: the admin form checks `peak_upcoming_use` first to say it kindly.
    """
    exclusive = not resource.is_pooled
    return Booking.objects.filter(resource=resource).exclude(exclusive=exclusive).update(exclusive=exclusive)
