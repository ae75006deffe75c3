"""Trainings' e-mails: one small function per kind, one template trio per kind.

Each kind has `learning/emails/<kind>_subject.txt`, `<kind>.txt` and `<kind>.html` (the HTML extending the
platform's layout). A message is written in its reader's language, dates in the site's zone. The task worker
sends them (`send_later`), enqueued by the services with their change, with primary keys: what is read is what
was committed. Messages about
a session's dates carry an `.ics` of its sittings (a cancellation's cancels them in the reader's calendar).
"""

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task
from icalendar import Calendar, Event, vText

from cocotte.accounts.models import Role, User
from cocotte.bookings.emails import speaking_to
from cocotte.core.formats import describe_deadline, describe_period
from cocotte.core.mail import tidy_text

from .models import Enrolment, Session

PRODID = "-//Cocotte//Formations//FR"
# Which kinds carry the sittings' calendar, and with which METHOD (RFC 5546).
ICS_METHOD = {
    "accepted": "REQUEST",
    "place_offered": "REQUEST",
    "moved": "REQUEST",
    "session_cancelled": "CANCEL",
}


def _url(name: str, *args) -> str:
    return settings.COCOTTE_PUBLIC_URL + reverse(name, args=args)


def sittings_ics(session: Session, method: str = "REQUEST", sittings=None) -> bytes:
    """The session's sittings (or those given) as a calendar: one event each, stable UIDs (an update replaces
    them, a CANCEL removes them)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    host = settings.COCOTTE_PUBLIC_URL.split("//")[-1].split("/")[0] or "cocotte.invalid"
    site = session.site
    if sittings is None:
        sittings = session.sittings.select_related("room", "module").order_by("start")
    for sitting in sittings:
        event = Event()
        event.add("uid", f"learning-sitting-{sitting.pk}@{host}")
        event.add("dtstamp", timezone.now())
        event.add("dtstart", sitting.start)
        event.add("dtend", sitting.end)
        summary = session.programme.title
        if sitting.module:
            summary += f" — {sitting.module.title}"
        event.add("summary", summary)
        where = sitting.outside_address or (
            f"{sitting.room.name}, {site.name}, {site.street}, {site.postal_code} {site.city}"
            if sitting.room
            else site.name
        )
        event["location"] = vText(where)
        event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
        event.add("sequence", int((timezone.now() - session.created_at).total_seconds()))
        calendar.add_component(event)
    return calendar.to_ical()


def _message(
    kind: str, reader, site, context: dict, ics: bytes | None = None, method: str = ""
) -> EmailMultiAlternatives:
    context = {
        **context,
        "member": reader,
        "site": site,
        "site_url": settings.COCOTTE_PUBLIC_URL,
        "operator_name": settings.COCOTTE_OPERATOR_NAME,
    }
    context.setdefault("manage_url", _url("learning:mine"))
    subject = " ".join(render_to_string(f"learning/emails/{kind}_subject.txt", context).split())
    context["subject"] = subject
    message = EmailMultiAlternatives(
        subject=subject,
        body=tidy_text(render_to_string(f"learning/emails/{kind}.txt", context)),
        to=[reader.email],
        reply_to=[site.email] if site.email else None,
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string(f"learning/emails/{kind}.html", context), "text/html")
    if ics is not None:
        message.attach("formation.ics", ics, f"text/calendar; method={method}")
    return message


def _enrolment_context(enrolment: Enrolment) -> dict:
    session = enrolment.session
    context = {
        "enrolment": enrolment,
        "session": session,
        "programme": session.programme,
        "when": describe_period(session.starts_at, session.ends_at) if session.starts_at else "",
        "sittings": [
            {"when": describe_period(s.start, s.end), "module": s.module.title if s.module else ""}
            for s in session.sittings.select_related("module").order_by("start")
        ],
        "programme_url": _url("learning:programme", session.programme.slug),
        "self_funded": enrolment.funding == Enrolment.Funding.SELF and session.programme.price_excl_vat > 0,
        "contract_url": _url("learning:contract", enrolment.pk),
        "offer_url": _url("learning:offer", enrolment.pk),
        "deadline": describe_deadline(enrolment.offer_expires_at) if enrolment.offer_expires_at else "",
        "reason": enrolment.reason,
    }
    return context


def send_enrolment_mail(kind: str, enrolment_pk: int, extra: dict | None = None):
    """One message about one enrolment, to its trainee."""
    enrolment = (
        Enrolment.objects.select_related("trainee__profile", "session__programme", "session__site")
        .filter(pk=enrolment_pk)
        .first()
    )
    if enrolment is None:
        return None
    session = enrolment.session
    method = ICS_METHOD.get(kind, "")
    with speaking_to(enrolment.trainee, session.site):
        context = {**_enrolment_context(enrolment), **(extra or {})}
        ics = sittings_ics(session, method) if method and session.starts_at else None
        message = _message(kind, enrolment.trainee, session.site, context, ics, method)
        message.send()
    return message


def staff_of(site) -> list:
    """The site's team (its staff and project officers), who hear about applications and cancellations."""
    return list(
        User.objects.filter(
            is_active=True,
            roles__role__in=[Role.Name.SITE_STAFF, Role.Name.PROJECT_OFFICER],
            roles__scope_app_label="spaces",
            roles__scope_id=site.pk,
        )
        .select_related("profile")
        .distinct()
        .order_by("pk")
    )


