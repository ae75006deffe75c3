"""Aids to companies: the de minimis ceiling over any three years, the gross grant equivalent, the aid lines a
draft bill gets, the statement and the ledger export."""

import csv
import io
import threading
import time
from datetime import date
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from cocotte.accounts.models import Organisation
from cocotte.billing import aids
from cocotte.billing.models import Aid, AidLedgerEntry, RevenueType
from cocotte.billing.totals import totals_of
from cocotte.core.models import AuditEntry

FUNDER = "Hautes Terres Communauté"
JANUARY = (date(2027, 1, 1), date(2027, 1, 31))


def grant_worth(operator, company, amount, *, on=date(2027, 1, 15), **fields):
    """An aid whose gross grant equivalent is `amount`: that monthly amount over one whole month."""
    return aids.grant(
        operator,
        company,
        kind=fields.pop("kind", Aid.Kind.REDUCED_RATE),
        funder=fields.pop("funder", FUNDER),
        starts_on=fields.pop("starts_on", JANUARY[0]),
        ends_on=fields.pop("ends_on", JANUARY[1]),
        monthly_amount=Decimal(amount),
        granted_on=on,
        **fields,
    )


def declared(company, amount, on, funder="Région Auvergne-Rhône-Alpes"):
    return aids.declare(
        company,
        granted_on=on,
        amount=Decimal(amount),
        funder=funder,
        aid_type="subvention d’investissement",
        legal_basis="Règlement (UE) 2023/2831",
    )


def written():
    return Aid.objects.count(), AidLedgerEntry.objects.count(), AuditEntry.objects.count()


# --- The ceiling ------------------------------------------------------------------------------------------


def test_a_grant_just_under_or_exactly_at_the_ceiling_passes(private_operator, company, alice):
    declared(company, "298000.00", date(2026, 5, 1))

    under = grant_worth(private_operator, company, "999.99", by=alice)
    at = grant_worth(private_operator, company, "1000.01")

    assert aids.window_total(company.siren, date(2027, 1, 15)) == aids.CEILING
    assert under.gross_grant_equivalent == Decimal("999.99") and under.granted_by == alice
    entry = at.ledger_entry
    assert (entry.siren, entry.amount, entry.funder, entry.declared) == (
        "732829320",
        Decimal("1000.01"),
        FUNDER,
        False,
    )
    assert entry.aid_type == "tarif réduit" and entry.legal_basis == aids.LEGAL_BASIS
    assert AuditEntry.objects.filter(action="billing.aid.granted", object_id=at.pk).exists()


def test_one_cent_over_the_ceiling_is_refused_with_the_figures_and_nothing_written(private_operator, company):
    declared(company, "299000.00", date(2026, 5, 1))
    before = written()

    with pytest.raises(aids.DeMinimisExceeded) as refused:
        grant_worth(private_operator, company, "1000.01")

    message = refused.value.messages[0]
    assert "SIREN 732829320" in message
    for figure in ("299\u202f000,00\u00a0€", "1\u202f000,01\u00a0€", "300\u202f000,00\u00a0€", "0,01\u00a0€"):
        assert figure in message
    assert (refused.value.window_total, refused.value.amount) == (Decimal("299000.00"), Decimal("1000.01"))
    assert isinstance(refused.value, ValidationError)
    assert written() == before


def test_declared_aid_from_other_funders_counts(private_operator, company):
    declared(company, "150000", date(2025, 3, 1), funder="Région")
    declared(company, "149000.50", date(2026, 9, 1), funder="État")

    assert aids.window_total(company.siren, date(2027, 1, 15)) == Decimal("299000.50")
    with pytest.raises(aids.DeMinimisExceeded):
        grant_worth(private_operator, company, "1000")
    assert grant_worth(private_operator, company, "999.50").ledger_entry.amount == Decimal("999.50")


def test_a_company_without_a_siren_gets_no_aid(private_operator):
    association = Organisation.objects.create(name="Les Amis du Plomb du Cantal")

    with pytest.raises(ValidationError, match="SIREN"):
        grant_worth(private_operator, association, "100")
    with pytest.raises(ValidationError, match="SIREN"):
        declared(association, "100", date(2027, 1, 1))
    assert written() == (0, 0, 0)


