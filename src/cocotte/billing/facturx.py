"""The Factur-X XML (CII, profile EN 16931) of an issued invoice or credit note, from its frozen content only.

Built with the `factur-x` library's dict API (keys are the EN 16931 business terms, BT-… and BG-…). The
choices the standard leaves to us, and why:

- VAT categories: S with its rate for a taxed line; under the franchise every line is E, exempt, with
  "TVA non applicable, art. 293 B du CGI" (VATEX-FR-FRANCHISE); otherwise a 0 % training line is E under
  art. 261-4-4° a (continuing vocational training, VATEX-FR-CGI261-4), and any other 0 % line Z, zero rated.
- A line with a negative unit price (an aid) is written with its quantity negated and a positive net price,
  the line amount staying negative: EN 16931 forbids a negative item price (BR-27).
- Seller: its SIRET as identifier (ICD 0009), its SIREN as legal registration (ICD 0002, nine digits, as the
  French rules ask), its VAT number; without a VAT number (the franchise), the SIREN as tax registration
  (BT-32), which the exempt category requires (BR-E-02). Buyer: its SIREN (0002) and VAT number when known.
- VAT per rate is computed once per (category, rate) from the line amounts (`totals`): it is
  `totals_of`'s rule, and the XML is refused if it does not give the bill's frozen totals to the cent.
- BT-8 = 5 (CII, "invoice date") declares the option for VAT on debits, as the French rules read it.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _

from cocotte.core.money import cents, vat_of

from .models import Bill, BillLine, RevenueType
from .totals import totals_of

TYPE_CODES = {Bill.Kind.INVOICE: "380", Bill.Kind.CREDIT_NOTE: "381"}
FRANCHISE = "TVA non applicable, art. 293 B du CGI"
TRAINING_EXEMPTION = "Exonération de TVA, art. 261-4-4° a du CGI"
# UN/ECE Recommendation 20 codes of our units; a unit it has no code for (a half-day) counts as "one" (C62).
UNIT_CODES = {"hour": "HUR", "day": "DAY", "month": "MON", "minute": "MIN", "min": "MIN", "g": "GRM"}
POSTCODE_CITY = re.compile(r"^(\d{5})\s+(.+)$")


@dataclass(frozen=True)
class Category:
    """A VAT category of EN 16931, with the exemption it cites when it is one."""

    code: str
    reason: str = ""
    reason_code: str = ""


def category_of(line, seller: dict) -> Category:
    """The VAT category of a line, for the seller as it was at issue."""
    if seller.get("vat_franchise"):
        return Category("E", FRANCHISE, "VATEX-FR-FRANCHISE")
    if Decimal(line.vat_rate) > 0:
        return Category("S")
    if line.revenue_type == RevenueType.TRAINING:
        return Category("E", TRAINING_EXEMPTION, "VATEX-FR-CGI261-4")
    return Category("Z")


@dataclass(frozen=True)
class Breakdown:
    """One row of the VAT breakdown (BG-23): a category at a rate, its base and its VAT."""

    category: Category
    rate: Decimal
    base: Decimal
    vat: Decimal


def breakdown_of(lines, seller: dict) -> list[Breakdown]:
    """The VAT breakdown of the lines: per category and rate, the VAT rounded once on each base."""
    bases: dict[tuple[Category, Decimal], Decimal] = {}
    for line in lines:
        key = (category_of(line, seller), Decimal(line.vat_rate).quantize(Decimal("0.01")))
        bases[key] = bases.get(key, Decimal("0")) + Decimal(line.amount_excl_vat)
    return [
        Breakdown(category, rate, cents(base), vat_of(base, rate) if category.code == "S" else cents(0))
        for (category, rate), base in sorted(bases.items(), key=lambda item: (-item[0][1], item[0][0].code))
    ]


def cii_xml(bill: Bill) -> bytes:
    """The CII XML of an issued invoice or credit note (Factur-X, profile EN 16931), always the same bytes
    for the same bill."""
    from facturx import generate_cii_xml
    from lxml import etree, objectify

    with translation.override("fr"):  # the legal document is French, whoever asks for it
        data = cii_data(bill)
    xml = generate_cii_xml(data, level="en16931", check_xsd=False, check_schematron=False)
    # The library marks an empty element nil (the delivery block of a service with no delivery date),
    # which the XSD refuses: an empty element is what the standard means.
    root = etree.fromstring(xml)
    objectify.deannotate(root, pytype=False, xsi=False, xsi_nil=True, cleanup_namespaces=True)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def cii_data(bill: Bill) -> dict:
    """The `factur-x` library's dict of the bill: EN 16931 business terms as keys."""
    if not bill.is_issued or bill.kind not in TYPE_CODES:
        raise ValueError(f"{bill.reference}: only an issued invoice or credit note has a Factur-X.")
    seller = bill.seller
    lines = sorted(bill.lines.all(), key=lambda line: line.position)
    breakdown = breakdown_of(lines, seller)
    totals = totals_of(lines)
    excl = sum((row.base for row in breakdown), Decimal("0.00"))
    vat = sum((row.vat for row in breakdown), Decimal("0.00"))
    frozen = (bill.total_excl_vat, bill.total_vat, bill.total_incl_vat)
    if (excl, vat, excl + vat) != frozen or (totals.excl_vat, totals.vat, totals.incl_vat) != frozen:
        raise ValueError(f"{bill.number}: the lines do not give the bill's totals {frozen}.")

    data = {
        "BT-1": bill.number,
        "BT-2": bill.issue_date,
        "BT-3": TYPE_CODES[bill.kind],
        "BT-5": "EUR",
        "BT-73": bill.period_start,
        "BT-74": bill.period_end,
        "BG-1": notes_of(bill),
        "BG-4": _seller_party(seller),
        "BG-7": _buyer_party(bill),
        "BG-23": [
            {
                "BT-116": _money(row.base),
                "BT-117": _money(row.vat),
                "BT-118": row.category.code,
                "BT-119": _number(row.rate),
                **({"BT-120": row.category.reason} if row.category.reason else {}),
                **({"BT-121": row.category.reason_code} if row.category.reason_code else {}),
            }
            for row in breakdown
        ],
        "BG-25": [_line(line, seller) for line in lines],
        "BT-106": _money(excl),
        "BT-109": _money(excl),
        "BT-110": _money(vat),
        "BT-112": _money(excl + vat),
        "BT-115": _money(excl + vat),
        "BT-20": payment_terms(bill),
        "BT-83": bill.number,
    }
    if bill.purchase_order:
        data["BT-13"] = bill.purchase_order
    if bill.commitment_reference:
        data["BT-10"] = bill.commitment_reference
    if seller.get("vat_on_debits") and not seller.get("vat_franchise"):
        data["BT-8"] = "invoice"
    if bill.kind == Bill.Kind.CREDIT_NOTE:
        credited = bill.credited_bill
        data["BG-3"] = [{"BT-25": credited.number, "BT-26": credited.issue_date}]
    else:
        data["BT-9"] = bill.due_date
        if seller.get("iban"):
            data.update({"BT-81": "58", "BT-84": seller["iban"].replace(" ", ""), "BT-85": seller["name"]})
            if seller.get("bic"):
                data["BT-86"] = seller["bic"]
    return data