def send_application_to_staff(enrolment_pk: int) -> list:
    enrolment = Enrolment.objects.select_related("trainee", "session__programme", "session__site").get(
        pk=enrolment_pk
    )
    session = enrolment.session
    sent = []
    for member in staff_of(session.site):
        with speaking_to(member, session.site):
            context = {
                **_enrolment_context(enrolment),
                "applicant": enrolment.trainee.get_full_name() or enrolment.trainee.email,
                "manage_url": _url("learning:staff_session", session.pk),
            }
            message = _message("application_to_staff", member, session.site, context)
            message.send()
            sent.append(message)
    return sent


def send_session_cancelled_to_staff(session_pk: int) -> list:
    session = Session.objects.select_related("programme", "site").get(pk=session_pk)
    cancelled = list(
        session.enrolments.filter(status=Enrolment.Status.CANCELLED).select_related("trainee").order_by("pk")
    )
    sent = []
    for member in staff_of(session.site):
        with speaking_to(member, session.site):
            context = {
                "session": session,
                "programme": session.programme,
                "when": describe_period(session.starts_at, session.ends_at) if session.starts_at else "",
                "reason": session.cancel_reason,
                "trainees": [e.trainee.get_full_name() or e.trainee.email for e in cancelled],
                "manage_url": _url("learning:staff_session", session.pk),
            }
            message = _message("session_cancelled_to_staff", member, session.site, context)
            message.send()
            sent.append(message)
    return sent


def send_sittings_changed(
    session_pk: int, change: str, before: tuple, after: tuple | None, removed_pk=None
) -> list:
    """To each trainee holding a place: a sitting moved (`change` "moved", the updated calendar attached) or
    removed ("removed", a calendar cancelling it). `before` and `after` are (start, end) pairs."""
    from .models import Sitting

    session = Session.objects.select_related("programme", "site").get(pk=session_pk)
    holders = list(
        session.enrolments.filter(status__in=Enrolment.HOLDING)
        .select_related("trainee__profile")
        .order_by("pk")
    )
    sent = []
    for enrolment in holders:
        with speaking_to(enrolment.trainee, session.site):
            context = {
                **_enrolment_context(enrolment),
                "change": change,
                "before": describe_period(*before),
                "after": describe_period(*after) if after else "",
            }
            if removed_pk is not None:
                gone = Sitting(pk=removed_pk, session=session, start=before[0], end=before[1])
                ics, method = sittings_ics(session, "CANCEL", [gone]), "CANCEL"
            else:
                ics, method = sittings_ics(session, "REQUEST"), "REQUEST"
            message = _message("sittings_changed", enrolment.trainee, session.site, context, ics, method)
            message.send()
            sent.append(message)
    return sent


# ---------------------------------------------------------------------------------------------------------
# Sent by the task worker (services enqueue them with the change that asks for them: `tasking.enqueue_with`)
# ---------------------------------------------------------------------------------------------------------


def as_task_arguments(args) -> list:
    """Plain JSON for the task: instants as {"at": ISO 8601}, pairs as lists."""

    def encode(value):
        if isinstance(value, datetime):
            return {"at": value.isoformat()}
        if isinstance(value, (list, tuple)):
            return [encode(v) for v in value]
        return value

    return [encode(a) for a in args]


def _from_task_arguments(args: list) -> list:
    def decode(value):
        if isinstance(value, dict) and set(value) == {"at"}:
            return datetime.fromisoformat(value["at"])
        if isinstance(value, list):
            return tuple(decode(v) for v in value)
        return value

    return [decode(a) for a in args]


SENT_LATER = {
    "send_enrolment_mail",
    "send_session_cancelled_to_staff",
    "send_application_to_staff",
    "send_sittings_changed",
}


@task()
def send_later(name: str, args: list) -> None:
    """One of this module's e-mails, for a committed change; it re-reads what it tells."""
    if name not in SENT_LATER:
        raise ValueError(f"Not a training e-mail: {name!r}")
    globals()[name](*_from_task_arguments(args))
