"""The read side of the engine: what is busy, what is free, and what stops a period from being taken.

Reads only. `busy_periods` and `availability` answer for many resources in one query; `find_conflict` is
pure and decides from what they read, so that a series checks all its occurrences against one read.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from itertools import pairwise
from operator import itemgetter
from typing import NamedTuple

from django.db import connections
from django.db.models import BigIntegerField, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from cocotte.core import intervals
from cocotte.core.timeutils import at_local, days, local_date, zone
from cocotte.spaces.models import Resource
from cocotte.spaces.opening import OpeningCalendar

from . import periods, rules
from .errors import BookingError, Conflict, InvalidBooking
from .models import Block, Booking
from .rules import local_label, require_aware

Unit = Resource.Unit


class Busy(NamedTuple):
    """Something that takes time on a resource: a live booking or a block.

    A named tuple (immutable, as the frozen dataclass it was): a busy week holds thousands, and a tuple is
    built from its database row in one step."""

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
    resource_ids = list(resource_ids)
    result: dict[int, list[Busy]] = {rid: [] for rid in resource_ids}
    if end <= start or not resource_ids:
        return result  # an empty period overlaps nothing (and is no range for PostgreSQL)
    if connections[Booking.objects.db].vendor == "postgresql":
        rows = _busy_rows_postgresql(resource_ids, start, end, exclude_booking)
    else:
        rows = _busy_rows_orm(resource_ids, start, end, exclude_booking)
    make = Busy._make
    for row in rows:  # (resource_id, *Busy's fields in order)
        result.setdefault(row[0], []).append(make(row[1:]))
    for items in result.values():
        items.sort(key=_by_period)
    return result


_by_period = itemgetter(0, 1)  # (start, end) of a Busy


def _busy_rows_orm(resource_ids, start, end, exclude_booking):
    bookings = (
        Booking.objects.live()
        .overlapping(start, end)
        .filter(resource_id__in=resource_ids)
        .annotate(busy_kind=Value("booking"), busy_reason=Value(""))
        .values_list("resource_id", "start", "end", "busy_kind", "id", "status", "member_id", "busy_reason")
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
        .values_list("resource_id", "start", "end", "busy_kind", "id", "busy_status", "busy_member", "reason")
    )
    return bookings.order_by().union(blocks.order_by(), all=True)


# The same query as `_busy_rows_orm` on PostgreSQL, written out: the range overlap that the partial GiST index
# of live periods serves (bookings migration 0002: its condition is these statuses, written as literals so
# that the planner can match it), and the ids as one array (`= ANY`): Django writes one placeholder per id,
# and psycopg then re-parsed the long statement in Python on every call instead of reusing it.
_LIVE = ", ".join(f"'{status}'" for status in Booking.LIVE)
# Table names and statuses come from the code; every value is a parameter.
_BUSY_SQL = f"""
SELECT resource_id, start, "end", 'booking', id, status, member_id, ''
FROM {Booking._meta.db_table}
WHERE status IN ({_LIVE}) AND resource_id = ANY(%s::bigint[]) AND tstzrange(start, "end", '[)') && tstzrange(%s, %s, '[)')
  AND id <> %s