def notes_of(bill: Bill) -> list[dict]:
    """The invoice's notes (BG-1), each with its UNTDID 4451 subject: the mentions French law asks for."""
    seller = bill.seller
    notes = [{"BT-21": "AAI", "BT-22": _("Nature de l’opération : prestations de services")}]
    if seller.get("vat_on_debits") and not seller.get("vat_franchise"):
        notes.append({"BT-21": "REG", "BT-22": _("Option pour le paiement de la taxe d’après les débits")})
    if seller.get("vat_franchise"):
        notes.append({"BT-21": "REG", "BT-22": FRANCHISE})
    if bill.buyer_is_business and bill.kind == Bill.Kind.INVOICE:
        notes += [
            {"BT-21": "AAB", "BT-22": _("Pas d’escompte pour paiement anticipé.")},
            {"BT-21": "PMD", "BT-22": late_penalties()},
            {"BT-21": "PMT", "BT-22": recovery_indemnity()},
        ]
    if bill.note:
        notes.append({"BT-21": "AAI", "BT-22": bill.note})
    return notes


def late_penalties() -> str:
    return _(
        "En cas de retard de paiement, pénalités au taux de la Banque centrale européenne (BCE) "
        "majoré de 10 points (Code de commerce, art. L441-10)."
    )


def recovery_indemnity() -> str:
    return _("Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 €.")


