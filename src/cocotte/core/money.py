"""Money as French invoices count it: Decimal euros, rounded to the cent half up, once per amount."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cents(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def vat_of(amount_excl_vat: Decimal, rate_percent: Decimal) -> Decimal:
    """The VAT on an amount at a rate in percent (20 → 20 %), to the cent."""
    return cents(amount_excl_vat * rate_percent / 100)
