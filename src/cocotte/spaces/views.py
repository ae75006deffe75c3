from datetime import timedelta

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from cocotte.core.i18n import localized_lines
from cocotte.core.timeutils import days, local_date, zone

from .models import Equipment, Resource, Site
from .opening import OpeningCalendar

# The services a site offers through what can be booked there, in the order a visitor reads them.
SERVICES_BY_KIND = {
    Resource.Kind.DESK: _("Coworking en open space"),
    Resource.Kind.OPEN_SPACE: _("Coworking en open space"),
    Resource.Kind.OFFICE: _("Bureaux privatifs"),
    Resource.Kind.MEETING_ROOM: _("Salles de réunion"),
    Resource.Kind.VISIO_ROOM: _("Salle de visioconférence"),
    Resource.Kind.COMMON_ROOM: _("Espace de convivialité"),
    Resource.Kind.MACHINE: _("Fablab"),
}
SERVICE_ORDER = list(dict.fromkeys(SERVICES_BY_KIND.values()))
CLOSURES_AHEAD = 120  # days of closures listed on a site's page


@require_GET
def home(request):
    """The network's sites: where each is, what it is, and the way to its page and its bookings."""
    sites = Site.objects.filter(is_active=True).prefetch_related(
        Prefetch("resources", queryset=Resource.objects.filter(is_active=True).only("site_id", "kind")),
        "opening_hours",
        "closures",
    )
    now = timezone.now()
    entries = []
    for site in sites:
        tz = zone(site.timezone)
        today = local_date(now, tz)
        calendar = OpeningCalendar.for_site(site, today, today)  # from the prefetched hours: no query
        entries.append(
            {
                "site": site,
                "services": _services(site, site.resources.all(), extra=False),
                "today": [(s.astimezone(tz), e.astimezone(tz)) for s, e in calendar.day_intervals(today)],
                "closed_because": calendar.closure_reason(today),
            }
        )
    return render(request, "spaces/home.html", {"entries": entries})


@require_GET
def site_page(request, slug):
    """A site's shop window: what it is and for whom, its spaces, when it is open, where, whom to call."""
    site = get_object_or_404(Site, slug=slug, is_active=True)
    resources = list(
        site.resources.filter(is_active=True).prefetch_related(
            Prefetch("equipment", queryset=Equipment.objects.order_by("name"))
        )
    )
    tz = zone(site.timezone)
    today = local_date(timezone.now(), tz)
    monday = today - timedelta(days=today.weekday())
    calendar = OpeningCalendar.for_site(site, monday, today + timedelta(days=CLOSURES_AHEAD))
    week = [
        {
            "day": day,
            "is_today": day == today,
            "hours": [(s.astimezone(tz), e.astimezone(tz)) for s, e in calendar.day_intervals(day)],
            "closed_because": calendar.closure_reason(day),
        }
        for day in days(monday, monday + timedelta(7))
    ]
    context = {
        "site": site,
        "resources": resources,
        "photos": site.photos.all(),
        "week": week,
        "closures": _closures(calendar, today + timedelta(1), today + timedelta(CLOSURES_AHEAD)),
        "services": _services(site, resources),
    }
    return render(request, "spaces/site.html", context)


def _services(site: Site, resources, *, extra: bool = True) -> list[str]:
    """What the site offers: its kinds of spaces, then (`extra`) the other services staff listed."""
    offered = []
    for resource in resources:
        label = SERVICES_BY_KIND.get(resource.kind)
        if label is not None and label not in offered:
            offered.append(label)
    offered.sort(key=SERVICE_ORDER.index)
    return [str(label) for label in offered] + (localized_lines(site, "extra_services") if extra else [])


def _closures(calendar: OpeningCalendar, first, last) -> list[dict]:
    """The coming days the site is closed for a reason (a holiday, a break), consecutive days as one."""
    ranges: list[dict] = []
    for day in days(first, last + timedelta(1)):
        reason = calendar.closure_reason(day)
        if reason is None:
            continue
        previous = ranges[-1] if ranges else None
        if previous and previous["reason"] == reason and previous["last"] == day - timedelta(1):
            previous["last"] = day
        else:
            ranges.append({"first": day, "last": day, "reason": reason})
    return ranges
