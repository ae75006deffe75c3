"""E-invoicing: invoices to businesses deposited on an approved platform (plateforme agréée, PA), and the
lifecycle statuses it reports afterwards.

Every platform has the same shape (`Platform`): `submit(bill, pdf)` deposits the bill's Factur-X and gives the
platform's id of it; `status(platform_id)` gives every lifecycle status the platform knows of it, with its date
(`StatusEvent`; the codes are `models.Lifecycle`'s). Both raise `PlatformUnavailable` when the platform cannot
be reached or does not answer properly (the caller tries again later, nothing written), and `submit` raises
`SubmissionRejected` when the platform refuses the document outright (a rejection, as final as status 213).

`HttpPlatform` speaks a plain JSON API over HTTPS, with a bearer token (settings `COCOTTE_EINVOICING_URL` and
`COCOTTE_EINVOICING_TOKEN`; without a URL `configured_platform()` is None and `sending` e-mails instead):

- `POST {url}/invoices` with the document in base64 and what routes it (number, type code, SIRENs, total); an
  `Idempotency-Key` header (the seller's SIREN and the number) makes a deposit repeated after a lost answer
  give back the first one's id, never a second invoice. 201 or 200: `{"id": "…", "status": "200"}`; 400 or
  422: `{"detail": "…"}`, refused.
- `GET {url}/invoices/{id}/lifecycle`: `{"events": [{"status": "200", "at": "<ISO 8601>", "reason": ""}, …]}`.

Only the network boundary, `http_request`, is a function the adapter is given (tests fake exactly that).

`poll` is the scheduler's job: it asks the status of every deposited transmission in no final state and
records each new status once (`record`: a `LifecycleEvent` per (status, date), the latest on the transmission
and on `Bill.platform_status`), then `notify_problems` tells the operator's staff, once, of each transmission
that needs them (rejected, refused, or given up).
"""

import base64
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cocotte.accounts import permissions
from cocotte.accounts.models import Role, User
from cocotte.bookings.emails import language_of
from cocotte.core.formats import format_day
from cocotte.core.mail import tidy_text

from . import facturx
from .documents import euros
from .models import Bill, Lifecycle, LifecycleEvent, SiteOperator, Transmission

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 20
POLL_BATCH = 200  # transmissions asked about in one run, those asked longest ago first


class PlatformError(Exception):
    """Something the platform said or did not say."""


class PlatformUnavailable(PlatformError):
    """The platform cannot be reached, or answered what we cannot use: try again later, nothing written."""


class SubmissionRejected(PlatformError):
    """The platform refused the document itself (its checks failed): resending it unchanged will not help."""


class UnknownAtPlatform(PlatformError):
    """The platform does not know this id: a mistake on one transmission, which staff must look into."""


@dataclass(frozen=True)
class StatusEvent:
    status: str  # a Lifecycle code ("200", "213"…), or whatever code the platform gave
    at: datetime  # aware
    reason: str = ""


class Platform(Protocol):
    name: str

    def submit(self, bill: Bill, pdf: bytes) -> str: ...

    def status(self, platform_id: str) -> list[StatusEvent]: ...


