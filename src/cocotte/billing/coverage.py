"""What pays for a booking: the plans its member (or their organisation) holds first, pay-as-you-go for the rest.

The order, for one booking of a resource:
1. a **lease** of that very office covers it whole;
2. a **subscription** covers the resource kinds of its days whole (its coworking), and the kinds of its
   hours from the hours included in the booking's month, as far as they go;
3. **cards and day passes** cover desk days, the one that expires first first; a half-day takes half a day;
4. what is left is **pay-as-you-go**, at the operator's most precise price line (`pricing.best_line`).

A booking can be covered in part: a card with half a day left covers the first half-day of a day, and
the second is paid. `cover` computes that without writing (the quote shown before the member confirms);
`coverage.record` (the engine's participant, `participant.py`) runs the same computation on locked holdings
inside the engine's transaction and writes what it takes.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cocotte.bookings import rules
from cocotte.bookings.errors import BookingError
from cocotte.core.money import cents, vat_of
from cocotte.core.timeutils import local_date, zone
from cocotte.spaces.models import Resource

from .models import CreditUse, Holding, Operator, Plan, PriceLine, SiteOperator
from .pricing import FRANCHISE_NOTE, best_line, category_of

HALF = Decimal("0.5")


@dataclass
class Part:
    """Some of the booking's units, and what pays for them."""

    covered_by: str  # "lease", "subscription", "included_hours", "card", "day_pass" or "pay_as_you_go"
    units: int
    holding: Holding | None = None
    credit: Decimal = Decimal("0")  # days or hours taken from the holding


@dataclass
class Coverage:
    operator: Operator
    resource: Resource
    member: object
    start: datetime
    end: datetime
    units: int
    parts: list[Part] = field(default_factory=list)
    line: PriceLine | None = None  # the pay-as-you-go price, when part of it is paid

    @property
    def paid_units(self) -> int:
        return sum(p.units for p in self.parts if p.covered_by == "pay_as_you_go")

    @property
    def amount_excl_vat(self) -> Decimal:
        if not self.paid_units or self.line is None:
            return Decimal("0.00")
        return cents(self.line.amount_excl_vat * self.paid_units)

    @property
    def vat_rate(self) -> Decimal:
        if self.operator.vat_franchise:
            return Decimal("0")
        return self.line.vat_rate if self.line else Decimal("0")

    @property
    def covered_by(self) -> str:
        """What pays, in one word: the first part's source, or "mixed" when several share it."""
        kinds = {p.covered_by for p in self.parts}
        return kinds.pop() if len(kinds) == 1 else "mixed"


def operator_of(resource: Resource) -> Operator | None:
    link = SiteOperator.objects.select_related("operator").filter(site_id=resource.site_id).first()
    return link.operator if link else None


def units_of(resource: Resource, start: datetime, end: datetime) -> int:
    """The booking's units; fixed-length units need no calendar (the engine has checked the period)."""
    if resource.unit_duration is not None:
        return int((end - start) / resource.unit_duration)
    return rules.count_units(resource, start, end)


def _credit_per_unit(resource: Resource, plan_hours: bool) -> Decimal | None:
    """What one unit of the resource takes of a card (days) or of included hours; None if it cannot."""
    if plan_hours:
        return {Resource.Unit.HALF_HOUR: HALF, Resource.Unit.HOUR: Decimal("1")}.get(resource.unit)
    return {Resource.Unit.HALF_DAY: HALF, Resource.Unit.DAY: Decimal("1")}.get(resource.unit)


