"""The document of an issued bill, as it is sent and kept: a PDF/A-3b, with its Factur-X for an invoice or a
credit note.

An invoice or a credit note carries every mention French law asks of it (DOMAIN.md, "Invoices"), printed from
the bill's frozen content only (the seller as it was at issue, the buyer's details, the lines, the totals),
and its CII XML (`facturx.cii_xml`) embedded by the `factur-x` library (attachment `factur-x.xml`, XMP
metadata). A liquidation statement (public mode) is a PDF/A-3b without XML: it prepares the public revenue
order the EPCI issues in its own software, so it never calls itself an invoice.

Always in French: the document is kept ten years as it was sent, whoever asked for it first.
"""

import io
import tempfile
from decimal import Decimal
from pathlib import Path

from django.utils import translation
from django.utils.translation import gettext as _

from cocotte.core.money import cents
from cocotte.spaces.models import Resource

from . import facturx
from .models import Bill, BillLine
from .pdf import pdf_from_template
from .totals import totals_of

UNITS = dict(Resource.Unit.choices)


def render(bill: Bill) -> bytes:
    """The PDF/A-3b of an issued bill (with its Factur-X unless it is a statement)."""
    if not bill.is_issued:
        raise ValueError(f"{bill.reference}: only an issued bill has its document.")
    with translation.override("fr"):
        if bill.kind == Bill.Kind.STATEMENT:
            return pdf_from_template("billing/pdf/statement.html", statement_context(bill))
        context = bill_context(bill)
        pdf = pdf_from_template("billing/pdf/bill.html", context)
    metadata = {
        "author": bill.seller["name"],
        "keywords": "Factur-X",
        "title": context["title"],
        "subject": context["title"] + " — " + bill.buyer_name,
    }
    return with_factur_x(pdf, facturx.cii_xml(bill), metadata)


def with_factur_x(pdf: bytes, xml: bytes, metadata: dict) -> bytes:
    """The PDF/A-3 with its CII XML embedded by the `factur-x` library, after the XSD accepts the XML.

    Not `generate_from_binary`: it writes its result after its input in the same temporary file, so the
    document would carry a dead copy of itself, twice the size (akretion/factur-x#24, open); writing to
    an output file of our own is the library's way round it."""
    from facturx import generate_from_file

    with tempfile.TemporaryDirectory(prefix="cocotte-facturx-") as folder:
        output = Path(folder) / "factur-x.pdf"
        generate_from_file(
            io.BytesIO(pdf),
            xml,
            flavor="factur-x",
            level="en16931",
            check_xsd=True,
            pdf_metadata=metadata,
            lang="fr-FR",
            output_pdf_file=str(output),
        )
        return output.read_bytes()


def bill_context(bill: Bill) -> dict:
    """What the invoice or credit note template prints."""
    seller = bill.seller
    lines = _lines(bill)
    is_credit_note = bill.kind == Bill.Kind.CREDIT_NOTE
    title = (_("Avoir n° %(number)s") if is_credit_note else _("Facture n° %(number)s")) % {
        "number": bill.number
    }
    breakdown = facturx.breakdown_of(lines, seller)
    vat_rows = [(_vat_label(row.category.code, row.rate, row.base), euros(row.vat)) for row in breakdown]
    context = {
        **_common(bill, lines, vat_rows),
        "title": title,
        "is_credit_note": is_credit_note,
        "due_date": None if is_credit_note else _day(bill.due_date),
        "exemptions": list(dict.fromkeys(row.category.reason for row in breakdown if row.category.reason)),
        "mentions": _mentions(bill),
    }
    if is_credit_note:
        credited = bill.credited_bill
        context.update(credited=credited, credited_date=_day(credited.issue_date))
    return context


def statement_context(bill: Bill) -> dict:
    """What the liquidation statement template prints: the same lines and totals, no invoice's mentions."""
    lines = _lines(bill)
    vat_rows = [
        (_vat_label("S", group.rate, group.base), euros(group.vat)) for group in totals_of(lines).groups
    ]
    return {
        **_common(bill, lines, vat_rows),
        "title": _("Relevé de liquidation"),
        "exemptions": [],
        "mentions": [
            _(
                "Ce relevé récapitule les prestations de la période. La collectivité émet le titre de recettes "
                "correspondant ; le paiement se fait à réception de l’avis des sommes à payer, ou auprès de la "
                "régie de recettes pour les prestations qu’elle encaisse."
            ),
            *([bill.note] if bill.note else []),
        ],
    }


def _common(bill: Bill, lines, vat_rows) -> dict:
    """What every document prints: the parties, the lines, and the totals with the VAT per rate."""
    seller = bill.seller
    aids = [line for line in lines if line.kind == BillLine.Kind.AID]
    totals = [(_("Total HT"), euros(bill.total_excl_vat))]
    if aids:  # the gross, the aid and the net, each visible
        aid_total = sum((Decimal(line.amount_excl_vat) for line in aids), Decimal("0"))
        totals = [
            (_("Total des prestations HT"), euros(bill.total_excl_vat - aid_total)),
            (_("Aides déduites"), euros(aid_total)),
            (_("Total HT après aides"), euros(bill.total_excl_vat)),
        ]
    totals += [
        *vat_rows,
        (_("Total TVA"), euros(bill.total_vat)),
        (_("Total TTC"), euros(bill.total_incl_vat)),
    ]
    return {
        "bill": bill,
        "seller": seller,
        "seller_ids": _seller_ids(seller),
        "buyer": _buyer(bill),
        "issue_date": _day(bill.issue_date),
        "period": _period(bill.period_start, bill.period_end),
        "lines": [_line(line, bill) for line in lines],
        "totals": totals,
    }


