"""The events' pages: the public list and an event's page (register), one's registration (from the e-mailed
link), the team's pages (create, edit, publish, cancel, the registrants) and the door (check-in).

Thin: who may see what and every rule are `services`'; a refusal is shown as a form error (or a message), with
the status it carries. Someone else's draft answers 404, as if it did not exist.
"""

import csv
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cocotte.accounts import permissions
from cocotte.bookings.errors import BookingError
from cocotte.core import ratelimit
from cocotte.core.errors import DomainError
from cocotte.core.models import audit
from cocotte.spaces.models import Site

from . import ical, qr, services
from .errors import AlreadyCheckedIn, EventError, Forbidden, NotFound
from .forms import CancelEventForm, EventForm, RegistrationForm, WalkInForm
from .models import Event, Registration

Status = Registration.Status


def _event(request, pk: int) -> Event:
    try:
        return services.get_event_for(request.user, pk)
    except NotFound as error:
        raise Http404 from error


@require_http_methods(["GET", "HEAD"])
def calendar_file(request, pk: int):
    """The event as an .ics to add to one's calendar: for whoever may see its page."""
    name, content, _content_type = ical.event_ics(_event(request, pk))
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def _managed(request, pk: int) -> Event:
    try:
        return services.get_managed_event(request.user, pk)
    except NotFound as error:
        raise Http404 from error
    except Forbidden as error:
        raise PermissionDenied(error.message) from error


def _registration(token: str) -> Registration:
    try:
        return services.by_token(token)
    except EventError as error:
        raise Http404 from error


# --- public -----------------------------------------------------------------------------------------------


@require_http_methods(["GET"])
def event_list(request):
    events = (
        services.with_counts(services.visible_events(request.user))
        .filter(end__gt=timezone.now(), status=Event.Status.PUBLISHED)
        .select_related("site")
        .order_by("start", "pk")[:100]
    )
    for event in events:
        event.places_left = services.places_left(event)
    mine = []
    if permissions.is_member(request.user):
        mine = list(
            Registration.objects.filter(
                Q(member=request.user) | Q(email=request.user.email.lower()),
                status__in=Registration.LIVE,
                event__end__gt=timezone.now(),
            )
            .select_related("event")
            .order_by("event__start", "pk")[:50]
        )
    context = {"events": events, "mine": mine, "manages_any": permissions.is_any_site_staff(request.user)}
    return render(request, "events/list.html", context)


def _mine(user, event) -> Registration | None:
    if not permissions.is_member(user):
        return None
    return (
        Registration.objects.filter(event_id=event.pk, status__in=Registration.LIVE)
        .filter(Q(member=user) | Q(email=user.email.lower()))
        .first()
    )


@require_http_methods(["GET", "POST"])
def detail(request, pk: int):
    event = _event(request, pk)
    visitor = not permissions.is_member(request.user)
    mine = _mine(request.user, event)
    form = RegistrationForm(request.POST or None, event=event, visitor=visitor)
    if (
        request.method == "POST"
        and visitor
        and form.is_valid()
        and ratelimit.exceeded(request, "visitor_registration", limit=20, window_seconds=3600)
    ):
        form.add_error(
            None, _("Trop d’inscriptions envoyées depuis cette connexion : réessayez dans une heure.")
        )
    elif request.method == "POST" and form.is_valid():
        try:
            if visitor:
                registration = services.register_visitor(
                    event,
                    name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"],
                    answers=form.answers(),
                )
            else:
                registration = services.register(event, member=request.user, answers=form.answers())
        except DomainError as error:
            _save_error(form, error)
        else:
            if registration.status == Status.PENDING:
                messages.success(
                    request,
                    _(
                        "Presque fini : cliquez sur le lien envoyé à %(email)s pour confirmer votre inscription."
                    )
                    % {"email": registration.email},
                )
                return redirect("events:detail", pk=event.pk)
            if registration.status == Status.WAITLISTED:
                messages.success(request, _("L’événement est complet : vous êtes sur la liste d’attente."))
            else:
                messages.success(
                    request, _("C’est noté : votre place est réservée. Un e-mail vous le confirme.")
                )
            return redirect("events:registration", token=registration.token)
    places = services.places_left(event)
    is_open = _is_open(event)
    blocked = visitor and (event.is_priced or not event.is_public)
    context = {
        "event": event,
        "form": form,
        "show_form": not mine and not is_open and not blocked and bool(places or event.waiting_list),
        "mine": mine,
        "visitor": visitor,
        "places_left": places,
        "manages": services.manages(request.user, event),
        "is_open": is_open,
        "where": services_location(event),
    }
    return render(request, "events/detail.html", context, status=_status(form))


