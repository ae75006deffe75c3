"""The team's planner: every resource of their sites with who booked what, pending requests, blocks.

Only the staff of a site (or an admin) reach these pages; anyone else is told, with a 403, that they are the
team's. Someone's booking that one may not manage answers 404, as if it did not exist.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from cocotte.accounts import permissions
from cocotte.core.timeutils import day_bounds, local_date, zone
from cocotte.spaces.models import Site

from . import rules, services
from .errors import BookingError, NotFound
from .forms import BlockForm, RefuseForm
from .models import Booking
from .views import grid_context


def _staff_site(request, site_slug: str) -> Site:
    site = get_object_or_404(
        Site.objects.prefetch_related("opening_hours", "closures"), slug=site_slug, is_active=True
    )
    if not permissions.is_site_staff(request.user, site.pk):
        raise PermissionDenied(_("Cette page est réservée à l’équipe de ce lieu."))
    return site


@login_required
@require_GET
def index(request):
    sites = Site.objects.filter(is_active=True)
    if not permissions.is_admin(request.user):
        sites = sites.filter(pk__in=permissions.staffed_site_ids(request.user))
    now = timezone.now()
    sites = list(
        sites.annotate(
            pending=Count(
                "resources__bookings",
                filter=Q(
                    resources__bookings__status=Booking.Status.PENDING, resources__bookings__end__gt=now
                ),
            )
        )
    )
    if not sites:
        raise PermissionDenied(_("Le planning est réservé à l’équipe des lieux."))
    # Today's arrivals at each site, in its own zone: who comes, when, for what.
    today = {}
    for site_ in sites:
        start, end = day_bounds(local_date(now, zone(site_.timezone)), zone(site_.timezone))
        today[site_.pk] = (start, end)
    arrivals = {site_.pk: [] for site_ in sites}
    if sites:
        window = Q()
        for pk, (start, end) in today.items():
            window |= Q(resource__site_id=pk, start__lt=end, end__gt=start)
        for booking in (
            Booking.objects.live()
            .filter(window)
            .select_related("resource", "member")
            .order_by("start", "resource__name")[:500]
        ):
            arrivals[booking.resource.site_id].append(booking)
    for booking in (b for site_arrivals in arrivals.values() for b in site_arrivals):
        booking.may_check_in = rules.may_check_in(request.user, booking, now)
    entries = [{"site": s, "pending": s.pending, "arrivals": arrivals[s.pk]} for s in sites]
    return render(request, "bookings/planner_index.html", {"entries": entries})


@login_required
@require_GET
def site(request, site_slug: str):
    current = _staff_site(request, site_slug)
    pending = (
        Booking.objects.filter(resource__site=current, status=Booking.Status.PENDING, end__gt=timezone.now())
        .select_related("resource", "member")
        .order_by("start")[:100]
    )
    context, status = grid_context(request, current)
    context.update(
        pending=pending, block_form=BlockForm(site=current, prefix="block"), refuse_form=RefuseForm()
    )
    return render(request, "bookings/planner.html", context, status=status)


def _site_booking(request, booking_id: int) -> Booking:
    """A booking of a site the user is staff of; anyone else's answer is a 404, as if it did not exist (its own
    member may see the booking, not the team's pages about it)."""
    try:
        booking = services.get_booking_for(request.user, booking_id)
    except NotFound as error:
        raise Http404 from error
    if not permissions.is_site_staff(request.user, booking.resource.site_id):
        raise Http404
    return booking


@login_required
@require_POST
def check_in(request, booking_id: int):
    """The team marks an arrival in today's list (a member without a phone, or who forgot)."""
    booking = _site_booking(request, booking_id)
    try:
        services.check_in(booking, by=request.user)
    except BookingError as error:
        messages.error(request, error.message)
    else:
        name = booking.member.get_full_name() or booking.member.email
        messages.success(request, _("Arrivée de %(name)s notée.") % {"name": name})
    return redirect("planner:index")


@login_required
@require_POST
def approve(request, booking_id: int):
    booking = _site_booking(request, booking_id)
    try:
        services.approve(booking, by=request.user)
        messages.success(request, _("Demande validée : le membre est prévenu par e-mail."))
    except BookingError as error:
        messages.error(request, error.message)
    return redirect("planner:site", booking.resource.site.slug)


@login_required
@require_POST
def refuse(request, booking_id: int):
    booking = _site_booking(request, booking_id)
    form = RefuseForm(request.POST)
    if form.is_valid():
        try:
            services.refuse(booking, by=request.user, reason=form.cleaned_data["reason"])
        except BookingError as error:
            form.add_error("reason", error.message)
        else:
            messages.success(request, _("Demande refusée : le membre reçoit le motif par e-mail."))
            return redirect("planner:site", booking.resource.site.slug)
    return render(request, "bookings/refuse.html", {"booking": booking, "form": form}, status=400)


@login_required
@require_POST
def block(request, site_slug: str):
    current = _staff_site(request, site_slug)
    form = BlockForm(request.POST, site=current, prefix="block")
    conflicts = []
    if form.is_valid():
        data = form.cleaned_data
        try:
            _block, cancelled = services.block(
                data["resource"],
                by=request.user,
                start=data["start"],
                end=data["end"],
                reason=data["reason"],
                kind=data["kind"],
                cancel_conflicting=data["cancel_conflicting"],
            )
        except BookingError as error:
            form.add_error(None, error.message)
            conflicts = error.details
            people = get_user_model().objects.in_bulk({c["member"] for c in conflicts})
            for conflict in conflicts:  # whose booking is in the way: the team will have to tell them
                person = people.get(conflict["member"])
                conflict["name"] = (person.get_full_name() or person.email) if person else ""
        else:
            messages.success(
                request,
                ngettext(
                    "%(resource)s est indisponible sur cette période ; %(n)s réservation annulée.",
                    "%(resource)s est indisponible sur cette période ; %(n)s réservations annulées.",
                    len(cancelled),
                )
                % {"resource": data["resource"].name, "n": len(cancelled)},
            )
            return redirect("planner:site", current.slug)
    return render(
        request, "bookings/block.html", {"site": current, "form": form, "conflicts": conflicts}, status=400
    )
