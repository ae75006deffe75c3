"""The events' e-mails: one small function, one template trio (`events/emails/<kind>_subject.txt`, `.txt`,
`.html`) per kind, written in the person's language (the one they registered in, their profile's for a
member) with times in the site's zone.

Kinds: `confirm_address` (a visitor's link), `confirmed` (with the .ics and the check-in QR code, inline),
`waitlisted`, `offered` (a freed place and its deadline), `offer_expired`, `cancelled` (by the person or by
the team), `event_cancelled`, `changed` (time or place changed by the team, with the updated .ics).
"""

import logging
from datetime import datetime
from email.mime.image import MIMEImage

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from cocotte.core.formats import describe_deadline, describe_period
from cocotte.core.mail import tidy_text
from cocotte.core.timeutils import zone

from . import ical, qr
from .models import Registration

logger = logging.getLogger(__name__)

KINDS = (
    "confirm_address",
    "confirmed",
    "waitlisted",
    "offered",
    "offer_expired",
    "cancelled",
    "event_cancelled",
    "changed",
)
QR_CID = "qr-accueil"


def _language(registration: Registration) -> str:
    profile = getattr(registration.member, "profile", None) if registration.member_id else None
    language = getattr(profile, "language", "") or registration.language or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def link(name: str, registration: Registration) -> str:
    return settings.COCOTTE_PUBLIC_URL + reverse(name, args=[registration.token])


def build(kind: str, registration: Registration, **extra) -> EmailMultiAlternatives:
    if kind not in KINDS:
        raise ValueError(f"Unknown e-mail kind {kind!r}")
    event = registration.event
    site = event.site
    with translation.override(_language(registration)), timezone.override(zone(site.timezone)):
        previous = ""
        if extra.get("previous_start") and extra.get("previous_end"):
            previous = describe_period(
                datetime.fromisoformat(extra["previous_start"]), datetime.fromisoformat(extra["previous_end"])
            )
        context = {
            **extra,
            "registration": registration,
            "event": event,
            "site": site,
            "when": describe_period(event.start, event.end),
            "previous_when": previous,
            "where": ical.location(event),
            "page_url": link("events:registration", registration),
            "confirm_url": link("events:confirm", registration),
            "event_url": settings.COCOTTE_PUBLIC_URL + reverse("events:detail", args=[event.pk]),
            "deadline": describe_deadline(registration.offer_expires_at)
            if registration.offer_expires_at
            else "",
            "free_until": describe_deadline(event.free_cancellation_until()) if event.is_priced else "",
            "qr_cid": QR_CID,
            "operator_name": settings.COCOTTE_OPERATOR_NAME,
            "site_url": settings.COCOTTE_PUBLIC_URL,
        }
        subject = " ".join(render_to_string(f"events/emails/{kind}_subject.txt", context).split())
        context["subject"] = subject
        message = EmailMultiAlternatives(
            subject=subject,
            body=tidy_text(render_to_string(f"events/emails/{kind}.txt", context)),
            to=[registration.email],
            reply_to=[site.email] if site.email else None,
            headers={"Auto-Submitted": "auto-generated"},
        )
        message.attach_alternative(render_to_string(f"events/emails/{kind}.html", context), "text/html")
        if kind in ("confirmed", "changed") and registration.status == Registration.Status.CONFIRMED:
            message.attach(*ical.event_ics(event))
            image = MIMEImage(qr.png(registration), "png")
            image.add_header("Content-ID", f"<{QR_CID}>")
            image.add_header("Content-Disposition", "inline", filename="qr-code-accueil.png")
            message.attach(image)
        elif kind == "event_cancelled":
            message.attach(*ical.event_ics(event, cancelled=True))
    return message


def send(kind: str, registration_id: int, **extra) -> bool:
    """Send one message about one registration (re-read as committed); False if there is none to send."""
    registration = (
        Registration.objects.select_related("event__site", "member__profile")
        .filter(pk=registration_id)
        .first()
    )
    if registration is None or not registration.email or registration.email.endswith(".invalid"):
        return False  # erased since, or anonymised
    build(kind, registration, **extra).send()
    return True
