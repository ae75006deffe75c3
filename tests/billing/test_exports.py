"""The books as files read elsewhere: the FEC read back as the tax office's tools read it, the sales journal and
the public-mode statements file adding up to the cent with the bills they list."""

import csv
import io
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocotte.billing.exports import (
    FEC_COLUMNS,
    STATEMENT_COLUMNS,
    ExportError,
    fec,
    operator_named,
    sales_journal,
    statements_csv,
)
from cocotte.billing.issuing import credit_note_for, issue
from cocotte.billing.models import Allocation, Bill, BillLine, Payment, RevenueType

MARCH = date(2026, 3, 1)


def money(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


def read_fec(content: str):
    rows = list(csv.reader(io.StringIO(content, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def read_csv(content: str):
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content[1:], newline=""), delimiter=";"))


def pay(operator, debtor, amount, method, on, *bills):
    """A received payment allocated to bills, as payments.py will record one."""
    is_member = hasattr(debtor, "email")
    payment = Payment.objects.create(
        operator=operator,
        member=debtor if is_member else None,
        organisation=None if is_member else debtor,
        amount=Decimal(amount),
        method=method,
        received_on=on,
    )
    for bill, part in bills:
        Allocation.objects.create(payment=payment, bill=bill, amount=Decimal(part))
    return payment


@pytest.fixture
def mixed_invoice(private_operator, alice, make_bill):
    """Alice's March invoice: an office at 20 %, a training at 5.5 %, and an aid taking 100 € off the office."""
    bill = make_bill(
        private_operator,
        alice,
        [
            ("Bureau privatif, mars", 1, "400.00", 20),
            ("Atelier création d’entreprise", 2, "55.55", "5.5"),
            ("Prise en charge du loyer — Région", 1, "-100.00", 20, BillLine.Kind.AID),
        ],
        month=MARCH,
    )
    return issue(bill, on=date(2026, 3, 31))


def entries(rows):
    by_number = defaultdict(list)
    for row in rows:
        by_number[row["EcritureNum"]].append(row)
    return by_number


def test_the_fec_has_its_18_columns_in_order_its_name_and_balances(
    private_operator, alice, company, make_bill, mixed_invoice
):
    other = issue(
        make_bill(private_operator, company, [("Salle", 3, "25.00", 20)], month=MARCH), on=date(2026, 4, 2)
    )
    credit = issue(credit_note_for(mixed_invoice), on=date(2026, 4, 3))
    pay(private_operator, company, "90.00", Payment.Method.TRANSFER, date(2026, 4, 20), (other, "90.00"))

    name, content = fec(private_operator, 2026)

    assert name == "812345676FEC20261231.txt"
    header, rows = read_fec(content)
    assert header == [
        "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib", "CompAuxNum",
        "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit", "EcritureLet", "DateLet",
        "ValidDate", "Montantdevise", "Idevise",
    ]  # fmt: skip
    assert list(FEC_COLUMNS) == header
    assert {row["PieceRef"] for row in rows} >= {mixed_invoice.number, other.number, credit.number}
    for row in rows:
        for column in ("EcritureDate", "PieceDate", "ValidDate"):
            assert re.fullmatch(r"2026\d{4}", row[column])
            date(int(row[column][:4]), int(row[column][4:6]), int(row[column][6:]))
        assert re.fullmatch(r"(\d{8})?", row["DateLet"])
        assert re.fullmatch(r"\d+,\d\d", row["Debit"]) and re.fullmatch(r"\d+,\d\d", row["Credit"])
        assert (money(row["Debit"]) == 0) != (money(row["Credit"]) == 0)  # one side per line, never empty
    for number, lines in entries(rows).items():
        assert sum(money(r["Debit"]) for r in lines) == sum(money(r["Credit"]) for r in lines), number
    assert sum(money(r["Debit"]) for r in rows) == sum(money(r["Credit"]) for r in rows)


def test_fec_entries_come_in_validation_order_numbered_without_gaps_per_journal(
    private_operator, alice, company, make_bill
):
    first = issue(
        make_bill(private_operator, alice, [("Jour", 1, "15.00", 20)], month=MARCH), on=date(2026, 3, 5)
    )
    pay(private_operator, alice, "18.00", Payment.Method.CASH, date(2026, 3, 5), (first, "18.00"))
    second = issue(
        make_bill(private_operator, company, [("Salle", 2, "30", 20)], month=MARCH), on=date(2026, 3, 9)
    )
    pay(
        private_operator, company, "72.00", Payment.Method.CARD, date(2026, 3, 7)
    )  # an advance, before the bill
    third = issue(
        make_bill(private_operator, alice, [("Jour", 2, "15", 20)], month=MARCH), on=date(2026, 3, 9)
    )

    _header, rows = read_fec(fec(private_operator, 2026)[1])

    order = [(r["PieceRef"], r["JournalCode"]) for r in rows]
    pieces = list(dict.fromkeys(order))
    assert [piece for piece, _journal in pieces] == [
        first.number,
        "REG" + f"{Payment.objects.get(method='cash').pk:06d}",
        "REG" + f"{Payment.objects.get(method='card').pk:06d}",
        second.number,
        third.number,
    ]
    assert [r["ValidDate"] for r in rows] == sorted(r["ValidDate"] for r in rows)
    numbers = list(dict.fromkeys(r["EcritureNum"] for r in rows))
    assert numbers == ["VE000001", "CA000001", "BQ000001", "VE000002", "VE000003"]
    # An entry's lines stay together: each number appears in one run of rows.
    runs = [
        number
        for i, number in enumerate(r["EcritureNum"] for r in rows)
        if i == 0 or rows[i - 1]["EcritureNum"] != number
    ]
    assert runs == numbers


def test_an_invoice_with_two_rates_and_an_aid_books_sales_gross_the_aid_and_vat_per_rate(
    private_operator, alice, mixed_invoice
):
    _header, rows = read_fec(fec(private_operator, 2026)[1])

    lines = [(r["CompteNum"], r["CompAuxNum"], money(r["Debit"]), money(r["Credit"])) for r in rows]
    aux = f"CM{alice.pk:06d}"
    assert lines == [
        ("411", aux, Decimal("477.21"), 0),  # 300 + 111.10 net, + 60.00 + 6.11 VAT
        ("4419", "", Decimal("100.00"), 0),  # what the aid took off, owed by its funder
        ("706", "", 0, Decimal("111.10")),  # the training at 5.5 %
        ("706", "", 0, Decimal("400.00")),  # the office, gross, at 20 %
        ("44571", "", 0, Decimal("6.11")),  # 111.10 × 5.5 %
        ("44571", "", 0, Decimal("60.00")),  # (400 − 100) × 20 %: the VAT of the invoice, on the net
    ]
    assert mixed_invoice.total_incl_vat == Decimal("477.21")
    assert {r["JournalCode"] for r in rows} == {"VE"}
    assert {r["CompAuxLib"] for r in rows if r["CompAuxNum"]} == {"Alice Martin"}
    assert all(r["PieceRef"] == mixed_invoice.number and r["PieceDate"] == "20260331" for r in rows)


def test_a_credit_note_books_the_mirror_of_its_invoice(private_operator, mixed_invoice):
    credit = issue(credit_note_for(mixed_invoice), on=date(2026, 4, 1))

    _header, rows = read_fec(fec(private_operator, 2026)[1])

    by_piece = defaultdict(list)
    for r in rows:
        by_piece[r["PieceRef"]].append((r["CompteNum"], r["Debit"], r["Credit"]))
    assert by_piece[credit.number] == [(account, c, d) for account, d, c in by_piece[mixed_invoice.number]]
    # Fully credited, the invoice and its credit note settle each other: lettered together on the credit's day.
    customer = [r for r in rows if r["CompteNum"] == "411"]
    assert {r["EcritureLet"] for r in customer} == {"AAA"}
    assert {r["DateLet"] for r in customer} == {"20260401"}


def test_payments_go_to_the_bank_or_the_till_and_letter_the_invoice_they_settle(
    private_operator, alice, company, make_bill, mixed_invoice
):
    transfer = pay(
        private_operator,
        alice,
        "400.00",
        Payment.Method.TRANSFER,
        date(2026, 4, 10),
        (mixed_invoice, "400.00"),
    )
    pay(private_operator, alice, "77.21", Payment.Method.CASH, date(2026, 4, 12), (mixed_invoice, "77.21"))
    partly = issue(
        make_bill(private_operator, company, [("Salle", 4, "25", 20)], month=MARCH), on=date(2026, 4, 1)
    )
    pay(private_operator, company, "50.00", Payment.Method.CHEQUE, date(2026, 4, 15), (partly, "50.00"))
    pending = pay(private_operator, alice, "9.99", Payment.Method.ONLINE, date(2026, 4, 16))
    Payment.objects.filter(pk=pending.pk).update(
        status=Payment.Status.PENDING
    )  # not received: not in the books

    _header, rows = read_fec(fec(private_operator, 2026)[1])

    bank = [r for r in rows if r["JournalCode"] == "BQ"]
    till = [r for r in rows if r["JournalCode"] == "CA"]
    assert [(r["CompteNum"], r["Debit"], r["Credit"]) for r in bank] == [
        ("512", "400,00", "0,00"),
        ("411", "0,00", "400,00"),
        ("512", "50,00", "0,00"),
        ("411", "0,00", "50,00"),
    ]
    assert [(r["CompteNum"], r["Debit"], r["Credit"]) for r in till] == [
        ("530", "77,21", "0,00"),
        ("411", "0,00", "77,21"),
    ]
    assert {r["JournalLib"] for r in bank} == {"Banque"} and {r["JournalLib"] for r in till} == {"Caisse"}
    assert bank[1]["CompAuxNum"] == f"CM{alice.pk:06d}" and bank[3]["CompAuxNum"] == f"CO{company.pk:06d}"
    assert bank[0]["PieceRef"] == f"REG{transfer.pk:06d}"
    assert "9,99" not in {r["Debit"] for r in rows}
    # Alice's invoice is settled by both payments: one letter on its three customer lines, on the last day.
    alice_lines = [r for r in rows if r["CompAuxNum"] == f"CM{alice.pk:06d}"]
    assert {(r["EcritureLet"], r["DateLet"]) for r in alice_lines} == {("AAA", "20260412")}
    # The company's invoice is half paid: nothing lettered.
    assert {r["EcritureLet"] for r in rows if r["CompAuxNum"] == f"CO{company.pk:06d}"} == {""}
    assert {r["EcritureLet"] for r in rows if not r["CompAuxNum"]} == {""}


def test_the_fec_keeps_to_its_year_and_to_issued_bills(private_operator, alice, make_bill):
    issue(
        make_bill(private_operator, alice, [("Jour", 1, "15", 20)], month=date(2025, 12, 1)),
        on=date(2025, 12, 30),
    )
    make_bill(private_operator, alice, [("Brouillon", 1, "15", 20)], month=MARCH)
    in_year = issue(
        make_bill(private_operator, alice, [("Jour", 1, "15", 20)], month=MARCH), on=date(2026, 3, 2)
    )

    _header, rows = read_fec(fec(private_operator, 2026)[1])

    assert {r["PieceRef"] for r in rows} == {in_year.number}


def test_a_public_operator_has_no_fec(public_operator):
    with pytest.raises(ExportError, match="régie"):
        fec(public_operator, 2026)


def test_fec_command_writes_the_named_file_in_iso_8859_15(private_operator, alice, make_bill, tmp_path):
    alice.first_name, alice.last_name = "Aliénor", "L’Héritier"
    alice.save()
    issue(
        make_bill(private_operator, alice, [("Journée d’open space", 1, "15", 20)], month=MARCH),
        on=date(2026, 3, 2),
    )
    out = io.StringIO()

    call_command("export_fec", private_operator.siret, "2026", output=str(tmp_path), stdout=out)

    path = tmp_path / "812345676FEC20261231.txt"
    assert str(path) in out.getvalue()
    text = path.read_bytes().decode("iso-8859-15")
    assert "Aliénor L'Héritier" in text  # ISO 8859-15 has é, not the typographic apostrophe
    assert text.splitlines()[0].split("\t") == list(FEC_COLUMNS)


def test_fec_command_refuses_a_public_operator_and_an_unknown_one(public_operator, tmp_path):
    with pytest.raises(CommandError, match="régie"):
        call_command("export_fec", str(public_operator.pk), "2026", output=str(tmp_path))
    with pytest.raises(CommandError, match="Aucune structure"):
        call_command("export_fec", "99999", "2026", output=str(tmp_path))


def test_an_operator_is_named_by_its_id_siret_or_siren(private_operator):
    assert operator_named(str(private_operator.pk)) == private_operator
    assert operator_named("812 345 676 00017") == private_operator
    assert operator_named("812345676") == private_operator


# --- The sales journal ---


def test_the_sales_journal_adds_up_to_its_bills_credit_notes_negative(
    private_operator, alice, company, make_bill, mixed_invoice
):
    room = issue(
        make_bill(private_operator, company, [("Salle", 3, "25.00", 20)], month=MARCH), on=date(2026, 4, 2)
    )
    credit = issue(credit_note_for(room), on=date(2026, 4, 3))
    issue(
        make_bill(private_operator, alice, [("Jour", 1, "15", 20)], month=MARCH), on=date(2026, 5, 1)
    )  # after
    make_bill(private_operator, alice, [("Brouillon", 1, "15", 20)], month=MARCH)

    rows = read_csv(sales_journal(private_operator, date(2026, 3, 1), date(2026, 4, 30)))

    header, bills, total = rows[0], rows[1:-1], rows[-1]
    assert header == [
        "Date", "Numéro", "Type", "Client", "SIREN du client",
        "HT 5,5 %", "TVA 5,5 %", "HT 20 %", "TVA 20 %", "Total HT", "Total TVA", "Total TTC",
    ]  # fmt: skip
    assert [row[1] for row in bills] == [mixed_invoice.number, room.number, credit.number]
    assert bills[0][:5] == ["31/03/2026", mixed_invoice.number, "facture", "Alice Martin", ""]
    assert bills[1][3:5] == ["Volcans Numériques SAS", "732829320"]
    assert bills[2][2] == "avoir" and bills[2][-1] == "-90,00"
    assert bills[0][5:] == ["111,10", "6,11", "300,00", "60,00", "411,10", "66,11", "477,21"]
    expected = mixed_invoice.total_incl_vat + room.total_incl_vat - credit.total_incl_vat
    assert total[1] == "Total" and money(total[-1]) == expected
    for column in range(5, len(header)):
        assert money(total[column]) == sum(money(row[column]) for row in bills)


def test_sales_journal_command_writes_its_file(private_operator, mixed_invoice, tmp_path):
    out = io.StringIO()

    call_command(
        "export_sales", str(private_operator.pk), "2026-03-01", "2026-03-31", output=str(tmp_path), stdout=out
    )

    path = tmp_path / "journal-des-ventes-812345676-20260301-20260331.csv"
    assert str(path) in out.getvalue() and "1 pièces" in out.getvalue()
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with pytest.raises(CommandError, match="Date invalide"):
        call_command("export_sales", str(private_operator.pk), "2026-03", "2026-03-31", output=str(tmp_path))


# --- The public-mode statements file ---

RATES = st.sampled_from(["0", "2.1", "5.5", "10", "20"])
SERVICE = st.tuples(
    st.decimals(min_value=Decimal("0.5"), max_value=Decimal("40"), places=3),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("950"), places=2),
    RATES,
)


