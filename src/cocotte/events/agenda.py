"""The public agenda: upcoming public events and published training sessions, as a list and as a month's
table, and the public events as an iCalendar feed and an Atom feed.

Each page reads a fixed number of queries whatever the data: the events with their counts in one query, the
sessions with their programmes in one more.
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from cocotte.core.timeutils import at_local, zone
from cocotte.learning.models import Session, Sitting

from . import ical, services
from .models import Event

MAX_ITEMS = 200


@dataclass
class Item:
    """One line of the agenda: an event or a training session."""

    kind: str  # "event" or "training"
    title: str
    start: datetime
    end: datetime | None
    url: str
    place: str
    places_left: int | None = None
    members_only: bool = False


def programme_url(slug: str) -> str:
    """The programme's public page (the trainings' app names it; by path if it does not yet)."""
    for name in ("learning:programme", "learning:programme_detail"):
        try:
            return reverse(name, args=[slug])
        except NoReverseMatch:
            continue
    return f"/formations/{slug}/"


def _events(user, start: datetime, end: datetime | None):
    rows = services.with_counts(services.visible_events(user)).filter(
        status=Event.Status.PUBLISHED, end__gt=start
    )
    if end is not None:
        rows = rows.filter(start__lt=end)
    return rows.select_related("site").order_by("start", "pk")[:MAX_ITEMS]


def _sessions(start: datetime, end: datetime | None):
    rows = Session.objects.filter(
        status=Session.Status.OPEN, programme__published=True, starts_at__isnull=False, ends_at__gt=start
    )
    if end is not None:
        rows = rows.filter(starts_at__lt=end)
    return rows.select_related("programme", "site").order_by("starts_at", "pk")[:MAX_ITEMS]


def _sittings(start: datetime, end: datetime):
    """The sittings of the published, open sessions in [start, end): a session spreads over weeks, its
    trainees meet on its sittings' days only."""
    return (
        Sitting.objects.filter(
            session__status=Session.Status.OPEN,
            session__programme__published=True,
            end__gt=start,
            start__lt=end,
        )
        .select_related("session__programme", "session__site")
        .order_by("start", "pk")[:MAX_ITEMS]
    )


def _event_items(user, start: datetime, end: datetime | None) -> list[Item]:
    return [
        Item(
            "event",
            e.title,
            e.start,
            e.end,
            reverse("events:detail", args=[e.pk]),
            e.outside_address or e.site.name,
            services.places_left(e),
            not e.is_public,
        )
        for e in _events(user, start, end)
    ]


def sitting_items(user, start: datetime, end: datetime) -> list[Item]:
    """What a month's table shows: the events, and each training sitting on its own day."""
    found = _event_items(user, start, end)
    found += [
        Item(
            "training",
            f"{s.session.programme.title} — {s.session.label}",
            s.start,
            s.end,
            programme_url(s.session.programme.slug),
            s.outside_address or s.session.site.name,
        )
        for s in _sittings(start, end)
    ]
    return sorted(found, key=lambda item: item.start)


def items(user, start: datetime, end: datetime | None = None) -> list[Item]:
    found = _event_items(user, start, end)
    found += [
        Item(
            "training",
            f"{s.programme.title} — {s.label}",
            s.starts_at,
            s.ends_at,
            programme_url(s.programme.slug),
            s.site.name,
        )
        for s in _sessions(start, end)
    ]
    return sorted(found, key=lambda item: item.start)


@require_GET
def agenda(request):
    today = timezone.localdate()
    context = {
        "items": items(request.user, timezone.now()),
        "this_month": reverse("events:month", args=[today.year, today.month]),
    }
    return render(request, "events/agenda.html", context)


@require_GET
def month(request, year: int, month: int):
    if not (2000 <= year <= 2200 and 1 <= month <= 12):
        raise Http404
    tz = zone(timezone.get_current_timezone_name())
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    found = sitting_items(request.user, at_local(first, time(0), tz), at_local(following, time(0), tz))
    by_day: dict[date, list[Item]] = {}
    for item in found:
        day = timezone.localtime(item.start).date()
        last = timezone.localtime(item.end - timedelta(seconds=1)).date() if item.end else day
        while day <= last:
            if day.month == month:
                by_day.setdefault(day, []).append(item)
            day += timedelta(days=1)
    weeks = [
        [(d, by_day.get(d, []), d.month == month) for d in week]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    ]
    previous = first - timedelta(days=1)
    context = {
        "first": first,
        "weeks": weeks,
        "count": len(found),
        "items": found,
        "today": timezone.localdate(),
        "previous_url": reverse("events:month", args=[previous.year, previous.month]),
        "next_url": reverse("events:month", args=[following.year, following.month]),
        "weekdays": [
            _("lundi"),
            _("mardi"),
            _("mercredi"),
            _("jeudi"),
            _("vendredi"),
            _("samedi"),
            _("dimanche"),
        ],
    }
    return render(request, "events/month.html", context)


def _public_events():
    since = timezone.now() - timedelta(days=30)
    return (
        Event.objects.filter(
            audience=Event.Audience.PUBLIC,
            status__in=[Event.Status.PUBLISHED, Event.Status.CANCELLED],
            end__gt=since,
        )
        .select_related("site")
        .prefetch_related("rooms")
        .order_by("start", "pk")[:MAX_ITEMS]
    )


@require_GET
def ics_feed(request):
    response = HttpResponse(ical.feed(_public_events()), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="agenda.ics"'
    response["Cache-Control"] = "public, max-age=900"
    return response


class AtomFeed(Feed):
    feed_type = Atom1Feed
    title = gettext_lazy("Agenda des tiers-lieux — événements")
    subtitle = gettext_lazy("Les événements publics à venir : forum, rencontres, ateliers, portes ouvertes.")

    def link(self):
        return reverse("events:agenda")

    def items(self):
        return [e for e in _public_events() if e.status == Event.Status.PUBLISHED]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        from cocotte.core.formats import describe_period

        return f"{describe_period(item.start, item.end)} — {ical.location(item)}\n\n{item.description}"

    def item_link(self, item):
        return reverse("events:detail", args=[item.pk])

    def item_pubdate(self, item):
        return item.created_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_guid(self, item):
        return f"event-{item.pk}"
