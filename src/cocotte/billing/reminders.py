"""Reminders of overdue bills: an e-mail to the debtor at 15 and at 30 days past the due date, each once ever.

The scheduler runs `send_due_reminders` every day (registered in `BillingConfig.ready`). For each issued
invoice or statement still unpaid, it takes the highest level now due (15 or 30 days); a bill that already
had that level or a higher one gets nothing (a bill first seen 40 days late gets the 30-day reminder alone,
and never the 15-day one after it). The `Reminder` row (bill, level) is written in the same transaction as
the message is sent: its unique pair stops a second sending, by this run or by another, and a sending that
fails rolls the row back so that tomorrow's run tries again.
"""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cocotte.accounts.models import Role, User
from cocotte.bookings.emails import language_of
from cocotte.core.formats import format_day
from cocotte.core.mail import tidy_text

from . import facturx, payments
from .documents import euros
from .models import Bill, DebtorDetails, Reminder

logger = logging.getLogger(__name__)

LEVELS = (30, 15)  # days after the due date, highest first


def level_due(bill: Bill, today: date) -> int | None:
    """The highest reminder level a bill has reached on `today`, if any."""
    if bill.due_date is None:
        return None
    return next((days for days in LEVELS if bill.due_date + timedelta(days=days) <= today), None)


def recipients(bill: Bill) -> list[str]:
    """Who is told: the address the bill was issued to, else the member's, else the organisation's billing
    address, else its managers'."""
    if bill.buyer_email:
        return [bill.buyer_email]
    if bill.member_id:
        return [bill.member.email] if bill.member.email else []
    details = DebtorDetails.objects.filter(organisation=bill.organisation_id).first()
    if details and details.email:
        return [details.email]
    managers = Role.objects.filter(
        role=Role.Name.ORGANISATION_MANAGER, scope_app_label="accounts", scope_id=bill.organisation_id
    ).values("user")
    return sorted(User.objects.filter(pk__in=managers, is_active=True).values_list("email", flat=True))


def space_url() -> str:
    """Where members see and pay their bills; the home page until that page exists."""
    try:
        path = reverse("billing:mine")
    except NoReverseMatch:
        path = "/"
    return settings.COCOTTE_PUBLIC_URL + path


def make_reminder(bill: Bill, days: int, amount_due, to: list[str], *, late: int) -> EmailMultiAlternatives:
    """The reminder of one level (15 or 30) for a bill `late` days past its due date, in the member's
    language (French for an organisation)."""
    operator = bill.operator
    language = language_of(bill.member) if bill.member_id else settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "bill": bill,
            "operator": operator,
            "kind": bill.get_kind_display(),
            "reference": bill.number or bill.reference,
            "of_bill": (
                _("du relevé %(reference)s")
                if bill.kind == Bill.Kind.STATEMENT
                else _("de la facture %(reference)s")
            )
            % {"reference": bill.number or bill.reference},
            "days": late,
            "second": days == LEVELS[0],
            "amount_due": euros(amount_due),
            "total": euros(bill.total_incl_vat),
            "issue_date": format_day(bill.issue_date),
            "due_date": format_day(bill.due_date),
            "public": operator.is_public,
            "iban": operator.iban,
            "bic": operator.bic,
            "space_url": space_url(),
            "penalties": (
                [facturx.late_penalties(), facturx.recovery_indemnity()]
                if bill.kind == Bill.Kind.INVOICE and bill.buyer_is_business
                else []
            ),
        }
        subject = " ".join(render_to_string("billing/email/reminder_subject.txt", context).split())
        context["subject"] = subject
        message = EmailMultiAlternatives(
            subject=subject,
            body=tidy_text(render_to_string("billing/email/reminder.txt", context)),
            to=to,
            reply_to=[operator.email] if operator.email else None,
            headers={"Auto-Submitted": "auto-generated"},  # RFC 3834: no out-of-office replies, please
        )
        message.attach_alternative(render_to_string("billing/email/reminder.html", context), "text/html")
    return message


def send_due_reminders(today: date | None = None) -> int:
    """Send every reminder due on `today` (the local date by default); returns how many went out."""
    today = today or timezone.localdate()
    candidates = (
        Bill.objects.filter(
            status=Bill.Status.ISSUED,
            kind__in=payments.OWED_KINDS,
            due_date__lte=today - timedelta(days=min(LEVELS)),
        )
        .select_related("operator", "member__profile", "organisation")
        .order_by("due_date", "pk")
    )
    sent = 0
    for bill in payments.with_remaining(candidates):
        days = level_due(bill, today)
        left = payments.left_of(bill)
        if days is None or left <= 0:
            continue
        if Reminder.objects.filter(Q(bill=bill) & Q(days_overdue__gte=days)).exists():
            continue
        to = recipients(bill)
        if not to:
            logger.warning("No address to remind %s to: nothing sent.", bill.reference)
            continue
        try:
            with transaction.atomic():
                Reminder.objects.create(bill=bill, days_overdue=days)
                make_reminder(bill, days, left, to, late=(today - bill.due_date).days).send()
        except IntegrityError:
            continue  # sent at this very moment by another run
        except OSError:  # the mail server refused or is away (smtplib's errors are OSErrors)
            logger.exception("Reminder of %s at %s days not sent; tomorrow's run tries again.", bill, days)
            continue
        sent += 1
    return sent