def http_request(method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
    """The network boundary: one HTTPS request to the platform, its answer's status code and body."""
    if urlsplit(url).scheme != "https":
        raise PlatformUnavailable(_("La plateforme de dématérialisation se joint en HTTPS."))
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310 — https only
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310 — https only
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:  # an answer all the same: the adapter reads its code
        return error.code, error.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise PlatformUnavailable(_("La plateforme de dématérialisation ne répond pas.")) from error


class HttpPlatform:
    """An approved platform's JSON API (see the module's docstring)."""

    name = "http"

    def __init__(
        self,
        *,
        url: str | None = None,
        token: str | None = None,
        request: Callable[[str, str, dict[str, str], bytes | None], tuple[int, bytes]] | None = None,
    ):
        self.url = (url or settings.COCOTTE_EINVOICING_URL).rstrip("/")
        self.token = token or settings.COCOTTE_EINVOICING_TOKEN
        self.request = request or http_request

    def _headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json", **extra}

    def _call(self, method: str, path: str, body: bytes | None = None, **headers: str) -> tuple[int, dict]:
        code, raw = self.request(method, self.url + path, self._headers(**headers), body)
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = None
        if not isinstance(data, dict):
            if 200 <= code < 300:
                raise PlatformUnavailable(_("Réponse illisible de la plateforme de dématérialisation."))
            data = {}
        if code in (401, 403):
            # Our token, not the bill: nothing is refused for good, and someone must fix the settings.
            logger.error(
                "The e-invoicing platform refuses our token (HTTP %s): check COCOTTE_EINVOICING_TOKEN.", code
            )
            raise PlatformUnavailable(_("La plateforme de dématérialisation refuse notre jeton d’accès."))
        if code == 408 or code == 429 or code >= 500:
            raise PlatformUnavailable(
                _("La plateforme de dématérialisation est indisponible (HTTP %(code)s).") % {"code": code}
            )
        return code, data

    def submit(self, bill: Bill, pdf: bytes) -> str:
        body = json.dumps(
            {
                "format": "factur-x",
                "profile": "EN16931",
                "type_code": facturx.TYPE_CODES[bill.kind],
                "number": bill.number,
                "issue_date": bill.issue_date.isoformat(),
                "seller_siren": bill.seller.get("siren", ""),
                "buyer_siren": bill.buyer_siren,
                "buyer_name": bill.buyer_name,
                "total_incl_vat": str(bill.total_incl_vat),
                "currency": "EUR",
                "filename": f"{bill.number}.pdf",
                "document": base64.b64encode(pdf).decode("ascii"),
            },
            sort_keys=True,
        ).encode()
        code, data = self._call(
            "POST",
            "/invoices",
            body,
            **{"Content-Type": "application/json", "Idempotency-Key": idempotency_key(bill)},
        )
        if code in (400, 422):
            raise SubmissionRejected(str(data.get("detail") or _("Document refusé par la plateforme.")))
        if code not in (200, 201) or not data.get("id"):
            raise PlatformUnavailable(
                _("Réponse inattendue de la plateforme de dématérialisation (HTTP %(code)s).")
                % {"code": code}
            )
        return str(data["id"])

    def status(self, platform_id: str) -> list[StatusEvent]:
        code, data = self._call("GET", f"/invoices/{quote(platform_id, safe='')}/lifecycle")
        if code == 404:
            raise UnknownAtPlatform(
                _("La plateforme ne connaît pas la facture %(id)s.") % {"id": platform_id}
            )
        if code != 200:
            raise PlatformUnavailable(
                _("Réponse inattendue de la plateforme de dématérialisation (HTTP %(code)s).")
                % {"code": code}
            )
        try:
            return [
                StatusEvent(
                    status=str(event["status"])[:30],
                    at=_aware(datetime.fromisoformat(str(event["at"]))),
                    reason=str(event.get("reason") or ""),
                )
                for event in data.get("events", [])
            ]
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise PlatformUnavailable(
                _("Réponse illisible de la plateforme de dématérialisation.")
            ) from error


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def idempotency_key(bill: Bill) -> str:
    """One per invoice of a seller: the platform recognises a deposit it already has."""
    return f"{bill.seller.get('siren', '')}-{bill.number}"


def configured_platform() -> Platform | None:
    """The operator's platform, or None when none is configured (invoices to businesses go by e-mail)."""
    if not settings.COCOTTE_EINVOICING_URL:
        return None
    return HttpPlatform()


# ---------------------------------------------------------------------------------------------------------
# Following the lifecycle
# ---------------------------------------------------------------------------------------------------------


def record(transmission_id: int, events: list[StatusEvent]) -> list[LifecycleEvent]:
    """Record the statuses the platform reported that are not recorded yet, in their order; set the latest on
    the transmission and its bill. Returns the new ones.

    The transmission's row is locked while its history is read and written: two pollers at once write each
    status once (and the unique (transmission, status, date) would refuse a second anyway)."""
    now = timezone.now()
    with transaction.atomic():
        transmission = Transmission.objects.select_for_update().get(pk=transmission_id)
        known = set(transmission.history.values_list("status", "occurred_at"))
        new = []
        for event in sorted(
            events, key=lambda e: e.at
        ):  # stable: same-date statuses keep the platform's order
            if (event.status, event.at) in known:
                continue
            known.add((event.status, event.at))
            new.append(
                LifecycleEvent(
                    transmission=transmission, status=event.status, occurred_at=event.at, reason=event.reason
                )
            )
        LifecycleEvent.objects.bulk_create(new)
        latest = transmission.history.order_by("-occurred_at", "-pk").values_list("status", flat=True).first()
        fields = {"checked_at": now}
        if latest and latest != transmission.lifecycle:
            fields["lifecycle"] = latest
            Bill.objects.filter(pk=transmission.bill_id).update(platform_status=latest)
        Transmission.objects.filter(pk=transmission.pk).update(**fields)
    return new


def poll(*, platform: Platform | None = None, limit: int = POLL_BATCH) -> int:
    """The scheduler's job: follow the transmissions in no final state, then tell staff of what needs them.
    Returns how many new statuses were recorded. A platform that does not answer ends the run: the next one
    asks again."""
    platform = platform or configured_platform()
    recorded = 0
    if platform is not None:
        candidates = (
            Transmission.objects.to_poll()
            .order_by(models.F("checked_at").asc(nulls_first=True), "pk")
            .values_list("pk", "external_id")[:limit]
        )
        for pk, external_id in list(candidates):
            try:
                events = platform.status(external_id)
            except PlatformUnavailable as error:
                logger.warning("E-invoicing platform not answering (%s); the next run asks again.", error)
                break
            except PlatformError:
                logger.exception("E-invoicing platform: transmission %s cannot be followed.", pk)
                Transmission.objects.filter(pk=pk).update(checked_at=timezone.now())  # the others go first
                continue
            recorded += len(record(pk, events))
    notify_problems()
    return recorded


# ---------------------------------------------------------------------------------------------------------
# Telling staff
# ---------------------------------------------------------------------------------------------------------


def staff_of(operator) -> list[User]:
    """The active staff of the sites the operator runs (site staff and project officers)."""
    sites = SiteOperator.objects.filter(operator=operator).values("site_id")
    holders = Role.objects.filter(
        role__in=permissions.SITE_STAFF_ROLES, scope_app_label=permissions.SITE_SCOPE, scope_id__in=sites
    ).values("user_id")
    return list(
        User.objects.filter(pk__in=holders, is_active=True).select_related("profile").order_by("email")
    )


def _problem(transmission: Transmission) -> dict:
    """What went wrong, in the active language: a rejection, a refusal, or a sending given up."""
    event = transmission.history.order_by("-occurred_at", "-pk").first()
    if transmission.lifecycle in (Lifecycle.REJECTED, Lifecycle.REFUSED):
        reason = event.reason if event and event.status == transmission.lifecycle else transmission.message
        when = format_day(timezone.localtime(event.occurred_at).date()) if event else ""
        return {
            "kind": "rejected" if transmission.lifecycle == Lifecycle.REJECTED else "refused",
            "reason": reason,
            "when": when,
        }
    return {"kind": "failed", "reason": transmission.message, "when": "", "attempts": transmission.attempts}


def make_problem_message(transmission: Transmission, to: str, language: str) -> EmailMultiAlternatives:
    """The message telling one of the operator's staff what happened to a transmission, in their language."""
    bill = transmission.bill
    with translation.override(language):
        context = {
            "bill": bill,
            "operator": bill.operator,
            "kind": bill.get_kind_display(),
            "reference": bill.number or bill.reference,
            "buyer": bill.buyer_name,
            "total": euros(bill.total_incl_vat),
            "issue_date": format_day(bill.issue_date),
            "channel": transmission.get_channel_display(),
            "site_url": settings.COCOTTE_PUBLIC_URL,
            **_problem(transmission),
        }
        subject = " ".join(
            render_to_string("billing/email/transmission_problem_subject.txt", context).split()
        )
        context["subject"] = subject
        message = EmailMultiAlternatives(
            subject=subject,
            body=tidy_text(render_to_string("billing/email/transmission_problem.txt", context)),
            to=[to],
            headers={"Auto-Submitted": "auto-generated"},  # RFC 3834: no out-of-office replies, please
        )
        message.attach_alternative(
            render_to_string("billing/email/transmission_problem.html", context), "text/html"
        )
    return message


def notify_problems() -> int:
    """Tell the operator's staff, once, of each transmission that needs them; returns how many were told of.

    Each is claimed by one conditional UPDATE of `staff_notified_at` (two runs at once tell once); a mail
    server that refuses releases the claim, and the next run tries again."""
    told = 0
    pending = Transmission.objects.needing_attention().filter(staff_notified_at__isnull=True)
    for transmission in pending.select_related("bill__operator"):
        operator = transmission.bill.operator
        recipients = [(user.email, language_of(user)) for user in staff_of(operator) if user.email]
        if not recipients and operator.email:
            recipients = [(operator.email, settings.LANGUAGE_CODE)]
        messages = [make_problem_message(transmission, to, language) for to, language in recipients]
        now = timezone.now()
        if not Transmission.objects.filter(pk=transmission.pk, staff_notified_at__isnull=True).update(
            staff_notified_at=now
        ):
            continue  # told by another run just now
        if not messages:
            logger.warning("Nobody to tell that %s needs attention: no staff, no e-mail.", transmission)
            continue  # it stays on the staff's list of transmissions needing attention
        try:
            get_connection().send_messages(messages)
        except OSError:  # the mail server refused or is away (smtplib's errors are OSErrors)
            logger.exception("Staff not told of %s; the next run tries again.", transmission)
            Transmission.objects.filter(pk=transmission.pk, staff_notified_at=now).update(
                staff_notified_at=None
            )
            continue
        told += 1
    return told
