"""Periods: what a half-day or day resource is booked for on a day, and what a person picks in a form,
turned into [start, end) the engine understands. Reads the site's calendar; no query of its own."""

from datetime import date, datetime, time

from dateutil.relativedelta import relativedelta

from cocotte.core.timeutils import at_local, zone
from cocotte.spaces.models import Resource
from cocotte.spaces.opening import OpeningCalendar

Unit = Resource.Unit
Period = tuple[datetime, datetime]


def unit_periods(resource: Resource, calendar: OpeningCalendar, day: date) -> dict[str, Period]:
    """What a half-day or day resource can be booked for on a day, by name: "morning" and "afternoon" (the
    half-days the site has that day) and "day" for a half-day resource; "day" alone for a day resource.

    From the site's opening (`OpeningCalendar.day_periods`): the rules accept exactly these periods, and the
    forms, the grid and availability offer them. {} when the site is closed that day.
    """
    found = calendar.day_periods(day)
    if found is None:
        return {}
    if resource.unit != Unit.HALF_DAY:
        return {"day": found.day}
    parts = {
        name: period
        for name, period in (("morning", found.morning), ("afternoon", found.afternoon))
        if period
    }
    parts["day"] = found.day
    return parts


def unit_count(parts: dict[str, Period], period: Period) -> int | None:
    """How many units `period` is among a day's `unit_periods` (a day of two half-days is two), or None."""
    halves = [p for name, p in parts.items() if name != "day"]
    if period in halves:
        return 1
    if period == parts.get("day"):
        return max(len(halves), 1)
    return None


def smallest_periods(parts: dict[str, Period]) -> list[Period]:
    """The day's periods of one unit each, in order: the half-days, or the day for a day resource."""
    return [p for name, p in parts.items() if name != "day"] or list(parts.values())


def day_parts(resource: Resource, day: date) -> dict[str, Period]:
    """The periods a person may pick in the form for that day (see `unit_periods`)."""
    return unit_periods(resource, OpeningCalendar.for_site(resource.site, day, day), day)


def month_period(resource: Resource, first_day: date, months: int) -> tuple[datetime, datetime]:
    tz = zone(resource.site.timezone)
    return at_local(first_day, time(0), tz), at_local(first_day + relativedelta(months=months), time(0), tz)


def time_period(resource: Resource, day: date, start: time, end: time) -> tuple[datetime, datetime]:
    tz = zone(resource.site.timezone)
    end_day = day + relativedelta(days=1) if end == time(0) else day
    return at_local(day, start, tz), at_local(end_day, end, tz)