@pytest.fixture
def public_company(company):
    company.billing_details.is_public_body = True
    company.billing_details.commitment_reference = "EJ-2026-0042"
    company.billing_details.service_code = "SERV-TIERS-LIEUX"
    company.billing_details.save()
    return company


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(services=st.lists(SERVICE, min_size=1, max_size=8), aid_share=st.none() | st.integers(1, 100))
def test_the_statements_file_adds_up_to_the_statements_to_the_cent(
    public_operator, public_company, alice, make_bill, services, aid_share
):
    lines = [(f"Prestation {i}", q, p, r) for i, (q, p, r) in enumerate(services)]
    if aid_share:  # an aid on the first line's rate, never more than that rate's base
        rate = services[0][2]
        base = sum(Decimal(q) * Decimal(p) for q, p, r in services if r == rate).quantize(Decimal("0.01"))
        lines.append(
            ("Aide", 1, -(base * aid_share / 100).quantize(Decimal("0.01")), rate, BillLine.Kind.AID)
        )
    statement = make_bill(public_operator, public_company, lines, kind=Bill.Kind.STATEMENT, month=MARCH)
    issue(statement, on=date(2026, 4, 2))
    statement.refresh_from_db()

    rows = read_csv(statements_csv(public_operator, 2026, 3))

    column = {name: i for i, name in enumerate(rows[0])}
    mine = [row for row in rows[1:] if row[column["reference_releve"]] == statement.reference]
    assert len(mine) == len(lines)
    assert sum(money(r[column["montant_ht"]]) for r in mine) == statement.total_excl_vat
    assert sum(money(r[column["montant_tva"]]) for r in mine) == statement.total_vat
    assert sum(money(r[column["montant_ttc"]]) for r in mine) == statement.total_incl_vat
    for row in mine:
        assert money(row[column["montant_ht"]]) + money(row[column["montant_tva"]]) == money(
            row[column["montant_ttc"]]
        )
    # The whole file adds up to all the month's statements.
    month = Bill.objects.filter(kind=Bill.Kind.STATEMENT, status=Bill.Status.ISSUED, period_start=MARCH)
    assert sum(money(r[column["montant_ttc"]]) for r in rows[1:]) == sum(b.total_incl_vat for b in month)


