"""A self-funded trainee's payments (Code du travail L6353-5 and L6353-6), and handing them to billing.

The schedule is built when the contract is signed:

- nothing is due during the 10-day withdrawal period (`models.WITHDRAWAL_DAYS`);
- the first installment, at most 30 % of the price (`models.FIRST_PAYMENT_SHARE`, rounded down to the cent),
  is due the day after the period ends;
- the rest is spread in equal monthly parts over the months the session runs (one part per calendar month it
  spans), each due on the session's first day shifted by whole months — or, for a contract signed late, on
  the day after the first installment's shifted by whole months, so that by that day only the first is due;
  the cents that do not divide go to the first parts, so that the parts sum exactly to the price.

`hand_over_due` (a daily scheduler job) hands each due installment to billing, once: the installment is
claimed by a conditional UPDATE in the same transaction as the billing line, so two schedulers never bill it
twice, and billing's one-line-per-source rule backs that up.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cocotte.billing import ledger
from cocotte.billing.models import RevenueType, SiteOperator
from cocotte.core.timeutils import local_date, zone

from .models import FIRST_PAYMENT_SHARE, WITHDRAWAL_DAYS, Enrolment, Installment

CENT = Decimal("0.01")
SOURCE = "learning.installment"


@dataclass(frozen=True)
class Part:
    due_on: date
    amount: Decimal


def months_spanned(first_day: date, last_day: date) -> int:
    """Calendar months from the first day's to the last day's, both counted (at least one)."""
    return max(1, (last_day.year - first_day.year) * 12 + last_day.month - first_day.month + 1)


def schedule(price: Decimal, *, signed_on: date, first_day: date, last_day: date) -> list[Part]:
    """The installments of `price` for a contract signed on `signed_on`, for a session from `first_day` to
    `last_day` (local dates). Parts of zero are left out (a price of a few cents)."""
    price = Decimal(price).quantize(CENT)
    if price <= 0:
        return []
    withdrawal_end = signed_on + timedelta(days=WITHDRAWAL_DAYS)
    first_due = withdrawal_end + timedelta(days=1)
    first = (price * FIRST_PAYMENT_SHARE).quantize(CENT, rounding=ROUND_DOWN)
    rest = price - first
    months = months_spanned(first_day, max(first_day, last_day))
    cents_rest = int(rest / CENT)
    base, extra = divmod(cents_rest, months)
    parts = [Part(first_due, first)]
    for k in range(months):
        amount = (base + (1 if k < extra else 0)) * CENT
        # On the session's monthly anchor, but after the first installment's day: by that day only the
        # first (≤ 30 %) is due, whenever the contract was signed.
        due = max(
            first_day + relativedelta(months=k), first_due + timedelta(days=1) + relativedelta(months=k)
        )
        parts.append(Part(due, amount))
    return [part for part in parts if part.amount > 0]


def local_day(moment: datetime, timezone_name: str) -> date:
    return local_date(moment, zone(timezone_name))


def build_installments(enrolment: Enrolment) -> list[Installment]:
    """Write the enrolment's schedule (called by `services.sign_contract`, in its transaction)."""
    session = enrolment.session
    tz_name = session.site.timezone
    signed_on = local_day(enrolment.contract_signed_at, tz_name)
    first_day = local_day(session.starts_at, tz_name) if session.starts_at else signed_on
    last_day = local_day(session.ends_at, tz_name) if session.ends_at else first_day
    parts = schedule(
        session.programme.price_excl_vat, signed_on=signed_on, first_day=first_day, last_day=last_day
    )
    return Installment.objects.bulk_create(
        Installment(enrolment=enrolment, due_on=part.due_on, amount_excl_vat=part.amount) for part in parts
    )


def operator_for(site_id: int):
    link = SiteOperator.objects.select_related("operator").filter(site_id=site_id).first()
    return link.operator if link else None


def _label(installment: Installment, position: int, count: int) -> str:
    session = installment.enrolment.session
    return _("%(programme)s — %(session)s : échéance %(position)s sur %(count)s") % {
        "programme": session.programme.title,
        "session": session.label,
        "position": position,
        "count": count,
    }


def hand_over(installment: Installment, *, now: datetime | None = None) -> bool:
    """Hand one installment to billing if its site has an operator; whether it was handed over now."""
    now = now or timezone.now()
    enrolment = installment.enrolment
    session = enrolment.session
    operator = operator_for(session.site_id)
    if operator is None:
        return False
    siblings = list(
        Installment.objects.filter(enrolment=enrolment).order_by("due_on", "pk").values_list("pk", flat=True)
    )
    with transaction.atomic():
        claimed = Installment.objects.filter(
            pk=installment.pk, handed_over_at__isnull=True, withdrawn_at__isnull=True
        ).update(handed_over_at=now)
        if not claimed:
            return False
        ledger.hand_over(
            operator,
            enrolment.trainee,
            source=SOURCE,
            source_id=installment.pk,
            revenue_type=RevenueType.TRAINING,
            label=_label(installment, siblings.index(installment.pk) + 1, len(siblings)),
            service_date=installment.due_on,
            quantity=Decimal("1"),
            unit="forfait",
            unit_price_excl_vat=installment.amount_excl_vat,
            vat_rate=session.programme.vat_rate,
        )
    return True


def hand_over_due(today: date | None = None) -> int:
    """The daily job: every installment due by today, of a live enrolment, handed to billing once."""
    today = today or timezone.localdate()
    due = (
        Installment.objects.filter(
            due_on__lte=today,
            handed_over_at__isnull=True,
            withdrawn_at__isnull=True,
            enrolment__status=Enrolment.Status.ACCEPTED,
            enrolment__contract_signed_at__isnull=False,
        )
        .select_related("enrolment__session__programme", "enrolment__trainee")
        .order_by("due_on", "pk")
    )
    return sum(1 for installment in due if hand_over(installment))
