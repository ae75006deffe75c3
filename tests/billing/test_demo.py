"""The demo holds billing as a place that has been running: both modes, plans, last month billed and partly
paid, a credit note, an aid in the ledger, the public month exported — every document valid by the standard."""

import csv
import io
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from cocotte.billing import issuing, payments
from cocotte.billing.models import AidLedgerEntry, Bill, Holding, Operator, Payment
from tests.billing.validation import fatal_failures, xsd_errors


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.COCOTTE_BILLING_WORKERS = 1
    call_command("seed_demo", stdout=StringIO())
    return tmp_path


def test_the_demo_bills_last_month_in_both_modes_and_partly_paid(demo):
    modes = set(Operator.objects.values_list("mode", flat=True))
    assert modes == {Operator.Mode.PUBLIC, Operator.Mode.PRIVATE}
    invoices = Bill.objects.filter(kind=Bill.Kind.INVOICE, status=Bill.Status.ISSUED)
    statements = Bill.objects.filter(kind=Bill.Kind.STATEMENT, status=Bill.Status.ISSUED)
    assert invoices.exists() and statements.exists()
    assert not statements.exclude(number="").exists()  # public mode: no legal number
    left = [payments.remaining(bill) for bill in invoices]
    assert any(
        0 < amount < bill.total_incl_vat for amount, bill in zip(left, invoices, strict=True)
    )  # partly
    assert any(amount == 0 for amount in left)  # and paid
    assert Payment.objects.filter(receipt_series__startswith="R").exists()  # a régie receipt
    assert (
        Holding.objects.filter(plan__kind="lease").exists()
        and Holding.objects.filter(plan__kind="card").exists()
    )
    assert AidLedgerEntry.objects.exists()
    assert Bill.objects.filter(lines__kind="aid").exists()
    assert not issuing.verify()


def test_every_demo_invoice_and_credit_note_passes_the_xsd_and_the_en16931_rules(demo):
    documents = Bill.objects.filter(
        kind__in=[Bill.Kind.INVOICE, Bill.Kind.CREDIT_NOTE], status=Bill.Status.ISSUED
    )
    assert documents.filter(kind=Bill.Kind.CREDIT_NOTE).exists()
    for bill in documents:
        [xml] = PdfReader(io.BytesIO(bytes(bill.pdf))).attachments["factur-x.xml"]
        assert xsd_errors(xml) == [], bill.number
        assert fatal_failures(xml) == [], bill.number


def test_the_public_months_export_is_written_and_balances_to_the_cent(demo):
    [export] = (demo / "exports").glob("releves-*.csv")
    rows = list(csv.DictReader(StringIO(export.read_text(encoding="utf-8-sig")), delimiter=";"))
    total = sum(Decimal(row["montant_ttc"].replace(",", ".")) for row in rows)
    statements = Bill.objects.filter(kind=Bill.Kind.STATEMENT, status=Bill.Status.ISSUED)
    assert total == sum(bill.total_incl_vat for bill in statements)


def test_seeding_again_bills_nothing_twice(demo):
    before = Bill.objects.count()
    call_command("seed_demo", stdout=StringIO())
    assert Bill.objects.count() == before
