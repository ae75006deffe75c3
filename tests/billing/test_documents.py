"""Issued bills as documents: the Factur-X XML passes the XSD and every EN 16931 rule of the CEN's own
validation; the PDF is a PDF/A-3b carrying that XML and the mentions French law asks for; a public-mode
statement is a PDF/A-3b that never calls itself an invoice."""

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pypdf import PdfReader

from cocotte.billing import documents, facturx, issuing
from cocotte.billing.models import Bill, BillLine, RevenueType
from cocotte.billing.totals import totals_of
from tests.billing.validation import fatal_failures, xsd_errors

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}
AID = BillLine.Kind.AID
FRANCHISE = "TVA non applicable, art. 293 B du CGI"


def issued(make_bill, operator, debtor, lines, **fields) -> Bill:
    return issuing.issue(make_bill(operator, debtor, lines, **fields))


def credit_note(invoice: Bill, lines=None) -> Bill:
    return issuing.issue(issuing.credit_note_for(invoice, lines=lines))


@pytest.fixture
def franchise_operator(private_operator):
    """The association under the VAT franchise: no VAT number, no VAT."""
    private_operator.vat_franchise, private_operator.vat_number = True, ""
    private_operator.save()
    return private_operator


def xml_of(bill: Bill) -> etree._Element:
    return etree.fromstring(facturx.cii_xml(bill))


def text(tree, path: str) -> list[str]:
    return [node.text for node in tree.iterfind(path, NS)]


def summation(tree, name: str) -> Decimal:
    path = f".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:{name}"
    return Decimal(tree.findtext(path, namespaces=NS))


def assert_valid(bill: Bill) -> bytes:
    xml = facturx.cii_xml(bill)
    assert xsd_errors(xml) == []
    assert fatal_failures(xml) == []
    return xml


