"""Payments: allocated oldest first and never beyond what a bill asks, balances that credit notes bring back
exactly, and the régie's receipts — refused for a revenue type it may not collect, gapless when taken at once."""

import io
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from cocotte.billing import issuing, payments
from cocotte.billing.models import Allocation, Bill, Payment, RevenueType, Sequence
from cocotte.core.models import AuditEntry

CASH, CHEQUE, CARD, TRANSFER = (
    Payment.Method.CASH,
    Payment.Method.CHEQUE,
    Payment.Method.CARD,
    Payment.Method.TRANSFER,
)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def invoices(private_operator, alice, make_bill):
    """Three issued invoices of alice, oldest first: 18 €, 36 € and 54 € incl. VAT."""
    return [
        issuing.issue(make_bill(private_operator, alice, [("Journée de coworking", n, "15.00", "20")]))
        for n in (1, 2, 3)
    ]


def statement(operator, debtor, make_bill, days=1, price="6.00"):
    """An issued liquidation statement (public mode): `days` half-days at `price`, VAT 20 %."""
    bill = make_bill(
        operator, debtor, [("Demi-journée de coworking", days, price, "20")], kind=Bill.Kind.STATEMENT
    )
    return issuing.issue(bill)


def allocated(bill) -> list[Decimal]:
    return list(Allocation.objects.filter(bill=bill).order_by("pk").values_list("amount", flat=True))


# --- Allocation and balances ------------------------------------------------------------------------------


def test_partial_payments_settle_the_oldest_bills_first(private_operator, alice, invoices, today):
    first, second, third = invoices

    payments.record(private_operator, alice, "30.00", TRANSFER, today, reference="VIR 1")
    assert payments.is_paid(first)
    assert payments.remaining(second) == Decimal("24.00")
    assert payments.remaining(third) == Decimal("54.00")

    payments.record(private_operator, alice, "40.00", CHEQUE, today, reference="Chèque 0000123")
    assert allocated(second) == [Decimal("12.00"), Decimal("24.00")]
    assert payments.remaining(third) == Decimal("38.00")
    assert [b.pk for b in payments.open_bills(alice)] == [third.pk]
    assert payments.balance(alice, private_operator) == Decimal("38.00")


def test_a_payment_goes_to_the_bills_it_names_and_never_beyond_what_they_ask(
    private_operator, alice, invoices, today
):
    first, _second, third = invoices

    payment = payments.record(private_operator, alice, "60.00", TRANSFER, today, bills=[third])

    assert allocated(third) == [Decimal("54.00")]
    assert payments.remaining(first) == Decimal("18.00")  # not named: untouched
    assert payments.unallocated(payment) == Decimal("6.00")  # a credit on account
    assert payments.balance(alice) == Decimal("18.00") + Decimal("36.00") - Decimal("6.00")


def test_an_overpayment_leaves_a_credit_on_account(private_operator, alice, invoices, today):
    payment = payments.record(private_operator, alice, "200.00", TRANSFER, today)

    assert sum(allocated(b)[0] for b in invoices) == Decimal("108.00")
    assert payments.unallocated(payment) == Decimal("92.00")
    assert payments.balance(alice) == Decimal("-92.00")
    assert not payments.open_bills(alice)


def test_bills_of_another_debtor_are_refused(private_operator, alice, bob, invoices, today):
    with pytest.raises(payments.PaymentError):
        payments.record(private_operator, bob, "10.00", TRANSFER, today, bills=[invoices[0]])
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", ["0", "-5", "10.005", "abc"])
def test_an_impossible_amount_is_refused(private_operator, alice, amount, today):
    with pytest.raises(payments.PaymentError):
        payments.record(private_operator, alice, amount, TRANSFER, today)
    assert not Payment.objects.exists()


def test_a_payment_in_the_future_is_refused(private_operator, alice, today):
    with pytest.raises(payments.PaymentError):
        payments.record(private_operator, alice, "10.00", TRANSFER, today + timedelta(days=1))


def test_a_credit_note_reduces_what_the_invoice_still_asks(private_operator, company, make_bill, today):
    invoice = issuing.issue(make_bill(private_operator, company, [("Mois de bureau", 1, "200.00", "20")]))
    line = invoice.lines.get()
    line.quantity, line.amount_excl_vat = Decimal("1"), Decimal("50.00")  # a partial credit note: 50 € HT
    issuing.issue(issuing.credit_note_for(invoice, lines=[line]))

    assert payments.remaining(invoice) == Decimal("180.00")
    payments.record(private_operator, company, "500.00", TRANSFER, today)
    assert allocated(invoice) == [Decimal("180.00")]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.tuples(
            st.decimals("0.5", "30", places=1),
            st.decimals("0.01", "500", places=2),
            st.sampled_from(["20", "10", "5.5", "0"]),
        ),
        min_size=1,
        max_size=6,
    ),
    paid=st.decimals("0", "300", places=2),
)
def test_a_credit_note_for_the_whole_invoice_brings_the_balance_back_exactly(
    private_operator, company, make_bill, lines, paid
):
    if paid:
        payments.record(private_operator, company, paid, TRANSFER, timezone.localdate())
    before = payments.balance(company, private_operator)
    invoice = issuing.issue(
        make_bill(private_operator, company, [(f"Ligne {i}", q, p, r) for i, (q, p, r) in enumerate(lines)])
    )
    assert payments.balance(company, private_operator) == before + invoice.total_incl_vat

    issuing.issue(issuing.credit_note_for(invoice))

    assert payments.balance(company, private_operator) == before
    assert payments.remaining(invoice) == 0


