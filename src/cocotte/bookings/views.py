"""Members' booking pages: the grid, booking in two steps (choose, confirm), my bookings, move, cancel.

Thin: parse a form, check permission, call the engine, render. Every page works without JavaScript.
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cocotte.accounts import permissions
from cocotte.core.formats import describe_deadline, describe_period
from cocotte.core.timeutils import zone
from cocotte.spaces.models import Resource, Site

from . import grid as booking_grid
from . import hooks, recurrence, rules, services
from .errors import BookingError, NotFound
from .forms import GridFilterForm, SlotForm
from .models import Booking


def _site(slug: str) -> Site:
    # Its opening hours and closures come from the process's cache of calendars (spaces.opening).
    return get_object_or_404(Site, slug=slug, is_active=True)


def _resource(site: Site, resource_id: int) -> Resource:
    resource = get_object_or_404(Resource, pk=resource_id, site=site, is_active=True)
    resource.site = site
    return resource


def grid_context(request, site: Site) -> tuple[dict, int]:
    """The grid of a site for the day or week asked, with its filters (shared by members and the planner)."""
    tz = zone(site.timezone)
    filters = GridFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    today = timezone.now().astimezone(tz).date()
    day = data.get("date") or today
    week = data.get("vue") == "semaine"
    if week:
        day -= timedelta(days=day.weekday())
    equipment = data.get("equipement")
    built = booking_grid.build(
        site,
        day,
        viewer=request.user,
        week=week,
        show_names=permissions.can_see_who_booked(request.user, site.pk),
        kind=data.get("type") or "",
        min_seats=data.get("places") or 0,
        equipment=equipment.slug if equipment else "",
    )
    step = timedelta(days=7 if week else 1)
    query = request.GET.copy()
    navigation = {}
    for name, target in (("previous", day - step), ("next", day + step), ("today", today)):
        query["date"] = target.isoformat()
        navigation[name] = query.urlencode()
    context = {
        "site": site,
        "grid": built,
        "day": day,
        "week": week,
        "filters": filters,
        "navigation": navigation,
        "sites": Site.objects.filter(is_active=True),
    }
    return context, 200 if filters.is_valid() or not request.GET else 400


@require_GET
def grid(request, site_slug: str):
    context, status = grid_context(request, _site(site_slug))
    return render(request, "bookings/grid.html", context, status=status)


def _slot_form(request, resource, data=None, initial=None, *, moving=False):
    staff = permissions.is_site_staff(request.user, resource.site_id)
    return SlotForm(data, initial=initial, resource=resource, staff=staff, moving=moving)


def _member(request, form):
    return form.cleaned_data.get("member_email") or request.user


@login_required
@require_http_methods(["GET", "POST"])
def book(request, site_slug: str, resource_id: int):
    """Step 1 (GET, or POST step=check): choose. Step 2 (POST step=confirm): the engine books."""
    site = _site(site_slug)
    resource = _resource(site, resource_id)
    if request.method == "GET":
        try:
            start = parse_datetime(request.GET.get("debut", "") or "")
        except ValueError:  # well formed, but no such moment (30 February…): no pre-filled slot
            start = None
        in_range = start and start.tzinfo and rules.EARLIEST_YEAR < start.year < rules.LATEST_YEAR
        initial = SlotForm.initial_for(resource, start) if in_range else None
        return render(
            request,
            "bookings/book.html",
            {"site": site, "resource": resource, "form": _slot_form(request, resource, initial=initial)},
        )

    form = _slot_form(request, resource, request.POST)
    if request.POST.get("edit"):  # "Modifier" on the confirm step: back to the form, as it was filled
        return render(request, "bookings/book.html", {"site": site, "resource": resource, "form": form})
    if form.is_valid():
        data = form.cleaned_data
        member = _member(request, form)
        try:
            if request.POST.get("step") == "confirm":
                return _confirm(request, resource, member, data)
            occurrences = _check(request, resource, member, data)
        except BookingError as error:
            form.add_engine_error(error)
        else:
            return render(
                request,
                "bookings/confirm.html",
                {
                    "site": site,
                    "resource": resource,
                    "form": form,
                    "data": data,
                    "member": member,
                    "occurrences": occurrences,
                    "free_count": sum(1 for o in occurrences if o.is_free),
                    **_deadline_of(resource, data["start"], by=request.user),
                    # What it costs, from the quote provider (billing), before the member confirms.
                    "price": hooks.quote(
                        hooks.Proposal("book", resource, member, request.user, data["start"], data["end"])
                    ),
                },
            )
    return render(
        request, "bookings/book.html", {"site": site, "resource": resource, "form": form}, status=400
    )


def _deadline_of(resource, start, *, by) -> dict:
    """Until when the booking about to be made can be changed, said before it is confirmed."""
    planned = Booking(resource=resource, start=start, status=rules.initial_status(resource, by))
    deadline = rules.change_deadline(planned)
    if deadline <= timezone.now():
        return {"deadline": "", "deadline_passed": True}
    with timezone.override(zone(resource.site.timezone)):
        return {"deadline": describe_deadline(deadline), "deadline_passed": False}


def _check(request, resource, member, data) -> list[recurrence.Occurrence]:
    """What would happen, without booking: the engine's rules, and each occurrence's conflict."""
    if data["rrule"]:
        return services.preview_series(
            resource=resource,
            member=member,
            start=data["start"],
            end=data["end"],
            rrule=data["rrule"],
            by=request.user,
        )
    services.check_booking(
        resource=resource, member=member, start=data["start"], end=data["end"], by=request.user
    )
    return [recurrence.Occurrence(data["start"], data["end"])]


def _confirm(request, resource, member, data):
    common = {
        "resource": resource,
        "member": member,
        "start": data["start"],
        "end": data["end"],
        "by": request.user,
        "note": data.get("note") or "",
    }
    if data["rrule"]:
        result = services.book_series(
            **common, rrule=data["rrule"], skip_conflicts=request.POST.get("skip") == "1"
        )
        messages.success(
            request,
            " ".join(
                [
                    ngettext(
                        "%(n)s réservation enregistrée.",
                        "%(n)s réservations enregistrées.",
                        len(result.bookings),
                    )
                    % {"n": len(result.bookings)},
                    ngettext(
                        "%(n)s occurrence non réservée.",
                        "%(n)s occurrences non réservées.",
                        len(result.skipped),
                    )
                    % {"n": len(result.skipped)},
                ]
            ),
        )
    else:
        booking = services.book(**common)
        if member != request.user:
            messages.success(
                request,
                _("Réservé pour %(name)s, qui en reçoit la confirmation par e-mail.")
                % {"name": member.get_full_name() or member.email},
            )
        elif booking.status == Booking.Status.PENDING:
            messages.success(request, _("Demande envoyée : l’équipe du site vous répondra par e-mail."))
        else:
            messages.success(request, _("C’est réservé. Un e-mail de confirmation vous est envoyé."))
    if member != request.user:  # the team booked for someone: back to their planner, on that day
        local_day = timezone.localtime(data["start"], zone(resource.site.timezone)).date()
        return redirect(reverse("planner:site", args=[resource.site.slug]) + f"?date={local_day.isoformat()}")
    return redirect("bookings:mine")


@login_required
@require_GET
def mine(request):
    now = timezone.now()
    mine_ = Booking.objects.filter(member=request.user).select_related("resource__site")
    # Each list is read along an index, whatever the member's history: the next ones by their end
    # (bookings_by_member_end), then shown in the order they start; the past ones from now backwards
    # (bookings_by_member_start); cancelled ones still ahead, apart.
    upcoming = sorted(
        mine_.filter(end__gt=now, status__in=Booking.LIVE).order_by("end", "id")[:UPCOMING_SHOWN],
        key=lambda b: (b.start, b.pk),
    )
    past = mine_.filter(start__lt=now).exclude(end__gt=now, status__in=Booking.LIVE).order_by("-start", "-id")
    page = _PastPage(past, request.GET.get("page"))
    called_off = list(
        mine_.filter(end__gt=now).exclude(status__in=Booking.LIVE).order_by("end", "id")[:UPCOMING_SHOWN]
    )
    _describe(upcoming, cards=True, by=request.user)
    _describe(page.object_list)
    _describe(called_off)
    context = {
        "upcoming": upcoming,
        "more_upcoming": len(upcoming) == UPCOMING_SHOWN,
        "past": page,
        "called_off": called_off,
    }
    return render(request, "bookings/mine.html", context)


UPCOMING_SHOWN = 50  # the next ones as cards; the calendar feed and the API give them all


class _PastPage:
    """A page of past bookings, newest first, without counting them all: a member of ten years has
    thousands, and COUNT(*) over them was most of the page's time. Previous and next, no total."""

    size = 20

    def __init__(self, rows, number):
        try:
            self.number = max(1, min(int(number or 1), 10_000))
        except ValueError:
            self.number = 1
        offset = (self.number - 1) * self.size
        found = list(rows[offset : offset + self.size + 1])
        self.object_list = found[: self.size]
        self.has_next = len(found) > self.size
        self.has_previous = self.number > 1
        self.previous_page_number = self.number - 1
        self.next_page_number = self.number + 1

    def __iter__(self):
        return iter(self.object_list)

    def __bool__(self):
        return bool(self.object_list) or self.has_previous

    def has_other_pages(self):
        return self.has_next or self.has_previous


