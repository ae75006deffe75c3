"""iCalendar (RFC 5545) views of events: the one-event calendar attached to e-mails, and the public feed.

An event's UID is stable ("event-<id>@host"); SEQUENCE counts seconds from its creation to its last change, so
that a calendar app replaces an older copy with a changed one, and a cancelled event is sent as CANCEL.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from icalendar import Calendar
from icalendar import Event as VEvent

from .models import Event

PRODID = "-//Cocotte//Evenements//FR"


def _host() -> str:
    return urlsplit(settings.COCOTTE_PUBLIC_URL).hostname or "cocotte.invalid"


def location(event: Event) -> str:
    if event.outside_address:
        return event.outside_address
    site = event.site
    rooms = " + ".join(room.name for room in event.rooms.all())
    place = f"{rooms} — {site.name}" if rooms else site.name
    return ", ".join(part for part in (place, site.street, f"{site.postal_code} {site.city}".strip()) if part)


def _vevent(event: Event) -> VEvent:
    item = VEvent()
    item.add("uid", f"event-{event.pk}@{_host()}")
    item.add("dtstamp", event.updated_at)
    item.add("last-modified", event.updated_at)
    item.add("sequence", max(0, int((event.updated_at - event.created_at).total_seconds())))
    item.add("dtstart", event.start)
    item.add("dtend", event.end)
    item.add("summary", event.title)
    item.add("location", location(event))
    item.add("description", event.description[:2000])
    item.add("url", settings.COCOTTE_PUBLIC_URL + reverse("events:detail", args=[event.pk]))
    item.add("status", "CANCELLED" if event.status == Event.Status.CANCELLED else "CONFIRMED")
    return item


def _calendar(method: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    return calendar


def event_ics(event: Event, *, cancelled: bool = False) -> tuple[str, bytes, str]:
    """(filename, content, content type) of the e-mail attachment: REQUEST, or CANCEL once it is off."""
    method = "CANCEL" if cancelled or event.status == Event.Status.CANCELLED else "PUBLISH"
    calendar = _calendar(method)
    vevent = _vevent(event)
    if method == "CANCEL":
        vevent["status"] = "CANCELLED"
    calendar.add_component(vevent)
    return f"evenement-{event.pk}.ics", calendar.to_ical(), f"text/calendar; method={method}"


def feed(events) -> bytes:
    calendar = _calendar()
    calendar.add("x-wr-calname", "Cocotte — agenda")
    calendar.add("refresh-interval;value=duration", "PT1H")
    for event in events:
        calendar.add_component(_vevent(event))
    return calendar.to_ical()
