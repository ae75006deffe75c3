"""The booking engine: the only code that writes bookings, series and blocks.

Every reservation of anything goes through here. Each public function checks permission and rules
(`check_*`, no writes), then changes state in one transaction, and writes the audit trail.

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
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from itertools import islice, pairwise

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import BigIntegerField, Value
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cocotte.accounts import permissions
from cocotte.core import intervals
from cocotte.core.models import AuditEntry, audit
from cocotte.core.timeutils import at_local, is_aware, local_date, zone
from cocotte.spaces.models import Resource
from cocotte.spaces.opening import OpeningCalendar

from . import emails, tasks
from .errors import BookingError, Conflict, DatabaseBusy, Forbidden, InvalidBooking, NotFound
from .models import Block, Booking, BookingSeries

logger = logging.getLogger(__name__)

Status = Booking.Status
Unit = Resource.Unit


# ---------------------------------------------------------------------------------------------------------
# Reading the schedule
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Busy:
    """Something that takes time on a resource: a live booking or a block."""

    start: datetime
    end: datetime
    kind: str  # "booking" or "block"
    id: int
    status: str = ""
    member_id: int | None = None
    reason: str = ""


def busy_periods(resource_ids, start: datetime, end: datetime, *, exclude_booking: int | None = None):
    """Live bookings and blocks of these resources that overlap [start, end), in one query.

    Returns {resource_id: [Busy, …]} sorted by start.
    """
    bookings = (
        Booking.objects.live()
        .overlapping(start, end)
        .filter(resource_id__in=resource_ids)
        .annotate(busy_kind=Value("booking"), busy_reason=Value(""))
        .values_list("resource_id", "start", "end", "id", "busy_kind", "status", "member_id", "busy_reason")
    )
    if exclude_booking is not None:
        bookings = bookings.exclude(pk=exclude_booking)
    blocks = (
        Block.objects.filter(resource_id__in=resource_ids, end__gt=start, start__lt=end)
        .annotate(
            busy_kind=Value("block"),
            busy_status=Value(""),
            busy_member=Value(None, output_field=BigIntegerField()),
        )
        .values_list("resource_id", "start", "end", "id", "busy_kind", "busy_status", "busy_member", "reason")
    )
    result: dict[int, list[Busy]] = {rid: [] for rid in resource_ids}
    union = bookings.order_by().union(blocks.order_by(), all=True)
    for resource_id, b_start, b_end, pk, kind, status, member_id, reason in union:
        busy = Busy(b_start, b_end, kind, pk, status=status, member_id=member_id, reason=reason)
        result.setdefault(resource_id, []).append(busy)
    for items in result.values():
        items.sort(key=lambda b: (b.start, b.end))
    return result


@dataclass
class Slot:
    start: datetime
    end: datetime
    places_left: int = 1


@dataclass
class Availability:
    resource: Resource
    free: list[Slot] = field(default_factory=list)
    busy: list[Busy] = field(default_factory=list)
    full: list[Slot] = field(default_factory=list)  # pooled spaces: when every place is taken


def availability(
    resources, start: datetime, end: datetime, *, now: datetime | None = None
) -> list[Availability]:
    """Free and busy time of many resources over [start, end): one query for bookings and blocks.

    `resources` should come with `site__opening_hours` and `site__closures` prefetched (two more queries in
    all, whatever the number of resources and days). Free time is what can still be booked: open, not
    taken, not past.
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end <= start:
        raise InvalidBooking(_("La fin doit être après le début."), code="invalid_period", field="end")
    now = now or timezone.now()
    resources = list(resources)
    busy = busy_periods([r.pk for r in resources], start, end)
    calendars: dict[int, OpeningCalendar] = {}
    result = []
    for resource in resources:
        site = resource.site
        tz = zone(site.timezone)
        if site.pk not in calendars:
            calendars[site.pk] = OpeningCalendar.for_site(
                site, local_date(start, tz) - timedelta(1), local_date(end, tz)
            )
        calendar = calendars[site.pk]
        if resource.unit == Unit.MONTH:
            open_time = [(start, end)]  # an office is its tenant's day and night
        else:
            open_time = intervals.clip(
                intervals.merge(
                    calendar.intervals(local_date(start, tz) - timedelta(1), local_date(end, tz))
                ),
                start,
                end,
            )
        horizon = at_local(
            now.astimezone(tz).date() + timedelta(days=resource.max_advance_days + 1), time(0), tz
        )
        open_time = intervals.clip(open_time, max(start, now), min(end, horizon)) if horizon > now else []
        items = busy.get(resource.pk, [])
        blocked = [(b.start, b.end) for b in items if b.kind == "block"]
        booked = [(b.start, b.end) for b in items if b.kind == "booking"]
        entry = Availability(resource=resource, busy=items)
        if resource.is_pooled:
            free_time = intervals.subtract(open_time, blocked)
            taken = intervals.occupancy(booked)
            full = [(s, e) for s, e, count in taken if count >= resource.capacity]
            entry.full = [Slot(s, e, 0) for s, e in intervals.merge(full)]
            for s, e in intervals.subtract(free_time, full):
                # Split free time where the number of places left changes.
                cuts = sorted({s, e, *(t for seg in taken for t in seg[:2] if s < t < e)})
                for a, b in pairwise(cuts):
                    used = next((c for ts, te, c in taken if ts <= a and b <= te), 0)
                    slot = Slot(a, b, resource.capacity - used)
                    if (
                        entry.free
                        and entry.free[-1].end == a
                        and entry.free[-1].places_left == slot.places_left
                    ):
                        entry.free[-1].end = b
                    else:
                        entry.free.append(slot)
        else:
            entry.free = [Slot(s, e) for s, e in intervals.subtract(open_time, blocked + booked)]
        result.append(entry)
    return result