UNION ALL
SELECT resource_id, start, "end", 'block', id, '', NULL, reason
FROM {Block._meta.db_table}
WHERE resource_id = ANY(%s::bigint[]) AND "end" > %s AND start < %s
"""  # noqa: S608


def _busy_rows_postgresql(resource_ids, start, end, exclude_booking):
    """Run on a cursor that reads timestamps with psycopg's own loader, written in C: Django's (a Python
    subclass that sets the zone) cost about 6 µs per timestamp, 12 ms for a busy week of 50 resources, more
    than everything else in the request. Both give aware UTC datetimes (Django keeps the connection in UTC)."""
    from psycopg.types.datetime import TimestamptzLoader

    connection = connections[Booking.objects.db]
    params = [resource_ids, start, end, exclude_booking or 0, resource_ids, start, end]
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        cursor.execute(_BUSY_SQL, params)
        return cursor.fetchall()


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
    taken, not past. Half-day and day resources are booked by whole periods, so their free time is made of
    the day's periods (`periods.unit_periods`) that lie within [start, end) and that a booking made now
    could take, each whole (the morning under way is still bookable, so shown from its start), free ones
    that touch merged; on a pooled space a period is full when all its places are taken at some instant.
    """
    require_aware(start, "start")
    require_aware(end, "end")
    if end <= start:
        raise InvalidBooking(_("La fin doit être après le début."), code="invalid_period", field="end")
    now = now or timezone.now()
    resources = list(resources)
    busy = busy_periods([r.pk for r in resources], start, end)
    opening: dict[int, list] = {}  # the site's open time over the period: the same for all its resources
    calendars: dict[int, OpeningCalendar] = {}
    result = []
    for resource in resources:
        site = resource.site
        tz = zone(site.timezone)
        if site.pk not in opening:
            first_day, last_day = local_date(start, tz) - timedelta(1), local_date(end, tz)
            calendars[site.pk] = OpeningCalendar.for_site(site, first_day, last_day)
            opening[site.pk] = intervals.clip(
                intervals.merge(calendars[site.pk].intervals(first_day, last_day)), start, end
            )
        calendar = calendars[site.pk]
        horizon = at_local(
            now.astimezone(tz).date() + timedelta(days=resource.max_advance_days + 1), time(0), tz
        )
        items = busy.get(resource.pk, [])
        blocked = [(b.start, b.end) for b in items if b.kind == "block"]
        booked = [(b.start, b.end) for b in items if b.kind == "booking"]
        entry = Availability(resource=resource, busy=items)
        if resource.unit in (Unit.HALF_DAY, Unit.DAY):
            _free_periods(entry, calendar, start, end, now, horizon, blocked, booked)
            result.append(entry)
            continue
        # An office by the month is its tenant's day and night.
        open_time = [(start, end)] if resource.unit == Unit.MONTH else opening[site.pk]
        # Free time starts on the resource's unit (the one under way may still be booked), never at 12:18.
        earliest = max(start, rules.earliest_start(resource, now, tz))
        open_time = intervals.clip(open_time, earliest, min(end, horizon)) if horizon > now else []
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
                    _append_merged(entry.free, Slot(a, b, resource.capacity - used))
        else:
            entry.free = [Slot(s, e) for s, e in intervals.subtract(open_time, blocked + booked)]
        result.append(entry)
    return result


def _free_periods(entry: Availability, calendar, start, end, now, horizon, blocked, booked) -> None:
    """Half-day and day resources: the free periods of one unit each, as the rules would accept them now.

    A period counts if it lies within [start, end), has not ended, starts no earlier than a booking made
    now may (`rules.earliest_start`: the period under way may still be booked) and before the horizon; it
    is free when no block touches it and a place is left at every instant of it (`find_conflict`'s test).
    """
    resource, tz = entry.resource, calendar.tz
    earliest = max(rules.earliest_start(resource, now, tz), start)
    for day in days(local_date(start, tz), local_date(end, tz) + timedelta(1)):
        for p_start, p_end in periods.smallest_periods(periods.unit_periods(resource, calendar, day)):
            if p_start < earliest or p_end > end or p_end <= now or p_start >= horizon:
                continue
            if any(s < p_end and p_start < e for s, e in blocked):
                continue
            left = resource.capacity - intervals.max_overlap(intervals.clip(booked, p_start, p_end))
            if left > 0:
                _append_merged(entry.free, Slot(p_start, p_end, left))
            elif resource.is_pooled:
                _append_merged(entry.full, Slot(p_start, p_end, 0))


def _append_merged(slots: list[Slot], slot: Slot) -> None:
    """Add a slot, extending the last one instead when they touch and leave as many places."""
    if slots and slots[-1].end == slot.start and slots[-1].places_left == slot.places_left:
        slots[-1].end = slot.end
    else:
        slots.append(slot)


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
                % {
                    "start": local_label(item.start, tz),
                    "end": local_label(item.end, tz),
                    "reason": item.reason,
                },
                code="blocked",
            )
    booked = [(b.start, b.end) for b in overlapping if b.kind == "booking"]
    if not booked:
        return None
    if not resource.is_pooled:
        first = min(booked)
        return Conflict(
            _("Ce créneau est déjà réservé (du %(start)s au %(end)s).")
            % {"start": local_label(first[0], tz), "end": local_label(first[1], tz)},
            details=[{"start": s, "end": e} for s, e in booked],
        )
    if intervals.max_overlap(intervals.clip(booked, start, end)) >= resource.capacity:
        return Conflict(
            _("Toutes les places (%(capacity)s) sont prises sur une partie de ce créneau.")
            % {"capacity": resource.capacity}
        )
    return None
