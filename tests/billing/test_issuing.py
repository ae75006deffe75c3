"""Issuing: gapless numbers per series, an issued bill that never changes, and footprints that show any
change made behind the application's back."""

import threading
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from cocotte.billing import issuing
from cocotte.billing.models import Bill, BillLine, IssuedBillError


@pytest.fixture
def three_invoices(private_operator, company, alice, make_bill):
    bills = [
        make_bill(private_operator, debtor, [("Journée de coworking", n, "15.00", "20")])
        for n, debtor in ((1, company), (2, alice), (3, company))
    ]
    return [issuing.issue(bill) for bill in bills]


def test_numbers_follow_each_other_without_gaps(three_invoices):
    assert [b.number[-6:] for b in three_invoices] == ["000001", "000002", "000003"]
    assert three_invoices[0].number.startswith("TM")
    assert three_invoices[2].total_incl_vat == Decimal("54.00")


def test_an_issued_bill_cannot_be_edited_or_deleted(three_invoices):
    bill = three_invoices[0]
    bill.buyer_name = "Quelqu’un d’autre"
    with pytest.raises(IssuedBillError):
        bill.save()
    with pytest.raises(IssuedBillError):
        bill.delete()
    line = bill.lines.first()
    line.quantity = 9
    with pytest.raises(IssuedBillError):
        line.save()


def test_one_changed_byte_makes_verify_invoices_fail_and_name_the_bill(three_invoices):
    call_command("verify_invoices")  # intact
    altered = three_invoices[1]
    with connection.cursor() as cursor:  # behind the application's back
        cursor.execute(
            "UPDATE billing_billline SET label = %s WHERE bill_id = %s", ["Journée de coworkinG", altered.pk]
        )

    with pytest.raises(CommandError, match=altered.number):
        call_command("verify_invoices")


def test_a_credit_note_for_the_whole_invoice_cancels_it_exactly_and_no_more(three_invoices):
    invoice = three_invoices[2]
    credit = issuing.issue(issuing.credit_note_for(invoice))

    assert credit.kind == Bill.Kind.CREDIT_NOTE and credit.number.startswith("AV")
    assert credit.total_incl_vat == invoice.total_incl_vat
    with pytest.raises(issuing.IssueError):
        issuing.issue(issuing.credit_note_for(invoice))


def test_a_statement_never_gets_a_legal_number(public_operator, alice, make_bill):
    statement = issuing.issue(
        make_bill(public_operator, alice, [("Demi-journée", 2, "6.00", "20")], kind=Bill.Kind.STATEMENT)
    )

    assert statement.number == "" and statement.series.startswith("LIQ")
    with pytest.raises(issuing.IssueError):
        issuing.issue(make_bill(public_operator, alice, [("Demi-journée", 1, "6.00", "20")]))


def test_a_bill_without_lines_is_not_issued(private_operator, alice, make_bill):
    with pytest.raises(issuing.IssueError):
        issuing.issue(make_bill(private_operator, alice, []))
    assert not BillLine.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_bills_issued_at_once_get_every_number_once_without_gaps(private_operator, company, make_bill):
    drafts = [make_bill(private_operator, company, [("Journée", 1, "15.00", "20")]) for _ in range(8)]
    barrier, errors = threading.Barrier(len(drafts)), []

    def issue(bill):
        try:
            barrier.wait()
            issuing.issue(bill)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=issue, args=(bill,)) for bill in drafts]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert not errors
    sequences = sorted(Bill.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, 9))
    assert not issuing.verify()  # and the chain holds, in number order