# --- The window's edges -------------------------------------------------------------------------------------


def test_an_aid_drops_out_exactly_three_years_after_its_grant(private_operator, company):
    declared(company, "300000", date(2024, 3, 15))

    assert aids.window_total(company.siren, date(2027, 3, 14)) == Decimal("300000.00")
    assert aids.window_total(company.siren, date(2027, 3, 15)) == Decimal("0.00")
    with pytest.raises(aids.DeMinimisExceeded):
        grant_worth(private_operator, company, "0.01", on=date(2027, 3, 14))
    assert grant_worth(private_operator, company, "300000", on=date(2027, 3, 15))


def test_an_aid_of_29_february_counts_until_28_february_three_years_on(company):
    declared(company, "1000", date(2024, 2, 29))

    assert aids.window_total(company.siren, date(2027, 2, 28)) == Decimal("1000.00")
    assert aids.window_total(company.siren, date(2027, 3, 1)) == Decimal("0.00")


def test_the_three_years_ending_on_29_february_start_on_1_march(company):
    declared(company, "100", date(2025, 2, 28))
    declared(company, "20", date(2025, 3, 1))
    declared(company, "3", date(2028, 2, 29))

    assert aids.window_after(date(2028, 2, 29)) == date(2025, 2, 28)
    assert aids.window_total(company.siren, date(2028, 2, 29)) == Decimal("23.00")
    assert aids.window_total(company.siren, date(2028, 2, 28)) == Decimal("20.00")


def test_a_grant_dated_in_the_past_may_not_push_a_later_period_over(private_operator, company):
    """On 1 January 2025 the ledger holds nothing yet; but the three years ending on 1 June 2027 would hold
    both aids."""
    declared(company, "200000", date(2027, 6, 1))

    with pytest.raises(aids.DeMinimisExceeded) as refused:
        grant_worth(private_operator, company, "150000", on=date(2025, 1, 1))
    assert refused.value.window_total == Decimal("200000.00")
    assert grant_worth(private_operator, company, "150000", on=date(2024, 6, 1))  # out of that period


# --- The gross grant equivalent ----------------------------------------------------------------------------


def test_six_free_months_are_worth_six_market_rents(private_operator, company):
    aid = aids.grant(
        private_operator,
        company,
        kind=Aid.Kind.FREE_MONTHS,
        funder=FUNDER,
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 6, 30),
        market_monthly_rent=Decimal("450.00"),
        monthly_rent=Decimal("300.00"),  # the listed rent is below the market: the market rent counts
        revenue_types=[RevenueType.OFFICE],
        granted_on=date(2026, 12, 15),
    )

    assert aid.percent == Decimal("100")
    assert aid.gross_grant_equivalent == 6 * Decimal("450.00")
    assert aid.ledger_entry.amount == Decimal("2700.00")


def test_half_the_rent_covered_is_worth_the_market_rent_less_the_rent_charged(private_operator, company):
    aid = aids.grant(
        private_operator,
        company,
        kind=Aid.Kind.RENT_COVERAGE,
        funder=FUNDER,
        starts_on=date(2027, 1, 15),
        ends_on=date(2028, 1, 14),  # twelve months, counted by days
        percent=Decimal("50"),
        market_monthly_rent=Decimal("500.00"),
        monthly_rent=Decimal("400.00"),
    )

    assert aid.gross_grant_equivalent == (Decimal("500.00") - Decimal("200.00")) * 12
    assert aids.gross_grant_equivalent(months=12, percent=50, monthly_rent=Decimal("400")) == Decimal(
        "2400.00"
    )
    assert aids.gross_grant_equivalent(
        months=3, percent=100, market_monthly_rent=Decimal("333.33")
    ) == Decimal("999.99")
    # each calendar month by the share of its days: what the monthly bills will take
    assert aids.months_of(date(2027, 2, 15), date(2027, 3, 14)) == Fraction(14, 28) + Fraction(14, 31)


# --- Aid lines on a draft bill -----------------------------------------------------------------------------


