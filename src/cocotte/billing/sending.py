"""Sending issued bills to their buyers: through the e-invoicing platform, or by e-mail with the PDF.

`dispatch(bill)` is called once a bill is issued (by the billing run, by staff pages), inside the caller's
transaction or outside any. It writes the bill's `Transmission`, *queued*, and enqueues `deliver` for the task
worker once that transaction commits: an issue rolled back sends nothing. A bill has one transmission (a unique
constraint), so a bill dispatched twice is queued once.

The worker's `send` claims the transmission (queued → sending, one conditional UPDATE: of two workers given the
same bill, one sends), sends it, then records what happened: *sent*, `sent_at` on the transmission and on the
bill. The route (`route_of`):

- an invoice or a credit note to a business identified by its SIREN (the French e-invoicing reform's B2B) is
  deposited on the approved platform as its Factur-X (`einvoicing`), which then reports its lifecycle; with no
  platform configured, it is e-mailed and its transmission says so (`fallback`);
- everything else is e-mailed with its PDF, in the member's language: invoices and credit notes to individuals
  (B2C), and the statements of public-mode operators (they reach the public accountant's software through the
  export, never a platform).

A sending that fails (the platform down, the mail server away, no address) writes nothing but the error: the
transmission goes back to the queue with when to try again; the worker gets a deferred task for then, and the
scheduler's sweep (`retry_due`) sends what is due whatever became of the tasks, and takes back the claim of a
worker that died. After `MAX_ATTEMPTS` the transmission is *failed* and staff are told (`einvoicing.
notify_problems`). A platform that refuses the document itself is a rejection (status 213): recorded, never
retried, told to staff.

Not built here: the e-reporting of B2C sales, and declaring « Encaissée » (212) to the platform when a payment
is received.
"""

import functools
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task
from stdnum.fr import siren as siren_number

from cocotte.bookings.emails import language_of
from cocotte.core.formats import format_day
from cocotte.core.mail import tidy_text
from cocotte.core.models import audit

from . import einvoicing, issuing, payments
from .documents import euros
from .models import Bill, Lifecycle, LifecycleEvent, Transmission
from .reminders import recipients, space_url

logger = logging.getLogger(__name__)

Channel, Status = Transmission.Channel, Transmission.Status

MAX_ATTEMPTS = 12  # 5 min, 10, 20… then every 6 hours: about a day and a half before staff are told
FIRST_RETRY = timedelta(minutes=5)
LONGEST_WAIT = timedelta(hours=6)
# A sending claimed this long ago is a worker that died: its claim goes back to the queue. Far longer than a
# PDF rendering and a deposit take; a deposit sent again carries the same idempotency key.
STALE_CLAIM = timedelta(minutes=15)
# A bill dispatched this recently is left to the worker about to take it.
WORKER_GRACE = timedelta(minutes=1)


class SendingError(Exception):
    """A bill that cannot be dispatched, and why."""


class NoRecipient(Exception):
    """Nobody to e-mail the bill to (no address on the bill, the member, the organisation or its managers)."""


def route_of(bill: Bill) -> str:
    """Through the platform for an invoice or credit note to a business with a valid SIREN; e-mail otherwise.

    A public buyer's invoice goes to the platform too: approved platforms relay them to Chorus Pro."""
    if (
        bill.kind in (Bill.Kind.INVOICE, Bill.Kind.CREDIT_NOTE)
        and bill.buyer_is_business
        and siren_number.is_valid(bill.buyer_siren or "")
    ):
        return Channel.PLATFORM
    return Channel.EMAIL


# ---------------------------------------------------------------------------------------------------------
# Dispatching, and the worker's task
# ---------------------------------------------------------------------------------------------------------


