"""Evidence's e-mails: one small function per kind, one template trio per kind
(`learning/emails/evidence_<kind>_subject.txt`, `.txt`, `.html`), in the reader's language."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from cocotte.accounts.models import Role
from cocotte.bookings.emails import language_of, speaking_to
from cocotte.core.mail import tidy_text

from .models import Complaint, Enrolment, SurveyResponse


def _message(kind: str, to: list[str], context: dict, reply_to=None) -> EmailMultiAlternatives:
    context = {
        **context,
        "site_url": settings.COCOTTE_PUBLIC_URL,
        "operator_name": settings.COCOTTE_OPERATOR_NAME,
    }
    subject = " ".join(render_to_string(f"learning/emails/evidence_{kind}_subject.txt", context).split())
    context["subject"] = subject
    message = EmailMultiAlternatives(
        subject=subject,
        body=tidy_text(render_to_string(f"learning/emails/evidence_{kind}.txt", context)),
        to=to,
        reply_to=reply_to,
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(
        render_to_string(f"learning/emails/evidence_{kind}.html", context), "text/html"
    )
    return message


def send_survey_invitation(enrolment: Enrolment, kind: str):
    """The hot survey at the end of the session, or the cold one three months later."""
    enrolment = Enrolment.objects.select_related(
        "trainee__profile", "session__programme", "session__site"
    ).get(pk=enrolment.pk)
    site = enrolment.session.site
    slug = "chaud" if kind == SurveyResponse.Kind.HOT else "froid"
    with speaking_to(enrolment.trainee, site):
        url = settings.COCOTTE_PUBLIC_URL + reverse("learning:survey", args=[enrolment.pk, slug])
        message = _message(
            "survey",
            [enrolment.trainee.email],
            {
                "trainee": enrolment.trainee,
                "session": enrolment.session,
                "programme": enrolment.session.programme,
                "site": site,
                "cold": kind == SurveyResponse.Kind.COLD,
                "url": url,
            },
            reply_to=[site.email] if site.email else None,
        )
        message.send()
    return message


def _staff_of(site_id: int | None):
    from django.contrib.auth import get_user_model

    roles = Role.objects.filter(
        role__in=[Role.Name.SITE_STAFF, Role.Name.PROJECT_OFFICER], scope_app_label="spaces"
    )
    if site_id is not None:
        roles = roles.filter(scope_id=site_id)
    users = (
        get_user_model()
        .objects.filter(pk__in=roles.values("user_id"), is_active=True)
        .select_related("profile")
    )
    return list(users.order_by("pk"))


def send_complaint_received(complaint: Complaint) -> list:
    """The acknowledgment to its author, and one message to each of the site's staff."""
    sent = []
    context = {"complaint": complaint}
    with translation.override(language_of(complaint.author) if complaint.author else settings.LANGUAGE_CODE):
        message = _message("complaint_ack", [complaint.author_email], context)
        message.send()
        sent.append(message)
    register_url = settings.COCOTTE_PUBLIC_URL + reverse("learning:complaint", args=[complaint.pk])
    for staff in _staff_of(_site_id(complaint)):
        with translation.override(language_of(staff)):
            message = _message("complaint_staff", [staff.email], {**context, "url": register_url})
            message.send()
            sent.append(message)
    return sent


def _site_id(complaint: Complaint) -> int | None:
    """The site whose staff handle the complaint: its session's, else its programme's (None: every site's)."""
    if complaint.session_id:
        return complaint.session.site_id
    return complaint.programme.site_id if complaint.programme_id else None
