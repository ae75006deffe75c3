"""Trainings' pages: the public catalogue and programme pages, applying, the trainee's space (contract, offered
place, withdrawal) and the team's page per session (sittings, decisions, waiting list, capacity).

Thin: parse, find what this person may touch (`_session_for_staff`, `_enrolment_for_trainee`), call a service,
render. A refusal of a service is shown on its form (status 400), nothing written.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery, prefetch_related_objects
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST

from cocotte.accounts import permissions
from cocotte.bookings.errors import BookingError
from cocotte.core.errors import DomainError

from . import access, services
from .forms import (
    ApplicationForm,
    CancelSessionForm,
    ContractForm,
    MoveForm,
    ReasonForm,
    SessionSettingsForm,
    SittingForm,
)
from .models import Enrolment, Mark, Session, Sitting

Status = Enrolment.Status


def _show(form, error: DomainError) -> None:
    field = error.field if error.field in getattr(form, "fields", {}) else None
    form.add_error(field, error.message)


# ---------------------------------------------------------------------------------------------------------
# Public pages
# ---------------------------------------------------------------------------------------------------------


def catalogue(request):
    """The upcoming sessions of published programmes, open for applications or with a waiting list."""
    sessions = list(services.upcoming_sessions())
    for session in sessions:
        session.places_left = max(0, session.capacity - session.held_places)
        session.open_now = services.enrolment_open(session)
    return render(request, "learning/catalogue.html", {"sessions": sessions})


def programme(request, slug: str):
    try:
        found = services.get_programme(slug)
    except DomainError as error:
        raise Http404(error.message) from error
    modules = list(found.modules.all())
    sessions = list(services.upcoming_sessions().filter(programme=found))
    for session in sessions:
        session.places_left = max(0, session.capacity - session.held_places)
        session.open_now = services.enrolment_open(session)
    return render(
        request,
        "learning/programme.html",
        {"programme": found, "modules": modules, "sessions": sessions, "site": found.site},
    )


def _public_session(pk: int) -> Session:
    session = (
        Session.objects.select_related("programme", "site")
        .filter(pk=pk, programme__published=True)
        .exclude(status=Session.Status.PLANNED)
        .first()
    )
    if session is None:
        raise Http404(_("Session introuvable."))
    return session


@require_http_methods(["GET", "POST"])
def apply(request, pk: int):
    session = _public_session(pk)
    if not permissions.is_member(request.user):
        return render(
            request, "learning/apply_login.html", {"session": session, "programme": session.programme}
        )
    organisations = services.managed_organisations(request.user)
    existing = Enrolment.objects.filter(
        session=session, trainee=request.user, status__in=Enrolment.LIVE
    ).first()
    free = session.programme.price_excl_vat <= 0
    form = ApplicationForm(request.POST or None, organisations=organisations, free=free)
    context = {"session": session, "programme": session.programme, "form": form, "existing": existing}
    context["open_now"] = services.enrolment_open(session)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            enrolment = services.apply(
                session,
                trainee=request.user,
                application=services.Application(
                    project=data["project"],
                    expectations=data["expectations"],
                    prerequisites_met=data["prerequisites_met"],
                    needs_adaptation=data["needs_adaptation"],
                    funding=data.get("funding", Enrolment.Funding.FREE),
                    payer=data.get("payer"),
                ),
            )
        except DomainError as error:
            _show(form, error)
        else:
            if enrolment.status == Status.WAITLISTED:
                messages.success(
                    request,
                    _("Candidature reçue : la session est complète, vous êtes sur la liste d’attente."),
                )
            else:
                messages.success(request, _("Candidature reçue : l’équipe vous répond par e-mail."))
            return redirect("learning:mine")
    return render(request, "learning/apply.html", context, status=400 if form.errors else 200)


# ---------------------------------------------------------------------------------------------------------
# The trainee's space
# ---------------------------------------------------------------------------------------------------------


@login_required
def mine(request):
    now = timezone.now()
    ahead = Enrolment.objects.filter(
        session=OuterRef("session"), status=Status.WAITLISTED, waitlisted_at__lte=OuterRef("waitlisted_at")
    )
    enrolments = list(
        Enrolment.objects.filter(trainee=request.user)
        .annotate(queue_position=Subquery(ahead.values("session").annotate(n=Count("pk")).values("n")[:1]))
        .select_related("session__programme", "session__site")
        .prefetch_related(
            Prefetch(
                "session__sittings",
                queryset=Sitting.objects.filter(end__gt=now)
                .select_related("room", "module")
                .order_by("start"),
                to_attr="upcoming_sittings",
            ),
            # What the evidence part of each card lists (learning/_evidence_for_enrolment.html), read once.
            Prefetch("marks", queryset=Mark.objects.select_related("sheet").order_by("sheet__start")),
            "certificates",
            "grants__qualification",
        )
        .order_by("-session__starts_at", "-pk")
    )
    today = timezone.localdate()
    for enrolment in enrolments:
        enrolment.next_sittings = enrolment.session.upcoming_sittings[:3]
        # The sheet of a sitting under way (or later today) is the one to sign: invite to it on that day only.
        enrolment.sits_today = any(
            timezone.localdate(s.start) == today for s in enrolment.session.upcoming_sittings
        )
        enrolment.to_sign = services.needs_contract(enrolment)
        enrolment.may_withdraw = enrolment.status in Enrolment.LIVE and (
            enrolment.session.ends_at is None or enrolment.session.ends_at > now
        )
        enrolment.in_withdrawal_period = bool(
            enrolment.contract_signed_at and now < enrolment.withdrawal_ends_at
        )
    return render(request, "learning/mine.html", {"enrolments": enrolments})


def _enrolment_for_trainee(request, pk: int) -> Enrolment:
    enrolment = (
        Enrolment.objects.select_related("session__programme", "session__site", "trainee")
        .filter(pk=pk)
        .first()
    )
    if enrolment is None or not access.is_trainee(request.user, enrolment):
        raise Http404(pgettext("formation", "Inscription introuvable."))
    return enrolment


@login_required
@require_http_methods(["GET", "POST"])
def contract(request, pk: int):
    enrolment = _enrolment_for_trainee(request, pk)
    if enrolment.contract_signed_at is None and not services.needs_contract(enrolment):
        raise Http404(_("Cette inscription n’a pas de contrat à signer."))
    signed = enrolment.contract_signed_at is not None
    text = enrolment.contract_text if signed else services.contract_text(enrolment)
    digest = enrolment.contract_text_hash if signed else services.text_hash(text)
    form = ContractForm(request.POST or None, initial={"text_hash": digest})
    if request.method == "POST" and enrolment.contract_signed_at is None and form.is_valid():
        try:
            services.sign_contract(
                enrolment,
                by=request.user,
                name=form.cleaned_data["name"],
                agreed=form.cleaned_data["agreed"],
                shown_hash=form.cleaned_data["text_hash"],
            )
        except DomainError as error:
            _show(form, error)
        else:
            messages.success(
                request,
                _("Contrat signé. Vous pouvez vous rétracter sans frais pendant 10 jours depuis cette page."),
            )
            return redirect("learning:mine")
    installments = (
        list(enrolment.installments.order_by("due_on", "pk")) if enrolment.contract_signed_at else []
    )
    return render(
        request,
        "learning/contract.html",
        {"enrolment": enrolment, "text": text, "form": form, "installments": installments},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def offer(request, pk: int):
    enrolment = _enrolment_for_trainee(request, pk)
    error = None
    if request.method == "POST":
        try:
            if request.POST.get("answer") == "confirm":
                services.confirm_offer(enrolment, by=request.user)
                messages.success(request, _("Place confirmée : vous êtes inscrit·e."))
            elif request.POST.get("answer") == "decline":
                services.decline_offer(enrolment, by=request.user)
                messages.success(request, _("Place déclinée : elle est proposée à la personne suivante."))
            else:
                raise services.Invalid(_("Choisissez de confirmer ou de décliner la place."))
        except DomainError as refused:
            error = refused.message
        else:
            return redirect("learning:mine")
    return render(
        request, "learning/offer.html", {"enrolment": enrolment, "error": error}, status=400 if error else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request, pk: int):
    enrolment = _enrolment_for_trainee(request, pk)
    error = None
    if request.method == "POST":
        try:
            services.withdraw(enrolment, by=request.user)
        except DomainError as refused:
            error = refused.message
        else:
            messages.success(request, _("Votre désistement est enregistré."))
            return redirect("learning:mine")
    now = timezone.now()
    return render(
        request,
        "learning/withdraw.html",
        {
            "enrolment": enrolment,
            "error": error,
            "in_period": bool(enrolment.contract_signed_at and now < enrolment.withdrawal_ends_at),
        },
        status=400 if error else 200,
    )


# ---------------------------------------------------------------------------------------------------------
# The team's pages
# ---------------------------------------------------------------------------------------------------------


def _require_staff(request) -> None:
    if not permissions.is_member(request.user):
        raise PermissionDenied
    if not permissions.is_any_site_staff(request.user):
        raise PermissionDenied(_("Réservé à l’équipe d’un site."))


def _session_for_staff(request, pk: int) -> Session:
    _require_staff(request)
    session = Session.objects.select_related("programme", "site").filter(pk=pk).first()
    if session is None or not access.manages(request.user, session):
        raise Http404(_("Session introuvable."))
    return session


@login_required
def staff_index(request):
    _require_staff(request)
    sessions = Session.objects.select_related("programme", "site").annotate(
        accepted=Count("enrolments", filter=Q(enrolments__status=Status.ACCEPTED)),
        offered=Count("enrolments", filter=Q(enrolments__status=Status.OFFERED)),
        applied=Count("enrolments", filter=Q(enrolments__status=Status.APPLIED)),
        waiting=Count("enrolments", filter=Q(enrolments__status=Status.WAITLISTED)),
    )
    if not permissions.is_admin(request.user):
        sessions = sessions.filter(site_id__in=permissions.staffed_site_ids(request.user))
    sessions = sessions.order_by("-status", "starts_at", "pk")
    return render(request, "learning/staff_index.html", {"sessions": list(sessions)})


def _staff_page(request, session: Session, *, forms: dict | None = None, status: int = 200):
    forms = forms or {}
    # The sittings with their sheets, read once (the evidence part of the page lists the sheets too).
    prefetch_related_objects(
        [session],
        Prefetch(
            "sittings",
            queryset=Sitting.objects.select_related("trainer", "room", "module", "booking")
            .prefetch_related("sheets")
            .order_by("start", "pk"),
        ),
    )
    sittings = list(session.sittings.all())
    targets = MoveForm.targets(session)
    enrolments = list(session.enrolments.select_related("trainee", "payer").order_by("applied_at", "pk"))
    queue = sorted(
        (e for e in enrolments if e.status == Status.WAITLISTED), key=lambda e: (e.waitlisted_at, e.pk)
    )
    for enrolment in enrolments:
        enrolment.refuse_form = forms.get(("refuse", enrolment.pk)) or ReasonForm(prefix=f"r{enrolment.pk}")
        enrolment.move_form = forms.get(("move", enrolment.pk)) or MoveForm(
            prefix=f"m{enrolment.pk}", sessions=targets
        )
        enrolment.to_sign = services.needs_contract(enrolment)
    held = sum(1 for e in enrolments if e.status in Enrolment.HOLDING)
    context = {
        "session": session,
        "programme": session.programme,
        "sittings": sittings,
        "enrolments": enrolments,
        "applications": [e for e in enrolments if e.status == Status.APPLIED],
        "holding": [e for e in enrolments if e.status in Enrolment.HOLDING],
        "queue": queue,
        "closed": [e for e in enrolments if e.status not in Enrolment.LIVE],
        "held": held,
        "places_left": max(0, session.capacity - held),
        "sitting_form": forms.get("sitting") or SittingForm(session=session, prefix="new"),
        "settings_form": forms.get("settings") or SessionSettingsForm(instance=session, prefix="s"),
        "cancel_form": forms.get("cancel") or CancelSessionForm(prefix="c"),
        "live": session.status in (Session.Status.PLANNED, Session.Status.OPEN),
        "to_return": services.money_to_return(session) if session.status == Session.Status.CANCELLED else [],
    }
    return render(request, "learning/staff_session.html", context, status=status)


@login_required
def staff_session(request, pk: int):
    return _staff_page(request, _session_for_staff(request, pk))


def _sitting_fields(data: dict) -> dict:
    """The sitting form's cleaned data, as the sitting services take it."""
    return {
        "start": data["start_at"],
        "end": data["end_at"],
        "trainer": data["trainer"],
        "room": data["room"],
        "outside_address": data["outside_address"],
        "module": data["module"],
    }


