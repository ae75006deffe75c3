"""Plans a member takes from their own space: a day pass, a card, a monthly subscription — for themself or
for an organisation they manage (whose plans then cover its people's bookings).

- A **day pass or card** starts on the day chosen (today by default) and lasts its plan's `valid_months`;
  it is billed at once — an invoice in private mode, a statement in public mode — so that it can be paid
  online or at the desk. The month's run knows the sale by its source and does not bill it again.
- A **subscription** starts on the day chosen and renews monthly until cancelled; each month's run bills it
  (its first month prorated by days). **Cancelling** takes effect at the end of the month being paid: the
  subscription ends on that month's last day, and nothing is billed after it.
- A lease (an office by the month) is not taken online: the team signs it.

Each holding is written with its charge in one transaction: a failure leaves neither.
"""

from calendar import monthrange
from datetime import date

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cocotte.accounts.models import Organisation
from cocotte.core.models import audit

from . import access, ledger, runs
from .models import Bill, Charge, Holding, Operator, Plan

SOLD_ONLINE = (Plan.Kind.DAY_PASS, Plan.Kind.CARD, Plan.Kind.SUBSCRIPTION)


class ShopError(ValidationError):
    """A plan that cannot be taken or cancelled, and why."""


def plans_on_sale():
    return (
        Plan.objects.filter(on_sale=True, kind__in=SOLD_ONLINE)
        .select_related("operator")
        .order_by("operator__name", "kind", "price_excl_vat", "pk")
    )


def holdings_of(debtor):
    """The debtor's plans still running or to come, soonest ending last."""
    where = {"organisation": debtor} if isinstance(debtor, Organisation) else {"member": debtor}
    today = timezone.localdate()
    return (
        Holding.objects.filter(**where)
        .exclude(ends_on__lt=today)
        .select_related("plan__operator", "resource")
        .order_by("plan__operator__name", "starts_on", "pk")
    )


def debtor_for(user, organisation_id: int | None):
    """Who a plan is taken for: the member, or an organisation they manage (else refused)."""
    if not organisation_id:
        return user
    if organisation_id not in access.managed_organisation_ids(user):
        raise ShopError(_("Vous ne gérez pas cette organisation."))
    return Organisation.objects.get(pk=organisation_id)


def take(plan: Plan, debtor, *, by, starts_on: date | None = None) -> Holding:
    """Take a plan for a member or an organisation; a pass or card is billed at once (see the module)."""
    today = timezone.localdate()
    starts_on = starts_on or today
    if not plan.on_sale or plan.kind not in SOLD_ONLINE:
        raise ShopError(_("Cette formule ne se prend pas en ligne : adressez-vous à l’équipe."))
    if starts_on < today or starts_on > today + relativedelta(months=3):
        raise ShopError(_("Une formule commence aujourd’hui ou dans les trois mois."))
    owner = {"organisation": debtor} if isinstance(debtor, Organisation) else {"member": debtor}
    if plan.kind == Plan.Kind.SUBSCRIPTION and (
        Holding.objects.filter(plan__operator=plan.operator, plan__kind=Plan.Kind.SUBSCRIPTION, **owner)
        .exclude(ends_on__lt=starts_on)
        .exists()
    ):
        raise ShopError(
            _("Un abonnement chez cette structure court déjà : résiliez-le avant d’en prendre un autre.")
        )
    counted = plan.kind in (Plan.Kind.DAY_PASS, Plan.Kind.CARD)
    with transaction.atomic():
        holding = Holding.objects.create(
            plan=plan,
            starts_on=starts_on,
            ends_on=starts_on + relativedelta(months=plan.valid_months) - relativedelta(days=1)
            if counted
            else None,
            price_excl_vat=plan.price_excl_vat,
            days_left=plan.days if counted else 0,
            created_by=by,
            **owner,
        )
        audit(by, "billing.plan.take", holding, plan=plan.name, debtor=str(debtor))
        if counted:
            _bill_sale_now(plan.operator, holding, by=by)
    return holding


def _bill_sale_now(operator: Operator, holding: Holding, *, by) -> Bill:
    """The pass or card's own bill, issued now: its charge goes to a draft of its own, then is issued."""
    with translation.override("fr"):
        charge = ledger.hand_over(
            operator,
            holding.debtor,
            source=runs.SALE_SOURCE,
            source_id=holding.pk,
            revenue_type=holding.plan.revenue_type,
            label=_("%(plan)s, à partir du %(day)s")
            % {"plan": holding.plan.name, "day": holding.starts_on.strftime("%d/%m/%Y")},
            service_date=holding.starts_on,
            quantity=1,
            unit="forfait",
            unit_price_excl_vat=holding.price_excl_vat,
            vat_rate=holding.plan.vat_rate,
        )
    day = holding.starts_on
    bill = Bill.objects.create(
        operator=operator,
        kind=Bill.Kind.STATEMENT if operator.is_public else Bill.Kind.INVOICE,
        member=holding.member,
        organisation=holding.organisation,
        period_start=day,
        period_end=day,
        **runs.buyer_fields(holding.debtor),
    )
    runs.attach(bill, [charge])
    return runs.issue_one(bill, by=by)


def sale_bill(holding: Holding) -> Bill | None:
    """The bill of a pass or card sold (none for a subscription: the month's run bills it)."""
    charge = (
        Charge.objects.filter(source=runs.SALE_SOURCE, source_id=holding.pk).select_related("bill").first()
    )
    return charge.bill if charge else None


def cancel(holding: Holding, *, by) -> Holding:
    """End a subscription at the end of the month being paid; nothing is billed after it."""
    if holding.plan.kind != Plan.Kind.SUBSCRIPTION:
        raise ShopError(_("Seul un abonnement se résilie ; une carte court jusqu’à sa fin."))
    if holding.cancelled_at:
        raise ShopError(_("Cet abonnement est déjà résilié."))
    today = timezone.localdate()
    end_of_month = today.replace(day=monthrange(today.year, today.month)[1])
    with transaction.atomic():
        holding.ends_on = max(end_of_month, holding.starts_on)
        holding.cancelled_at = timezone.now()
        holding.save(update_fields=["ends_on", "cancelled_at"])
        # A month charged ahead that the subscription no longer reaches is not billed.
        Charge.objects.filter(
            source__startswith=runs.RECURRING_SOURCE,
            source_id=holding.pk,
            status=Charge.Status.OPEN,
            bill__isnull=True,
            service_date__gt=holding.ends_on,
        ).delete()
        audit(by, "billing.plan.cancel", holding, ends_on=holding.ends_on.isoformat())
    return holding
