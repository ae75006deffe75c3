"""The team's planner: every resource of their sites with who booked what, pending requests, blocks.

Only the staff of a site (or an admin) reach these pages; everyone else gets a 404, as if they did not exist.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cocotte.accounts import permissions
from cocotte.spaces.models import Site

from . import services
from .errors import BookingError, NotFound
from .forms import BlockForm, RefuseForm
from .models import Booking
from .views import grid_context


def _staff_site(request, site_slug: str) -> Site:
    site = get_object_or_404(
        Site.objects.prefetch_related("opening_hours", "closures"), slug=site_slug, is_active=True
    )
    if not permissions.is_site_staff(request.user, site.pk):
        raise Http404
    return site


@login_required
@require_GET
def index(request):
    sites = Site.objects.filter(is_active=True)
    if not permissions.is_admin(request.user):
        sites = sites.filter(pk__in=permissions.staffed_site_ids(request.user))
    sites = list(sites)
    if not sites:
        raise Http404
    if len(sites) == 1:
        return redirect("planner:site", sites[0].slug)
    return render(request, "bookings/planner_index.html", {"sites": sites})


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


def _pending(request, booking_id: int) -> Booking:
    try:
        booking = services.get_booking_for(request.user, booking_id)
    except NotFound as error:
        raise Http404 from error
    # Its own member may see the booking, not the team's decision pages about it.
    if not permissions.is_site_staff(request.user, booking.resource.site_id):
        raise Http404
    return booking


@login_required
@require_POST
def approve(request, booking_id: int):
    booking = _pending(request, booking_id)
    try:
        services.approve(booking, by=request.user)
        messages.success(request, _("Demande validée : le membre est prévenu par e-mail."))
    except BookingError as error:
        messages.error(request, error.message)
    return redirect("planner:site", booking.resource.site.slug)


@login_required
@require_POST
def refuse(request, booking_id: int):
    booking = _pending(request, booking_id)
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
        else:
            messages.success(
                request,
                _("%(resource)s est indisponible sur cette période ; %(n)s réservation(s) annulée(s).")
                % {"resource": data["resource"].name, "n": len(cancelled)},
            )
            return redirect("planner:site", current.slug)
    return render(
        request, "bookings/block.html", {"site": current, "form": form, "conflicts": conflicts}, status=400
    )
