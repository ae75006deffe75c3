"""How a bill adds up, to the cent — the one rounding rule of every bill, its PDF and its Factur-X.

1. Each line's amount excluding VAT is its quantity × unit price, rounded to the cent half up (an aid line
   is negative: its quantity is 1 and its unit price the amount taken off).
2. Lines are grouped by VAT rate; each group's VAT is its base (the sum of its line amounts) × the rate,
   rounded to the cent half up — once per rate, never line by line (EN 16931 BR-CO-17, BR-S-09).
3. The total excluding VAT is the sum of the line amounts, the VAT the sum of the groups' VAT, the total
   including VAT their sum. Nothing else is rounded, so the three always agree to the cent.
"""

from dataclasses import dataclass
from decimal import Decimal

from cocotte.core.money import cents, vat_of


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return cents(Decimal(quantity) * Decimal(unit_price))


@dataclass(frozen=True)
class VatGroup:
    rate: Decimal
    base: Decimal
    vat: Decimal


@dataclass(frozen=True)
class Totals:
    groups: tuple[VatGroup, ...]
    excl_vat: Decimal
    vat: Decimal
    incl_vat: Decimal


def totals_of(lines) -> Totals:
    """`lines`: objects or dicts with `amount_excl_vat` and `vat_rate` (already rounded line amounts)."""
    bases: dict[Decimal, Decimal] = {}
    for line in lines:
        amount, rate = _get(line, "amount_excl_vat"), _get(line, "vat_rate")
        rate = Decimal(rate).quantize(Decimal("0.01"))
        bases[rate] = bases.get(rate, Decimal("0")) + Decimal(amount)
    groups = tuple(VatGroup(rate, cents(base), vat_of(base, rate)) for rate, base in sorted(bases.items()))
    excl = sum((g.base for g in groups), Decimal("0.00"))
    vat = sum((g.vat for g in groups), Decimal("0.00"))
    return Totals(groups, cents(excl), cents(vat), cents(excl + vat))


def _get(line, name):
    return line[name] if isinstance(line, dict) else getattr(line, name)
