"""What a booking costs before it is confirmed: the engine's quote provider (bookings.hooks).

This first pass prices pay-as-you-go from the operator's price lines; plans (cards, subscriptions, leases)
will cover bookings before it. Amounts are Decimal euros, rounded once per amount (core.money); the answer
is plain JSON data (strings for amounts), the same on the booking page and in the API.
"""

from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from cocotte.bookings import rules
from cocotte.bookings.errors import BookingError
from cocotte.core.money import cents, vat_of

from .models import Category, PriceLine, SiteOperator

FRANCHISE_NOTE = "TVA non applicable, art. 293 B du CGI"


def category_of(member) -> str:
    """The price category of a member: their profile's status when prices know it, else "" (everyone)."""
    status = getattr(getattr(member, "profile", None), "status", "")
    return status if status in Category.values else ""


def best_line(operator, resource, category: str) -> PriceLine | None:
    """The most precise price line for this resource and category: the resource's own before its kind's,
    the category's before everyone's."""
    lines = PriceLine.objects.filter(operator=operator, unit=resource.unit).filter(
        Q(resource=resource) | Q(resource__isnull=True, kind=resource.kind)
    )
    lines = lines.filter(Q(category=category) | Q(category="")) if category else lines.filter(category="")
    ranked = sorted(lines, key=lambda line: (line.resource_id is None, line.category == ""))
    return ranked[0] if ranked else None


def quote(proposal) -> dict | None:
    resource = proposal.resource
    link = SiteOperator.objects.select_related("operator").filter(site_id=resource.site_id).first()
    if link is None:
        return None
    operator = link.operator
    line = best_line(operator, resource, category_of(proposal.member))
    if line is None:
        return None
    try:
        units = rules.count_units(resource, proposal.start, proposal.end)
    except BookingError:
        return None  # not a bookable period: the engine says why
    amount = cents(line.amount_excl_vat * units)
    rate = Decimal("0") if operator.vat_franchise else line.vat_rate
    vat = vat_of(amount, rate)
    return {
        "amount_excl_vat": str(amount),
        "vat": str(vat),
        "total": str(amount + vat),
        "currency": "EUR",
        "vat_rate": str(rate),
        "vat_note": FRANCHISE_NOTE if operator.vat_franchise else "",
        "covered_by": "pay_as_you_go",
        "covered_by_label": _("à l’unité"),
        "operator": operator.name,
        "lines": [
            {
                "label": line.label,
                "quantity": units,
                "unit": resource.unit,
                "unit_price_excl_vat": str(line.amount_excl_vat),
            }
        ],
    }