def dispatch(bill: Bill) -> Transmission | None:
    """Send this issued bill to its buyer, once, by the task worker after the current transaction commits.

    Returns its transmission (the one already there if it was dispatched before: a queued one is enqueued
    again, which sends nothing twice), or None for a bill recorded as sent before transmissions existed."""
    current = Bill.objects.defer("pdf").filter(pk=bill.pk).first()
    if current is None or not current.is_issued:
        raise SendingError(_("Seule une pièce émise s’envoie."))
    try:
        with transaction.atomic():
            if current.sent_at is not None:
                return Transmission.objects.filter(bill=current).first()
            transmission = Transmission.objects.create(bill=current, channel=route_of(current))
    except IntegrityError:  # dispatched already, maybe at this very moment
        transmission = Transmission.objects.get(bill=current)
        if transmission.status != Status.QUEUED:
            return transmission
    # robust: a queue that cannot take it now (Redis away) does not undo the commit; the sweep sends it.
    transaction.on_commit(functools.partial(deliver.enqueue, current.pk), robust=True)
    return transmission


DISPATCH_CHUNK = 50  # bills a task sends, when a run dispatches a month at once


def dispatch_many(bills) -> None:
    """`dispatch` for many issued bills at once (a billing run): one transmission each, written together,
    their sending enqueued fifty bills a task after the transaction commits. Each bill is still sent once:
    the worker claims each transmission as `dispatch`'s task does."""
    ids = [getattr(bill, "pk", bill) for bill in bills]
    fresh = Bill.objects.defer("pdf").filter(pk__in=ids, status=Bill.Status.ISSUED, sent_at__isnull=True)
    Transmission.objects.bulk_create(
        [Transmission(bill=bill, channel=route_of(bill)) for bill in fresh], ignore_conflicts=True
    )
    queued = list(
        Transmission.objects.filter(bill_id__in=ids, status=Status.QUEUED)
        .order_by("bill_id")
        .values_list("bill_id", flat=True)
    )
    for start in range(0, len(queued), DISPATCH_CHUNK):
        chunk = queued[start : start + DISPATCH_CHUNK]
        transaction.on_commit(functools.partial(deliver_many.enqueue, chunk), robust=True)


@task()
def deliver_many(bill_ids: list[int]) -> list[str]:
    """The task `dispatch_many` enqueues: each bill sent as `deliver` sends one."""
    return [send(bill_id) for bill_id in bill_ids]


@task()
def deliver(bill_id: int) -> str:
    """The task `dispatch` enqueues: send the bill if its transmission is still to send."""
    return send(bill_id)


def send(bill_id: int, *, now: datetime | None = None) -> str:
    """Claim the bill's queued transmission and send it. Returns what happened: "sent", "rejected" (by the
    platform), "retry" (failed, queued again), "failed" (given up), or "" when there was nothing to do (sent
    already, being sent by another worker, or not due yet)."""
    now = now or timezone.now()
    claimed = (
        Transmission.objects.filter(bill_id=bill_id, status=Status.QUEUED)
        .filter(Q(retry_after__isnull=True) | Q(retry_after__lte=now))
        .update(status=Status.SENDING, claimed_at=timezone.now())
    )
    if not claimed:
        return ""
    transmission = (
        Transmission.objects.select_related(
            "bill__operator", "bill__member__profile", "bill__organisation", "bill__credited_bill"
        )
        .defer("bill__credited_bill__pdf")  # only its number is said
        .get(bill_id=bill_id)
    )
    try:
        return _send(transmission)
    except (einvoicing.PlatformUnavailable, OSError, NoRecipient) as error:
        # OSError: the mail server refused or is away (smtplib's errors are OSErrors).
        return _put_back(transmission, str(error) or error.__class__.__name__)
    except Exception as error:  # a bug (the PDF's rendering…): nothing half-written, and the task shows it
        _put_back(transmission, repr(error))
        raise


def _send(transmission: Transmission) -> str:
    if transmission.channel == Channel.PLATFORM:
        platform = einvoicing.configured_platform()
        if platform is not None:
            return _deposit(transmission, platform)
        return _email(transmission, fallback=True)
    return _email(transmission)