def bill_like(operator, company, start=JANUARY[0], end=JANUARY[1]):
    return SimpleNamespace(
        organisation_id=company.pk, operator_id=operator.pk, period_start=start, period_end=end
    )


def service(amount, rate="20", revenue_type=RevenueType.OFFICE, start=JANUARY[0], end=JANUARY[1]):
    return {
        "label": "Bureau privatif",
        "revenue_type": revenue_type,
        "vat_rate": Decimal(rate),
        "amount_excl_vat": Decimal(amount),
        "service_start": start,
        "service_end": end,
    }


def coverage(operator, company, *, percent=None, monthly_amount=None, starts_on=date(2027, 1, 1), **fields):
    return aids.grant(
        operator,
        company,
        kind=fields.pop("kind", Aid.Kind.RENT_COVERAGE),
        funder=fields.pop("funder", FUNDER),
        starts_on=starts_on,
        ends_on=fields.pop("ends_on", date(2027, 12, 31)),
        percent=percent,
        monthly_amount=monthly_amount,
        monthly_rent=fields.pop("monthly_rent", Decimal("1000")),
        granted_on=date(2026, 12, 1),
        **fields,
    )


def test_a_percent_aid_on_two_vat_rates_gives_one_line_per_rate(private_operator, company):
    aid = coverage(private_operator, company, percent=Decimal("25"))
    lines = [service("400.00", "20"), service("101.00", "10"), service("99.99", "20")]

    result = aids.aid_lines(bill_like(private_operator, company), lines)

    assert [(line["vat_rate"], line["amount_excl_vat"]) for line in result] == [
        (Decimal("10.00"), Decimal("-25.25")),
        (Decimal("20.00"), Decimal("-125.00")),  # 100.00 + 25.00 (24.9975 to the cent)
    ]
    first = result[0]
    assert first["label"] == "Aide : prise en charge du loyer — Hautes Terres Communauté"
    assert (first["kind"], first["aid_id"], first["quantity"], first["unit"]) == ("aid", aid.pk, 1, "forfait")
    assert first["unit_price_excl_vat"] == first["amount_excl_vat"]
    assert (first["service_start"], first["service_end"]) == JANUARY


def test_a_monthly_aid_never_takes_more_than_the_matching_lines(private_operator, company):
    coverage(private_operator, company, monthly_amount=Decimal("300.00"))

    small = aids.aid_lines(bill_like(private_operator, company), [service("120.00")])
    large = aids.aid_lines(bill_like(private_operator, company), [service("800.00")])

    assert [line["amount_excl_vat"] for line in small] == [Decimal("-120.00")]
    assert [line["amount_excl_vat"] for line in large] == [Decimal("-300.00")]


def test_a_monthly_aid_is_prorated_to_the_days_it_covers(private_operator, company):
    coverage(private_operator, company, monthly_amount=Decimal("310.00"), starts_on=date(2027, 1, 11))

    result = aids.aid_lines(bill_like(private_operator, company), [service("1000.00")])

    assert result[0]["amount_excl_vat"] == Decimal("-210.00")  # 21 days of 31
    assert (result[0]["service_start"], result[0]["service_end"]) == (date(2027, 1, 11), date(2027, 1, 31))


def test_an_aid_outside_the_period_or_of_another_operator_gives_nothing(
    private_operator, public_operator, company
):
    coverage(
        private_operator,
        company,
        percent=Decimal("50"),
        ends_on=date(2026, 12, 31),
        starts_on=date(2026, 1, 1),
    )
    coverage(public_operator, company, percent=Decimal("50"))
    coverage(private_operator, company, percent=Decimal("50"), starts_on=date(2027, 2, 1))

    assert aids.aid_lines(bill_like(private_operator, company), [service("500.00")]) == []
    assert (
        aids.aid_lines(
            SimpleNamespace(
                organisation_id=None,
                operator_id=private_operator.pk,
                period_start=JANUARY[0],
                period_end=JANUARY[1],
            ),
            [service("1")],
        )
        == []
    )


