"""Satisfaction surveys: the hot one at the end of the session, the cold one three months later.

A trainee answers each once (a unique constraint; `submit` refuses a second answer). The hot survey's
invitation is sent when the session is closed (`certificates.close_session`, after commit); the cold one by
the daily `send_cold_surveys`, once per enrolment (claimed by a conditional UPDATE of `cold_survey_sent_at`).
The cold form also asks whether the trainee created their business, and when: it fills
`Enrolment.business_created(_on)`, which the public results count; staff may record it too (`record_business`).
"""

from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cocotte.core.errors import Conflict, Forbidden, Invalid
from cocotte.core.models import audit

from . import access
from .models import Enrolment, Session, SurveyResponse

Kind = SurveyResponse.Kind
COLD_AFTER = relativedelta(months=3)
SCALES = ("overall", "content", "trainers", "organisation", "usefulness")


class SurveyError(Invalid):
    code = "survey"


def cold_due_on(enrolment: Enrolment) -> date | None:
    """The day the cold survey opens: three months after the session's last sitting."""
    last = enrolment.session.sittings.order_by("-end").values_list("end", flat=True).first()
    return (timezone.localtime(last).date() + COLD_AFTER) if last else None


def may_answer(enrolment: Enrolment, kind: str, today: date | None = None) -> bool:
    """Whether the survey is open for this enrolment: its session closed, completed or not, and for the
    cold one, three months gone."""
    today = today or timezone.localdate()
    if enrolment.status != Enrolment.Status.ACCEPTED or enrolment.session.status != Session.Status.COMPLETED:
        return False
    if kind == Kind.COLD:
        due = cold_due_on(enrolment)
        return due is not None and today >= due
    return kind == Kind.HOT


def answered(enrolment: Enrolment) -> set[str]:
    return set(enrolment.survey_responses.values_list("kind", flat=True))


def submit(
    enrolment: Enrolment, kind: str, *, by, answers: dict, today: date | None = None
) -> SurveyResponse:
    """The trainee's answer to one survey: scales 1–5 (overall required), would-recommend, comments; the cold
    one also `business_created` (True/False/None) and `business_created_on`."""
    enrolment = Enrolment.objects.select_related("session").get(pk=enrolment.pk)  # its state now
    if not access.is_trainee(by, enrolment):
        raise Forbidden(_("Seul le stagiaire répond à son questionnaire."))
    if kind not in Kind.values:
        raise SurveyError(_("Questionnaire inconnu."))
    if not may_answer(enrolment, kind, today):
        raise SurveyError(_("Ce questionnaire n’est pas encore ouvert pour vous."), code="survey_closed")
    values = {}
    for name in SCALES:
        value = answers.get(name)
        if value in (None, ""):
            if name == "overall":
                raise SurveyError(_("Indiquez votre satisfaction générale."), field="overall")
            values[name] = None
            continue
        try:
            value = int(value)
        except (TypeError, ValueError):
            value = 0
        if not 1 <= value <= 5:
            raise SurveyError(_("Choisissez une note de 1 à 5."), field=name)
        values[name] = value
    comments = (answers.get("comments") or "").strip()
    if len(comments) > 5000:
        raise SurveyError(_("Le commentaire est trop long (5 000 caractères au plus)."), field="comments")
    created, created_on = answers.get("business_created"), answers.get("business_created_on")
    if kind == Kind.COLD:
        _check_business(created, created_on, today)
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                enrolment=enrolment,
                kind=kind,
                would_recommend=answers.get("would_recommend"),
                comments=comments,
                **values,
            )
            if kind == Kind.COLD and created is not None:
                Enrolment.objects.filter(pk=enrolment.pk).update(
                    business_created=created, business_created_on=created_on if created else None
                )
    except IntegrityError as error:
        raise Conflict(
            _("Vous avez déjà répondu à ce questionnaire. Merci !"), code="already_answered"
        ) from error
    return response


def _check_business(created, created_on, today) -> None:
    today = today or timezone.localdate()
    if created and created_on and created_on > today:
        raise SurveyError(
            _("La date de création ne peut pas être dans le futur."), field="business_created_on"
        )
    if not created and created_on:
        raise SurveyError(
            _("Une date de création n’a de sens que si l’entreprise est créée."), field="business_created_on"
        )


def record_business(
    enrolment: Enrolment, *, by, created: bool | None, created_on: date | None = None
) -> None:
    """The site's staff record what came of the training (at the cold survey, or later by phone)."""
    if not access.manages(by, enrolment.session):
        raise Forbidden(_("Seule l’équipe du site enregistre le devenir des stagiaires."))
    _check_business(created, created_on, None)
    with transaction.atomic():
        Enrolment.objects.filter(pk=enrolment.pk).update(
            business_created=created, business_created_on=created_on if created else None
        )
        audit(by, "learning.enrolment.business", enrolment, created=created, on=created_on)


def send_cold_surveys(now: datetime | None = None) -> int:
    """The daily job: e-mail the cold survey to every trainee of a closed session whose last sitting was three
    months ago or more, once each. Returns how many were sent."""
    from . import evidence_emails

    now = now or timezone.now()
    cutoff = now - COLD_AFTER
    candidates = (
        Enrolment.objects.filter(
            status=Enrolment.Status.ACCEPTED,
            session__status=Session.Status.COMPLETED,
            cold_survey_sent_at__isnull=True,
        )
        .exclude(session__sittings__end__gt=cutoff)
        .exclude(survey_responses__kind=Kind.COLD)
        .distinct()
        .values_list("pk", flat=True)
    )
    sent = 0
    for pk in list(candidates):
        # Claimed first: of two schedulers on the same enrolment, one sends.
        if Enrolment.objects.filter(pk=pk, cold_survey_sent_at__isnull=True).update(cold_survey_sent_at=now):
            evidence_emails.send_survey_invitation(Enrolment.objects.get(pk=pk), Kind.COLD)
            sent += 1
    return sent


def send_hot_survey(enrolment_id: int) -> bool:
    """The hot survey's invitation, once (after the session is closed)."""
    from . import evidence_emails

    if not Enrolment.objects.filter(pk=enrolment_id, hot_survey_sent_at__isnull=True).update(
        hot_survey_sent_at=timezone.now()
    ):
        return False
    evidence_emails.send_survey_invitation(Enrolment.objects.get(pk=enrolment_id), Kind.HOT)
    return True