# ---------------------------------------------------------------------------------------------------------
# Checks (no writes)
# ---------------------------------------------------------------------------------------------------------


# Dates far from today are typos or probes; refusing them also keeps arithmetic clear of year 1 and 9999.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2200


def _require_aware(value, field_name: str) -> None:
    if not isinstance(value, datetime):
        raise InvalidBooking(
            _("Une date et une heure sont attendues."), code="invalid_datetime", field=field_name
        )
    if not is_aware(value):
        raise InvalidBooking(
            _("L’heure doit préciser son décalage horaire, par exemple 2026-12-01T09:00:00+01:00."),
            code="naive_datetime",
            field=field_name,
        )
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise InvalidBooking(
            _("Date hors des limites (%(first)s–%(last)s).") % {"first": EARLIEST_YEAR, "last": LATEST_YEAR},
            code="out_of_range",
            field=field_name,
        )


def _fmt(value: datetime, tz) -> str:
    return date_format(value.astimezone(tz), "DATETIME_FORMAT")


def _check_period(start, end) -> None:
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end <= start:
        raise InvalidBooking(_("La fin doit être après le début."), code="invalid_period", field="end")


def _units(resource: Resource, start: datetime, end: datetime, calendar: OpeningCalendar) -> int:
    """How many booking units [start, end) spans; refuses what is not on the unit or not open."""
    tz = calendar.tz
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    not_on_unit = _(
        "Cette ressource se réserve par %(unit)s : le créneau doit commencer et finir sur cette unité."
    )
    not_on_unit %= {"unit": resource.get_unit_display()}

    if resource.unit == Unit.MONTH:
        if local_start.time() != time(0):
            raise InvalidBooking(not_on_unit, code="not_on_unit", field="start")
        for months in range(1, resource.max_units + 1):
            boundary = at_local(local_start.date() + relativedelta(months=months), time(0), tz)
            if boundary == end:
                return months
            if boundary > end:
                break
        if end > at_local(local_start.date() + relativedelta(months=resource.max_units), time(0), tz):
            return resource.max_units + 1  # too long: said by the caller with the limit
        raise InvalidBooking(not_on_unit, code="not_on_unit", field="end")

    _check_open(resource, start, end, calendar)
    unit_length = resource.unit_duration
    if unit_length is not None:
        step = int(unit_length.total_seconds() // 60)
        for value, name in ((local_start, "start"), (local_end, "end")):
            if value.second or value.microsecond or (value.hour * 60 + value.minute) % step:
                raise InvalidBooking(not_on_unit, code="not_on_unit", field=name)
        return int((end - start) / unit_length)

    # Half-days and days follow the site's hours of that day.
    day = local_start.date()
    span = calendar.day_span(day)
    if span is None or local_end.date() not in (day, day + timedelta(1)):
        raise InvalidBooking(not_on_unit, code="not_on_unit")
    opens, closes = span
    boundaries = [opens, closes]
    if resource.unit == Unit.HALF_DAY:
        split = at_local(day, calendar.site.half_day_split, tz)
        if opens < split < closes:
            boundaries.insert(1, split)
    if start not in boundaries:
        raise InvalidBooking(not_on_unit, code="not_on_unit", field="start")
    if end not in boundaries:
        raise InvalidBooking(not_on_unit, code="not_on_unit", field="end")
    return boundaries.index(end) - boundaries.index(start)


def _check_open(resource: Resource, start: datetime, end: datetime, calendar: OpeningCalendar) -> None:
    tz = calendar.tz
    first, last = local_date(start, tz), local_date(end - timedelta(microseconds=1), tz)
    day = first
    while day <= last:
        if reason := calendar.closure_reason(day):
            raise InvalidBooking(
                _("Le site est fermé le %(day)s (%(reason)s).") % {"day": date_format(day), "reason": reason},
                code="closed",
                field="start",
            )
        day += timedelta(1)
    # Opening intervals of the days around, merged, so that a site open through midnight works too.
    open_time = intervals.merge(calendar.intervals(first - timedelta(1), last))
    if not any(s <= start and end <= e for s, e in open_time):
        raise InvalidBooking(
            _("Le créneau sort des horaires d’ouverture du site."),
            code="outside_opening_hours",
            field="start",
        )


def _earliest_start(resource: Resource, now: datetime, tz) -> datetime:
    """The earliest start a booking made now may have: the unit in progress may still be booked."""
    local_now = now.astimezone(tz)
    if resource.unit_duration is not None:
        step = int(resource.unit_duration.total_seconds() // 60)
        minutes = local_now.hour * 60 + local_now.minute
        floor = local_now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
            minutes=minutes - minutes % step
        )
        return floor.astimezone(UTC)
    return at_local(local_now.date(), time(0), tz)


def check_rules(
    resource: Resource,
    start: datetime,
    end: datetime,
    *,
    by,
    calendar: OpeningCalendar | None = None,
    now: datetime | None = None,
) -> None:
    """Refuse a period that breaks the resource's rules or the site's calendar. Reads, never writes."""
    _check_period(start, end)
    if not resource.is_active or not resource.site.is_active:
        raise InvalidBooking(
            _("Cette ressource n’est pas réservable."), code="inactive_resource", field="resource"
        )
    now = now or timezone.now()
    tz = zone(resource.site.timezone)
    if end <= now or start < _earliest_start(resource, now, tz):
        raise InvalidBooking(_("Ce créneau est passé."), code="in_past", field="start")
    if not permissions.is_site_staff(by, resource.site_id):
        last_day = now.astimezone(tz).date() + timedelta(days=resource.max_advance_days)
        if local_date(start, tz) > last_day:
            raise InvalidBooking(
                _("Cette ressource se réserve au plus %(days)s jours à l’avance.")
                % {"days": resource.max_advance_days},
                code="too_far_ahead",
                field="start",
            )
    if calendar is None:
        calendar = OpeningCalendar.for_site(
            resource.site, local_date(start, tz) - timedelta(1), local_date(end, tz)
        )
    units = _units(resource, start, end, calendar)
    if units < resource.min_units:
        raise InvalidBooking(
            _("Durée trop courte : au moins %(n)s × %(unit)s.")
            % {"n": resource.min_units, "unit": resource.get_unit_display()},
            code="too_short",
            field="end",
        )
    if units > resource.max_units:
        raise InvalidBooking(
            _("Durée trop longue : au plus %(n)s × %(unit)s.")
            % {"n": resource.max_units, "unit": resource.get_unit_display()},
            code="too_long",
            field="end",
        )


def find_conflict(
    resource: Resource, start: datetime, end: datetime, busy: list[Busy]
) -> BookingError | None:
    """The reason [start, end) cannot be taken given what is already busy, or None. Pure: no query."""
    tz = zone(resource.site.timezone)
    overlapping = [b for b in busy if b.start < end and start < b.end]
    for item in overlapping:
        if item.kind == "block":
            return Conflict(
                _("La ressource est indisponible du %(start)s au %(end)s : %(reason)s.")
                % {"start": _fmt(item.start, tz), "end": _fmt(item.end, tz), "reason": item.reason},
                code="blocked",
            )
    booked = [(b.start, b.end) for b in overlapping if b.kind == "booking"]
    if not booked:
        return None
    if not resource.is_pooled:
        first = min(booked)
        return Conflict(
            _("Ce créneau est déjà réservé (du %(start)s au %(end)s).")
            % {"start": _fmt(first[0], tz), "end": _fmt(first[1], tz)},
            details=[{"start": s, "end": e} for s, e in booked],
        )
    if intervals.max_overlap(intervals.clip(booked, start, end)) >= resource.capacity:
        return Conflict(
            _("Toutes les places (%(capacity)s) sont prises sur une partie de ce créneau.")
            % {"capacity": resource.capacity}
        )
    return None


def _check_may_book_for(by, member, resource: Resource) -> None:
    if not permissions.is_member(by):
        raise Forbidden(_("Connectez-vous pour réserver."))
    if not member.is_active:
        raise InvalidBooking(_("Ce compte est désactivé."), code="inactive_member", field="member")
    if member.pk != by.pk and not permissions.is_site_staff(by, resource.site_id):
        raise Forbidden(_("Seule l’équipe du site peut réserver pour quelqu’un d’autre."))


def _check_may_manage(by, booking: Booking) -> None:
    if not permissions.can_manage_booking(by, booking):
        raise Forbidden(_("Vous ne pouvez pas modifier cette réservation."))


def _check_before_deadline(by, booking: Booking, now: datetime) -> None:
    """Members change or cancel before the resource's cancellation notice; the site's staff at any time."""
    if permissions.is_site_staff(by, booking.resource.site_id):
        return
    if booking.start <= now:
        raise InvalidBooking(_("Cette réservation a déjà commencé."), code="already_started")
    if booking.status == Status.CONFIRMED and now > booking.start - booking.resource.cancellation_notice:
        raise InvalidBooking(
            _("Le délai est passé : les changements se font au plus tard %(hours)s h avant le début.")
            % {"hours": booking.resource.cancellation_notice_hours},
            code="deadline_passed",
        )


# ---------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------


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


def _initial_status(resource: Resource, by) -> str:
    if resource.requires_approval and not permissions.is_site_staff(by, resource.site_id):
        return Status.PENDING
    return Status.CONFIRMED


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
    _check_may_book_for(by, member, resource)
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
                status=_initial_status(resource, by),
                exclusive=not resource.is_pooled,
                note=note,
            )
        audit(by, "booking.created", booking, start=start, end=end, status=booking.status, member=member.pk)
        _after_commit(emails.on_booked, booking.pk, booking.status)
        _after_commit(tasks.schedule_reminders, [booking.pk])
    return booking