def pdf_text(pdf: bytes) -> str:
    """The PDF's text with every run of spaces (no-break ones included) as one space."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


# --- the XML, by the standard's own rules -------------------------------------------------------------------


def test_an_invoice_to_a_company_passes_the_xsd_and_every_en16931_rule(private_operator, company, make_bill):
    bill = issued(
        make_bill,
        private_operator,
        company,
        [
            ("Bureau privatif, janvier", 1, "250.00", 20),
            ("Demi-journées de coworking", "3.5", "6.10", 20),
            ("Impression 3D", "1.25", "12.34", "5.5"),
        ],
        purchase_order="BC-2027-014",
    )

    assert_valid(bill)
    tree = xml_of(bill)
    assert text(tree, ".//rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    assert text(tree, ".//rsm:ExchangedDocument/ram:ID") == [bill.number]
    assert text(tree, ".//ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID") == ["812345676"]
    assert text(tree, ".//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == ["FR19812345676"]
    assert text(tree, ".//ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID") == ["732829320"]
    assert text(tree, ".//ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID") == ["BC-2027-014"]
    assert text(tree, ".//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == [
        "FR7630006000011234567890189"
    ]
    assert text(tree, ".//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["58"]
    assert text(tree, ".//ram:DueDateDateTime/*") == [bill.due_date.strftime("%Y%m%d")]
    # VAT once per rate: 20 % on 250 + 21.35, 5.5 % on 15.43.
    assert text(
        tree, ".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CalculatedAmount"
    ) == [
        "54.27",
        "0.85",
    ]


def test_under_the_franchise_every_line_is_exempt_with_the_article_293_b_wording(
    franchise_operator, company, make_bill
):
    bill = issued(make_bill, franchise_operator, company, [("Demi-journée de coworking", 4, "5.00", 0)])

    assert_valid(bill)
    tree = xml_of(bill)
    header_tax = ".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    assert text(tree, f"{header_tax}/ram:CategoryCode") == ["E"]
    assert text(tree, f"{header_tax}/ram:ExemptionReason") == [FRANCHISE]
    assert text(tree, f"{header_tax}/ram:ExemptionReasonCode") == ["VATEX-FR-FRANCHISE"]
    # No VAT number: the SIREN as tax registration, which an exempt invoice needs (BR-E-02).
    assert text(tree, ".//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == ["812345676"]
    assert summation(tree, "TaxTotalAmount") == Decimal("0.00")


def test_a_zero_rated_training_is_exempt_and_another_zero_rated_line_zero_rated(
    private_operator, company, make_bill
):
    lines = [
        ("Bureau", 1, "100.00", 20),
        ("Cycle de formation", 1, "300", 0),
        ("Prêt de matériel", 2, "5", 0),
    ]
    bill = make_bill(private_operator, company, lines)
    bill.lines.filter(position=2).update(revenue_type=RevenueType.TRAINING)
    bill = issuing.issue(bill)

    assert_valid(bill)
    tree = xml_of(bill)
    header_tax = ".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    assert text(tree, f"{header_tax}/ram:CategoryCode") == ["S", "E", "Z"]
    assert text(tree, f"{header_tax}/ram:BasisAmount") == ["100.00", "300.00", "10.00"]
    assert text(tree, f"{header_tax}/ram:ExemptionReasonCode") == ["VATEX-FR-CGI261-4"]
    assert "Exonération de TVA, art. 261-4-4° a du CGI" in pdf_text(documents.render(bill))


def test_an_aid_line_is_written_with_a_negative_quantity_and_a_positive_price(
    private_operator, company, make_bill
):
    bill = issued(
        make_bill,
        private_operator,
        company,
        [
            ("Bureau privatif", 1, "400.00", 20),
            ("Prise en charge du loyer — Hautes Terres Communauté", 1, "-150", 20, AID),
        ],
    )

    assert_valid(bill)
    aid = xml_of(bill).findall(".//ram:IncludedSupplyChainTradeLineItem", NS)[1]
    assert aid.findtext(".//ram:SpecifiedTradeProduct/ram:Name", namespaces=NS).endswith(
        "Hautes Terres Communauté"
    )
    assert aid.findtext(".//ram:BilledQuantity", namespaces=NS) == "-1"
    assert aid.findtext(".//ram:NetPriceProductTradePrice/ram:ChargeAmount", namespaces=NS) == "150.00"
    assert aid.findtext(".//ram:LineTotalAmount", namespaces=NS) == "-150.00"


def test_a_credit_note_is_type_381_and_cites_the_invoice_it_corrects(private_operator, company, make_bill):
    invoice = issued(make_bill, private_operator, company, [("Bureau", 1, "250.00", 20)])
    note = credit_note(invoice)

    assert_valid(note)
    tree = xml_of(note)
    assert text(tree, ".//rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert text(tree, ".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == [invoice.number]
    assert text(tree, ".//ram:InvoiceReferencedDocument/ram:FormattedIssueDateTime/*") == [
        invoice.issue_date.strftime("%Y%m%d")
    ]
    assert summation(tree, "GrandTotalAmount") == invoice.total_incl_vat


def test_vat_on_debits_is_declared(private_operator, company, make_bill):
    private_operator.vat_on_debits = True
    private_operator.save()
    bill = issued(make_bill, private_operator, company, [("Bureau", 1, "250.00", 20)])

    assert_valid(bill)
    tree = xml_of(bill)
    assert text(tree, ".//ram:ApplicableTradeTax/ram:DueDateTypeCode") == ["5"]
    assert "Option pour le paiement de la taxe d’après les débits" in text(
        tree, ".//ram:IncludedNote/ram:Content"
    )


def test_only_an_issued_invoice_or_credit_note_has_a_factur_x(
    private_operator, public_operator, alice, make_bill
):
    draft = make_bill(private_operator, alice, [("Journée", 1, "10", 20)])
    statement = issued(make_bill, public_operator, alice, [("Journée", 1, "10", 0)], kind=Bill.Kind.STATEMENT)

    for bill in (draft, statement):
        with pytest.raises(ValueError):
            facturx.cii_xml(bill)


def test_the_harness_catches_broken_totals_and_a_broken_schema(private_operator, company, make_bill):
    """A validation that cannot fail proves nothing: altered totals break the BR-CO rules."""
    xml = assert_valid(issued(make_bill, private_operator, company, [("Bureau", 1, "250.00", 20)]))

    grand = re.sub(rb"<ram:GrandTotalAmount>[^<]+<", b"<ram:GrandTotalAmount>301.00<", xml)
    line = re.sub(rb"<ram:LineTotalAmount>250.00<", b"<ram:LineTotalAmount>249.99<", xml, count=1)
    no_type = re.sub(rb"<ram:TypeCode>380</ram:TypeCode>", b"", xml)

    assert any(failure.startswith("BR-CO-15:") for failure in fatal_failures(grand))
    assert any(failure.startswith("BR-CO-10:") for failure in fatal_failures(line))
    assert xsd_errors(no_type) and xsd_errors(grand) == []


RATES = st.sampled_from(["0", "5.5", "10", "20"])
QUANTITIES = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("500"), places=3)
PRICES = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("2000"), places=2)
SERVICES = st.lists(st.tuples(QUANTITIES, PRICES, RATES), min_size=1, max_size=24)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    services=SERVICES,
    aids=st.lists(st.tuples(st.integers(0, 23), st.integers(1, 100)), max_size=6),
    franchise=st.booleans(),
    business=st.booleans(),
    credited=st.none() | st.integers(1, 24),
)
def test_any_invoice_and_its_credit_note_pass_both_checks_and_agree_with_the_bill_to_the_cent(
    private_operator, company, alice, make_bill, services, aids, franchise, business, credited
):
    """Up to 30 lines, several rates, decimal quantities, aids naming their funder, the franchise, business and
    private buyers, credit notes for a whole invoice or some of its lines."""
    private_operator.vat_franchise, private_operator.vat_number = (
        franchise,
        "" if franchise else "FR19812345676",
    )
    private_operator.save()
    lines = [
        (f"Prestation {n}", quantity, price, "0" if franchise else rate)
        for n, (quantity, price, rate) in enumerate(services, start=1)
    ]
    shares = {target % len(services): percent for target, percent in aids}
    for target, percent in shares.items():  # an aid takes a share of one service line, at its rate
        _label, quantity, price, rate = lines[target]
        share = (Decimal(quantity) * price * percent / 100).quantize(Decimal("0.01"))
        if share > 0:
            lines.append(("Prise en charge — Hautes Terres Communauté", 1, -share, rate, AID))
    invoice = issued(make_bill, private_operator, company if business else alice, lines)

    bills = [invoice]
    if credited is not None and invoice.total_incl_vat > 0:
        invoice_lines = list(invoice.lines.all())
        some = [line for line in invoice_lines if line.kind == BillLine.Kind.SERVICE][:credited]
        partial = 0 < totals_of(some).incl_vat <= invoice.total_incl_vat
        bills.append(credit_note(invoice, lines=some if partial else None))

    for bill in bills:
        assert_valid(bill)
        tree = xml_of(bill)
        assert summation(tree, "TaxBasisTotalAmount") == bill.total_excl_vat
        assert summation(tree, "TaxTotalAmount") == bill.total_vat
        assert summation(tree, "GrandTotalAmount") == bill.total_incl_vat
        assert summation(tree, "DuePayableAmount") == bill.total_incl_vat


# --- the PDF ------------------------------------------------------------------------------------------------


def test_the_pdf_is_a_pdf_a3b_carrying_its_factur_x(private_operator, company, make_bill):
    bill = issued(make_bill, private_operator, company, [("Bureau", 1, "250.00", 20)])

    pdf = documents.render(bill)
    reader = PdfReader(io.BytesIO(pdf))

    assert pdf.startswith(b"%PDF-") and pdf.count(b"%PDF-") == 1  # one document, not two glued together
    xmp = reader.xmp_metadata
    assert (xmp.pdfaid_part, xmp.pdfaid_conformance) == ("3", "B")
    assert reader.attachments["factur-x.xml"] == [facturx.cii_xml(bill)]


def test_an_invoice_to_a_company_prints_every_mandatory_mention(private_operator, company, make_bill):
    private_operator.vat_on_debits = True
    private_operator.rcs, private_operator.share_capital = "RCS Aurillac 812 345 676", "10 000 €"
    private_operator.save()
    bill = issued(
        make_bill,
        private_operator,
        company,
        [("Bureau privatif n° 3", 1, "250.00", 20), ("Journée de coworking", "2.5", "12.00", "5.5")],
        purchase_order="BC-42",
        buyer_vat_number="FR44732829320",
    )

    printed = pdf_text(documents.render(bill))

    for mention in [
        f"Facture n° {bill.number}",
        "Association Télécentre de Murat",
        "Place de l’Hôtel de Ville",
        "Association loi 1901",
        "SIREN 812345676",
        "SIRET 81234567600017",
        "RCS Aurillac 812 345 676",
        "Capital social : 10 000 €",
        "FR19812345676",
        "Volcans Numériques SAS",
        "2 avenue de la Gare",
        "SIREN 732829320",
        "FR44732829320",
        "Nature de l’opération : prestations de services",
        "Bon de commande : BC-42",
        f"Date d’émission : {bill.issue_date:%d/%m/%Y}",
        "Période de la prestation : du 01/01/2027 au 28/01/2027",
        f"Échéance : {bill.due_date:%d/%m/%Y}",
        "Bureau privatif n° 3 1 journée 250,00 € 20 % 250,00 €",
        "Journée de coworking 2,5 journées 12,00 € 5,5 % 30,00 €",
        "TVA 20 % sur 250,00 € 50,00 €",
        "TVA 5,5 % sur 30,00 € 1,65 €",
        "Total HT 280,00 €",
        "Total TVA 51,65 €",
        "Total TTC 331,65 €",
        "Option pour le paiement de la taxe d’après les débits",
        "Pas d’escompte pour paiement anticipé",
        "Banque centrale européenne (BCE) majoré de 10 points",
        "frais de recouvrement en cas de retard de paiement : 40 €",
        "FR7630006000011234567890189",
    ]:
        assert mention in printed, mention
    assert FRANCHISE not in printed


def test_an_invoice_to_a_member_under_the_franchise_says_so_and_skips_the_business_terms(
    franchise_operator, alice, make_bill
):
    bill = issued(make_bill, franchise_operator, alice, [("Demi-journée de coworking", 4, "5.00", 0)])

    printed = pdf_text(documents.render(bill))

    assert FRANCHISE in printed
    assert "Total TTC 20,00 €" in printed
    assert "40 €" not in printed and "escompte" not in printed


def test_an_aid_is_its_own_line_naming_the_funder_with_gross_aid_and_net(
    private_operator, company, make_bill
):
    bill = issued(
        make_bill,
        private_operator,
        company,
        [
            ("Bureau privatif", 1, "400.00", 20),
            ("Prise en charge du loyer — Hautes Terres Communauté", 1, "-150", 20, AID),
        ],
    )

    printed = pdf_text(documents.render(bill))

    assert "Prise en charge du loyer — Hautes Terres Communauté 1 −150,00 € 20 % −150,00 €" in printed
    assert "Total des prestations HT 400,00 €" in printed
    assert "Aides déduites −150,00 €" in printed
    assert "Total HT après aides 250,00 €" in printed
    assert "Total TTC 300,00 €" in printed


def test_a_credit_note_says_avoir_and_cites_the_invoice_s_number_and_date(
    private_operator, company, make_bill
):
    invoice = issued(make_bill, private_operator, company, [("Bureau", 1, "250.00", 20)])
    note = credit_note(invoice)

    pdf = documents.render(note)
    printed = pdf_text(pdf)

    assert f"Avoir n° {note.number}" in printed
    assert f"Avoir sur la facture n° {invoice.number} du {invoice.issue_date:%d/%m/%Y}" in printed
    assert PdfReader(io.BytesIO(pdf)).attachments["factur-x.xml"] == [facturx.cii_xml(note)]


def test_a_statement_is_a_pdf_a3b_that_never_says_invoice_and_carries_no_xml(
    public_operator, company, make_bill
):
    statement = issued(
        make_bill,
        public_operator,
        company,
        [("Demi-journée de coworking", 6, "6.00", 0)],
        kind=Bill.Kind.STATEMENT,
        month=date(2027, 2, 1),
    )

    pdf = documents.render(statement)
    reader = PdfReader(io.BytesIO(pdf))
    printed = pdf_text(pdf)

    assert "Relevé de liquidation" in printed and statement.reference in printed
    assert "Total TTC 36,00 €" in printed
    assert "factur" not in printed.lower()
    assert reader.attachments == {}
    assert (reader.xmp_metadata.pdfaid_part, reader.xmp_metadata.pdfaid_conformance) == ("3", "B")


def test_a_long_invoice_runs_over_pages_and_stays_valid(private_operator, company, make_bill):
    label = "Réservation de salle n° {}, avec un libellé assez long pour passer à la ligne"
    bill = issued(
        make_bill, private_operator, company, [(label.format(n), "1.5", "7.50", 20) for n in range(40)]
    )

    reader = PdfReader(io.BytesIO(documents.render(bill)))

    assert len(reader.pages) >= 2
    assert reader.attachments["factur-x.xml"] == [assert_valid(bill)]


def test_a_letter_beyond_the_bill_s_own_characters_is_still_printed(private_operator, alice, make_bill):
    """The compact faces hold Latin-1; the ł and ř of a name fall back to the full system font."""
    bill = issued(make_bill, private_operator, alice, [("Atelier de Łukasz Dvořák", 1, "10.00", 20)])

    assert "Atelier de Łukasz Dvořák" in pdf_text(documents.render(bill))


def test_a_draft_has_no_document(private_operator, alice, make_bill):
    with pytest.raises(ValueError):
        documents.render(make_bill(private_operator, alice, [("Journée", 1, "10", 20)]))