def _describe(bookings, *, cards: bool = False, by=None) -> None:
    """Write each booking's words and links once, in its site's zone, for the template to print (core.formats,
    one way of saying a period everywhere). Cards say until when the booking can be changed, and offer Move
    and Cancel only while `by` may still use them."""
    now = timezone.now()
    for booking in bookings:
        with timezone.override(zone(booking.resource.site.timezone)):
            booking.when = describe_period(booking.start, booking.end)
            if not cards:
                continue
            booking.moment = describe_deadline(booking.start)
            if booking.checked_in_at:
                booking.arrived_at = f"{timezone.localtime(booking.checked_in_at):%H:%M}"
            booking.changeable = rules.may_change(by, booking, now)
            deadline = rules.change_deadline(booking)
            booking.deadline = describe_deadline(deadline) if booking.changeable and deadline > now else ""
        booking.can_check_in = rules.may_check_in(by, booking, now)
        booking.check_in_url = reverse("bookings:check_in", args=[booking.pk])
        booking.move_url = reverse("bookings:move", args=[booking.pk])
        booking.cancel_url = reverse("bookings:cancel", args=[booking.pk])
        if booking.series_id:
            booking.cancel_series_url = reverse("bookings:cancel_series", args=[booking.series_id])


def _booking(request, booking_id: int) -> Booking:
    try:
        return services.get_booking_for(request.user, booking_id)
    except NotFound as error:
        raise Http404(error.message) from error


