"""Closing a session, and the certificates it issues from the attendance.

`close_session` (the site's staff, once every sitting is over): every sheet still open is locked; for each
accepted trainee, staff record whether they completed the action and the result of the assessment; then two
`Certificate` rows are issued per trainee, numbered, their content frozen as JSON with its SHA-256:

- the **certificat de réalisation** (the ministry's model): the trainee, the action's title and nature, its
  dates, the hours attended, the provider with its declaration number, the place and date, the signatory;
- the **attestation de fin de formation** (Code du travail L6353-1): objectives, nature, duration, the
  assessment's result.

The hours attended are the sum of the lengths of the half-days the trainee was present at (`hours_attended`).
The session becomes *completed*; a trainee who completed it gets the programme's qualification and, after
commit, the hot survey by e-mail. The PDFs are drawn from the frozen content only (`render_pdf`).
"""

import functools
import hashlib
import json
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from cocotte.core.errors import Conflict, Forbidden, Invalid
from cocotte.core.models import audit
from cocotte.core.timeutils import zone

from . import access, attendance, halfdays, qualifications
from .models import Certificate, Enrolment, Mark, Session, Sheet

Kind = Certificate.Kind
PREFIX = {Kind.DELIVERY: "CR", Kind.COMPLETION: "AF"}


class CloseError(Invalid):
    code = "cannot_close"


def hours_attended(enrolment: Enrolment) -> Decimal:
    """The sum of the lengths of the half-days this trainee was marked present at."""
    total = Decimal("0.00")
    for sheet in Sheet.objects.filter(marks__enrolment=enrolment, marks__state=Mark.State.PRESENT):
        total += sheet.hours
    return total


def hours_by_enrolment(session: Session) -> dict[int, Decimal]:
    """`hours_attended` of every trainee of the session, in one query."""
    hours: dict[int, Decimal] = {}
    rows = Mark.objects.filter(sheet__sitting__session=session, state=Mark.State.PRESENT).select_related(
        "sheet"
    )
    for mark in rows:
        hours[mark.enrolment_id] = hours.get(mark.enrolment_id, Decimal("0.00")) + mark.sheet.hours
    return hours


def _digest(content: dict) -> str:
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def verify(certificate: Certificate) -> bool:
    stored = Certificate.objects.filter(pk=certificate.pk).values_list("content", "content_hash").first()
    return bool(stored) and _digest(stored[0]) == stored[1]


def _content(kind: str, enrolment: Enrolment, hours: Decimal, by, now, days) -> dict:
    session = enrolment.session
    programme = session.programme
    site = session.site
    trainee = enrolment.trainee
    local_now = timezone.localtime(now, zone(site.timezone))
    content = {
        "kind": kind,
        "trainee": {"name": trainee.get_full_name() or trainee.email, "email": trainee.email},
        "programme": {
            "title": programme.title,
            "nature": programme.nature,
            "nature_label": str(programme.get_nature_display()),
            "objectives": programme.objectives,
            "duration_hours": str(programme.duration_hours),
            "assessment_method": programme.assessment_method,
        },
        "session": {
            "label": session.label,
            "first_day": days[0].isoformat(),
            "last_day": days[1].isoformat(),
        },
        "hours_attended": str(hours),
        "provider": {
            "name": programme.provider_name,
            "declaration": programme.provider_declaration,
            "siret": programme.provider_siret,
        },
        "place": site.city or site.name,
        "issued_on": local_now.date().isoformat(),
        "signatory": by.get_full_name() or by.email,
    }
    if kind == Kind.COMPLETION:
        content["completed"] = bool(enrolment.completed)
        content["assessment_result"] = enrolment.assessment_result
    return content


def _lock_every_sheet(session: Session, now) -> None:
    """Every sheet of the session locked, each first made to follow its sitting's times where nobody signed
    it (`halfdays.plan_sheets`: a sheet left behind by its sitting is resized, a half-day without its sheet
    gets one); a signed sheet keeps the times it was signed under. None stays open: the session is over."""
    for sitting in session.sittings.all():
        sitting.session = session
        try:
            with transaction.atomic():
                halfdays.plan_sheets(sitting)
        except halfdays.SittingSigned:
            pass
    for sheet in Sheet.objects.filter(sitting__session=session, locked_at__isnull=True):
        attendance.close(sheet, now=now, final=True)


def _issue(kind: str, enrolment: Enrolment, attended: Decimal, *, by, now, days) -> Certificate:
    """One certificate, numbered by year, session and enrolment, its content frozen with its hash."""
    content = _content(kind, enrolment, attended, by, now, days)
    return Certificate.objects.create(
        enrolment=enrolment,
        kind=kind,
        number=f"{PREFIX[kind]}-{days[1]:%Y}-{enrolment.session_id:04d}-{enrolment.pk:05d}",
        hours_attended=attended,
        content=content,
        content_hash=_digest(content),
        issued_by=by,
    )


