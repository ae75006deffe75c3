"""Recurrence: an RFC 5545 RRULE expanded into occurrences at the same wall-clock times. Pure: no query."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice

from dateutil.rrule import rrulestr
from django.conf import settings
from django.utils.translation import gettext as _

from cocotte.core.timeutils import zone
from cocotte.spaces.models import Resource

from .errors import BookingError, InvalidBooking
from .rules import check_period

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
    check_period(start, end)
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
    empty = InvalidBooking(_("Cette règle ne donne aucune occurrence."), code="empty_rrule", field="rrule")
    limit = settings.COCOTTE_MAX_SERIES_OCCURRENCES
    count = parsed._count
    if count is not None and count < 0:
        raise invalid
    if count == 0:  # asks for nothing; read as "no count" (0 is falsy), it booked up to the window's end
        raise empty
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
    if not starts:  # an UNTIL before the first start, a BYMONTHDAY the window never reaches
        raise empty
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
