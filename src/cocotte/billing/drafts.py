"""A draft bill kept consistent as its lines change: its aid lines recomputed, then its totals."""

from django.utils.translation import gettext as _

from . import aids
from .models import Bill, BillLine, IssuedBillError
from .totals import totals_of


def refresh(bill: Bill) -> Bill:
    """A draft's aid lines recomputed from its service lines, then its totals (what staff see and review)."""
    if bill.is_issued:
        raise IssuedBillError(_("Une pièce émise ne change plus : établissez un avoir."))
    bill.lines.filter(kind=BillLine.Kind.AID).delete()
    services = list(bill.lines.filter(kind=BillLine.Kind.SERVICE).order_by("position"))
    position = max((line.position for line in services), default=0)
    aid_lines = aids.aid_lines(bill, services)
    BillLine.objects.bulk_create(
        BillLine(bill=bill, position=position + offset, **line)
        for offset, line in enumerate(aid_lines, start=1)
    )
    totals = totals_of([*services, *aid_lines])
    bill.total_excl_vat, bill.total_vat, bill.total_incl_vat = totals.excl_vat, totals.vat, totals.incl_vat
    bill.save(update_fields=["total_excl_vat", "total_vat", "total_incl_vat"])
    return bill