def close_session(
    session: Session, *, by, outcomes: dict[int, tuple[bool, str]], now=None
) -> list[Certificate]:
    """Close the session: `outcomes` maps each accepted enrolment's id to (completed, assessment result).

    Refused (nothing written) before the last sitting is over, for a session cancelled or closed already,
    or when an accepted trainee has no outcome."""
    now = now or timezone.now()
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("programme", "site")
            .get(pk=session.pk)
        )
        if not access.manages(by, session):
            raise Forbidden(_("Seule l’équipe du site clôture une session."))
        if session.status == Session.Status.COMPLETED:
            raise Conflict(_("Cette session est déjà clôturée."), code="already_closed")
        if session.status == Session.Status.CANCELLED:
            raise CloseError(_("Une session annulée ne se clôture pas."))
        bounds = session.sittings.aggregate(first=Min("start"), last=Max("end"))
        if bounds["last"] is None or bounds["last"] > now:
            raise CloseError(_("La session se clôture une fois sa dernière séance terminée."))
        enrolments = list(
            session.enrolments.filter(status=Enrolment.Status.ACCEPTED).select_related("trainee")
        )
        missing = [e for e in enrolments if e.pk not in outcomes]
        if missing:
            raise CloseError(
                _("Indiquez si chaque stagiaire a terminé la formation (manque : %(names)s).")
                % {"names": ", ".join(e.trainee.get_full_name() or e.trainee.email for e in missing)}
            )
        _lock_every_sheet(session, now)
        hours = hours_by_enrolment(session)
        tz = zone(session.site.timezone)
        days = (timezone.localtime(bounds["first"], tz).date(), timezone.localtime(bounds["last"], tz).date())
        issued = []
        for enrolment in enrolments:
            completed, result = outcomes[enrolment.pk]
            enrolment.completed = bool(completed)
            enrolment.assessment_result = (result or "").strip()
            enrolment.save(update_fields=["completed", "assessment_result"])
            attended = hours.get(enrolment.pk, Decimal("0.00"))
            for kind in (Kind.DELIVERY, Kind.COMPLETION):
                issued.append(_issue(kind, enrolment, attended, by=by, now=now, days=days))
            if enrolment.completed and session.programme.grants_id:
                qualifications.grant(
                    session.programme.grants, enrolment.trainee, enrolment=enrolment, site=session.site
                )
        # Those who left during the session get the certificate of delivery of the hours they attended
        # (funders pay those hours); no certificate of completion.
        left = session.enrolments.filter(status=Enrolment.Status.WITHDRAWN).select_related("trainee")
        for enrolment in left:
            attended = hours.get(enrolment.pk, Decimal("0.00"))
            if attended <= 0:
                continue
            issued.append(_issue(Kind.DELIVERY, enrolment, attended, by=by, now=now, days=days))
        session.status = Session.Status.COMPLETED
        session.save(update_fields=["status"])
        audit(by, "learning.session.closed", session, certificates=[c.number for c in issued])
        from . import evidence_tasks

        for enrolment in enrolments:
            if enrolment.completed:
                transaction.on_commit(
                    functools.partial(evidence_tasks.send_hot_survey.enqueue, enrolment.pk), robust=True
                )
    return issued


def certificates_of(user):
    return Certificate.objects.filter(enrolment__trainee=user).select_related("enrolment__session__programme")


def render_pdf(certificate: Certificate) -> bytes:
    """The certificate as a tagged PDF/A-3b, printed from its frozen content only, in French."""
    from django.utils import translation

    from cocotte.billing.pdf import pdf_from_template

    template = (
        "learning/certificate_delivery_pdf.html"
        if certificate.kind == Kind.DELIVERY
        else "learning/certificate_completion_pdf.html"
    )
    with translation.override("fr"):
        return pdf_from_template(template, _printed(certificate), pdf_tags=True)


def _printed(certificate: Certificate) -> dict:
    """The frozen content, its dates written as French writes them (« mardi 8 décembre 2026 »)."""
    import copy
    from datetime import date

    from cocotte.core.formats import format_day

    content = copy.deepcopy(certificate.content)
    for key in ("first_day", "last_day"):
        if content["session"].get(key):
            content["session"][key] = format_day(date.fromisoformat(content["session"][key]))
    content["issued_on"] = format_day(date.fromisoformat(content["issued_on"]))
    content["hours_attended"] = content["hours_attended"].replace(".", ",")
    content["programme"]["duration_hours"] = content["programme"]["duration_hours"].replace(".", ",")
    return {"certificate": certificate, "c": content}
