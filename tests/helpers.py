"""Small helpers for tests: days ahead and wall-clock instants in Paris."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from cocotte.core.timeutils import at_local, zone

PARIS = zone("Europe/Paris")


def day_ahead(days: int = 7) -> date:
    return timezone.localdate() + timedelta(days=days)


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    """The aware instant of a wall-clock time in Paris on a day, in UTC."""
    return at_local(day, time(hour, minute), PARIS)