def _lines(bill: Bill) -> list[BillLine]:
    return sorted(bill.lines.all(), key=lambda line: line.position)


def _line(line: BillLine, bill: Bill) -> dict:
    same_period = (line.service_start, line.service_end) == (bill.period_start, bill.period_end)
    quantity = _decimal(line.quantity)
    if line.kind == BillLine.Kind.SERVICE:
        quantity += " " + _unit(line)
    return {
        "label": line.label,
        "period": "" if same_period else _period(line.service_start, line.service_end),
        "quantity": quantity,
        "unit_price": euros(line.unit_price_excl_vat),
        "rate": _rate(line.vat_rate),
        "amount": euros(line.amount_excl_vat),
        "is_aid": line.kind == BillLine.Kind.AID,
    }


def _unit(line: BillLine) -> str:
    """The line's unit as French writes it after its quantity: 1 journée, 1,5 journée, 2 demi-journées."""
    if line.unit not in UNITS:
        return line.unit  # another app's unit (g, feuille…), printed as it was handed over
    label = str(UNITS[line.unit])
    if Decimal(line.quantity) < 2 or label[-1] in "sxz":
        return label
    return label + "s"


def _seller_ids(seller: dict) -> list[str]:
    ids = [seller.get("legal_form")] if seller.get("legal_form") else []
    ids.append(_("SIREN %(siren)s — SIRET %(siret)s") % {"siren": seller["siren"], "siret": seller["siret"]})
    if seller.get("rcs"):
        ids.append(seller["rcs"])
    if seller.get("share_capital"):
        ids.append(_("Capital social : %(capital)s") % {"capital": seller["share_capital"]})
    if seller.get("vat_number"):
        ids.append(_("N° de TVA intracommunautaire : %(vat)s") % {"vat": seller["vat_number"]})
    if seller.get("email"):
        ids.append(seller["email"])
    return ids


def _buyer(bill: Bill) -> dict:
    ids = []
    if bill.buyer_siren:
        ids.append(_("SIREN %(siren)s") % {"siren": bill.buyer_siren})
    if bill.buyer_vat_number:
        ids.append(_("N° de TVA intracommunautaire : %(vat)s") % {"vat": bill.buyer_vat_number})
    return {
        "name": bill.buyer_name,
        "address": [line.strip() for line in bill.buyer_address.splitlines() if line.strip()],
        "ids": ids,
    }


def _mentions(bill: Bill) -> list[str]:
    """The mentions of an invoice or credit note beyond its lines: VAT option, payment, penalties, notes."""
    seller = bill.seller
    mentions = []
    if seller.get("vat_on_debits") and not seller.get("vat_franchise"):
        mentions.append(_("Option pour le paiement de la taxe d’après les débits."))
    mentions.append(facturx.payment_terms(bill))
    if bill.kind == Bill.Kind.INVOICE and bill.buyer_is_business:
        mentions += [
            _("Pas d’escompte pour paiement anticipé."),
            facturx.late_penalties(),
            facturx.recovery_indemnity(),
        ]
    cites = _credited_note(bill)
    if bill.note and bill.note != cites:
        mentions.append(bill.note)
    return mentions


def _credited_note(bill: Bill) -> str:
    """What `issuing.credit_note_for` writes by default: the template already prints it."""
    if bill.kind != Bill.Kind.CREDIT_NOTE:
        return ""
    credited = bill.credited_bill
    return _("Avoir sur la facture %(number)s du %(day)s.") % {
        "number": credited.number,
        "day": _day(credited.issue_date),
    }


def _vat_label(category: str, rate, base) -> str:
    """A row of the VAT per rate, naming its base: "TVA 20 % sur 250,00 €"."""
    values = {"rate": _rate(rate), "base": euros(base)}
    if category == "E":
        return _("Exonéré de TVA, sur %(base)s") % values
    if category == "Z":
        return _("TVA à taux zéro, sur %(base)s") % values
    return _("TVA %(rate)s sur %(base)s") % values


def euros(value) -> str:
    """1234.5 → "1 234,50 €" (a narrow no-break space between thousands, a no-break space before €)."""
    amount = cents(value)
    sign = "−" if amount < 0 else ""
    whole, fraction = f"{abs(amount):,.2f}".split(".")
    return sign + whole.replace(",", "\u202f") + "," + fraction + "\u00a0€"


def _rate(rate) -> str:
    return f"{_decimal(rate)}\u00a0%"


def _decimal(value) -> str:
    """2.500 → "2,5"; 20.00 → "20"."""
    text = f"{Decimal(value):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",").replace("-", "−")


def _day(day) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _period(start, end) -> str:
    if start == end:
        return _day(start)
    return _("du %(start)s au %(end)s") % {"start": _day(start), "end": _day(end)}
