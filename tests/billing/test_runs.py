"""A month's billing run: drafts per debtor from rent, subscriptions, plan sales and charges; review; issue."""

import io
import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from cocotte.billing import aids, issuing, ledger, runs, sending
from cocotte.billing.models import Bill, BillingRun, BillLine, Charge, Holding, Plan, RevenueType

JANUARY = date(2027, 1, 1)
TODAY = date(2027, 2, 2)  # the run for January is made early in February


def charge(
    operator, debtor, source_id, *, day=date(2027, 1, 12), price="15.00", quantity="1", source="test.booking"
):
    return ledger.hand_over(
        operator,
        debtor,
        source=source,
        source_id=source_id,
        revenue_type=RevenueType.MEETING_ROOM,
        label=f"Salle de réunion, le {day:%d/%m}",
        service_date=day,
        quantity=Decimal(quantity),
        unit="hour",
        unit_price_excl_vat=Decimal(price),
        vat_rate=Decimal("20"),
    )


@pytest.fixture
def plans(private_operator):
    make = Plan.objects.create
    return {
        "subscription": make(
            operator=private_operator,
            kind=Plan.Kind.SUBSCRIPTION,
            name="Coworking illimité",
            price_excl_vat=Decimal("150.00"),
        ),
        "lease": make(
            operator=private_operator,
            kind=Plan.Kind.LEASE,
            name="Bureau privatif",
            price_excl_vat=Decimal("310.00"),
        ),
        "card": make(
            operator=private_operator,
            kind=Plan.Kind.CARD,
            name="Carte 10 jours",
            price_excl_vat=Decimal("120.00"),
            days=10,
        ),
    }


def hold(plan, debtor, starts_on, ends_on=None, **fields):
    owner = {"organisation": debtor} if hasattr(debtor, "siren") else {"member": debtor}
    return Holding.objects.create(
        plan=plan, starts_on=starts_on, ends_on=ends_on, price_excl_vat=plan.price_excl_vat, **owner, **fields
    )


def lines_of(bill):
    return [(line.kind, line.label, line.amount_excl_vat) for line in bill.lines.order_by("position")]


def test_a_month_makes_one_draft_per_debtor_with_rent_prorated_and_its_charges(
    private_operator, plans, alice, bob, company, office
):
    hold(plans["subscription"], alice, date(2026, 10, 1))
    hold(plans["lease"], company, date(2027, 1, 15), resource=office)  # 17 days of 31
    hold(plans["card"], bob, date(2027, 1, 20))
    charge(private_operator, alice, 1)
    charge(private_operator, alice, 2, day=date(2027, 1, 26), quantity="2")

    run = runs.prepare(private_operator, JANUARY, today=TODAY)

    assert run.status == BillingRun.Status.DRAFTED and run.total == run.done == 3
    drafts = {bill.buyer_name: bill for bill in run.bills.all()}
    assert set(drafts) == {"Alice Martin", "Bob Durand", "Volcans Numériques SAS"}
    alice_bill = Bill.objects.get(run=run, member=alice)
    assert alice_bill.status == Bill.Status.DRAFT and alice_bill.kind == Bill.Kind.INVOICE
    assert [amount for _kind, _label, amount in lines_of(alice_bill)] == [
        Decimal("150.00"),
        Decimal("15.00"),
        Decimal("30.00"),
    ]
    assert alice_bill.total_excl_vat == Decimal("195.00") and alice_bill.total_incl_vat == Decimal("234.00")
    [(_kind, label, amount)] = lines_of(Bill.objects.get(run=run, organisation=company))
    assert amount == Decimal("170.00")  # 310 × 17/31
    assert "du 15/01 au 31/01, 17 jours sur 31" in label and office.name in label
    [(_kind, label, amount)] = lines_of(Bill.objects.get(run=run, member=bob))
    assert amount == Decimal("120.00") and "Carte 10 jours" in label


def test_running_a_month_again_adds_what_came_since_and_never_bills_a_month_twice(
    private_operator, plans, alice
):
    hold(plans["subscription"], alice, date(2026, 10, 1))
    charge(private_operator, alice, 1)
    runs.prepare(private_operator, JANUARY, today=TODAY)
    charge(private_operator, alice, 2, day=date(2027, 1, 30))

    run = runs.prepare(private_operator, JANUARY, today=TODAY)

    [bill] = run.bills.all()
    assert [amount for _k, _l, amount in lines_of(bill)] == [
        Decimal("150.00"),
        Decimal("15.00"),
        Decimal("15.00"),
    ]
    assert BillingRun.objects.count() == 1
    assert Charge.objects.filter(source__startswith=runs.RECURRING_SOURCE).count() == 1