def services_location(event):
    from .ical import location

    return location(event)


def _is_open(event) -> str:
    """ "" if registration is open now, else why not."""
    try:
        services.check_open(event, timezone.now())
    except EventError as error:
        return error.message
    return ""


def _status(form) -> int:
    if not form.errors:
        return 200
    return (
        409
        if any(
            e.code in ("full", "closed", "already_registered")
            for e in form.errors.as_data().get("__all__", [])
        )
        else 400
    )


# --- one's registration (the e-mailed link) ------------------------------------------------------------------


@require_http_methods(["GET"])
def registration(request, token: str):
    found = _registration(token)
    context = {
        "registration": found,
        "event": found.event,
        "where": services_location(found.event),
        "qr_svg": qr.svg(found, title=_("QR code d’accueil")) if found.status == Status.CONFIRMED else "",
        "cancellable": found.is_live and not found.checked_in_at and found.event.end > timezone.now(),
        "offer_open": found.status == Status.OFFERED
        and (found.offer_expires_at is None or found.offer_expires_at > timezone.now()),
    }
    return render(request, "events/registration.html", context)


@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    """GET shows a button (mail scanners open links: a GET changes nothing); POST confirms."""
    found = _registration(token)
    if request.method == "POST":
        try:
            confirmed = services.confirm_address(token)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            if confirmed.status == Status.WAITLISTED:
                messages.success(
                    request,
                    _("Adresse confirmée. L’événement est complet : vous êtes sur la liste d’attente."),
                )
            else:
                messages.success(
                    request, _("Adresse confirmée : votre place est réservée. Un e-mail vous le confirme.")
                )
            return redirect("events:registration", token=token)
    return render(request, "events/confirm.html", {"registration": found, "event": found.event})


@require_POST
def accept(request, token: str):
    found = _registration(token)
    try:
        services.accept_offer(found)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Place acceptée : elle est à vous. Un e-mail vous le confirme."))
    return redirect("events:registration", token=token)


@require_POST
def cancel(request, token: str):
    found = _registration(token)
    try:
        result = services.cancel_registration(found)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if result.refund == "kept":
            messages.success(
                request, _("Inscription annulée. Passé le délai d’annulation sans frais, la place reste due.")
            )
        else:
            messages.success(
                request, _("Inscription annulée. Merci de l’avoir dit : la place va à quelqu’un d’autre.")
            )
    return redirect("events:registration", token=token)


# --- the team's pages ------------------------------------------------------------------------------------


def _staff_sites(request):
    if not permissions.is_member(request.user) or not permissions.is_any_site_staff(request.user):
        raise PermissionDenied(_("Les événements se gèrent par l’équipe des lieux."))
    if permissions.is_admin(request.user):
        return Site.objects.filter(is_active=True).order_by("name")
    return Site.objects.filter(pk__in=permissions.staffed_site_ids(request.user)).order_by("name")


@login_required
@require_http_methods(["GET"])
def staff_list(request):
    sites = list(_staff_sites(request))
    events = (
        services.with_counts(Event.objects.filter(site__in=sites))
        .select_related("site")
        .filter(end__gt=timezone.now() - timedelta(days=60))
        .order_by("-start", "-pk")[:200]
    )
    return render(request, "events/staff/list.html", {"events": events})


