"""The booking grid: a site's resources over a day (time columns) or a week (day columns), with a text list
of free slots as its alternative. Built from one availability query; no query per resource or cell.

The links and labels of the cells and free slots are written here, once per row or slot, rather than by
template tags in every cell (`{% url %}`, `{% blocktranslate %}`, date filters): a day of ten resources is
hundreds of cells, and the tags were most of the page's time. The template prints them.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import quote

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cocotte.core.timeutils import at_local, day_bounds, days, zone
from cocotte.spaces.models import Resource, Site
from cocotte.spaces.opening import OpeningCalendar

from . import schedule

COLUMN = timedelta(minutes=30)


@dataclass
class Cell:
    start: datetime
    end: datetime
    state: str  # free, busy, mine, pending, blocked, closed, full
    label: str = ""
    places_left: int = 0
    href: str = ""  # a free cell: where it leads
    text: str = ""  # a free cell: its accessible name (day), or the hidden words after « libre » (week)
    span: int = 1  # columns it covers: a booking over many cells shows its name once


MERGED_STATES = {"busy", "mine", "pending", "blocked", "closed", "past", "full"}


def _merged(cells: list[Cell]) -> list[Cell]:
    """Neighbouring cells that say the same thing (one booking, a lunch break, the past) as one cell."""
    result: list[Cell] = []
    for cell in cells:
        last = result[-1] if result else None
        if last and cell.state in MERGED_STATES and (last.state, last.label) == (cell.state, cell.label):
            last.end = cell.end
            last.span += 1
        else:
            result.append(cell)
    return result


@dataclass
class FreeSlot:
    """A free slot of the text list, with its words and link."""

    start: datetime
    end: datetime
    places_left: int
    when: str  # « mer. 2 décembre, 09:00 – 12:00 »
    href: str
    hidden: str  # for screen readers, after « Réserver »


@dataclass
class Row:
    resource: Resource
    cells: list[Cell] = field(default_factory=list)
    free: list[FreeSlot] = field(default_factory=list)


@dataclass
class Grid:
    site: Site
    start: datetime
    end: datetime
    columns: list[tuple[datetime, datetime]]
    rows: list[Row]
    week: bool


def _resources(site: Site, *, kind: str = "", min_seats: int = 0, equipment: str = ""):
    resources = Resource.objects.filter(site=site, is_active=True).prefetch_related("equipment")
    if kind:
        resources = resources.filter(kind=kind)
    if min_seats:
        resources = resources.filter(seats__gte=min_seats)
    if equipment:
        resources = resources.filter(equipment__slug=equipment)
    resources = list(resources.distinct())
    for resource in resources:
        resource.site = site  # the site comes with its hours and closures prefetched: share it
    return resources


def _label(busy: schedule.Busy, viewer, names: dict[int, str]) -> tuple[str, str]:
    if busy.kind == "block":
        return "blocked", busy.reason
    if busy.member_id == getattr(viewer, "pk", None):
        return ("pending" if busy.status == "pending" else "mine"), _("ma réservation")
    if busy.member_id in names:
        suffix = _(" (en attente)") if busy.status == "pending" else ""
        return ("pending" if busy.status == "pending" else "busy"), names[busy.member_id] + suffix
    return "busy", _("occupé")


def _cell(entry: schedule.Availability, start: datetime, end: datetime, viewer, names, opening, now) -> Cell:
    if end <= now:  # gone: neither closed nor taken, just past
        return Cell(start, end, "past", _("passé"))
    if entry.resource.unit != Resource.Unit.MONTH and not any(s <= start and end <= e for s, e in opening):
        # Closed time, such as a lunch break, even inside a free day or a day booking that spans it.
        return Cell(start, end, "closed", _("fermé"))
    for slot in entry.free:
        if slot.start <= start and end <= slot.end:
            return Cell(start, end, "free", places_left=slot.places_left)
    for item in entry.busy:
        if item.start < end and start < item.end and (item.kind == "block" or not entry.resource.is_pooled):
            state, label = _label(item, viewer, names)
            return Cell(start, end, state, label)
    if any(s.start < end and start < s.end for s in entry.full):
        return Cell(start, end, "full", _("complet"))
    return Cell(start, end, "closed", _("fermé"))


class _DayNames(dict):
    """A day's words in the current language (« mer. 2 décembre »), formatted once per day and format:
    `date_format` costs tens of microseconds, and a week's slots share a few days."""

    def __missing__(self, key):
        day, fmt = key
        self[key] = value = date_format(day, fmt)
        return value