def test_services_not_rendered_yet_wait_for_a_later_run_but_the_months_rent_is_billed_ahead(
    private_operator, plans, alice
):
    hold(plans["subscription"], alice, date(2026, 10, 1))
    charge(private_operator, alice, 1, day=date(2027, 1, 12))
    later = charge(private_operator, alice, 2, day=date(2027, 1, 20))

    run = runs.prepare(private_operator, JANUARY, today=date(2027, 1, 15))

    [bill] = run.bills.all()
    assert [amount for _k, _l, amount in lines_of(bill)] == [Decimal("150.00"), Decimal("15.00")]
    later.refresh_from_db()
    assert later.bill is None and later.status == Charge.Status.OPEN


def test_a_subscription_ending_mid_month_is_billed_for_its_days(private_operator, plans, alice):
    hold(plans["subscription"], alice, date(2026, 10, 1), ends_on=date(2027, 1, 10))

    run = runs.prepare(private_operator, JANUARY, today=TODAY)

    [(_kind, label, amount)] = lines_of(run.bills.get())
    assert amount == Decimal("48.39")  # 150 × 10/31, to the cent half up
    assert "10 jours sur 31" in label


def test_an_aid_adds_its_own_line_naming_the_funder(private_operator, plans, company, office):
    hold(plans["lease"], company, date(2026, 7, 1), resource=office)
    aids.grant(
        private_operator,
        company,
        kind="rent_coverage",
        funder="Hautes Terres Communauté",
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 6, 30),
        percent=Decimal("50"),
        market_monthly_rent=Decimal("400.00"),
        monthly_rent=Decimal("310.00"),
        granted_on=date(2026, 12, 15),
    )

    bill = runs.prepare(private_operator, JANUARY, today=TODAY).bills.get()

    kinds = lines_of(bill)
    assert kinds[-1][0] == BillLine.Kind.AID and "Hautes Terres Communauté" in kinds[-1][1]
    assert kinds[-1][2] == Decimal("-155.00")
    assert bill.total_excl_vat == Decimal("155.00")


def test_a_public_operator_prepares_statements(public_operator, alice):
    charge(public_operator, alice, 1)

    bill = runs.prepare(public_operator, JANUARY, today=TODAY).bills.get()

    assert bill.kind == Bill.Kind.STATEMENT
    issuing.issue(bill, on=TODAY)
    bill.refresh_from_db()
    assert bill.number == "" and bill.reference.startswith("REL-")


def test_staff_review_a_draft_line_by_line(private_operator, alice, sophie):
    kept, dropped = (
        charge(private_operator, alice, 1),
        charge(private_operator, alice, 2, day=date(2027, 1, 20)),
    )
    bill = runs.prepare(private_operator, JANUARY, today=TODAY).bills.get()
    first, second = bill.lines.order_by("position")

    runs.change_line(
        first,
        by=sophie,
        label="Salle, tarif associatif",
        quantity=Decimal("2"),
        unit_price=Decimal("10.00"),
        vat_rate=Decimal("20"),
    )
    runs.delete_line(second, by=sophie)
    runs.add_line(
        bill,
        by=sophie,
        label="Impressions",
        revenue_type=RevenueType.OTHER,
        quantity=Decimal("30"),
        unit="sheet",
        unit_price=Decimal("0.10"),
        vat_rate=Decimal("20"),
    )

    bill.refresh_from_db()
    assert [(label, amount) for _k, label, amount in lines_of(bill)] == [
        ("Salle, tarif associatif", Decimal("20.00")),
        ("Impressions", Decimal("3.00")),
    ]
    assert bill.total_incl_vat == Decimal("27.60")
    dropped.refresh_from_db()
    assert dropped.status == Charge.Status.VOID  # deleted from the draft: never billed
    kept.refresh_from_db()
    assert kept.amount_excl_vat == Decimal("15.00")  # what was handed over stays as it was


def test_a_discarded_draft_gives_its_charges_back_to_the_next_run(private_operator, alice, sophie):
    charge(private_operator, alice, 1)
    bill = runs.prepare(private_operator, JANUARY, today=TODAY).bills.get()

    runs.discard(bill, by=sophie)

    assert not Bill.objects.exists()
    assert Charge.objects.get().bill is None
    assert runs.prepare(private_operator, JANUARY, today=TODAY).bills.count() == 1


def test_issuing_a_run_numbers_freezes_renders_and_marks_the_charges_billed(
    private_operator, company, alice, bob
):
    for number, debtor in enumerate((company, alice, bob), start=1):
        charge(private_operator, debtor, number)
    run = runs.prepare(private_operator, JANUARY, today=TODAY)

    issued = runs.issue_run(run, on=TODAY, workers=1)

    run.refresh_from_db()
    assert run.status == BillingRun.Status.ISSUED and run.done == 3 and not run.error
    assert sorted(bill.number for bill in issued) == ["TM2027-000001", "TM2027-000002", "TM2027-000003"]
    assert set(Charge.objects.values_list("status", flat=True)) == {Charge.Status.BILLED}
    for bill in Bill.objects.all():
        assert bill.pdf and PdfReader(io.BytesIO(bytes(bill.pdf))).pages
    assert not issuing.verify()