def test_payments_are_audited(private_operator, alice, invoices, sophie, today):
    payment = payments.record(private_operator, alice, "18.00", CHEQUE, today, by=sophie)

    entry = AuditEntry.objects.get(action="billing.payment", object_id=payment.pk)
    assert entry.actor == sophie
    assert entry.data["allocations"] == {invoices[0].number: "18.00"}


# --- The régie (public mode) ------------------------------------------------------------------------------


def test_a_payment_on_site_gets_a_numbered_receipt_and_settles_the_statement(
    public_operator, alice, make_bill, today
):
    owed = statement(public_operator, alice, make_bill, days=2)  # 14.40 €

    first = payments.record(public_operator, alice, "10.00", CASH, today, revenue_type=RevenueType.COWORKING)
    second = payments.record(
        public_operator, alice, "4.40", CHEQUE, today, revenue_type=RevenueType.COWORKING, reference="0000456"
    )

    assert (first.receipt_number, second.receipt_number) == (f"R{today.year}-000001", f"R{today.year}-000002")
    assert payments.is_paid(owed) and payments.balance(alice, public_operator) == 0


def test_a_receipt_for_a_revenue_type_the_regie_may_not_collect_is_refused_and_nothing_is_written(
    public_operator, alice, make_bill, today
):
    statement(public_operator, alice, make_bill)
    audited = AuditEntry.objects.count()

    with pytest.raises(payments.PaymentError, match="n’est pas autorisée à encaisser"):
        payments.record(public_operator, alice, "7.20", CASH, today, revenue_type=RevenueType.OFFICE)
    with pytest.raises(payments.PaymentError, match="type de recette"):
        payments.record(public_operator, alice, "7.20", CARD, today)

    assert not Payment.objects.exists() and not Allocation.objects.exists()
    assert not Sequence.objects.filter(series__startswith="R").exists()
    assert AuditEntry.objects.count() == audited


def test_a_transfer_to_the_public_accountant_gets_no_receipt(public_operator, alice, make_bill, today):
    statement(public_operator, alice, make_bill)

    payment = payments.record(public_operator, alice, "7.20", TRANSFER, today)

    assert payment.receipt_number == "" and payments.balance(alice) == 0


def test_a_private_operator_gives_no_receipt_number(private_operator, alice, invoices, today):
    payment = payments.record(private_operator, alice, "18.00", CASH, today)
    assert payment.receipt_number == ""


def test_receipts_follow_the_order_of_dates(public_operator, alice, today):
    payments.record(public_operator, alice, "5.00", CASH, today, revenue_type=RevenueType.COWORKING)
    with pytest.raises(payments.PaymentError, match="ordre des dates"):
        payments.record(
            public_operator,
            alice,
            "5.00",
            CASH,
            today - timedelta(days=3),
            revenue_type=RevenueType.COWORKING,
        )


@pytest.mark.django_db(transaction=True)
def test_receipts_taken_at_once_get_every_number_once_without_gaps(public_operator, alice, make_bill):
    owed = statement(public_operator, alice, make_bill, days=5, price="7.50")  # 45.00 €
    today = timezone.localdate()
    count = 8
    barrier, errors = threading.Barrier(count), []

    def take():
        try:
            barrier.wait()
            payments.record(public_operator, alice, "10.00", CASH, today, revenue_type=RevenueType.COWORKING)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=take) for _ in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert not errors
    numbers = sorted(Payment.objects.values_list("receipt_sequence", flat=True))
    assert numbers == list(range(1, count + 1))
    assert Sequence.objects.get(operator=public_operator, series=f"R{today.year}").last == count
    # The statement's lock: eight payments at once settle its 45 € exactly, the rest is credit.
    assert sum(allocated(owed)) == Decimal("45.00")
    assert payments.balance(alice, public_operator) == Decimal("-35.00")


def test_the_pay_in_statement_sums_the_months_receipts(public_operator, alice, bob, today):
    coworking, room = RevenueType.COWORKING, RevenueType.MEETING_ROOM
    payments.record(public_operator, alice, "12.00", CASH, today, revenue_type=coworking)
    payments.record(public_operator, bob, "30.00", CHEQUE, today, revenue_type=room, reference="0000789")
    payments.record(public_operator, bob, "8.00", CASH, today, revenue_type=room)
    payments.record(public_operator, alice, "99.00", TRANSFER, today)  # not through the régie

    state = payments.pay_in(public_operator, today.year, today.month)

    assert state["count"] == 3 and state["total"] == Decimal("50.00")
    assert state["first_number"].endswith("000001") and state["last_number"].endswith("000003")
    assert state["continuous"]
    assert [(code, total) for code, _label, total in state["by_revenue_type"]] == [
        (coworking, Decimal("12.00")),
        (room, Decimal("38.00")),
    ]
    assert {code: total for code, _label, total in state["by_method"]} == {
        CASH: Decimal("20.00"),
        CHEQUE: Decimal("30.00"),
    }
    assert state["by_revenue_type_and_method"][(room, CASH)] == Decimal("8.00")

    text = pdf_text(payments.pay_in_pdf(public_operator, today.year, today.month))
    assert "État de versement" in text and state["last_number"] in text and "50,00" in text


def test_the_receipt_names_its_number_amount_and_what_it_settled(public_operator, alice, make_bill, today):
    owed = statement(public_operator, alice, make_bill)
    payment = payments.record(
        public_operator, alice, "10.00", CASH, today, revenue_type=RevenueType.COWORKING
    )

    pdf = payments.receipt_pdf(payment)

    text = pdf_text(pdf)
    assert pdf.startswith(b"%PDF")
    assert payment.receipt_number in text and "10,00" in text and owed.reference in text
    assert "2,80" in text  # the credit left on account


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
