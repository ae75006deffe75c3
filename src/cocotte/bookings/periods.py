"""The periods a person picks in a form, turned into [start, end) the engine understands."""

from datetime import date, datetime, time

from dateutil.relativedelta import relativedelta

from cocotte.core.timeutils import at_local, zone
from cocotte.spaces.models import Resource
from cocotte.spaces.opening import OpeningCalendar

Unit = Resource.Unit


def day_parts(resource: Resource, day: date) -> dict[str, tuple[datetime, datetime]]:
    """For half-day and day units: the morning, the afternoon and the whole day of the site's hours."""
    calendar = OpeningCalendar.for_site(resource.site, day, day)
    span = calendar.day_span(day)
    if span is None:
        return {}
    parts = {"day": span}
    if resource.unit == Unit.HALF_DAY:
        split = at_local(day, resource.site.half_day_split, calendar.tz)
        if span[0] < split < span[1]:
            parts = {"morning": (span[0], split), "afternoon": (split, span[1]), "day": span}
    return parts


def month_period(resource: Resource, first_day: date, months: int) -> tuple[datetime, datetime]:
    tz = zone(resource.site.timezone)
    return at_local(first_day, time(0), tz), at_local(first_day + relativedelta(months=months), time(0), tz)


def time_period(resource: Resource, day: date, start: time, end: time) -> tuple[datetime, datetime]:
    tz = zone(resource.site.timezone)
    end_day = day + relativedelta(days=1) if end == time(0) else day
    return at_local(day, start, tz), at_local(end_day, end, tz)
