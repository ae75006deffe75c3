"""Closed periods: their documents archived with a checksum manifest that finds any changed byte, and nothing
issued in them any more."""

import csv
import hashlib
import io
import re
import zipfile
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cocotte.billing.closings import ClosingError, close, verify_closing
from cocotte.billing.issuing import IssueError, credit_note_for, issue
from cocotte.billing.models import Bill, Closing

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


@pytest.fixture
def issued(make_bill):
    """A bill issued on a day, with its PDF as it was sent (here a stand-in: the archive keeps its bytes)."""

    def make(operator, debtor, on, *, month=MARCH, kind=Bill.Kind.INVOICE, lines=(("Jour", 2, "15", 20),)):
        bill = issue(make_bill(operator, debtor, list(lines), month=month, kind=kind), on=on)
        Bill.objects.filter(pk=bill.pk).update(pdf=f"%PDF-1.7 {bill.reference}".encode())
        bill.refresh_from_db()
        return bill

    return make


@pytest.fixture
def march(private_operator, alice, company, issued):
    """March closed with two invoices and a credit note issued in it, one invoice before, one after."""
    issued(private_operator, alice, date(2026, 2, 27), month=date(2026, 2, 1))
    close(private_operator, "month", date(2026, 2, 1))
    first = issued(private_operator, alice, date(2026, 3, 2))
    second = issued(private_operator, company, date(2026, 3, 20))
    credit = issue(credit_note_for(first), on=date(2026, 3, 25))
    Bill.objects.filter(pk=credit.pk).update(pdf=b"%PDF-1.7 credit")
    issued(private_operator, alice, date(2026, 4, 2), month=APRIL)
    closing = close(private_operator, "month", MARCH)
    return closing, [first, second, Bill.objects.get(pk=credit.pk)]


