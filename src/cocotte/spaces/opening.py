"""When a site is open: weekly hours, minus public holidays and closures, as aware UTC intervals.

A site's hours and closures change rarely and are read on every availability request and booking: each web
process keeps them in memory, keyed by the site and its `calendar_version`. The version is read with the site
(same row, same query), and changes in the database whenever an hour or a closure is saved or deleted (the
receivers below), so that every process, whichever changed them, sees the change on its next read of the
site. Writes that bypass the model's signals (`bulk_create`, `QuerySet.update`, raw SQL) must call
`calendar_changed(site_id)`.
"""

import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cocotte.core.timeutils import at_local, days, zone

from .models import Closure, OpeningHours, Site

# {(site id, calendar_version): (hours by weekday, closures as (first day, last day, reason))}
_calendars: dict[tuple[int, uuid.UUID], tuple[dict, tuple]] = {}
_calendars_lock = threading.Lock()
CACHED_CALENDARS = 512  # sites × versions kept per process; emptied when full


def calendar_changed(site_id: int) -> uuid.UUID:
    """Give the site a new calendar version: every process's cached calendar of it is then out of date."""
    version = uuid.uuid4()
    Site.objects.filter(pk=site_id).update(calendar_version=version)
    return version


@receiver([post_save, post_delete], sender=OpeningHours)
@receiver([post_save, post_delete], sender=Closure)
def _hours_or_closure_changed(sender, instance, **kwargs):
    version = calendar_changed(instance.site_id)
    site = instance._state.fields_cache.get("site")
    if site is not None:  # the caller's own copy of the site sees the change too
        site.calendar_version = version


def _load(site: Site) -> tuple[dict, tuple]:
    """The site's weekly hours and closures: prefetched ones if the caller prefetched them, else from the
    process's cache when the site's version matches, else two queries (then cached)."""
    prefetched = getattr(site, "_prefetched_objects_cache", {})
    if "opening_hours" in prefetched and "closures" in prefetched:
        return _shape(
            [(h.weekday, h.opens, h.closes) for h in prefetched["opening_hours"]],
            [(c.start_date, c.end_date, c.reason) for c in prefetched["closures"]],
        )
    version = site.__dict__.get("calendar_version")  # None if the site was read without it: no cache
    key = (site.pk, version)
    if version is not None and (cached := _calendars.get(key)) is not None:
        return cached
    data = _shape(
        OpeningHours.objects.filter(site_id=site.pk).values_list("weekday", "opens", "closes"),
        Closure.objects.filter(site_id=site.pk).values_list("start_date", "end_date", "reason"),
    )
    if version is not None:
        with _calendars_lock:
            if len(_calendars) >= CACHED_CALENDARS:
                _calendars.clear()
            _calendars[key] = data
    return data


def _shape(hours_rows, closure_rows) -> tuple[dict, tuple]:
    hours: dict[int, list[tuple[time, time]]] = defaultdict(list)
    for weekday, opens, closes in hours_rows:
        hours[weekday].append((opens, closes))
    for intervals in hours.values():
        intervals.sort()
    return dict(hours), tuple(closure_rows)


@lru_cache(maxsize=64)
def _public_holidays(subdivision: str, year: int, language: str) -> dict[date, str]:
    return dict(holidays.country_holidays("FR", subdiv=subdivision or None, years=year, language=language))


def public_holiday(site: Site, day: date) -> str | None:
    """The holiday's name in the active language (French, or English for an English reader)."""
    if not site.closed_on_public_holidays:
        return None
    language = "en_US" if (get_language() or "fr").startswith("en") else "fr"
    return _public_holidays(site.holiday_subdivision, day.year, language).get(day)


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
    """A site's opening over a range of dates (two queries, none if prefetched or cached)."""

    site: Site
    tz: ZoneInfo
    hours: dict[int, list[tuple[time, time]]]
    closed: dict[date, str]

    @classmethod
    def for_site(cls, site: Site, first_day: date, last_day: date) -> "OpeningCalendar":
        hours, closures = _load(site)
        closed: dict[date, str] = {}
        for start_date, end_date, reason in closures:
            if end_date < first_day or start_date > last_day:
                continue
            for day in days(max(start_date, first_day), min(end_date, last_day) + timedelta(1)):
                closed[day] = reason
        for day in days(first_day, last_day + timedelta(1)):
            if day not in closed and (name := public_holiday(site, day)):
                closed[day] = _("jour férié : %(name)s") % {"name": name}
        return cls(site=site, tz=zone(site.timezone), hours=hours, closed=closed)

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