@login_required
@require_http_methods(["GET", "POST"])
def move(request, booking_id: int):
    booking = _booking(request, booking_id)
    resource = booking.resource
    if request.method == "GET":
        initial = SlotForm.initial_for(resource, booking.start, booking.end)
        initial["months"] = max(1, round((booking.end - booking.start) / timedelta(days=30.4)))
        form = _slot_form(request, resource, initial=initial, moving=True)
        return render(request, "bookings/move.html", {"booking": booking, "form": form})
    form = _slot_form(request, resource, request.POST, moving=True)
    if form.is_valid():
        try:
            services.move(
                booking, by=request.user, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
            )
        except BookingError as error:
            form.add_engine_error(error)
        else:
            messages.success(request, _("Réservation déplacée."))
            return redirect("bookings:mine")
    return render(request, "bookings/move.html", {"booking": booking, "form": form}, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request, booking_id: int):
    booking = _booking(request, booking_id)
    if request.method == "POST":
        try:
            services.cancel(booking, by=request.user)
        except BookingError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Réservation annulée."))
        return redirect("bookings:mine")
    return render(request, "bookings/cancel.html", {"booking": booking})


@login_required
@require_POST
def check_in(request, booking_id: int):
    """« J’arrive » from the member's phone: their booking of the moment is marked as begun."""
    booking = _booking(request, booking_id)
    try:
        services.check_in(booking, by=request.user)
    except BookingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Arrivée notée. Bonne journée !"))
    return redirect("bookings:mine")


@login_required
@require_http_methods(["GET", "POST"])
def cancel_series(request, series_id: int):
    try:
        series = services.get_series_for(request.user, series_id)
    except NotFound as error:
        raise Http404(error.message) from error
    if request.method == "POST":
        result = services.cancel_series(series, by=request.user)
        count = len(result.cancelled)
        messages.success(
            request,
            ngettext("%(n)s occurrence annulée.", "%(n)s occurrences annulées.", count) % {"n": count},
        )
        for occurrence, error in result.kept:
            messages.error(
                request,
                f"{occurrence.start.astimezone(zone(series.resource.site.timezone)):%d/%m %H:%M} : {error.message}",
            )
        return redirect("bookings:mine")
    upcoming = series.bookings.filter(status__in=Booking.LIVE, start__gt=timezone.now()).order_by("start")
    return render(request, "bookings/cancel_series.html", {"series": series, "upcoming": upcoming})