def contents(closing):
    with zipfile.ZipFile(io.BytesIO(bytes(closing.archive))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_closing_archives_the_periods_pdfs_its_journal_and_the_chains_heads(march):
    closing, (first, second, credit) = march

    files = contents(closing)

    assert (closing.starts_on, closing.ends_on) == (MARCH, date(2026, 3, 31))
    assert sorted(files) == sorted(
        [
            f"pieces/{first.number}.pdf",
            f"pieces/{second.number}.pdf",
            f"pieces/{credit.number}.pdf",
            "journal-des-ventes.csv",
            "EMPREINTES.csv",
            "MANIFEST.sha256",
        ]
    )
    assert files[f"pieces/{second.number}.pdf"] == bytes(second.pdf)
    journal = files["journal-des-ventes.csv"].decode("utf-8-sig")
    assert [line.split(";")[1] for line in journal.splitlines()[1:-1]] == [
        first.number,
        second.number,
        credit.number,
    ]
    heads = list(csv.DictReader(io.StringIO(files["EMPREINTES.csv"].decode()), delimiter=";"))
    # The heads at the end of March, not at closing time: April's invoice is not one of them.
    assert {(h["numero"], h["empreinte"]) for h in heads} == {
        (second.number, second.footprint),
        (credit.number, credit.footprint),
    }
    assert closing.last_footprint == credit.footprint  # the last bill issued by the end of March


def test_the_manifest_lists_every_file_in_sha256sum_format_and_checks(march):
    closing, _bills = march
    files = contents(closing)

    lines = closing.manifest.splitlines()
    assert files["MANIFEST.sha256"].decode() == closing.manifest
    assert len(lines) == len(files) - 1
    for line in lines:
        digest, name = re.fullmatch(r"([0-9a-f]{64})  (\S+)", line).groups()
        assert hashlib.sha256(files[name]).hexdigest() == digest
    assert closing.archive_sha256 == hashlib.sha256(bytes(closing.archive)).hexdigest()
    assert verify_closing(closing) == []


def test_one_byte_changed_in_the_stored_archive_is_found(march):
    closing, _bills = march
    archive = bytearray(closing.archive)
    archive[len(archive) // 3] ^= 0x01
    Closing.objects.filter(pk=closing.pk).update(archive=bytes(archive))
    closing.refresh_from_db()

    problems = verify_closing(closing)

    assert problems[0] == "L’archive ne correspond plus à son empreinte SHA-256 enregistrée."


def test_an_archived_file_replaced_with_a_consistent_archive_is_found_by_the_manifest(march):
    closing, (first, _second, _credit) = march
    files = contents(closing)
    files[f"pieces/{first.number}.pdf"] = b"%PDF-1.7 forged"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    forged = buffer.getvalue()
    Closing.objects.filter(pk=closing.pk).update(
        archive=forged, archive_sha256=hashlib.sha256(forged).hexdigest()
    )
    closing.refresh_from_db()

    assert verify_closing(closing) == [f"pieces/{first.number}.pdf a changé depuis la clôture."]


def test_a_chain_rewritten_after_the_closing_is_found(march):
    closing, (_first, second, _credit) = march
    Bill.objects.filter(pk=second.pk).update(footprint="0" * 64)

    assert verify_closing(closing) == [
        f"La série {second.series} a été réécrite : {second.number} n’a plus l’empreinte de la clôture."
    ]


def test_nothing_is_issued_in_a_closed_month(march, private_operator, alice, make_bill):
    late = make_bill(private_operator, alice, [("Oubli", 1, "15", 20)], month=APRIL)

    with pytest.raises(IssueError, match="clôturée"):
        issue(late, on=date(2026, 3, 31))
    assert issue(late, on=date(2026, 4, 3)).number


def test_a_draft_of_the_period_blocks_its_closing_and_is_named(private_operator, alice, make_bill, issued):
    issued(private_operator, alice, date(2026, 3, 2))
    draft = make_bill(private_operator, alice, [("Jour", 1, "15", 20)], month=MARCH)

    with pytest.raises(ClosingError, match=f"brouillons.*{draft.reference}"):
        close(private_operator, "month", MARCH)
    assert not Closing.objects.exists()

    draft.delete()
    assert close(private_operator, "month", MARCH).pk


def test_closings_refuse_a_period_twice_out_of_order_unfinished_or_leaving_an_earlier_one_open(
    private_operator, alice, issued
):
    issued(private_operator, alice, date(2026, 2, 10), month=date(2026, 2, 1))
    issued(private_operator, alice, date(2026, 3, 10))

    with pytest.raises(ClosingError, match="antérieure non clôturée"):
        close(private_operator, "month", MARCH)  # February has an invoice and is open
    close(private_operator, "month", date(2026, 2, 1))
    close(private_operator, "month", MARCH)
    with pytest.raises(ClosingError, match="déjà clôturée"):
        close(private_operator, "month", MARCH)
    close(private_operator, "month", date(2026, 5, 1))  # April had nothing issued: it may stay open
    with pytest.raises(ClosingError, match="postérieure"):
        close(private_operator, "month", APRIL)
    this_month = timezone.localdate().replace(day=1)
    with pytest.raises(ClosingError, match="pas terminée"):
        close(private_operator, "month", this_month)
    with pytest.raises(ClosingError, match="1er"):
        close(private_operator, "month", date(2026, 6, 2))


def test_a_fiscal_year_closes_after_its_months_and_then_holds_them(private_operator, alice, issued):
    year = timezone.localdate().year - 1
    january = issued(private_operator, alice, date(year, 1, 15), month=date(year, 1, 1))
    close(private_operator, "month", date(year, 1, 1))
    december = issued(private_operator, alice, date(year, 12, 15), month=date(year, 12, 1))

    closing = close(private_operator, "year", date(year, 1, 1))

    assert (closing.starts_on, closing.ends_on) == (date(year, 1, 1), date(year, 12, 31))
    assert {f"pieces/{january.number}.pdf", f"pieces/{december.number}.pdf"} <= set(contents(closing))
    assert verify_closing(closing) == []
    with pytest.raises(ClosingError, match="exercice déjà clôturé"):
        close(private_operator, "month", date(year, 12, 1))
    with pytest.raises(ClosingError, match="déjà clôturée"):
        close(private_operator, "year", date(year, 1, 1))


def test_a_public_operators_closing_archives_its_statements(public_operator, company, issued):
    statement = issued(public_operator, company, date(2026, 4, 2), kind=Bill.Kind.STATEMENT)

    closing = close(public_operator, "month", APRIL)

    files = contents(closing)
    assert f"pieces/{statement.reference}.pdf" in files
    assert statement.reference in files["journal-des-ventes.csv"].decode("utf-8-sig")


def test_close_period_command_records_the_closing_and_writes_the_archive(
    private_operator, alice, issued, tmp_path
):
    issued(private_operator, alice, date(2026, 3, 2))
    out = io.StringIO()

    call_command("close_period", private_operator.siret, "2026-03", output=str(tmp_path), stdout=out)

    closing = Closing.objects.get()
    assert "du 01/03/2026 au 31/03/2026" in out.getvalue() and closing.archive_sha256 in out.getvalue()
    assert (tmp_path / "cloture-812345676-2026-03.zip").read_bytes() == bytes(closing.archive)
    with pytest.raises(CommandError, match="déjà clôturée"):
        call_command("close_period", private_operator.siret, "2026-03")
    with pytest.raises(CommandError, match="Période invalide"):
        call_command("close_period", private_operator.siret, "mars")
    later = (timezone.localdate() + timedelta(days=40)).strftime("%Y-%m")
    with pytest.raises(CommandError, match="pas terminée"):
        call_command("close_period", private_operator.siret, later)


def test_a_bill_never_rendered_is_rendered_for_the_archive_and_kept(private_operator, alice, make_bill):
    bill = issue(
        make_bill(private_operator, alice, [("Jour", 1, "15", 20)], month=MARCH), on=date(2026, 3, 3)
    )
    assert not bill.pdf

    closing = close(private_operator, "month", MARCH)

    bill.refresh_from_db()
    assert bytes(bill.pdf).startswith(b"%PDF")
    assert contents(closing)[f"pieces/{bill.number}.pdf"] == bytes(bill.pdf)
    assert verify_closing(closing) == []