SERIES_FREQUENCIES = {"DAILY", "WEEKLY", "MONTHLY"}
# No BYMONTH, BYYEARDAY, BYSETPOS…: combined, they can describe days that never come (30 February).
SERIES_RULE_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "WKST"}
SERIES_WINDOW = timedelta(days=731)


@dataclass
class Occurrence:
    start: datetime
    end: datetime
    problem: BookingError | None = None

    @property
    def is_free(self) -> bool:
        return self.problem is None


def expand_rrule(resource: Resource, start: datetime, end: datetime, rule: str) -> list[Occurrence]:
    """The occurrences of an RFC 5545 RRULE from the first [start, end), at the same wall-clock times.

    Wall-clock, not UTC: a weekly 09:00 meeting stays at 09:00 across the change of clocks.
    """
    _check_period(start, end)
    tz = zone(resource.site.timezone)
    invalid = InvalidBooking(
        _("Règle de récurrence invalide (attendu par exemple : FREQ=WEEKLY;COUNT=10)."),
        code="invalid_rrule",
        field="rrule",
    )
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts = dict(part.partition("=")[::2] for part in text.upper().split(";"))
    if (
        not text
        or parts.get("FREQ") not in SERIES_FREQUENCIES
        or not set(parts) <= SERIES_RULE_PARTS
        or not parts.get("INTERVAL", "1").isdigit()
        or not 1 <= int(parts.get("INTERVAL", "1")) <= 52
    ):
        raise invalid
    if ("COUNT" in parts) == ("UNTIL" in parts):
        raise InvalidBooking(
            _("Une série doit finir : précisez COUNT ou UNTIL (pas les deux)."),
            code="invalid_rrule",
            field="rrule",
        )
    local_start = start.astimezone(tz).replace(tzinfo=None)
    length = end.astimezone(tz).replace(tzinfo=None) - local_start
    if length <= timedelta(0):
        # Occurrences repeat wall-clock times: across the autumn change, 02:40 (summer) to 02:10 (winter)
        # is half an hour of real time but no time at all on the clock, and cannot be repeated.
        raise InvalidBooking(
            _(
                "Une série se répète à heure fixe : son créneau doit finir après son début à l’heure locale, "
                "ce que le changement d’heure empêche ici."
            ),
            code="invalid_period",
            field="end",
        )
    # Expansion stops at a window's end whatever the rule says. Together with the parts allowed above,
    # every rule has an occurrence within a few years: dateutil never walks the calendar to year 9999.
    window_end = local_start + SERIES_WINDOW
    try:
        parsed = rrulestr(text, dtstart=local_start)
    except (ValueError, TypeError, OverflowError, KeyError, IndexError):
        try:  # an UNTIL written in UTC (…Z) needs an aware start
            parsed = rrulestr(text, dtstart=start.astimezone(tz))
            window_end = window_end.replace(tzinfo=tz)
        except (ValueError, TypeError, OverflowError, KeyError, IndexError):
            raise invalid from None
    until = parsed._until  # dateutil keeps it private; None when the rule has a COUNT
    if until is not None and until > window_end:
        raise InvalidBooking(
            _("Une série ne peut pas s’étendre sur plus de %(days)s jours.") % {"days": SERIES_WINDOW.days},
            code="series_too_long",
            field="rrule",
        )
    limit = settings.COCOTTE_MAX_SERIES_OCCURRENCES
    count = parsed._count
    try:
        bounded = parsed.replace(count=None, until=until or window_end)
        starts = list(islice(iter(bounded), min(count or limit + 1, limit + 1)))
    except (ValueError, OverflowError):
        raise invalid from None
    if len(starts) > limit:
        raise InvalidBooking(
            _("Une série compte au plus %(n)s occurrences.") % {"n": limit},
            code="too_many_occurrences",
            field="rrule",
        )
    if count and len(starts) < count:
        raise InvalidBooking(
            _("Une série ne peut pas s’étendre sur plus de %(days)s jours.") % {"days": SERIES_WINDOW.days},
            code="series_too_long",
            field="rrule",
        )
    if not starts:
        raise InvalidBooking(
            _("Cette règle ne donne aucune occurrence."), code="invalid_rrule", field="rrule"
        )
    occurrences = []
    for occurrence in starts:
        naive = occurrence.replace(tzinfo=None)
        occurrences.append(
            Occurrence(
                start=naive.replace(tzinfo=tz).astimezone(UTC),
                end=(naive + length).replace(tzinfo=tz).astimezone(UTC),
            )
        )
    # When the rule starts on the slot asked for, that occurrence is the one asked for, exactly: on the night
    # the clocks go back its wall-clock time happens twice, and rebuilding it from the clock picks the first.
    if starts[0].replace(tzinfo=None) == local_start:
        occurrences[0].start, occurrences[0].end = start.astimezone(UTC), end.astimezone(UTC)
    return occurrences


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
    _check_may_book_for(by, member, resource)
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
    _check_may_book_for(by, member, resource)
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
        status = _initial_status(resource, by)
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
    _check_may_manage(by, booking)
    if target.site_id != booking.resource.site_id and not permissions.is_site_staff(by, target.site_id):
        raise Forbidden(_("Une réservation ne peut être déplacée que vers une ressource du même site."))
    now = timezone.now()
    check_rules(target, start, end, by=by, now=now)
    with resource_write_lock(target):
        current = _locked_booking(booking)
        if not current.is_live:
            raise InvalidBooking(_("Cette réservation est annulée ou refusée."), code="not_live")
        _check_before_deadline(by, current, now)
        _raise_if_conflict(target, start, end, exclude_booking=current.pk)
        before = {"start": current.start, "end": current.end, "resource": current.resource_id}
        current.resource, current.start, current.end = target, start, end
        current.exclusive = not target.is_pooled
        if current.status == Status.CONFIRMED:
            current.status = _initial_status(target, by)  # a move on an approved resource is asked again
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
    _check_may_manage(by, booking)
    now = timezone.now()
    with write_transaction():
        current = _locked_booking(booking)
        if not current.is_live:
            raise InvalidBooking(_("Cette réservation est déjà annulée ou refusée."), code="not_live")
        _check_before_deadline(by, current, now)
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
                _check_before_deadline(by, occurrence, now)
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
    _check_period(start, end)
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
                    {"booking": b.pk, "start": b.start, "end": b.end, "label": _fmt(b.start, tz)}
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


def peak_upcoming_use(resource: Resource) -> int:
    """The most live bookings that overlap at any instant from now on."""
    upcoming = (
        Booking.objects.live().filter(resource=resource, end__gt=timezone.now()).values_list("start", "end")
    )
    return intervals.max_overlap(upcoming)
