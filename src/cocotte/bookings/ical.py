"""iCalendar (RFC 5545) views of bookings: a member's private feed, a resource's public busy times, and a
one-event calendar for e-mails.

A series is written as calendar apps expect one: a recurring master VEVENT with the series' RRULE and its
DTSTART in the site's zone (so that 09:00 stays 09:00 across the change of clocks), EXDATE for occurrences
that are not live (cancelled, refused, never booked because they conflicted), and RECURRENCE-ID overrides
for occurrences that differ from the master (moved, another status). Expanding the master therefore gives
exactly the live bookings. What the master cannot say cleanly is written as a standalone VEVENT.

Each occurrence keeps the start its series' rule gave it (`Booking.original_start`): that is its
RECURRENCE-ID, wherever it has moved since.

DTSTAMP and LAST-MODIFIED are the bookings' last change and SEQUENCE counts seconds since creation: a feed
reads the same until something changes (ETag-friendly), and an updated event always has a higher SEQUENCE.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parseaddr
from itertools import islice
from urllib.parse import urlsplit

from dateutil.rrule import rrulestr
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vDuration, vRecur, vText

from cocotte.core.timeutils import at_local, zone
from cocotte.spaces.models import Resource

from . import recurrence
from .errors import BookingError
from .models import Block, Booking, BookingSeries

PRODID = "-//Cocotte//Reservations//FR"
FEED_HISTORY = timedelta(days=90)  # how far back the feeds go
REFRESH = timedelta(hours=1)  # what the feeds suggest to calendar apps

Status = Booking.Status
ICAL_STATUS = {
    Status.CONFIRMED: "CONFIRMED",
    Status.PENDING: "TENTATIVE",
    Status.CANCELLED: "CANCELLED",
    Status.REFUSED: "CANCELLED",
}


# ---------------------------------------------------------------------------------------------------------
# Small pieces
# ---------------------------------------------------------------------------------------------------------


def _host() -> str:
    return urlsplit(settings.COCOTTE_PUBLIC_URL).hostname or "cocotte.invalid"


def _seconds_between(earlier: datetime, later: datetime) -> int:
    return max(0, int((later - earlier).total_seconds()))


def _address(site) -> str:
    town = f"{site.postal_code} {site.city}".strip()
    return ", ".join(part for part in (site.street, town) if part)


def _feed_start(now: datetime | None = None) -> datetime:
    """Local midnight ~90 days ago: the same all day long, so a feed does not change with every request."""
    today = timezone.localdate(now or timezone.now())
    return at_local(today - FEED_HISTORY, time(0), zone(settings.TIME_ZONE))


@dataclass(frozen=True)
class Look:
    """What an instance shows besides its times. Two equal looks need no override."""

    summary: str
    location: str
    description: str
    status: str


def _member_look(booking: Booking) -> Look:
    resource = booking.resource
    lines = [_("Statut : %(status)s") % {"status": booking.get_status_display()}]
    if booking.note:
        lines.append(_("Note : %(note)s") % {"note": booking.note})
    if booking.staff_reason:
        lines.append(_("Message de l’équipe : %(message)s") % {"message": booking.staff_reason})
    return Look(
        summary=f"{resource.name} — {resource.site.name}",
        location=_address(resource.site),
        description="\n".join(lines),
        status=ICAL_STATUS[booking.status],
    )


def _public_look(booking: Booking) -> Look:
    """Busy time without who, why or any word the member wrote."""
    resource = booking.resource
    pending = booking.status == Status.PENDING
    if resource.is_pooled:
        summary = _("Place réservée")
        description = _("Une des %(capacity)s places est réservée.") % {"capacity": resource.capacity}
    else:
        summary = _("Occupé")
        description = _("Créneau réservé.")
    if pending:
        description = f"{description} {_('En attente de validation par l’équipe.')}"
    return Look(summary, _address(resource.site), description, ICAL_STATUS[booking.status])


class _Builder:
    """Collects events and the instants they use (for the VTIMEZONE's span)."""

    def __init__(self):
        self.events: list[tuple[datetime, str, Event]] = []
        self.instants: list[datetime] = []

    def event(
        self,
        *,
        uid: str,
        start: datetime,
        end: datetime,
        tz,
        look: Look,
        stamp: datetime,
        created: datetime,
        sequence: int,
        recurrence_id: datetime | None = None,
        rrule: str | None = None,
        exdates: Iterable[datetime] = (),
        dtstamp: datetime | None = None,
    ) -> Event:
        event = Event()
        event.add("uid", uid)
        event.add("dtstamp", (dtstamp or stamp).astimezone(UTC))
        event.add("created", created.astimezone(UTC))
        event.add("last-modified", stamp.astimezone(UTC))
        if recurrence_id is not None:
            event.add("recurrence-id", recurrence_id.astimezone(tz))
        event.add("dtstart", start.astimezone(tz))
        event.add("dtend", end.astimezone(tz))
        if rrule:
            event.add("rrule", vRecur.from_ical(rrule))
        exdates = sorted(exdates)
        if exdates:
            event.add("exdate", [d.astimezone(tz) for d in exdates])
        event.add("summary", look.summary)
        if look.location:
            event.add("location", look.location)
        event.add("description", look.description)
        event.add("status", look.status)
        event.add("transp", "OPAQUE")
        event.add("sequence", sequence)
        self.instants += [start, end, *exdates]
        self.events.append((start, uid, event))
        return event

    def calendar(self, name: str, description: str = "", *, method: str | None = None) -> bytes:
        cal = Calendar()
        cal.add("prodid", PRODID)
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        if method:
            cal.add("method", method)
        cal.add("name", name)
        cal.add("x-wr-calname", name)
        if description:
            cal.add("x-wr-caldesc", vText(description))
        if not method:  # a feed: how often to come back
            cal.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
            cal.add("x-published-ttl", vDuration(REFRESH).to_ical().decode())
        # Masters before their overrides, then by time: a stable order for a stable feed.
        for _start, _uid, event in sorted(self.events, key=lambda e: (e[0], "RECURRENCE-ID" in e[2], e[1])):
            cal.add_component(event)
        if self.instants:
            first, last = min(self.instants), max(self.instants)
            cal.add_missing_timezones(
                first_date=date(first.year - 1, 12, 1), last_date=date(last.year + 1, 2, 1)
            )
        return cal.to_ical()


# ---------------------------------------------------------------------------------------------------------
# Series
# ---------------------------------------------------------------------------------------------------------


def pair_occurrences(slot_starts: list[datetime], bookings: list[Booking]) -> tuple[dict[int, Booking], list]:
    """Which occurrence (index in `slot_starts`) each booking of a series was booked for, by its original
    start; bookings whose original start is none of the rule's occurrences are returned apart (written as
    standalone events)."""
    index = {start: i for i, start in enumerate(slot_starts)}
    links: dict[int, Booking] = {}
    unpaired = []
    for booking in bookings:
        slot = index.get(booking.original_start)
        if slot is None or slot in links:
            unpaired.append(booking)
        else:
            links[slot] = booking
    return links, unpaired


@dataclass
class _SeriesShape:
    tz: object
    starts: list[datetime]  # each occurrence's start, UTC
    ends: list[datetime]
    rrule: str


def _series_shape(series: BookingSeries) -> _SeriesShape | None:
    """The occurrences of a series and the RRULE that gives exactly them from the first one; None when the
    rule cannot be written so (then every booking of the series is written as a standalone event)."""
    resource = series.resource
    tz = zone(resource.site.timezone)
    try:
        occurrences = recurrence.expand_rrule(resource, series.first_start, series.first_end, series.rrule)
    except BookingError:
        return None
    text = series.rrule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts = [part.partition("=")[::2] for part in text.split(";") if part]
    written = [f"{name.upper()}={value.upper()}" for name, value in parts if name.upper() != "UNTIL"]
    if any(name.upper() == "UNTIL" for name, _value in parts):
        # RFC 5545: with a DTSTART in a zone, UNTIL is in UTC. The last occurrence says it exactly.
        written.append(f"UNTIL={occurrences[-1].start.astimezone(UTC):%Y%m%dT%H%M%SZ}")
    rule = ";".join(written)
    starts = [o.start for o in occurrences]
    # The master starts at the first occurrence (dateutil skips a DTSTART off the rule, RFC 5545 counts it).
    # Check that the rule written, expanded from there, gives the occurrences back, and nothing more.
    try:
        again = rrulestr(rule, dtstart=starts[0].astimezone(tz))
        check = [d.astimezone(UTC) for d in islice(iter(again), len(starts) + 1)]
    except (ValueError, TypeError, OverflowError, KeyError, IndexError):
        return None
    if check != starts:
        return None
    return _SeriesShape(tz=tz, starts=starts, ends=[o.end for o in occurrences], rrule=rule)


# ---------------------------------------------------------------------------------------------------------
# Feeds
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Feed:
    look: Callable[[Booking], Look]
    include: Callable[[Booking], bool]  # live bookings this feed shows
    owns: Callable[[BookingSeries], bool]  # series written as a master here
    prefix: str  # UIDs of a public feed differ from the private ones

    def uid(self, kind: str, pk: int) -> str:
        return f"{self.prefix}{kind}-{pk}@{_host()}"


def _standalone(builder: _Builder, feed: _Feed, booking: Booking) -> None:
    builder.event(
        uid=feed.uid("booking", booking.pk),
        start=booking.start,
        end=booking.end,
        tz=zone(booking.resource.site.timezone),
        look=feed.look(booking),
        stamp=booking.updated_at,
        created=booking.created_at,
        sequence=_seconds_between(booking.created_at, booking.updated_at),
    )


def _write_series(builder: _Builder, feed: _Feed, series: BookingSeries, bookings: list[Booking]) -> None:
    """`bookings`: every row of the series, whatever its status or resource, in id order."""
    shown = [b for b in bookings if b.is_live and feed.include(b)]
    if not shown:
        return
    shape = _series_shape(series) if feed.owns(series) else None
    links = {}
    if shape is not None:
        links, _unpaired = pair_occurrences(shape.starts, bookings)
        links = {slot: b for slot, b in links.items() if b.is_live and feed.include(b)}
    if not links:
        for booking in shown:
            _standalone(builder, feed, booking)
        return

    # The master looks like the first occurrence still in place on the series' resource, if any.
    in_place = [
        b for slot, b in sorted(links.items()) if b.start == shape.starts[slot] and b.end == shape.ends[slot]
    ]
    model = next((b for b in in_place if b.resource_id == series.resource_id), None)
    model = model or (in_place or [links[min(links)]])[0]
    master_look = feed.look(model)
    stamp = max(b.updated_at for b in bookings)
    sequence = _seconds_between(series.created_at, stamp)
    uid = feed.uid("series", series.pk)
    tz = shape.tz
    exact_length = (
        shape.ends[0] - shape.starts[0]
    )  # what the master's DTEND says to apps that count real time
    builder.event(
        uid=uid,
        start=shape.starts[0],
        end=shape.ends[0],
        tz=tz,
        look=master_look,
        stamp=stamp,
        created=series.created_at,
        sequence=sequence,
        rrule=shape.rrule,
        exdates=[start for slot, start in enumerate(shape.starts) if slot not in links],
    )
    for slot, booking in sorted(links.items()):
        start, end = shape.starts[slot], shape.ends[slot]
        look = feed.look(booking)
        # Across a change of clocks, apps differ on the length of an instance: wall clock or real time.
        same_times = booking.start == start and booking.end == end == start + exact_length
        if same_times and look == master_look:
            continue
        builder.event(
            uid=uid,
            recurrence_id=start,
            start=booking.start,
            end=booking.end,
            tz=tz,
            look=look,
            stamp=stamp,
            created=series.created_at,
            sequence=sequence,
        )
    linked = {b.pk for b in links.values()}
    for booking in shown:
        if booking.pk not in linked:
            _standalone(builder, feed, booking)


def _write_bookings(builder: _Builder, feed: _Feed, bookings: Iterable[Booking]) -> None:
    by_series: dict[int, list[Booking]] = {}
    for booking in bookings:
        if booking.series_id is None:
            if booking.is_live and feed.include(booking):
                _standalone(builder, feed, booking)
        else:
            by_series.setdefault(booking.series_id, []).append(booking)
    for rows in by_series.values():
        rows.sort(key=lambda b: b.pk)
        _write_series(builder, feed, rows[0].series, rows)


def _bookings_and_their_series(shown: Q, since: datetime):
    """One query: the live bookings `shown` since then, and every row of the series they belong to."""
    recent = Q(shown, status__in=Booking.LIVE, end__gt=since)
    series_ids = Booking.objects.filter(recent, series__isnull=False).values("series_id")
    return (
        Booking.objects.filter(Q(recent, series__isnull=True) | Q(series__in=series_ids))
        .select_related("resource__site", "series__resource__site")
        .order_by("start", "pk")
    )


def member_calendar(user, *, now: datetime | None = None) -> bytes:
    """The member's live bookings (pending ones TENTATIVE) from ~90 days ago on; a series with an occurrence
    in that window comes whole. One query (two with the view's look-up of the key), whatever the number of
    bookings."""
    since = _feed_start(now)
    builder = _Builder()
    feed = _Feed(
        look=_member_look,
        include=lambda b: b.member_id == user.pk,
        owns=lambda s: s.member_id == user.pk,
        prefix="",
    )
    _write_bookings(builder, feed, _bookings_and_their_series(Q(member=user), since))
    return builder.calendar(
        _("Mes réservations Cocotte"),
        _(
            "Vos réservations confirmées et en attente de validation. Cette adresse est personnelle : "
            "ne la partagez pas."
        ),
    )


def resource_calendar(resource: Resource, *, now: datetime | None = None) -> bytes:
    """When a resource is taken (live bookings, blocks) from ~90 days ago on, without who or why."""
    since = _feed_start(now)
    builder = _Builder()
    feed = _Feed(
        look=_public_look,
        include=lambda b: b.resource_id == resource.pk,
        owns=lambda s: s.resource_id == resource.pk,
        prefix="busy-",
    )
    _write_bookings(builder, feed, _bookings_and_their_series(Q(resource=resource), since))
    tz = zone(resource.site.timezone)
    address = _address(resource.site)
    for item in Block.objects.filter(resource=resource, end__gt=since).order_by("start", "pk"):
        builder.event(
            uid=f"block-{item.pk}@{_host()}",
            start=item.start,
            end=item.end,
            tz=tz,
            look=Look(
                summary=_("Indisponible"),
                location=address,
                description=_("Ressource indisponible (%(kind)s).") % {"kind": item.get_kind_display()},
                status="CONFIRMED",
            ),
            stamp=item.created_at,
            created=item.created_at,
            sequence=0,
        )
    name = f"{resource.name} — {resource.site.name}"
    return builder.calendar(
        name,
        _("Créneaux occupés de « %(resource)s » (%(site)s). Les noms des membres ne sont pas publiés.")
        % {"resource": resource.name, "site": resource.site.name},
    )


# ---------------------------------------------------------------------------------------------------------
# E-mails and links
# ---------------------------------------------------------------------------------------------------------


def booking_ics_method(booking: Booking) -> str:
    """The iTIP method of `booking_ics(booking)`, also wanted in the e-mail part's content type
    (`text/calendar; charset=utf-8; method=REQUEST`)."""
    return "REQUEST" if booking.is_live else "CANCEL"


def booking_ics(booking: Booking) -> bytes:
    """A one-event calendar for an e-mail about this booking: METHOD:REQUEST while it is live (pending:
    STATUS:TENTATIVE), METHOD:CANCEL with STATUS:CANCELLED once cancelled or refused. The UID and a growing
    SEQUENCE let the member's calendar app update or remove the event it added from an earlier e-mail."""
    site = booking.resource.site
    tz = zone(site.timezone)
    builder = _Builder()
    look = _member_look(booking)
    event = builder.event(
        # With a METHOD, DTSTAMP is when this message was made (RFC 5545, 3.8.7.2).
        dtstamp=timezone.now(),
        uid=f"booking-{booking.pk}@{_host()}",
        start=booking.start,
        end=booking.end,
        tz=tz,
        look=look,
        stamp=booking.updated_at,
        created=booking.created_at,
        sequence=_seconds_between(booking.created_at, booking.updated_at),
    )
    # iTIP (RFC 5546) wants an organizer and the attendee in REQUEST and CANCEL.
    organizer = site.email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    if organizer:
        event.add("organizer", f"mailto:{organizer}", parameters={"CN": site.name})
    member = booking.member
    event.add(
        "attendee",
        f"mailto:{member.email}",
        parameters={
            "CN": str(member),
            "ROLE": "REQ-PARTICIPANT",
            "PARTSTAT": "ACCEPTED",
            "RSVP": "FALSE",
        },
    )
    return builder.calendar(look.summary, method=booking_ics_method(booking))


def calendar_url(request, user) -> str:
    """The absolute address of the member's private feed (from the request's host, or settings.COCOTTE_PUBLIC_URL)."""
    return user.profile.calendar_url(request)
