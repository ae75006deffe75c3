"""The rules a booking must keep: periods, opening hours, units, advance, deadlines, who may book. Reads only."""

from datetime import UTC, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cocotte.accounts import permissions
from cocotte.core import intervals
from cocotte.core.formats import describe_deadline
from cocotte.core.timeutils import at_local, is_aware, local_date, zone
from cocotte.spaces.models import Resource
from cocotte.spaces.opening import OpeningCalendar

from . import periods
from .errors import Forbidden, InvalidBooking
from .models import Booking

Status = Booking.Status
Unit = Resource.Unit


# Dates far from today are typos or probes; refusing them also keeps arithmetic clear of year 1 and 9999.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2200


def require_aware(value, field_name: str) -> None:
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


def local_label(value: datetime, tz) -> str:
    return date_format(value.astimezone(tz), "DATETIME_FORMAT")


def check_period(start, end) -> None:
    require_aware(start, "start")
    require_aware(end, "end")
    if end <= start:
        raise InvalidBooking(_("La fin doit être après le début."), code="invalid_period", field="end")


def count_units(resource: Resource, start: datetime, end: datetime) -> int:
    """How many of the resource's units [start, end) spans (what a price multiplies), or a BookingError."""
    tz = zone(resource.site.timezone)
    calendar = OpeningCalendar.for_site(
        resource.site, local_date(start, tz) - timedelta(1), local_date(end, tz)
    )
    return _units(resource, start, end, calendar)


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

    _check_not_closed(start, end, calendar)
    if resource.unit_duration is None:  # half-days and days: the periods of the site's opening that day
        return _period_units(resource, start, end, calendar)
    _check_open(start, end, calendar)
    step = int(resource.unit_duration.total_seconds() // 60)
    for value, name in ((local_start, "start"), (local_end, "end")):
        if value.second or value.microsecond or (value.hour * 60 + value.minute) % step:
            raise InvalidBooking(not_on_unit, code="not_on_unit", field=name)
    return int((end - start) / resource.unit_duration)


def _period_units(resource: Resource, start: datetime, end: datetime, calendar: OpeningCalendar) -> int:
    """Half-days and days: [start, end) must be one of the day's periods (`periods.unit_periods`). A day
    booking spans the lunch break: closed time inside it, not a reason to refuse."""
    tz = calendar.tz
    day = local_date(start, tz)
    parts = periods.unit_periods(resource, calendar, day)
    if not parts:
        raise _outside_opening_hours()
    units = periods.unit_count(parts, (start, end))
    if units is not None:
        return units
    labels = {"morning": _("matinée"), "afternoon": _("après-midi"), "day": _("journée")}
    offered = ", ".join(
        _("%(part)s de %(start)s à %(end)s")
        % {"part": labels[name], "start": _clock(s, tz), "end": _clock(e, tz)}
        for name, (s, e) in parts.items()
    )
    message = _("Cette ressource se réserve par %(unit)s ; ce jour-là, le site propose : %(periods)s.") % {
        "unit": resource.get_unit_display(),
        "periods": offered,
    }
    on_a_start = any(start == s for s, _e in parts.values())
    raise InvalidBooking(message, code="not_on_unit", field="end" if on_a_start else "start")


def _clock(value: datetime, tz) -> str:
    return date_format(value.astimezone(tz), "TIME_FORMAT")


def _outside_opening_hours() -> InvalidBooking:
    return InvalidBooking(
        _("Le créneau sort des horaires d’ouverture du site."), code="outside_opening_hours", field="start"
    )


def _check_not_closed(start: datetime, end: datetime, calendar: OpeningCalendar) -> None:
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


def _check_open(start: datetime, end: datetime, calendar: OpeningCalendar) -> None:
    """[start, end) lies within one opening interval: hours and half-hours never span a break."""
    tz = calendar.tz
    first, last = local_date(start, tz), local_date(end - timedelta(microseconds=1), tz)
    # Opening intervals of the days around, merged, so that a site open through midnight works too.
    open_time = intervals.merge(calendar.intervals(first - timedelta(1), last))
    if not any(s <= start and end <= e for s, e in open_time):
        raise _outside_opening_hours()


def earliest_start(resource: Resource, now: datetime, tz) -> datetime:
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
    check_period(start, end)
    if not resource.is_active or not resource.site.is_active:
        raise InvalidBooking(
            _("Cette ressource n’est pas réservable."), code="inactive_resource", field="resource"
        )
    now = now or timezone.now()
    tz = zone(resource.site.timezone)
    if end <= now or start < earliest_start(resource, now, tz):
        raise InvalidBooking(_("Ce créneau est passé."), code="in_past", field="start")
    last_day = now.astimezone(tz).date() + timedelta(days=resource.max_advance_days)
    if local_date(start, tz) > last_day and not acts_as_staff(by, resource.site_id):  # roles read if needed
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


def check_may_book_for(by, member, resource: Resource) -> None:
    if not isinstance(by, System) and not permissions.is_member(by):
        raise Forbidden(_("Connectez-vous pour réserver."))
    if not member.is_active:
        raise InvalidBooking(_("Ce compte est désactivé."), code="inactive_member", field="member")
    if member.pk != by.pk and not acts_as_staff(by, resource.site_id):
        raise Forbidden(_("Seule l’équipe du site peut réserver pour quelqu’un d’autre."))


def check_may_manage(by, booking: Booking) -> None:
    if not isinstance(by, System) and not permissions.can_manage_booking(by, booking):
        raise Forbidden(_("Vous ne pouvez pas modifier cette réservation."))


def change_deadline(booking: Booking) -> datetime:
    """Until when its member may move or cancel a booking: a request until it starts; a confirmed booking
    until the resource's cancellation notice before it starts."""
    if booking.status == Status.CONFIRMED:
        return booking.start - booking.resource.cancellation_notice
    return booking.start


def may_change(by, booking: Booking, now: datetime) -> bool:
    """Whether `check_before_deadline` lets `by` move or cancel the booking now: pages offer only that."""
    try:
        check_before_deadline(by, booking, now)
    except InvalidBooking:
        return False
    return True


def check_before_deadline(by, booking: Booking, now: datetime) -> None:
    """Members change or cancel before the resource's cancellation notice; the site's staff at any time."""
    if acts_as_staff(by, booking.resource.site_id):
        return
    if booking.start <= now:
        raise InvalidBooking(_("Cette réservation a déjà commencé."), code="already_started")
    if booking.status == Status.CONFIRMED and now > change_deadline(booking):
        with timezone.override(zone(booking.resource.site.timezone)):
            deadline = describe_deadline(change_deadline(booking))
        raise InvalidBooking(
            _("Le délai est passé : elle se déplaçait ou s’annulait jusqu’au %(deadline)s.")
            % {"deadline": deadline},
            code="deadline_passed",
        )


# A member may say they have arrived from a little before their booking starts until it ends; the team may
# also record an arrival afterwards (someone forgot to tap the button), within a week.
CHECK_IN_EARLY = timedelta(minutes=30)
STAFF_CHECK_IN_LATE = timedelta(days=7)


def check_check_in_window(by, booking: Booking, now: datetime) -> None:
    """Whether `by` may record the member's arrival now (`services.check_in`): a confirmed booking, in its window."""
    if booking.status != Status.CONFIRMED:
        raise InvalidBooking(
            _("Seule une réservation confirmée peut être pointée."), code="check_in_not_confirmed"
        )
    if now < booking.start - CHECK_IN_EARLY:
        raise InvalidBooking(
            _("L’arrivée se note au plus tôt une demi-heure avant le début de la réservation."),
            code="check_in_too_early",
        )
    late = STAFF_CHECK_IN_LATE if acts_as_staff(by, booking.resource.site_id) else timedelta()
    if now >= booking.end + late:
        raise InvalidBooking(
            _("Cette réservation est finie : son arrivée ne se note plus."), code="check_in_closed"
        )


def may_check_in(by, booking: Booking, now: datetime) -> bool:
    """Whether pages offer to record the arrival: not yet recorded, and `check_check_in_window` lets it."""
    if booking.checked_in_at is not None:
        return False
    try:
        check_check_in_window(by, booking, now)
    except InvalidBooking:
        return False
    return True


def initial_status(resource: Resource, by) -> str:
    if resource.requires_approval and not acts_as_staff(by, resource.site_id):
        return Status.PENDING
    return Status.CONFIRMED


class System:
    """The platform acting on a decision taken elsewhere, e.g. a contest's jury awarding six months of office.

    The app that decided checked who may decide; the engine then books with the rights of the site's staff
    (no approval, no advance limit, no deadline) and records `decided_by` as the author in the audit trail,
    with the reason. Never a logged-in person: it cannot reach a view or the API."""

    is_authenticated = False
    is_active = True
    pk = None

    def __init__(self, decided_by, reason: str):
        if not reason.strip():
            raise ValueError("The system books on a stated decision: give the reason.")
        self.decided_by = decided_by
        self.reason = reason.strip()

    def __repr__(self):
        return f"System(decided_by={self.decided_by!r}, reason={self.reason!r})"


def acts_as_staff(by, site_id: int) -> bool:
    """Has the rights of the site's staff: its current staff, an admin, or the system."""
    return isinstance(by, System) or permissions.is_site_staff(by, site_id)


def person(by):
    """The person behind an action, for `booked_by` and the audit trail: who decided, when the system acts."""
    return by.decided_by if isinstance(by, System) else by
