"""Dates, times and periods as people write them, in the active language and time zone: one way everywhere
(pages, e-mails, PDFs). « mardi 1er décembre 2026 », « 9 h 30 », « mardi 8 décembre 2026, de 10 h 00 à
11 h 30 », « du 8 décembre 2026 au 7 février 2027 inclus »; in English, the English catalogue's formats.
"""

from datetime import date, datetime, time, timedelta
from functools import lru_cache

from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext


def format_day(day: date) -> str:
    """« mardi 8 décembre 2026 », « mardi 1er décembre 2026 » (in English: the English catalogue's format)."""
    return _day_words(day, translation.get_language())


def format_time(value: datetime) -> str:
    """« 10 h 00 », « 9 h 30 », in the active time zone."""
    local = timezone.localtime(value)
    return _clock_words(local.hour, local.minute, translation.get_language())


# Formatting a date costs tens of microseconds and a page of 50 bookings asks for hundreds: the words of a
# day, or of a time of day, depend only on it and on the language.
@lru_cache(maxsize=4096)
def _day_words(day: date, language: str) -> str:
    fmt = pgettext("format de date des e-mails (date de Django)", "l j F Y")
    if day.day == 1 and language == "fr":
        fmt = fmt.replace("j", r"j\e\r", 1)  # French writes the first of the month « 1er »
    return date_format(day, fmt)


@lru_cache(maxsize=4096)
def _clock_words(hour: int, minute: int, language: str) -> str:
    return date_format(time(hour, minute), pgettext("format d’heure des e-mails (date de Django)", r"G \h i"))


def describe_period(start: datetime, end: datetime) -> str:
    """A booking's period as people say it, in the active time zone and language."""
    local_start, local_end = timezone.localtime(start), timezone.localtime(end)
    first_day = local_start.date()
    if local_start.time() == time(0) and local_end.time() == time(0):  # whole days: an office by the month
        last_day = local_end.date() - timedelta(days=1)
        if last_day == first_day:
            return _("%(day)s, toute la journée") % {"day": format_day(first_day)}
        return _("du %(first)s au %(last)s inclus") % {
            "first": format_day(first_day),
            "last": format_day(last_day),
        }
    if local_end.date() == first_day or (
        local_end.time() == time(0) and local_end.date() == first_day + timedelta(1)
    ):
        return _("%(day)s, de %(start)s à %(end)s") % {
            "day": format_day(first_day),
            "start": format_time(start),
            "end": format_time(end),
        }
    return _("du %(first)s à %(start)s au %(last)s à %(end)s") % {
        "first": format_day(first_day),
        "start": format_time(start),
        "last": format_day(local_end.date()),
        "end": format_time(end),
    }


def describe_notice(hours: int) -> str:
    """A notice as people say it: « 2 heures », « 2 jours », « 30 jours » (never « 720 heures »)."""
    if hours >= 48 and hours % 24 == 0:
        days = hours // 24
        return ngettext("%(n)s jour", "%(n)s jours", days) % {"n": days}
    return ngettext("%(n)s heure", "%(n)s heures", hours) % {"n": hours}


def describe_deadline(moment: datetime) -> str:
    """« mardi 8 décembre 2026 à 10 h 00 », in the active time zone."""
    return _("%(day)s à %(time)s") % {
        "day": format_day(timezone.localtime(moment).date()),
        "time": format_time(moment),
    }