def test_a_draft_that_cannot_be_issued_is_reported_and_the_others_go_on(private_operator, alice, bob, sophie):
    charge(private_operator, alice, 1)
    charge(private_operator, bob, 2)
    run = runs.prepare(private_operator, JANUARY, today=TODAY)
    empty = Bill.objects.get(member=bob)
    runs.delete_line(empty.lines.get(), by=sophie)

    issued = runs.issue_run(run, on=TODAY, workers=1)

    assert [bill.member for bill in issued] == [alice]
    run.refresh_from_db()
    assert run.status == BillingRun.Status.DRAFTED and "Bob" in run.error


def last_month() -> date:
    return (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)


def test_the_command_shows_its_progress(private_operator, alice, capsys):
    charge(private_operator, alice, 1, day=last_month())

    call_command(
        "billing_run",
        f"{last_month():%Y-%m}",
        "--operator",
        private_operator.siret,
        "--issue",
        "--workers",
        "1",
    )

    out = capsys.readouterr().out
    assert "brouillons : 1/1" in out and "émission : 1/1" in out and "1 pièce(s) émise(s)" in out


def test_the_command_refuses_a_month_it_cannot_read(db):
    with pytest.raises(Exception, match="AAAA-MM"):
        call_command("billing_run", "janvier")


# --- Two processes at once ----------------------------------------------------------------------------


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user, host, port = (
        settings["USER"] or "postgres",
        settings["HOST"] or "127.0.0.1",
        settings["PORT"] or 5432,
    )
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_two_issuing_processes_at_once_give_every_number_once_without_gaps(private_operator, make_user):
    members = [make_user(f"membre-{i}@example.org", first_name=f"Membre {i:02d}") for i in range(12)]
    for number, member in enumerate(members, start=1):
        charge(private_operator, member, number, day=last_month())
    environment = {**os.environ, "DATABASE_URL": _database_url()}
    command = [
        sys.executable,
        "-m",
        "cocotte",
        "billing_run",
        f"{last_month():%Y-%m}",
        "--issue",
        "--workers",
        "2",
    ]

    processes = [
        subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]

    assert all(process.returncode == 0 for process in processes), [err[-3000:] for _out, err in outputs]
    bills = Bill.objects.filter(status=Bill.Status.ISSUED)
    assert sorted(bills.values_list("sequence", flat=True)) == list(range(1, 13))
    assert bills.count() == Bill.objects.count() == 12  # one bill per member: no draft made twice
    assert all(bill.pdf for bill in bills)
    assert not issuing.verify()


def test_a_line_withdrawn_after_drafting_leaves_the_draft_and_its_totals(private_operator, alice):
    charge(private_operator, alice, 1)
    charge(private_operator, alice, 2, day=date(2027, 1, 20))
    bill = runs.prepare(private_operator, JANUARY, today=TODAY).bills.get()

    assert ledger.withdraw("test.booking", 2)  # the booking was cancelled in time

    bill.refresh_from_db()
    assert [amount for _k, _l, amount in lines_of(bill)] == [Decimal("15.00")]
    assert bill.total_excl_vat == Decimal("15.00")


def test_a_runs_bills_are_sent_once_each_even_dispatched_twice(
    private_operator, alice, bob, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "ENQUEUE_ON_COMMIT": False}
    }
    charge(private_operator, alice, 1)
    charge(private_operator, bob, 2)
    run = runs.prepare(private_operator, JANUARY, today=TODAY)

    with django_capture_on_commit_callbacks(execute=True):
        issued = runs.issue_run(run, on=TODAY, workers=1)
    with django_capture_on_commit_callbacks(execute=True):
        sending.dispatch_many(issued)  # again: a retried task, a second process

    assert sorted(message.to[0] for message in mailoutbox) == ["alice@example.org", "bob@example.org"]
    assert all(bill.transmissions.count() == 1 for bill in Bill.objects.all())


def test_a_line_staff_type_is_checked_by_the_service_and_nothing_is_written(private_operator, alice, sophie):
    charge(private_operator, alice, 1)
    bill = runs.prepare(private_operator, JANUARY, today=TODAY).bills.get()

    with pytest.raises(ValidationError) as refused:
        runs.add_line(
            bill,
            by=sophie,
            label="Remise",
            revenue_type=RevenueType.OTHER,
            quantity=Decimal("1"),
            unit="forfait",
            unit_price=Decimal("-5"),
            vat_rate=Decimal("120"),
        )

    assert set(refused.value.error_dict) == {"unit_price", "vat_rate"}
    assert bill.lines.count() == 1