def payment_terms(bill: Bill) -> str:
    if bill.kind == Bill.Kind.CREDIT_NOTE:
        return _("Avoir remboursé ou déduit de la prochaine facture.")
    terms = _("À régler au plus tard le %(day)s.") % {"day": bill.due_date.strftime("%d/%m/%Y")}
    seller = bill.seller
    if seller.get("iban"):
        bank = seller["iban"] + (f" — BIC {seller['bic']}" if seller.get("bic") else "")
        terms += " " + _("Par virement : IBAN %(bank)s, en rappelant le numéro %(number)s.") % {
            "bank": bank,
            "number": bill.number,
        }
    return terms


def _seller_party(seller: dict) -> dict:
    party = {
        "name": seller["name"],
        "identifiers": {"0009": seller["siret"]},
        "legal_identifier": seller["siren"],
        "legal_identifier_schemeid": "0002",
        "addr_l1": seller["street"],
        "postcode": seller["postal_code"],
        "city": seller["city"],
        "country_code": seller.get("country") or "FR",
    }
    legal = [seller.get("legal_form"), seller.get("rcs")]
    if seller.get("share_capital"):
        legal.append(_("capital de %(capital)s") % {"capital": seller["share_capital"]})
    if legal_info := " — ".join(part for part in legal if part):
        party["legal_info"] = legal_info
    if seller.get("trading_name") and seller["trading_name"] != seller["name"]:
        party["biz_name"] = seller["trading_name"]
    if seller.get("vat_number"):
        party["vat_identifier"] = seller["vat_number"]
    else:
        party["tax_identifier"] = seller["siren"]
    if seller.get("email"):
        party["contacts"] = [{"email": seller["email"]}]
    return party


def _buyer_party(bill: Bill) -> dict:
    party = {"name": bill.buyer_name, **address_of(bill.buyer_address)}
    if bill.buyer_siren:
        party.update({"legal_identifier": bill.buyer_siren, "legal_identifier_schemeid": "0002"})
    if bill.buyer_vat_number:
        party["vat_identifier"] = bill.buyer_vat_number
    if bill.buyer_email:
        party["contacts"] = [{"email": bill.buyer_email}]
    return party


def address_of(text: str) -> dict:
    """A French postal address typed as lines ("2 avenue de la Gare\\n15300 Murat") as EN 16931 parts."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if lines and lines[-1].casefold() == "france":
        lines.pop()
    address = {"country_code": "FR"}
    if lines and (match := POSTCODE_CITY.match(lines[-1])):
        address["postcode"], address["city"] = match.groups()
        lines.pop()
    for key, line in zip(("addr_l1", "addr_l2"), lines, strict=False):
        address[key] = line
    if len(lines) > 2:
        address["addr_l3"] = ", ".join(lines[2:])
    return address


def _line(line: BillLine, seller: dict) -> dict:
    quantity, price = Decimal(line.quantity), Decimal(line.unit_price_excl_vat)
    if price < 0:  # an aid: BR-27 wants the price positive, so the quantity carries the sign
        quantity, price = -quantity, -price
    category = category_of(line, seller)
    return {
        "BT-126": str(line.position),
        "BT-153": line.label,
        "BT-129": _number(quantity),
        "BT-130": UNIT_CODES.get(line.unit, "C62"),
        "BT-131": _money(line.amount_excl_vat),
        "BT-146": _money(price),
        "BT-151": category.code,
        "BT-152": _number(Decimal(line.vat_rate)),
        "BT-134": line.service_start,
        "BT-135": line.service_end,
    }


def _money(value) -> str:
    return f"{cents(value):f}"


def _number(value: Decimal) -> str:
    """A quantity or a rate without trailing zeros: 2.500 → 2.5, 20.00 → 20."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
