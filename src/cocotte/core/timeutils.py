"""Time helpers: aware datetimes only, stored in UTC, shown in a site's zone; half-open intervals."""

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=32)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def at_local(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The aware instant of a wall-clock time on a day in a zone, in UTC.

    A wall-clock time that does not exist
    (02:30 on the last Sunday of March in Paris) resolves to the instant just after the gap, as zoneinfo does.
    """
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) of a day, in UTC: 23 or 25 hours on the days the clocks change."""
    return at_local(day, time(0), tz), at_local(day + timedelta(days=1), time(0), tz)


def local_date(value: datetime, tz: ZoneInfo) -> date:
    return value.astimezone(tz).date()


def days(start: date, end: date):
    """Each date of [start, end)."""
    for offset in range((end - start).days):
        yield start + timedelta(days=offset)
