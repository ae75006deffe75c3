"""The demo's training evidence, after `catalogue` (which puts its sessions in `context.shared["learning"]`:
`running`, a session under way, and `finished`, one whose sittings are all past).

- the running session's past half-days are signed (drawn and typed signatures in turn, one absence excused),
  signed by the trainer and locked;
- the finished session is signed the same way, then closed: certificates issued, qualifications granted, hot
  surveys answered, one cold survey with a business created; and one complaint, answered;
- the laser qualification granted by hand by its trainer to alice and bob (bob's then suspended).

Idempotent: what is signed, locked, closed or answered already is left as it is.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from cocotte.accounts import permissions
from cocotte.accounts.models import Role

from .. import attendance, certificates, complaints, qualifications, surveys
from ..models import Complaint, Enrolment, Grant, Mark, Session, Sheet, SurveyResponse

# A few strokes that look like a hand's signature, in the pad's 600×200 box.
DRAWINGS = [
    "M40 140L70 60L95 140L120 70L150 130L190 90L230 120L280 80L330 110",
    "M60 120L90 80L130 130L160 60L200 140L240 100L300 90L360 120",
    "M50 100L100 60L140 120L180 70L220 130L270 80L320 100L380 70",
]


def seed(context) -> None:
    shared = context.shared.get("learning") or {}
    running, finished = shared.get("running"), shared.get("finished")
    if running is None and finished is None:
        context.write("learning.evidence: no demo session from the catalogue; nothing signed.")
        return
    now = timezone.now()
    if running is not None:
        _sign_past(running, now)
    if finished is not None:
        _sign_past(finished, now)
        _close(finished, now)
        _surveys(finished, now)
        _complaint(finished)
    _hand_grants(context, shared)


def _hand_grants(context, shared) -> None:
    """The laser qualification granted by its trainer to two members before the first laser session (the Fablab
    will let them use the cutter), one of them suspended after an incident: the history shows every status."""
    trainer, qualification, site = shared.get("trainer"), shared.get("qualification"), shared.get("site")
    people = context.shared.get("people", {})
    if trainer is None or qualification is None or Grant.objects.filter(qualification=qualification).exists():
        return
    permissions.grant_role(trainer, Role.Name.TRAINER, qualification)
    today = timezone.localdate()
    for email in ("alice@cocotte.test", "bob@cocotte.test"):
        if email in people:
            qualifications.grant(
                qualification, people[email], by=trainer, site=site, today=today - timedelta(days=60)
            )
    if "bob@cocotte.test" in people:
        held = Grant.objects.get(qualification=qualification, holder=people["bob@cocotte.test"])
        qualifications.suspend(held, by=trainer, reason="Extraction laissée éteinte pendant une découpe.")


def _sign_past(session: Session, now) -> None:
    sheets = Sheet.objects.filter(
        sitting__session=session, end__lte=now, locked_at__isnull=True
    ).select_related("sitting__trainer", "sitting__session")
    for index, sheet in enumerate(sheets.order_by("start")):
        marks = attendance.marks_of(sheet)
        for position, mark in enumerate(marks):
            if mark.state != Mark.State.EXPECTED:
                continue
            trainee = mark.enrolment.trainee
            at = sheet.start + timedelta(minutes=3 + position)
            if index == 0 and position == len(marks) - 1 and len(marks) > 1:
                attendance.mark_absence(
                    mark,
                    by=sheet.sitting.trainer,
                    state=Mark.State.EXCUSED,
                    reason="Rendez-vous à la banque pour son prêt",
                )
            elif (index + position) % 2:
                attendance.sign(
                    mark, signer=trainee, method=Mark.Method.DRAWN, drawing=DRAWINGS[position % 3], now=at
                )
            else:
                name = trainee.get_full_name() or trainee.email
                attendance.sign(mark, signer=trainee, method=Mark.Method.TYPED, typed_name=name, now=at)
        if not sheet.trainer_signed_at:
            attendance.sign_as_trainer(
                sheet,
                by=sheet.sitting.trainer,
                method=Mark.Method.DRAWN,
                drawing=DRAWINGS[0],
                now=sheet.start + timedelta(minutes=20),
            )
        attendance.close(sheet, now=sheet.end)


def _staff_of(session: Session):
    users = get_user_model().objects
    staff = users.filter(
        roles__role=Role.Name.SITE_STAFF, roles__scope_app_label="spaces", roles__scope_id=session.site_id
    ).first()
    return staff or users.filter(is_superuser=True).first()


def _close(session: Session, now) -> None:
    session.refresh_from_db()
    if session.status == Session.Status.COMPLETED:
        return
    staff = _staff_of(session)
    if staff is None:
        return
    accepted = session.enrolments.filter(status=Enrolment.Status.ACCEPTED).order_by("pk")
    outcomes = {
        e.pk: (True, "Projet présenté devant le jury : viabilité confirmée, plan de financement validé.")
        for e in accepted
    }
    certificates.close_session(session, by=staff, outcomes=outcomes, now=now)


def _surveys(session: Session, now) -> None:
    accepted = list(
        session.enrolments.filter(status=Enrolment.Status.ACCEPTED, completed=True).select_related("trainee")
    )
    for position, enrolment in enumerate(accepted):
        if not SurveyResponse.objects.filter(enrolment=enrolment, kind=SurveyResponse.Kind.HOT).exists():
            surveys.submit(
                enrolment,
                SurveyResponse.Kind.HOT,
                by=enrolment.trainee,
                answers={
                    "overall": 5 - position % 2,
                    "content": 4,
                    "trainers": 5,
                    "organisation": 4 - position % 2,
                    "usefulness": 5,
                    "would_recommend": True,
                    "comments": "Très concret, les intervenants connaissent le territoire.",
                },
            )
    if (
        accepted
        and not SurveyResponse.objects.filter(
            enrolment__session=session, kind=SurveyResponse.Kind.COLD
        ).exists()
    ):
        # The cold survey's answer, as it came back three months after (recorded as such for the demo).
        first = accepted[0]
        SurveyResponse.objects.create(
            enrolment=first,
            kind=SurveyResponse.Kind.COLD,
            overall=5,
            usefulness=5,
            would_recommend=True,
            comments="Ma micro-entreprise est lancée depuis six semaines.",
        )
        Enrolment.objects.filter(pk=first.pk).update(
            business_created=True,
            business_created_on=timezone.localdate() - timedelta(days=42),
            cold_survey_sent_at=now,
        )


def _complaint(session: Session) -> None:
    subject = "Salle trop froide le premier matin"
    if Complaint.objects.filter(subject=subject).exists():
        return
    complaint = complaints.file_complaint(
        name="Nadia Demo",
        email="nadia.demo@example.org",
        subject=subject,
        description="Le chauffage de la salle n’était pas allumé à 9 h ; nous avons eu froid jusqu’à 10 h 30.",
        session=session,
    )
    staff = _staff_of(session)
    if staff is not None:
        complaints.answer(
            complaint,
            by=staff,
            response="Toutes nos excuses : le programmateur du chauffage avait été déréglé par une coupure.",
            action_taken="Chauffage programmé la veille de chaque séance ; vérification à l’ouverture.",
            close=True,
        )