def test_the_statements_file_names_the_debtor_its_commitment_and_service(
    public_operator, public_company, alice, make_bill
):
    company_statement = make_bill(
        public_operator,
        public_company,
        [("Bureau privatif", 1, "350", 20), ("Salle de réunion", "1.5", "20", 20)],
        kind=Bill.Kind.STATEMENT,
        month=MARCH,
        buyer_is_public=True,
        commitment_reference="EJ-2026-0042",
    )
    BillLine.objects.filter(bill=company_statement, position=2).update(revenue_type=RevenueType.MEETING_ROOM)
    issue(company_statement, on=date(2026, 4, 1))
    issue(
        make_bill(public_operator, alice, [("Jour", 1, "12.50", 20)], kind=Bill.Kind.STATEMENT, month=MARCH),
        on=date(2026, 4, 1),
    )
    make_bill(public_operator, alice, [("Brouillon", 1, "12.50", 20)], kind=Bill.Kind.STATEMENT, month=MARCH)
    april = make_bill(
        public_operator, alice, [("Avril", 1, "12.50", 20)], kind=Bill.Kind.STATEMENT, month=date(2026, 4, 1)
    )
    issue(april, on=date(2026, 5, 2))

    rows = read_csv(statements_csv(public_operator, 2026, 3))

    assert tuple(rows[0]) == STATEMENT_COLUMNS
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [r["debiteur"] for r in records] == [
        "Alice Martin",
        "Volcans Numériques SAS",
        "Volcans Numériques SAS",
    ]
    office, room = records[1], records[2]
    assert office["reference_releve"] == f"REL-202603-{company_statement.pk:06d}"
    assert (office["siret_siren"], office["debiteur_public"]) == ("732829320", "oui")
    assert (office["reference_engagement"], office["code_service"]) == ("EJ-2026-0042", "SERV-TIERS-LIEUX")
    assert (office["nature_recette"], room["nature_recette"]) == ("coworking", "meeting_room")
    assert (room["quantite"], room["prix_unitaire_ht"], room["taux_tva"]) == ("1,5", "20,00", "20,00")
    assert (room["montant_ht"], room["montant_tva"], room["montant_ttc"]) == ("30,00", "6,00", "36,00")
    assert (office["periode"], office["date_emission"]) == ("03/2026", "01/04/2026")
    assert records[0]["debiteur_public"] == "non" and records[0]["code_service"] == ""
    assert not any(r["reference_releve"].startswith("F") for r in records)  # never a legal invoice number


def test_a_private_operator_has_no_statements_file(private_operator):
    with pytest.raises(ExportError, match="mode public"):
        statements_csv(private_operator, 2026, 3)


def test_statements_command_writes_the_month(public_operator, public_company, make_bill, tmp_path):
    bill = make_bill(
        public_operator,
        public_company,
        [("Bureau", 1, "350", 20)],
        kind=Bill.Kind.STATEMENT,
        month=MARCH,
        commitment_reference="EJ-2026-0042",
    )
    issue(bill, on=date(2026, 4, 1))
    out = io.StringIO()

    call_command("export_statements", public_operator.siret, "2026-03", output=str(tmp_path), stdout=out)

    path = tmp_path / "releves-200066637-2026-03.csv"
    assert str(path) in out.getvalue() and "1 lignes" in out.getvalue()
    assert "EJ-2026-0042" in path.read_text(encoding="utf-8")
    with pytest.raises(CommandError, match="AAAA-MM"):
        call_command("export_statements", public_operator.siret, "2026", output=str(tmp_path))