def test_an_aid_takes_only_the_lines_of_its_revenue_types(private_operator, company):
    coverage(private_operator, company, percent=Decimal("50"), revenue_types=[RevenueType.OFFICE])
    lines = [
        service("600.00", revenue_type=RevenueType.OFFICE),
        service("80.00", revenue_type=RevenueType.MEETING_ROOM),
        service("40.00", revenue_type=RevenueType.FABLAB),
    ]

    result = aids.aid_lines(bill_like(private_operator, company), lines)

    assert [(line["revenue_type"], line["amount_excl_vat"]) for line in result] == [
        (RevenueType.OFFICE, Decimal("-300.00"))
    ]


def test_two_aids_on_the_same_lines_never_take_more_than_all_of_them(private_operator, company):
    coverage(private_operator, company, percent=Decimal("70"))
    coverage(private_operator, company, percent=Decimal("70"), funder="Région")

    result = aids.aid_lines(bill_like(private_operator, company), [service("100.00")])

    assert [line["amount_excl_vat"] for line in result] == [Decimal("-70.00"), Decimal("-30.00")]


AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
DAYS = st.integers(min_value=1, max_value=31)
TYPES = st.sampled_from([RevenueType.OFFICE, RevenueType.COWORKING, RevenueType.MEETING_ROOM])
SERVICE_LINES = st.lists(
    st.tuples(AMOUNTS, st.sampled_from(["0", "5.5", "10", "20"]), TYPES, DAYS, DAYS), min_size=1, max_size=8
)
AIDS = st.lists(
    st.tuples(
        st.one_of(
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100"), places=2).map(
                lambda p: ("percent", p)
            ),
            AMOUNTS.map(lambda a: ("monthly_amount", a)),
        ),
        st.lists(TYPES, max_size=2, unique=True),
        DAYS,
        DAYS,
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(services=SERVICE_LINES, granted=AIDS)
def test_aid_lines_never_exceed_the_lines_they_reduce(private_operator, company, services, granted):
    """Any mix of percent and monthly aids, revenue types and periods inside the month."""

    def days(a, b):
        return date(2027, 1, min(a, b)), date(2027, 1, max(a, b))

    lines = [service(amount, rate, kind, *days(a, b)) for amount, rate, kind, a, b in services]
    with transaction.atomic():
        for (field, value), types, a, b in granted:
            start, end = days(a, b)
            aids.grant(
                private_operator,
                company,
                kind=Aid.Kind.REDUCED_RATE,
                funder=FUNDER,
                starts_on=start,
                ends_on=end,
                revenue_types=types,
                monthly_rent=Decimal("5000"),
                granted_on=date(2026, 12, 1),
                **{field: value},
            )
        result = aids.aid_lines(bill_like(private_operator, company), lines)
        transaction.set_rollback(True)

    for rate in {line["vat_rate"] for line in result}:
        taken = -sum(line["amount_excl_vat"] for line in result if line["vat_rate"] == rate)
        assert 0 < taken <= sum(line["amount_excl_vat"] for line in lines if line["vat_rate"] == rate)
    for aid_line in result:
        matching = [
            line
            for line in lines
            if (line["vat_rate"], line["revenue_type"]) == (aid_line["vat_rate"], aid_line["revenue_type"])
        ]
        assert -aid_line["amount_excl_vat"] <= sum(line["amount_excl_vat"] for line in matching)
    totals = totals_of(lines + result)
    assert totals.excl_vat >= 0 and totals.vat >= 0 and totals.incl_vat >= 0
    assert all(group.base >= 0 for group in totals.groups)


# --- The statement and the export --------------------------------------------------------------------------


def test_the_statement_names_the_company_its_aids_the_total_and_the_ceiling(private_operator, company):
    grant_worth(private_operator, company, "1234.56", on=date(2026, 3, 2))
    declared(company, "20000", date(2025, 6, 30), funder="Département du Cantal")
    declared(company, "99999", date(2024, 1, 2), funder="Ancien financeur")  # out of the three years

    pdf = aids.statement_pdf(company, on=date(2027, 1, 15))

    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    text = text.replace("\u202f", " ").replace("\u00a0", " ")
    assert pdf.startswith(b"%PDF-")
    for expected in (
        "Volcans Numériques SAS",
        "SIREN 732829320",
        "Hautes Terres Communauté",
        "Département du Cantal",
        "02/03/2026",
        "1 234,56 €",
        "21 234,56 €",  # the total
        "300 000,00 €",  # the ceiling
        "278 765,44 €",  # what remains
        "2023/2831",
        "15/01/2027",
        "du 16/01/2024 au 15/01/2027",
    ):
        assert expected in text, (expected, text)
    assert "Ancien financeur" not in text


def test_the_ledger_csv_reads_back_with_its_header_and_rows(private_operator, company):
    grant_worth(private_operator, company, "1234.50", on=date(2026, 3, 2))
    declared(company, "20000", date(2025, 6, 30), funder="Région ; Auvergne")
    other = Organisation.objects.create(name="Scierie du Lioran", siren="552100554")
    declared(other, "10", date(2027, 1, 1))

    text = aids.ledger_csv()
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))

    assert text.startswith("\ufeff")
    assert rows[0] == [
        "siren",
        "entreprise",
        "date",
        "financeur",
        "type",
        "base légale",
        "montant",
        "déclarée",
    ]
    assert rows[1:] == [
        [
            "552100554",
            "Scierie du Lioran",
            "01/01/2027",
            "Région Auvergne-Rhône-Alpes",
            "subvention d’investissement",
            "Règlement (UE) 2023/2831",
            "10,00",
            "oui",
        ],
        [
            "732829320",
            "Volcans Numériques SAS",
            "30/06/2025",
            "Région ; Auvergne",
            "subvention d’investissement",
            "Règlement (UE) 2023/2831",
            "20000,00",
            "oui",
        ],
        [
            "732829320",
            "Volcans Numériques SAS",
            "02/03/2026",
            FUNDER,
            "tarif réduit",
            aids.LEGAL_BASIS,
            "1234,50",
            "non",
        ],
    ]
    assert len(list(csv.reader(io.StringIO(aids.ledger_csv("552100554")), delimiter=";"))) == 2