def holdings_for(operator: Operator, member, organisation_id: int | None, day: date, *, lock: bool):
    """The member's and their organisation's holdings of the operator's plans, valid on `day`."""
    debtor = Q(member=member)
    if organisation_id:
        debtor |= Q(organisation_id=organisation_id)
    holdings = (
        Holding.objects.filter(debtor, plan__operator=operator, starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .select_related("plan")
        .order_by("ends_on", "pk")
    )
    return list(holdings.select_for_update(of=("self",)) if lock else holdings)


def hours_used(holding: Holding, month: date) -> Decimal:
    total = CreditUse.objects.filter(holding=holding, month=month).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")


def cover(
    resource: Resource, member, start: datetime, end: datetime, *, lock: bool = False
) -> Coverage | None:
    """What pays for [start, end) of the resource for the member; None where no operator bills the site."""
    operator = operator_of(resource)
    if operator is None:
        return None
    try:
        units = units_of(resource, start, end)
    except BookingError:
        return None  # not a bookable period: the engine says why
    profile = getattr(member, "profile", None)
    day = local_date(start, zone(resource.site.timezone))
    coverage = Coverage(operator, resource, member, start, end, units)
    left = units
    for holding in holdings_for(operator, member, getattr(profile, "organisation_id", None), day, lock=lock):
        if not left:
            break
        taken, credit, covered_by = _take(holding, resource, left, day)
        if taken:
            coverage.parts.append(Part(covered_by, taken, holding, credit))
            left -= taken
    if left:
        coverage.line = best_line(operator, resource, category_of(member))
        coverage.parts.append(Part("pay_as_you_go", left))
    return coverage


def _take(holding: Holding, resource: Resource, units: int, day: date) -> tuple[int, Decimal, str]:
    """How many of `units` the holding covers, the credit it takes, and under which name."""
    plan = holding.plan
    if plan.kind == Plan.Kind.LEASE:
        return (units, Decimal("0"), "lease") if holding.resource_id == resource.pk else (0, Decimal("0"), "")
    if plan.kind == Plan.Kind.SUBSCRIPTION:
        if resource.kind in plan.day_kinds:
            return units, Decimal("0"), "subscription"
        per_unit = _credit_per_unit(resource, plan_hours=True)
        if resource.kind in plan.hour_kinds and per_unit and plan.included_hours:
            left = plan.included_hours - hours_used(holding, day.replace(day=1))
            taken = min(units, int(max(left, Decimal("0")) / per_unit))
            return taken, taken * per_unit, "included_hours"
        return 0, Decimal("0"), ""
    # A card or a day pass: its days, for the kinds it covers.
    per_unit = _credit_per_unit(resource, plan_hours=False)
    if resource.kind not in plan.day_kinds or not per_unit or holding.days_left <= 0:
        return 0, Decimal("0"), ""
    taken = min(units, int(holding.days_left / per_unit))
    return taken, taken * per_unit, plan.kind


LABELS = {
    "lease": gettext_lazy("votre location de bureau"),
    "subscription": gettext_lazy("votre abonnement"),
    "included_hours": gettext_lazy("les heures incluses dans votre abonnement"),
    "card": gettext_lazy("votre carte"),
    "day_pass": gettext_lazy("votre pass journée"),
    "pay_as_you_go": gettext_lazy("à l’unité"),
}


def as_quote(coverage: Coverage) -> dict:
    """The coverage as the engine's quote (`bookings.api.PriceOut`): plain JSON data, amounts as strings."""
    amount = coverage.amount_excl_vat
    rate = coverage.vat_rate
    vat = vat_of(amount, rate)
    franchise = coverage.operator.vat_franchise
    lines = []
    for part in coverage.parts:
        holding = part.holding
        if holding is None:
            line = coverage.line
            lines.append(
                {
                    "label": line.label if line else _("Tarif non défini : l’équipe vous le précisera"),
                    "quantity": part.units,
                    "unit": coverage.resource.unit,
                    "unit_price_excl_vat": str(line.amount_excl_vat) if line else "0.00",
                    "covered_by": part.covered_by,
                }
            )
        else:
            lines.append(
                {
                    "label": _describe(part),
                    "quantity": part.units,
                    "unit": coverage.resource.unit,
                    "unit_price_excl_vat": "0.00",
                    "covered_by": part.covered_by,
                }
            )
    return {
        "amount_excl_vat": str(amount),
        "vat": str(vat),
        "total": str(amount + vat),
        "currency": "EUR",
        "vat_rate": str(rate),
        "vat_note": FRANCHISE_NOTE if franchise else "",
        "covered_by": coverage.covered_by,
        "covered_by_label": " + ".join(str(LABELS.get(p.covered_by, p.covered_by)) for p in coverage.parts),
        "operator": coverage.operator.name,
        "lines": lines,
    }


def _describe(part: Part) -> str:
    holding = part.holding
    name = holding.plan.name
    if part.covered_by in ("card", "day_pass"):
        left = holding.days_left - part.credit
        return _("%(plan)s : %(taken)s j pris, %(left)s j restants") % {
            "plan": name,
            "taken": _number(part.credit),
            "left": _number(left),
        }
    if part.covered_by == "included_hours":
        return _("%(plan)s : %(taken)s h incluses") % {"plan": name, "taken": _number(part.credit)}
    return _("%(plan)s : inclus") % {"plan": name}


def _number(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text.replace(".", ",")


def quote(proposal) -> dict | None:
    """The engine's quote provider: what pays for the proposal, and what is left to pay."""
    coverage = cover(proposal.resource, proposal.member, proposal.start, proposal.end)
    if coverage is None or (coverage.line is None and coverage.covered_by == "pay_as_you_go"):
        return None  # nobody bills this site, or it has no price for it: nothing to show
    return as_quote(coverage)