def _email(transmission: Transmission, *, fallback: bool = False) -> str:
    bill = transmission.bill
    to = recipients(bill)
    if not to:
        raise NoRecipient(_stored(gettext_lazy("Aucune adresse e-mail où envoyer cette pièce.")))
    make_bill_message(bill, to, issuing.render_pdf(bill)).send()
    with translation.override(settings.LANGUAGE_CODE):
        note = (
            _("Plateforme de dématérialisation non configurée : envoyée par e-mail à %(to)s.")
            if fallback
            else _("Envoyée par e-mail à %(to)s.")
        ) % {"to": ", ".join(to)}
    _record_sent(transmission, channel=Channel.EMAIL, fallback=fallback, message=note)
    return "sent"


def _deposit(transmission: Transmission, platform: einvoicing.Platform) -> str:
    bill = transmission.bill
    try:
        platform_id = platform.submit(bill, issuing.render_pdf(bill))
    except einvoicing.SubmissionRejected as error:
        _record_rejected(transmission, str(error))
        einvoicing.notify_problems()
        return "rejected"
    _record_sent(
        transmission,
        channel=Channel.PLATFORM,
        external_id=platform_id,
        lifecycle=Lifecycle.DEPOSITED,
        message=_stored(gettext_lazy("Déposée sur la plateforme de dématérialisation.")),
    )
    return "sent"


