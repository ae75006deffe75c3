"""The evidence pages: attendance sheets, closing a session and its certificates, surveys, complaints, public
results and qualifications. Thin: parse, check who may, call a service, render (its refusals as form errors)."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cocotte.accounts import permissions
from cocotte.billing.views import pdf_response
from cocotte.core import ratelimit
from cocotte.core.errors import DomainError

from . import access, attendance, certificates, complaints, qualifications, results, surveys
from . import evidence_forms as forms
from .models import Certificate, Complaint, Enrolment, Grant, Mark, Programme, Session, Sheet, SurveyResponse

TEAM, TRAINEE = "team", "trainee"


def _fail(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _status(error: DomainError) -> int:
    return error.status if 400 <= error.status < 500 else 400


# ---------------------------------------------------------------------------------------------------------
# Attendance
# ---------------------------------------------------------------------------------------------------------


def _sheet_for(user, pk: int) -> tuple[Sheet, str]:
    """The sheet and how this person sees it: the team (its trainer, the site's staff) or one of its trainees.
    Anybody else: not found (a sheet's existence is nobody else's business)."""
    sheet = (
        Sheet.objects.select_related(
            "sitting__session__programme", "sitting__session__site", "sitting__module", "sitting__trainer"
        )
        .filter(pk=pk)
        .first()
    )
    if sheet is None or not permissions.is_member(user):
        raise Http404(_("Feuille d’émargement introuvable."))
    if access.takes_attendance(user, sheet.sitting):
        return sheet, TEAM
    if (
        Enrolment.objects.filter(
            session_id=sheet.sitting.session_id, trainee=user, status=Enrolment.Status.ACCEPTED
        ).exists()
        or Mark.objects.filter(sheet=sheet, enrolment__trainee=user).exists()
    ):
        return sheet, TRAINEE
    raise Http404(_("Feuille d’émargement introuvable."))


def _mark_of(sheet: Sheet, pk: int) -> Mark:
    mark = Mark.objects.select_related("enrolment__trainee").filter(sheet=sheet, pk=pk).first()
    if mark is None:
        raise Http404(_("Ligne introuvable sur cette feuille."))
    return mark


def _line_forms(sheet: Sheet, mark: Mark, *, signing_open: bool, is_staff: bool) -> set[str]:
    """Which of a line's forms the team's page offers: signing on the screen, an absence, a correction."""
    if sheet.locked_at:
        return {"amend"} if is_staff else set()
    shown = set()
    if signing_open and mark.state not in (Mark.State.PRESENT, Mark.State.EXCUSED):
        shown.add("sign")
    if mark.state != Mark.State.PRESENT:
        shown.add("absence")
    return shown


def _render_sheet(
    request, sheet: Sheet, seen_as: str, *, forms_by_mark=None, own_form=None, trainer_form=None, status=200
):
    marks = attendance.marks_of(sheet)
    if seen_as == TRAINEE:
        marks = [m for m in marks if m.enrolment.trainee_id == request.user.pk]
    forms_by_mark = forms_by_mark or {}
    now = timezone.now()
    signing_open = attendance.signing_open(sheet, now)
    is_staff = access.manages(request.user, sheet.sitting.session)
    rows = []
    for mark in marks:
        rows.append(
            {
                "mark": mark,
                "shows": _line_forms(sheet, mark, signing_open=signing_open, is_staff=is_staff),
                "sign_form": forms_by_mark.get(("sign", mark.pk))
                or forms.ScreenSignForm(prefix=f"m{mark.pk}"),
                "absence_form": forms_by_mark.get(("absence", mark.pk))
                or forms.AbsenceForm(prefix=f"a{mark.pk}"),
                "amend_form": forms_by_mark.get(("amend", mark.pk)) or forms.AmendForm(prefix=f"c{mark.pk}"),
                "open": forms_by_mark.get("open") == mark.pk,
            }
        )
    own = next((m for m in marks if m.enrolment.trainee_id == request.user.pk), None)
    context = {
        "sheet": sheet,
        "sitting": sheet.sitting,
        "session": sheet.sitting.session,
        "seen_as": seen_as,
        "rows": rows,
        "own": own,
        "own_form": own_form or forms.SignForm(prefix="own"),
        "trainer_form": trainer_form or forms.SignForm(prefix="trainer"),
        "signing_open": signing_open,
        "not_yet": sheet.start - attendance.EARLY > now,
        "is_trainer": sheet.sitting.trainer_id == request.user.pk,
        "is_staff": is_staff,
        "can_close": seen_as == TEAM and not sheet.locked_at and now >= sheet.start,
        "verified": attendance.verify(sheet) if sheet.locked_at else None,
        "pad_width": attendance.PAD_WIDTH,
        "pad_height": attendance.PAD_HEIGHT,
        "counts": {state: sum(1 for m in marks if m.state == state) for state in Mark.State.values},
    }
    return render(request, "learning/attendance_sheet.html", context, status=status)


PAST_SHEETS = 60  # the earlier sheets listed under the week's (the most recent first)


@login_required
@require_GET
def attendance_index(request):
    """Today's and the coming days' sheets: those one teaches or manages, and those one signs."""
    today = timezone.localdate()
    start = timezone.now() - timedelta(days=7)
    end = timezone.now() + timedelta(days=7)
    related = ("sitting__session__programme", "sitting__module", "sitting__trainer")
    rows = Sheet.objects.filter(start__lt=end, end__gt=start).select_related(*related)
    user = request.user
    staffed = permissions.staffed_site_ids(user)

    def held(sheets):
        if permissions.is_admin(user):
            return sheets
        return sheets.filter(Q(sitting__trainer=user) | Q(sitting__session__site_id__in=staffed))

    team = held(rows)
    # The earlier ones stay at hand: their PDF for an auditor or a funder, a correction with its reason.
    past = held(Sheet.objects.filter(end__lte=start).select_related(*related)).order_by("-start", "-pk")
    mine = rows.filter(
        sitting__session__enrolments__trainee=user,
        sitting__session__enrolments__status=Enrolment.Status.ACCEPTED,
    ).distinct()
    return render(
        request,
        "learning/attendance_index.html",
        {
            "team": list(team.order_by("start", "pk")[:200]),
            "past": list(past[:PAST_SHEETS]),
            "past_limit": PAST_SHEETS,
            "mine": list(mine.order_by("start", "pk")),
            "today": today,
        },
    )


@login_required
@require_GET
def sheet(request, pk: int):
    found, seen_as = _sheet_for(request.user, pk)
    return _render_sheet(request, found, seen_as)


@login_required
@require_POST
def sign_own(request, pk: int):
    """The trainee signs their own line, on their own device."""
    found, seen_as = _sheet_for(request.user, pk)
    form = forms.SignForm(request.POST, prefix="own")
    attendance.ensure_marks(found)  # a trainee accepted since the sheet was last read has their line
    mark = (
        Mark.objects.filter(sheet=found, enrolment__trainee=request.user).select_related("enrolment").first()
    )
    if mark is None:
        raise Http404(_("Vous n’êtes pas attendu sur cette feuille."))
    if form.is_valid():
        try:
            attendance.sign(
                mark,
                signer=request.user,
                method=form.cleaned_data["method"],
                drawing=form.cleaned_data["drawing"],
                typed_name=form.cleaned_data["typed_name"],
            )
        except DomainError as error:
            _fail(form, error)
            return _render_sheet(request, found, seen_as, own_form=form, status=_status(error))
        messages.success(request, _("Votre présence est signée. Merci !"))
        return redirect("learning:sheet", pk=found.pk)
    return _render_sheet(request, found, seen_as, own_form=form, status=400)


TEAM_ONLY = gettext_lazy("Seuls le formateur et l’équipe du site tiennent l’émargement.")


def _on_mark(request, pk: int, mark_pk: int, *, kind: str, form_class, prefix: str, staff_only: bool, act):
    """A form about one line of the sheet (`kind`: sign, absence, amend), posted by the team: parsed, handed
    to `act(mark, data)` (a service call returning the message of success), its refusal shown on the line."""
    found, seen_as = _sheet_for(request.user, pk)
    if staff_only and not access.manages(request.user, found.sitting.session):
        raise PermissionDenied(_("Seule l’équipe du site corrige une feuille close."))
    if seen_as != TEAM:
        raise PermissionDenied(TEAM_ONLY)
    mark = _mark_of(found, mark_pk)
    form = form_class(request.POST, prefix=f"{prefix}{mark.pk}")
    status = 400
    if form.is_valid():
        try:
            done = act(mark, form.cleaned_data)
        except DomainError as error:
            found = Sheet.objects.select_related("sitting__session").get(pk=found.pk)
            mark = _mark_of(found, mark.pk)
            shown = _line_forms(
                found,
                mark,
                signing_open=attendance.signing_open(found),
                is_staff=access.manages(request.user, found.sitting.session),
            )
            if kind not in shown:
                # The line or the sheet changed since the page was shown (signed, marked, locked): its form
                # is no longer on the page, so the refusal is said above the page as it is now.
                messages.error(request, error.message)
                return redirect(reverse("learning:sheet", args=[found.pk]) + f"#ligne-{mark.pk}")
            _fail(form, error)
            status = _status(error)
        else:
            messages.success(request, done)
            return redirect(reverse("learning:sheet", args=[found.pk]) + f"#ligne-{mark.pk}")
    return _render_sheet(
        request, found, seen_as, forms_by_mark={(kind, mark.pk): form, "open": mark.pk}, status=status
    )


@login_required
@require_POST
def sign_on_screen(request, pk: int, mark_pk: int):
    """A trainee signs on the trainer's screen, after typing their own password."""

    def act(mark, data):
        attendance.sign(
            mark,
            signer=mark.enrolment.trainee,
            method=data["method"],
            drawing=data["drawing"],
            typed_name=data["typed_name"],
            password=data["password"],
        )
        return _("%(name)s a signé.") % {"name": mark.enrolment.trainee.get_full_name()}

    return _on_mark(
        request,
        pk,
        mark_pk,
        kind="sign",
        form_class=forms.ScreenSignForm,
        prefix="m",
        staff_only=False,
        act=act,
    )


@login_required
@require_POST
def mark_absence(request, pk: int, mark_pk: int):
    def act(mark, data):
        attendance.mark_absence(mark, by=request.user, state=data["state"], reason=data["reason"])
        return _("Absence enregistrée.")

    return _on_mark(
        request,
        pk,
        mark_pk,
        kind="absence",
        form_class=forms.AbsenceForm,
        prefix="a",
        staff_only=False,
        act=act,
    )


@login_required
@require_POST
def amend_mark(request, pk: int, mark_pk: int):
    def act(mark, data):
        attendance.amend(mark, by=request.user, state=data["state"], reason=data["reason"])
        return _("Correction enregistrée et tracée ; la feuille a été scellée à nouveau.")

    return _on_mark(
        request, pk, mark_pk, kind="amend", form_class=forms.AmendForm, prefix="c", staff_only=True, act=act
    )


@login_required
@require_POST
def sign_as_trainer(request, pk: int):
    found, seen_as = _sheet_for(request.user, pk)
    if seen_as != TEAM:
        raise PermissionDenied(_("Seul le formateur de la séance signe comme formateur."))
    form = forms.SignForm(request.POST, prefix="trainer")
    if form.is_valid():
        try:
            attendance.sign_as_trainer(
                found,
                by=request.user,
                method=form.cleaned_data["method"],
                drawing=form.cleaned_data["drawing"],
                typed_name=form.cleaned_data["typed_name"],
            )
        except DomainError as error:
            _fail(form, error)
            return _render_sheet(request, found, seen_as, trainer_form=form, status=_status(error))
        messages.success(request, _("Vous avez signé la feuille."))
        return redirect("learning:sheet", pk=found.pk)
    return _render_sheet(request, found, seen_as, trainer_form=form, status=400)


@login_required
@require_POST
def close_sheet(request, pk: int):
    found, seen_as = _sheet_for(request.user, pk)
    if seen_as != TEAM:
        raise PermissionDenied(TEAM_ONLY)
    try:
        attendance.close(found, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Feuille close et scellée : les lignes non signées sont notées absentes.")
        )
    return redirect("learning:sheet", pk=found.pk)


@login_required
@require_GET
def sheet_pdf(request, pk: int):
    found, seen_as = _sheet_for(request.user, pk)
    if seen_as != TEAM:
        raise PermissionDenied(_("La feuille imprimée est remise au formateur et à l’équipe du site."))
    day = timezone.localtime(found.start).date()
    return pdf_response(
        attendance.render_pdf(found), f"emargement-{day:%Y-%m-%d}-{found.get_half_display()}-{found.pk}.pdf"
    )


# ---------------------------------------------------------------------------------------------------------
# Closing a session, certificates
# ---------------------------------------------------------------------------------------------------------


def _managed_session(user, pk: int) -> Session:
    session = get_object_or_404(Session.objects.select_related("programme", "site"), pk=pk)
    if not access.manages(user, session):
        raise PermissionDenied(_("Seule l’équipe du site clôture une session."))
    return session


@login_required
@require_http_methods(["GET", "POST"])
def close_session(request, pk: int):
    session = _managed_session(request.user, pk)
    enrolments = list(
        session.enrolments.filter(status=Enrolment.Status.ACCEPTED)
        .select_related("trainee")
        .order_by("trainee__last_name", "trainee__first_name", "pk")
    )
    hours = certificates.hours_by_enrolment(session)
    form = forms.CloseSessionForm(request.POST or None, enrolments=enrolments, hours=hours)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            issued = certificates.close_session(session, by=request.user, outcomes=form.outcomes())
        except DomainError as error:
            _fail(form, error)
            status = _status(error)
        else:
            messages.success(
                request, _("Session clôturée : %(n)s certificats délivrés.") % {"n": len(issued)}
            )
            return redirect("learning:session_certificates", pk=session.pk)
    elif request.method == "POST":
        status = 400
    last_end = session.sittings.order_by("-end").values_list("end", flat=True).first()
    context = {
        "session": session,
        "form": form,
        "sheets": attendance.sheets_of_session(session),
        "ready": last_end is not None and last_end <= timezone.now(),
    }
    return render(request, "learning/evidence_close_session.html", context, status=status)


@login_required
@require_GET
def session_certificates(request, pk: int):
    session = _managed_session(request.user, pk)
    rows = (
        Certificate.objects.filter(enrolment__session=session)
        .select_related("enrolment__trainee")
        .order_by("enrolment__trainee__last_name", "kind")
    )
    enrolments = session.enrolments.filter(status=Enrolment.Status.ACCEPTED).select_related("trainee")
    return render(
        request,
        "learning/certificate_list.html",
        {
            "session": session,
            "certificates": rows,
            "enrolments": enrolments,
            "business_form": forms.BusinessForm(),
        },
    )


@login_required
@require_POST
def record_business(request, pk: int):
    enrolment = get_object_or_404(Enrolment.objects.select_related("session"), pk=pk)
    if not access.manages(request.user, enrolment.session):
        raise PermissionDenied(_("Seule l’équipe du site enregistre le devenir des stagiaires."))
    form = forms.BusinessForm(request.POST)
    if form.is_valid():
        created = {"yes": True, "no": False}.get(form.cleaned_data["business_created"])
        try:
            surveys.record_business(
                enrolment,
                by=request.user,
                created=created,
                created_on=form.cleaned_data["business_created_on"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Devenir du stagiaire enregistré."))
    else:
        messages.error(request, _("La date n’est pas valide."))
    return redirect("learning:session_certificates", pk=enrolment.session_id)


@login_required
@require_GET
def certificate_pdf(request, pk: int):
    found = get_object_or_404(Certificate.objects.select_related("enrolment__session"), pk=pk)
    if not (
        access.is_trainee(request.user, found.enrolment)
        or access.manages(request.user, found.enrolment.session)
    ):
        raise Http404(_("Certificat introuvable."))
    return pdf_response(certificates.render_pdf(found), f"{found.number}.pdf")


# ---------------------------------------------------------------------------------------------------------
# Surveys
# ---------------------------------------------------------------------------------------------------------

SURVEY_KINDS = {"chaud": SurveyResponse.Kind.HOT, "froid": SurveyResponse.Kind.COLD}


@login_required
@require_http_methods(["GET", "POST"])
def survey(request, pk: int, kind: str):
    enrolment = get_object_or_404(Enrolment.objects.select_related("session__programme"), pk=pk)
    if kind not in SURVEY_KINDS or not access.is_trainee(request.user, enrolment):
        raise Http404(_("Questionnaire introuvable."))
    kind = SURVEY_KINDS[kind]
    cold = kind == SurveyResponse.Kind.COLD
    form_class = forms.ColdSurveyForm if cold else forms.SurveyForm
    done = kind in surveys.answered(enrolment)
    is_open = surveys.may_answer(enrolment, kind)
    form = form_class(request.POST or None)
    status = 200
    if request.method == "POST" and not done:
        if form.is_valid():
            try:
                surveys.submit(enrolment, kind, by=request.user, answers=form.answers())
            except DomainError as error:
                _fail(form, error)
                status = _status(error)
            else:
                messages.success(request, _("Merci pour vos réponses !"))
                return redirect("learning:survey", pk=enrolment.pk, kind="froid" if cold else "chaud")
        else:
            status = 400
    context = {
        "enrolment": enrolment,
        "form": form,
        "cold": cold,
        "done": done,
        "is_open": is_open,
        "cold_due": surveys.cold_due_on(enrolment) if cold else None,
        "scales": [form[name] for name in surveys.SCALES],
    }
    return render(request, "learning/evidence_survey.html", context, status=status)


# ---------------------------------------------------------------------------------------------------------
# Complaints
# ---------------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def complaint_new(request):
    user = request.user if permissions.is_member(request.user) else None
    initial = {"author_name": user.get_full_name(), "author_email": user.email} if user else {}
    if "programme" in request.GET:
        initial["programme"] = request.GET["programme"]
    form = forms.ComplaintForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid() and ratelimit.exceeded(request, "complaint", limit=10, window_seconds=3600):
            form.add_error(
                None, _("Trop de réclamations envoyées depuis cette connexion : réessayez dans une heure.")
            )
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            try:
                complaints.file_complaint(
                    name=data["author_name"],
                    email=data["author_email"],
                    subject=data["subject"],
                    description=data["description"],
                    programme=data["programme"],
                    session=data["session"],
                    author=user,
                )
            except DomainError as error:
                _fail(form, error)
                status = _status(error)
            else:
                return render(request, "learning/evidence_complaint_sent.html")
        else:
            status = 400
    return render(request, "learning/evidence_complaint_new.html", {"form": form}, status=status)


def _require_register(user) -> None:
    if not permissions.is_any_site_staff(user):
        raise PermissionDenied(_("Le registre des réclamations est tenu par l’équipe."))


@login_required
@require_GET
def complaint_register(request):
    _require_register(request.user)
    form = forms.ComplaintFilterForm(request.GET or None)
    rows = complaints.visible_to(request.user)
    status = form.cleaned_data.get("status") if form.is_valid() else ""
    if status:
        rows = rows.filter(status=status)
    counts = dict(
        complaints.visible_to(request.user).order_by().values_list("status").annotate(n=Count("pk"))
    )
    context = {
        "form": form,
        "complaints": list(rows[:500]),
        "status": status,
        "counts": [(value, label, counts.get(value, 0)) for value, label in Complaint.Status.choices],
    }
    return render(request, "learning/evidence_complaints.html", context)


@login_required
@require_GET
def complaint_export(request):
    _require_register(request.user)
    rows = complaints.visible_to(request.user)
    status = request.GET.get("status", "")
    if status in Complaint.Status.values:
        rows = rows.filter(status=status)
    response = HttpResponse(
        complaints.export_csv(rows.order_by("received_at", "pk")), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="reclamations-{timezone.localdate():%Y-%m-%d}.csv"'
    )
    return response


@login_required
@require_http_methods(["GET", "POST"])
def complaint(request, pk: int):
    found = get_object_or_404(Complaint.objects.select_related("programme", "session", "answered_by"), pk=pk)
    if not complaints.may_handle(request.user, found):
        raise Http404(_("Réclamation introuvable."))
    form = forms.AnswerForm(
        request.POST or None, initial={"response": found.response, "action_taken": found.action_taken}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                complaints.answer(
                    found,
                    by=request.user,
                    response=form.cleaned_data["response"],
                    action_taken=form.cleaned_data["action_taken"],
                    close=form.cleaned_data["close"],
                )
            except DomainError as error:
                _fail(form, error)
                status = _status(error)
            else:
                messages.success(request, _("Réclamation mise à jour."))
                return redirect("learning:complaint", pk=found.pk)
        else:
            status = 400
    return render(
        request, "learning/evidence_complaint.html", {"complaint": found, "form": form}, status=status
    )


# ---------------------------------------------------------------------------------------------------------
# Public results
# ---------------------------------------------------------------------------------------------------------


@require_GET
def programme_results(request, slug: str):
    programme = get_object_or_404(Programme, slug=slug, published=True)
    return render(
        request, "learning/results.html", {"programme": programme, "results": results.results_of(programme)}
    )


# ---------------------------------------------------------------------------------------------------------
# Qualifications
# ---------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def my_qualifications(request):
    return render(
        request,
        "learning/evidence_my_qualifications.html",
        {"grants": qualifications.grants_of(request.user), "today": timezone.localdate()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def qualification_grants(request):
    grantable = qualifications.grantable_by(request.user)
    if not grantable:
        raise PermissionDenied(_("Vous n’accordez aucune qualification."))
    form = forms.GrantForm(request.POST or None, qualifications=grantable)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                made = qualifications.grant(
                    data["qualification"],
                    data["holder_email"],
                    by=request.user,
                    site=data["site"],
                    valid_until=data["valid_until"],
                )
            except DomainError as error:
                _fail(form, error)
                status = _status(error)
            else:
                messages.success(
                    request,
                    _("%(qualification)s accordée à %(holder)s.")
                    % {
                        "qualification": made.qualification.name,
                        "holder": made.holder.get_full_name() or made.holder.email,
                    },
                )
                return redirect("learning:qualification_grants")
        else:
            status = 400
    rows = Grant.objects.filter(qualification__in=grantable).select_related(
        "qualification", "holder", "granted_by", "site"
    )
    context = {"form": form, "grants": list(rows[:300]), "change_form": forms.GrantChangeForm()}
    return render(request, "learning/evidence_grants.html", context, status=status)


@login_required
@require_POST
def change_grant(request, pk: int):
    found = get_object_or_404(Grant.objects.select_related("qualification"), pk=pk)
    if not access.may_grant(request.user, found.qualification):
        raise PermissionDenied(_("Vous n’êtes pas habilité à changer cette qualification."))
    form = forms.GrantChangeForm(request.POST)
    if form.is_valid():
        change = qualifications.suspend if form.cleaned_data["action"] == "suspend" else qualifications.revoke
        try:
            change(found, by=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Qualification mise à jour."))
    else:
        messages.error(request, _("Indiquez l’action et son motif."))
    return redirect("learning:qualification_grants")
