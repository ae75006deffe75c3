"""How any app hands billing a line to bill: a Fablab use, a training place, an event ticket, a booking.

The app names its source (its app label and model, and the row's id): a source is billed once, so handing
the same line over again (a retried task) changes nothing. Billing never imports the app: the line carries
all that a bill needs. Where the site's operator is in public mode, the line goes to the debtor's monthly
statement instead of an invoice; the app does not need to know.
"""

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction

from cocotte.accounts.models import Organisation

from .drafts import refresh
from .models import Bill, BillLine, Charge, Operator
from .totals import line_amount


def hand_over(
    operator: Operator,
    debtor,
    *,
    source: str,
    source_id: int,
    revenue_type: str,
    label: str,
    service_date: date,
    quantity: Decimal,
    unit: str,
    unit_price_excl_vat: Decimal,
    vat_rate: Decimal,
) -> Charge:
    """Record a billable line for a member or an organisation; the existing one if the source has one."""
    is_organisation = isinstance(debtor, Organisation)
    fields = {
        "operator": operator,
        "member": None if is_organisation else debtor,
        "organisation": debtor if is_organisation else None,
        "revenue_type": revenue_type,
        "label": label[:300],
        "service_date": service_date,
        "quantity": quantity,
        "unit": unit,
        "unit_price_excl_vat": unit_price_excl_vat,
        "vat_rate": Decimal("0") if operator.vat_franchise else vat_rate,
        "amount_excl_vat": line_amount(quantity, unit_price_excl_vat),
    }
    try:
        with transaction.atomic():
            return Charge.objects.create(source=source, source_id=source_id, **fields)
    except IntegrityError:
        return Charge.objects.get(source=source, source_id=source_id)


def withdraw(source: str, source_id: int) -> bool:
    """Take back a line not billed yet (a place cancelled in time), off the draft that holds it if any;
    False when it was billed already (a credit note corrects an issued bill)."""
    charge = Charge.objects.filter(source=source, source_id=source_id, status=Charge.Status.OPEN).first()
    if charge is None:
        return False
    with transaction.atomic():
        draft = charge.bill
        if draft is not None:
            BillLine.objects.filter(charge=charge, bill__status=Bill.Status.DRAFT).delete()
        charge.delete()
        if draft is not None:
            refresh(draft)
    return True