def _stored(text) -> str:
    """A message kept on the transmission (a lazy string): in the site's language (French), whoever's
    language is active."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


def _record_sent(transmission: Transmission, *, channel: str, message: str, fallback: bool = False, **fields):
    bill, now = transmission.bill, timezone.now()
    with transaction.atomic():
        Transmission.objects.filter(pk=transmission.pk).update(
            status=Status.SENT,
            channel=channel,
            fallback=fallback,
            message=message,
            sent_at=now,
            claimed_at=None,
            retry_after=None,
            **fields,
        )
        bill_fields = {"sent_at": now}
        if fields.get("lifecycle"):
            bill_fields["platform_status"] = fields["lifecycle"]
        Bill.objects.filter(pk=bill.pk).update(**bill_fields)
        audit(
            None,
            "billing.sent",
            bill,
            channel=channel,
            fallback=fallback,
            platform_id=fields.get("external_id", ""),
        )


def _record_rejected(transmission: Transmission, reason: str) -> None:
    bill = transmission.bill
    with transaction.atomic():
        LifecycleEvent.objects.create(
            transmission=transmission, status=Lifecycle.REJECTED, occurred_at=timezone.now(), reason=reason
        )
        Transmission.objects.filter(pk=transmission.pk).update(
            status=Status.FAILED,
            lifecycle=Lifecycle.REJECTED,
            message=reason,
            claimed_at=None,
            retry_after=None,
        )
        Bill.objects.filter(pk=bill.pk).update(platform_status=Lifecycle.REJECTED)
        audit(None, "billing.rejected", bill, reason=reason)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: 5 minutes, doubling, at most 6 hours."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)


def _put_back(transmission: Transmission, error: str) -> str:
    """Release the claim: back to the queue with the error and when to try again, or failed for good."""
    attempts = transmission.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        Transmission.objects.filter(pk=transmission.pk).update(
            status=Status.FAILED, attempts=attempts, message=error, claimed_at=None, retry_after=None
        )
        logger.error("%s not sent after %s attempts, staff are told: %s", transmission.bill, attempts, error)
        einvoicing.notify_problems()
        return "failed"
    retry_after = timezone.now() + backoff(attempts)
    Transmission.objects.filter(pk=transmission.pk).update(
        status=Status.QUEUED, attempts=attempts, message=error, claimed_at=None, retry_after=retry_after
    )
    logger.warning("%s not sent (%s); tried again after %s.", transmission.bill, error, retry_after)
    backend = deliver.get_backend()
    if backend.supports_defer:  # otherwise the sweep alone tries again
        try:
            deliver.using(run_after=retry_after).enqueue(transmission.bill_id)
        except Exception:  # the queue itself is away: the sweep tries again
            logger.exception("Retry of %s not enqueued; the sweep will send it.", transmission.bill)
    return "retry"


def retry_due(now: datetime | None = None, *, limit: int = 100) -> int:
    """The scheduler's sweep: take back the claims of workers that died, and send what is due — a retry whose
    time has come, a dispatch whose task was lost. Returns how many were sent."""
    now = now or timezone.now()
    Transmission.objects.filter(status=Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=Status.QUEUED, claimed_at=None, message=_stored(gettext_lazy("Envoi interrompu : il reprend."))
    )
    due = (
        Transmission.objects.filter(status=Status.QUEUED)
        .filter(Q(retry_after__isnull=True, at__lte=now - WORKER_GRACE) | Q(retry_after__lte=now))
        .order_by("at", "pk")
        .values_list("bill_id", flat=True)[:limit]
    )
    sent = 0
    for bill_id in list(due):
        try:
            sent += send(bill_id, now=now) == "sent"
        except Exception:
            logger.exception("Sending of bill %s failed; the next sweep tries again.", bill_id)
    return sent


def retry(transmission: Transmission, *, by=None) -> Transmission:
    """Staff send a failed transmission again (not a rejected or refused one: that asks for a new document)."""
    if transmission.status != Status.FAILED or transmission.lifecycle:
        raise SendingError(_("Seul un envoi qui a échoué se relance."))
    with transaction.atomic():
        Transmission.objects.filter(pk=transmission.pk, status=Status.FAILED).update(
            status=Status.QUEUED, attempts=0, retry_after=None, staff_notified_at=None
        )
        audit(by, "billing.send_again", transmission.bill)
        transaction.on_commit(functools.partial(deliver.enqueue, transmission.bill_id), robust=True)
    transmission.refresh_from_db()
    return transmission


# ---------------------------------------------------------------------------------------------------------
# The e-mail
# ---------------------------------------------------------------------------------------------------------


def make_bill_message(bill: Bill, to: list[str], pdf: bytes) -> EmailMultiAlternatives:
    """The bill e-mailed with its PDF, in the member's language (French for an organisation): who bills, the
    reference, the total, the due date and how to pay (what a credit note corrects)."""
    operator = bill.operator
    reference = bill.number or bill.reference
    language = language_of(bill.member) if bill.member_id else settings.LANGUAGE_CODE
    with translation.override(language):
        left = payments.remaining(bill)
        context = {
            "bill": bill,
            "operator": operator,
            "kind": bill.get_kind_display(),
            "reference": reference,
            "credit_note": bill.kind == Bill.Kind.CREDIT_NOTE,
            "statement": bill.kind == Bill.Kind.STATEMENT,
            "credited": bill.credited_bill.number if bill.credited_bill_id else "",
            "total": euros(bill.total_incl_vat),
            "left": euros(left),
            "owed": left > 0,
            "partly_paid": 0 < left < bill.total_incl_vat,
            "paid": bill.kind in payments.OWED_KINDS and left <= 0 < bill.total_incl_vat,
            "issue_date": format_day(bill.issue_date),
            "due_date": format_day(bill.due_date) if bill.due_date else "",
            "period_start": format_day(bill.period_start),
            "period_end": format_day(bill.period_end),
            "public": operator.is_public,
            "iban": operator.iban,
            "bic": operator.bic,
            "space_url": space_url(),
            "filename": f"{reference}.pdf",
        }
        subject = " ".join(render_to_string("billing/email/bill_subject.txt", context).split())
        context["subject"] = subject
        message = EmailMultiAlternatives(
            subject=subject,
            body=tidy_text(render_to_string("billing/email/bill.txt", context)),
            to=to,
            reply_to=[operator.email] if operator.email else None,
            headers={"Auto-Submitted": "auto-generated"},  # RFC 3834: no out-of-office replies, please
        )
        message.attach_alternative(render_to_string("billing/email/bill.html", context), "text/html")
        message.attach(context["filename"], pdf, "application/pdf")
    return message