def _save_error(form, error: DomainError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, ValidationError(error.message, code=error.code))


@login_required
@require_http_methods(["GET", "POST"])
def create(request):
    sites = list(_staff_sites(request))
    form = EventForm(
        request.POST or None, request.FILES or None, sites=Site.objects.filter(pk__in=[s.pk for s in sites])
    )
    if request.method == "POST" and form.is_valid():
        try:
            event = services.create_event(
                by=request.user,
                site=form.cleaned_data["site"],
                rooms=form.cleaned_data["rooms"],
                questions=form.cleaned_data["questions"],
                **form.event_fields(),
            )
        except (DomainError, BookingError) as error:
            _save_error(form, error)
        else:
            messages.success(
                request, _("Événement enregistré (brouillon) : publiez-le pour ouvrir les inscriptions.")
            )
            return redirect("events:staff_event", pk=event.pk)
    return render(
        request, "events/staff/form.html", {"form": form, "event": None}, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, pk: int):
    event = _managed(request, pk)
    form = EventForm(
        request.POST or None,
        request.FILES or None,
        instance=event,
        sites=Site.objects.filter(pk=event.site_id),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_event(
                Event.objects.get(pk=event.pk),
                by=request.user,
                rooms=form.cleaned_data["rooms"],
                questions=form.cleaned_data["questions"],
                **form.event_fields(),
            )
        except (DomainError, BookingError) as error:
            _save_error(form, error)
        else:
            messages.success(request, _("Événement mis à jour."))
            return redirect("events:staff_event", pk=event.pk)
    return render(
        request, "events/staff/form.html", {"form": form, "event": event}, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET"])
def staff_event(request, pk: int):
    event = _managed(request, pk)
    registrations = list(
        Registration.objects.filter(event=event)
        .only(
            "pk", "name", "email", "status", "created_at", "checked_in_at", "answers", "member_id", "event_id"
        )
        .order_by("status", "waitlisted_at", "created_at", "pk")
    )
    questions = list(event.questions.all())
    rows = [(r, [r.answers.get(str(q.pk), "") for q in questions]) for r in registrations]
    counts = dict.fromkeys(Status.values, 0)
    for r in registrations:
        counts[r.status] += 1
    context = {
        "event": event,
        "rows": rows,
        "questions": questions,
        "counts": counts,
        "held": counts[Status.CONFIRMED] + counts[Status.OFFERED],
        "bookings": services.room_bookings(event),
        "cancel_form": CancelEventForm(),
    }
    return render(request, "events/staff/event.html", context)


@login_required
@require_POST
def publish(request, pk: int):
    event = _managed(request, pk)
    try:
        services.publish(event, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Événement publié : les inscriptions sont ouvertes."))
    return redirect("events:staff_event", pk=pk)


@login_required
@require_POST
def cancel_event(request, pk: int):
    event = _managed(request, pk)
    form = CancelEventForm(request.POST)
    if form.is_valid():
        try:
            services.cancel_event(event, by=request.user, reason=form.cleaned_data["reason"])
        except (DomainError, BookingError) as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("Événement annulé : ses salles sont libérées et les inscrits prévenus.")
            )
    else:
        messages.error(request, _("Dites aux inscrits pourquoi l’événement est annulé."))
    return redirect("events:staff_event", pk=pk)


@login_required
@require_POST
def remove_registration(request, pk: int, registration_id: int):
    event = _managed(request, pk)
    found = Registration.objects.filter(pk=registration_id, event=event).first()
    if found is None:
        raise Http404
    try:
        services.cancel_registration(found, by=request.user, reason=request.POST.get("reason", "")[:500])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Inscription de %(name)s annulée ; la personne est prévenue.") % {"name": found.name}
        )
    return redirect("events:staff_event", pk=pk)


# --- the door ---------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def door(request, pk: int):
    """Search by name (server-side: works without JavaScript), tap to check in, counts and late-comers."""
    event = _managed(request, pk)
    query = request.GET.get("q", "") or request.POST.get("q", "")
    walk_in = WalkInForm(request.POST if request.POST.get("action") == "walk_in" else None)
    if walk_in.is_bound:
        if walk_in.is_valid():
            try:
                services.register_at_door(event, by=request.user, **walk_in.cleaned_data)
            except DomainError as error:
                _save_error(walk_in, error)
            else:
                messages.success(
                    request, _("%(name)s est inscrit·e et arrivé·e.") % {"name": walk_in.cleaned_data["name"]}
                )
                return redirect("events:door", pk=pk)
    elif request.method == "POST":
        raw = request.POST.get("registration", "")
        found = (
            Registration.objects.filter(pk=int(raw), event=event).first()
            if raw.isdigit() and len(raw) <= 18  # an id, and within the database's integers
            else None
        )
        if found is None:
            messages.error(request, _("Inscription introuvable."))
        else:
            found.event = event
            try:
                if request.POST.get("action") == "undo":
                    services.undo_check_in(found, by=request.user)
                    messages.success(request, _("Arrivée de %(name)s annulée.") % {"name": found.name})
                else:
                    services.check_in(found, by=request.user)
                    messages.success(request, _("%(name)s est arrivé·e.") % {"name": found.name})
            except DomainError as error:
                messages.error(request, error.message)
        url = reverse("events:door", args=[pk])
        return redirect(f"{url}?{urlencode({'q': query})}" if query else url)
    state = services.door(event, query=query)
    context = {"event": event, "door": state, "query": query, "walk_in": walk_in}
    return render(request, "events/door.html", context, status=400 if walk_in.errors else 200)


@login_required
@require_http_methods(["GET"])
def export(request, pk: int):
    """The registrations as CSV (a spreadsheet opens it): name, address, status, arrival, the answers."""
    event = _managed(request, pk)
    questions = list(event.questions.all())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"inscriptions-{event.pk}.csv")
    response.write("\ufeff")  # the BOM: spreadsheets then read UTF-8
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [_("Nom"), _("E-mail"), _("Statut"), _("Inscrit le"), _("Arrivé à"), *[q.label for q in questions]]
    )
    rows = Registration.objects.filter(event=event).order_by("status", "created_at", "pk")
    for r in rows.iterator(chunk_size=1000):
        writer.writerow(
            [
                _safe_cell(r.name),
                r.email if not r.email.endswith(".invalid") else "",
                capfirst(r.get_status_display()),
                timezone.localtime(r.created_at).strftime("%d/%m/%Y %H:%M"),
                timezone.localtime(r.checked_in_at).strftime("%H:%M") if r.checked_in_at else "",
                *[_safe_cell(r.answers.get(str(q.pk), "")) for q in questions],
            ]
        )
    audit(request.user, "events.exported", event)
    return response


def _safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@login_required
@require_http_methods(["GET", "POST"])
def scan(request, code: str):
    """The URL in a registration's QR code, opened by a staff phone's camera: who it is, and one tap to check
    them in. Login first (then back here); only the team of the event's site."""
    try:
        found = services.by_checkin_code(code, by=request.user)
    except Forbidden as error:
        raise PermissionDenied(error.message) from error
    except EventError as error:
        return render(request, "events/scan.html", {"error": error.message, "registration": None}, status=404)
    result, status = "", 200
    if request.method == "POST":
        try:
            services.check_in(found, by=request.user)
        except AlreadyCheckedIn as error:
            result, status = error.message, 409
        except DomainError as error:
            result, status = error.message, error.status
        else:
            result = _("%(name)s est enregistré·e.") % {"name": found.name}
    context = {
        "registration": found,
        "event": found.event,
        "result": result,
        "ok": request.method == "POST" and status == 200,
        "already": bool(found.checked_in_at) and not (request.method == "POST" and status == 200),
    }
    return render(request, "events/scan.html", context, status=status)
