"""When a site is open: weekly hours, minus public holidays and closures, as aware UTC intervals."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.utils.translation import gettext as _

from cocotte.core.timeutils import at_local, days, zone

from .models import Site


@lru_cache(maxsize=64)
def _public_holidays(subdivision: str, year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("FR", subdiv=subdivision or None, years=year, language="fr"))


def public_holiday(site: Site, day: date) -> str | None:
    if not site.closed_on_public_holidays:
        return None
    return _public_holidays(site.holiday_subdivision, day.year).get(day)


@dataclass(frozen=True)
class DayPeriods:
    """The periods of one open day that half-day and day bookings follow (aware UTC bounds).

    `morning` and `afternoon` are the half-days (either may be missing: a site open only in the afternoon);
    `day` runs from the first opening to the last closing, a lunch break inside it being closed time.
    """

    morning: tuple[datetime, datetime] | None
    afternoon: tuple[datetime, datetime] | None
    day: tuple[datetime, datetime]


@dataclass
class OpeningCalendar:
    """A site's opening over a range of dates, loaded once (two queries, none if prefetched)."""

    site: Site
    tz: ZoneInfo
    hours: dict[int, list[tuple[time, time]]]
    closed: dict[date, str]

    @classmethod
    def for_site(cls, site: Site, first_day: date, last_day: date) -> "OpeningCalendar":
        hours: dict[int, list[tuple[time, time]]] = defaultdict(list)
        for row in site.opening_hours.all():
            hours[row.weekday].append((row.opens, row.closes))
        for intervals in hours.values():
            intervals.sort()
        closed: dict[date, str] = {}
        for closure in site.closures.all():
            if closure.end_date < first_day or closure.start_date > last_day:
                continue
            for day in days(
                max(closure.start_date, first_day), min(closure.end_date, last_day) + timedelta(1)
            ):
                closed[day] = closure.reason
        for day in days(first_day, last_day + timedelta(1)):
            if day not in closed and (name := public_holiday(site, day)):
                closed[day] = _("jour férié : %(name)s") % {"name": name}
        return cls(site=site, tz=zone(site.timezone), hours=dict(hours), closed=closed)

    def closure_reason(self, day: date) -> str | None:
        return self.closed.get(day)

    def day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's opening intervals in UTC ([] when closed). A closing time of 00:00 is midnight."""
        if day in self.closed:
            return []
        result = []
        for opens, closes in self.hours.get(day.weekday(), []):
            end_day = day + timedelta(1) if closes == time(0) else day
            result.append((at_local(day, opens, self.tz), at_local(end_day, closes, self.tz)))
        return result

    def day_span(self, day: date) -> tuple[datetime, datetime] | None:
        """From the first opening to the last closing of the day, if open."""
        intervals = self.day_intervals(day)
        if not intervals:
            return None
        return intervals[0][0], intervals[-1][1]

    def day_periods(self, day: date) -> DayPeriods | None:
        """The day's half-days and whole day, if open: the one place that says what they are.

        With a break (two opening intervals), the morning is the opening before it and the afternoon the one
        after. Otherwise the opening is cut at the site's `half_day_split`: one interval is split there; with
        more than two, each half runs from its first opening to its last closing around the split.
        """
        intervals = self.day_intervals(day)
        if not intervals:
            return None
        whole = (intervals[0][0], intervals[-1][1])
        if len(intervals) == 2:
            return DayPeriods(morning=intervals[0], afternoon=intervals[1], day=whole)
        split = at_local(day, self.site.half_day_split, self.tz)
        before = [(s, min(e, split)) for s, e in intervals if s < split]
        after = [(max(s, split), e) for s, e in intervals if e > split]
        return DayPeriods(
            morning=(before[0][0], before[-1][1]) if before else None,
            afternoon=(after[0][0], after[-1][1]) if after else None,
            day=whole,
        )

    def intervals(self, first_day: date, last_day: date) -> list[tuple[datetime, datetime]]:
        result = []
        for day in days(first_day, last_day + timedelta(1)):
            result.extend(self.day_intervals(day))
        return result