def _free_slot(slot: schedule.Slot, resource: Resource, book_url: str, tz, names: _DayNames) -> FreeSlot:
    start, end = slot.start.astimezone(tz), slot.end.astimezone(tz)
    day = names[start.date(), "D j F"]
    return FreeSlot(
        start=slot.start,
        end=slot.end,
        places_left=slot.places_left,
        when=f"{day}, {start:%H:%M} – {end:%H:%M}",  # the template's "D j F, H:i" – "H:i"
        href=f"{book_url}?debut={quote(start.isoformat(), safe='/')}",
        hidden=f" {resource.name}, {day} {start:%H:%M}",
    )


def build(site: Site, day: date, *, viewer, week: bool = False, show_names: bool = False, **filters) -> Grid:
    """The grid of a site for a day (30-minute columns over the opening hours) or the week from `day`."""
    tz = zone(site.timezone)
    start = day_bounds(day, tz)[0]
    end = day_bounds(day + timedelta(days=6 if week else 0), tz)[1]
    resources = _resources(site, **filters)
    entries = schedule.availability(resources, start, end)
    names = {}
    if show_names:  # the site's staff see who booked: one query for the people on screen
        member_ids = {b.member_id for e in entries for b in e.busy if b.member_id}
        names = {
            u.pk: u.get_full_name() or u.email for u in get_user_model().objects.filter(pk__in=member_ids)
        }
    calendar = OpeningCalendar.for_site(site, day, day + timedelta(days=6 if week else 0))
    if week:
        columns = [day_bounds(d, tz) for d in days(day, day + timedelta(days=7))]
    else:
        opening = calendar.day_intervals(day)
        span = calendar.day_span(day) or (at_local(day, time(8), tz), at_local(day, time(18), tz))
        columns, cursor = [], span[0]
        while cursor < span[1]:
            columns.append((cursor, min(cursor + COLUMN, span[1])))
            cursor += COLUMN
    rows = []
    now = timezone.now()
    day_names = _DayNames()
    for entry in entries:
        resource = entry.resource
        book_url = reverse("bookings:book", args=[site.slug, resource.pk])
        row = Row(
            resource=resource, free=[_free_slot(s, resource, book_url, tz, day_names) for s in entry.free]
        )
        for col_start, col_end in columns:
            if week:
                free_here = [s for s in entry.free if s.start < col_end and col_start < s.end]
                if free_here:
                    state, label = "free", _("libre")
                elif col_end <= now:
                    state, label = "past", _("passé")
                elif calendar.day_span(col_start.astimezone(tz).date()) is None:
                    state, label = "closed", _("fermé")
                else:
                    state, label = "busy", _("complet")
                cell = Cell(col_start, col_end, state, label)
                if free_here:
                    local = col_start.astimezone(tz)
                    cell.href = f"?date={local:%Y-%m-%d}&vue=jour"
                    cell.text = f" — {resource.name}, {day_names[local.date(), 'l j F']}"
            else:
                cell = _cell(entry, col_start, col_end, viewer, names, opening, now)
                if cell.state == "free":
                    local = col_start.astimezone(tz)
                    cell.href = f"{book_url}?debut={quote(local.isoformat(), safe='/')}"
                    cell.text = _("Réserver %(r)s à %(t)s") % {"r": resource.name, "t": f"{local:%H:%M}"}
            row.cells.append(cell)
        if not week:
            row.cells = _merged(row.cells)
        rows.append(row)
    return Grid(site=site, start=start, end=end, columns=columns, rows=rows, week=week)