@login_required
@require_POST
def staff_add_sitting(request, pk: int):
    session = _session_for_staff(request, pk)
    form = SittingForm(request.POST, session=session, prefix="new")
    if form.is_valid():
        try:
            services.add_sitting(session, by=request.user, **_sitting_fields(form.cleaned_data))
        except (DomainError, BookingError) as error:
            _show(form, error)
        else:
            messages.success(request, _("Séance ajoutée, salle réservée."))
            return redirect("learning:staff_session", session.pk)
    return _staff_page(request, session, forms={"sitting": form}, status=400)


def _sitting_for_staff(request, pk: int) -> Sitting:
    _require_staff(request)
    sitting = (
        Sitting.objects.select_related("session__programme", "session__site", "booking").filter(pk=pk).first()
    )
    if sitting is None or not access.manages(request.user, sitting.session):
        raise Http404(_("Séance introuvable."))
    return sitting


@login_required
@require_http_methods(["GET", "POST"])
def staff_edit_sitting(request, pk: int):
    sitting = _sitting_for_staff(request, pk)
    session = sitting.session
    form = SittingForm(request.POST or None, session=session, initial=SittingForm.initial_for(sitting))
    if request.method == "POST" and form.is_valid():
        try:
            services.move_sitting(sitting, by=request.user, **_sitting_fields(form.cleaned_data))
        except (DomainError, BookingError) as error:
            _show(form, error)
        else:
            messages.success(request, _("Séance modifiée."))
            return redirect("learning:staff_session", session.pk)
    return render(
        request,
        "learning/staff_sitting.html",
        {"sitting": sitting, "session": session, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def staff_remove_sitting(request, pk: int):
    sitting = _sitting_for_staff(request, pk)
    try:
        services.remove_sitting(sitting, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Séance supprimée, salle libérée."))
    return redirect("learning:staff_session", sitting.session_id)


@login_required
@require_POST
def staff_settings(request, pk: int):
    session = _session_for_staff(request, pk)
    form = SessionSettingsForm(request.POST, instance=Session.objects.get(pk=session.pk), prefix="s")
    if form.is_valid():
        try:
            services.update_session(
                session, by=request.user, **{name: form.cleaned_data[name] for name in form.changed_data}
            )
        except DomainError as error:
            _show(form, error)
        else:
            messages.success(request, _("Session enregistrée."))
            return redirect("learning:staff_session", session.pk)
    return _staff_page(request, session, forms={"settings": form}, status=400)


@login_required
@require_POST
def staff_cancel(request, pk: int):
    session = _session_for_staff(request, pk)
    form = CancelSessionForm(request.POST, prefix="c")
    if form.is_valid():
        try:
            services.cancel_session(session, by=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            _show(form, error)
        else:
            messages.success(request, _("Session annulée : les stagiaires sont prévenus."))
            return redirect("learning:staff_session", session.pk)
    return _staff_page(request, session, forms={"cancel": form}, status=400)


@login_required
@require_POST
def staff_decide(request, pk: int, action: str):
    _require_staff(request)
    enrolment = (
        Enrolment.objects.select_related("session__programme", "session__site", "trainee")
        .filter(pk=pk)
        .first()
    )
    if enrolment is None or not access.manages(request.user, enrolment.session):
        raise Http404(pgettext("formation", "Inscription introuvable."))
    session = enrolment.session
    form = None
    done = _("Décision enregistrée ; la personne est prévenue par e-mail.")
    try:
        if action == "accepter":
            decided = services.accept(enrolment, by=request.user)
            if decided.status == Status.WAITLISTED:  # no free place: the team must not believe it gave one
                done = _(
                    "La session est complète : %(name)s est sur la liste d’attente et sera prévenu·e dès "
                    "qu’une place se libère. Un e-mail le lui dit."
                ) % {"name": enrolment.trainee.get_full_name() or enrolment.trainee.email}
        elif action == "refuser":
            form = ReasonForm(request.POST, prefix=f"r{pk}")
            if not form.is_valid():
                return _staff_page(request, session, forms={("refuse", pk): form}, status=400)
            services.refuse(enrolment, by=request.user, reason=form.cleaned_data["reason"])
        elif action == "transferer":
            form = MoveForm(request.POST, prefix=f"m{pk}", sessions=MoveForm.targets(enrolment))
            if not form.is_valid():
                return _staff_page(request, session, forms={("move", pk): form}, status=400)
            services.move(enrolment, by=request.user, to=form.cleaned_data["session"])
        elif action == "desister":
            services.withdraw(enrolment, by=request.user)
        else:
            raise Http404
    except DomainError as error:
        if form is not None:
            _show(form, error)
            key = ("refuse" if action == "refuser" else "move", pk)
            return _staff_page(request, session, forms={key: form}, status=400)
        messages.error(request, error.message)
        return redirect(reverse("learning:staff_session", args=[session.pk]) + f"#inscription-{pk}")
    messages.success(request, done)
    return redirect("learning:staff_session", session.pk)