# --- Two grants at once ------------------------------------------------------------------------------------

RACE_WINDOW = 0.05


@pytest.fixture
def slow_check(monkeypatch):
    """Widen the race: the ceiling check sleeps after summing, before the aid is written."""
    original = aids._worst_window

    def worst_window(*args):
        total = original(*args)
        time.sleep(RACE_WINDOW)
        return total

    monkeypatch.setattr(aids, "_worst_window", worst_window)


def grant_at_once(operator, company, threads=6, amount="200000"):
    """`threads` grants of `amount` each, released together, each on its own connection."""
    barrier, outcomes = threading.Barrier(threads), []

    def attempt():
        try:
            barrier.wait()
            grant_worth(operator, company, amount)
            outcomes.append("granted")
        except aids.DeMinimisExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    workers = [threading.Thread(target=attempt) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
def test_two_grants_at_once_cannot_both_pass_the_ceiling(private_operator, company, slow_check):
    assert grant_at_once(private_operator, company) == ["granted"] + ["refused"] * 5
    assert aids.window_total(company.siren, date(2027, 1, 15)) == Decimal("200000.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_the_lock_grants_at_once_pass_together(
    private_operator, company, slow_check, monkeypatch
):
    """The control: with the company's row not locked, PostgreSQL lets several grants read the same total."""

    def unlocked(organisation):
        return Organisation.objects.get(pk=organisation.pk)

    monkeypatch.setattr(aids, "_locked_company", unlocked)
    assert grant_at_once(private_operator, company).count("granted") > 1


def test_an_aid_period_is_checked(private_operator, company):
    with pytest.raises(ValidationError):
        coverage(
            private_operator,
            company,
            percent=Decimal("50"),
            starts_on=date(2027, 2, 1),
            ends_on=date(2027, 1, 1),
        )
    with pytest.raises(ValidationError):
        coverage(private_operator, company, percent=Decimal("50"), monthly_amount=Decimal("10"))
    with pytest.raises(ValidationError):
        coverage(private_operator, company, percent=Decimal("50"), revenue_types=["loyer"])
    assert written() == (0, 0, 0)
