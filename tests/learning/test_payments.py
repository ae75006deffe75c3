"""Self-funded trainees: the contract, the payment schedule (L6353-5, L6353-6) and what billing receives."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from cocotte.billing.models import Bill, Charge
from cocotte.core.errors import DomainError
from cocotte.learning import payments, services
from cocotte.learning.models import Enrolment, Installment

S = Enrolment.Status


# --- the schedule, for any price and any length ---------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    cents=st.integers(min_value=0, max_value=10_000_000),
    signed=st.dates(min_value=date(2025, 1, 1), max_value=date(2035, 12, 31)),
    lead_days=st.integers(min_value=-20, max_value=120),
    months=st.integers(min_value=0, max_value=24),
    length_days=st.integers(min_value=0, max_value=27),
)
def test_the_schedule_sums_to_the_price_and_waits_for_the_withdrawal_period(
    cents, signed, lead_days, months, length_days
):
    price = Decimal(cents) / 100
    first_day = signed + timedelta(days=lead_days)
    last_day = first_day + timedelta(days=30 * months + length_days)
    parts = payments.schedule(price, signed_on=signed, first_day=first_day, last_day=last_day)
    assert sum((p.amount for p in parts), Decimal("0")) == price
    if not parts:
        assert price == 0
        return
    withdrawal_end = signed + timedelta(days=10)
    assert all(p.due_on > withdrawal_end for p in parts)
    # By the day after the withdrawal period, at most 30 % is due (the first installment alone).
    first_due = withdrawal_end + timedelta(days=1)
    assert sum((p.amount for p in parts if p.due_on <= first_due), Decimal("0")) <= price * Decimal("0.30")
    assert len([p for p in parts if p.due_on <= first_due]) <= 1
    assert all(p.amount > 0 and p.amount == p.amount.quantize(Decimal("0.01")) for p in parts)
    assert [p.due_on for p in parts] == sorted(p.due_on for p in parts)
    rest = parts[1:]
    if len(rest) > 1:
        assert max(p.amount for p in rest) - min(p.amount for p in rest) <= Decimal("0.01")


def test_the_rest_is_spread_over_the_sessions_months():
    parts = payments.schedule(
        Decimal("600.00"), signed_on=date(2027, 1, 4), first_day=date(2027, 2, 1), last_day=date(2027, 4, 20)
    )
    assert [(p.due_on, p.amount) for p in parts] == [
        (date(2027, 1, 15), Decimal("180.00")),
        (date(2027, 2, 1), Decimal("140.00")),
        (date(2027, 3, 1), Decimal("140.00")),
        (date(2027, 4, 1), Decimal("140.00")),
    ]


# --- the contract ---------------------------------------------------------------------------------------


@pytest.fixture
def accepted(db, session, sittings, alice, sophie, make_application):
    return services.accept(make_application(session, alice, funding="self"), by=sophie)


@pytest.mark.django_db
def test_an_accepted_self_funded_person_has_a_contract_to_sign(accepted):
    assert services.needs_contract(accepted)
    text = services.contract_text(accepted)
    for expected in ("Cycle création d’entreprise", "600,00", "10 jours", "30 %", "Printemps"):
        assert expected in text, expected


@pytest.mark.django_db
def test_signing_stores_the_texts_hash_and_builds_the_schedule(accepted, alice):
    text = services.contract_text(accepted)
    signed = services.sign_contract(
        accepted, by=alice, name="Alice Martin", agreed=True, shown_hash=services.text_hash(text)
    )
    assert signed.contract_signed_at is not None and signed.contract_signed_name == "Alice Martin"
    assert signed.contract_text_hash == services.text_hash(text)
    installments = list(Installment.objects.filter(enrolment=signed).order_by("due_on"))
    assert sum(i.amount_excl_vat for i in installments) == Decimal("600.00")
    assert installments[0].amount_excl_vat <= Decimal("180.00")
    assert installments[0].due_on > signed.withdrawal_ends_at.date()
    assert not services.needs_contract(signed)


@pytest.mark.django_db
def test_the_signed_text_is_kept_whole_and_shown_as_signed(accepted, alice, client):
    text = services.contract_text(accepted)
    services.sign_contract(
        accepted, by=alice, name="Alice Martin", agreed=True, shown_hash=services.text_hash(text)
    )
    accepted.refresh_from_db()
    assert (
        accepted.contract_text == text
        and services.text_hash(accepted.contract_text) == accepted.contract_text_hash
    )
    # The price changes afterwards: the trainee still reads what they signed, not today's terms.
    programme = accepted.session.programme
    programme.price_excl_vat = Decimal("900.00")
    programme.save()
    client.force_login(alice)
    page = client.get(reverse("learning:contract", args=[accepted.pk])).content.decode()
    assert "600,00" in page and "900,00" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "name", "agreed", "shown", "code"),
    [
        ("alice", "", True, "", "name_missing"),
        ("alice", "Alice Martin", False, "", "not_agreed"),
        ("alice", "Alice Martin", True, "0" * 64, "contract_changed"),
        ("bob", "Bob Durand", True, "", "forbidden"),
        ("sophie", "Sophie Chargée", True, "", "forbidden"),
    ],
)
def test_bad_signatures_are_refused_and_write_nothing(accepted, who, name, agreed, shown, code, request):
    person = request.getfixturevalue(who)
    with pytest.raises(DomainError) as refused:
        services.sign_contract(accepted, by=person, name=name, agreed=agreed, shown_hash=shown)
    assert refused.value.code == code
    accepted.refresh_from_db()
    assert accepted.contract_signed_at is None and not Installment.objects.exists()


@pytest.mark.django_db
def test_signing_twice_is_refused(accepted, alice):
    services.sign_contract(accepted, by=alice, name="Alice Martin", agreed=True)
    with pytest.raises(DomainError) as refused:
        services.sign_contract(accepted, by=alice, name="Alice Martin", agreed=True)
    assert refused.value.code == "already_signed"
    assert Installment.objects.count() == len(Installment.objects.filter(enrolment=accepted))


@pytest.mark.django_db
def test_withdrawing_within_the_period_is_free(accepted, alice, private_operator):
    services.sign_contract(accepted, by=alice, name="Alice Martin", agreed=True)
    services.withdraw(accepted, by=alice)
    assert Enrolment.objects.get(pk=accepted.pk).status == S.WITHDRAWN
    assert not Installment.objects.filter(enrolment=accepted, withdrawn_at__isnull=True).exists()
    assert payments.hand_over_due(timezone.localdate() + timedelta(days=400)) == 0
    assert not Charge.objects.exists()


# --- handing over to billing ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_due_installments_are_handed_to_billing_once(accepted, alice, private_operator):
    services.sign_contract(accepted, by=alice, name="Alice Martin", agreed=True)
    first = Installment.objects.filter(enrolment=accepted).order_by("due_on").first()
    assert (
        payments.hand_over_due(first.due_on - timedelta(days=1)) == 0
    )  # nothing during the withdrawal period
    assert payments.hand_over_due(first.due_on) >= 1
    assert payments.hand_over_due(first.due_on) == 0  # once
    charge = Charge.objects.get(source="learning.installment", source_id=first.pk)
    assert charge.member == alice and charge.amount_excl_vat == first.amount_excl_vat
    assert charge.revenue_type == "training" and charge.operator == private_operator


@pytest.mark.django_db
def test_no_operator_no_hand_over(accepted, alice):
    services.sign_contract(accepted, by=alice, name="Alice Martin", agreed=True)
    assert payments.hand_over_due(timezone.localdate() + timedelta(days=400)) == 0
    assert not Charge.objects.exists()


@pytest.mark.django_db
def test_an_employer_pays_one_line_when_the_place_is_accepted(
    session,
    sittings,
    bob,
    sophie,
    company,
    private_operator,
    make_application,
):
    from cocotte.accounts import permissions
    from cocotte.accounts.models import Role

    permissions.grant_role(bob, Role.Name.ORGANISATION_MANAGER, company)
    enrolment = make_application(session, bob, funding="employer", payer=company)
    services.accept(enrolment, by=sophie)
    charge = Charge.objects.get(source="learning.enrolment", source_id=enrolment.pk)
    assert charge.organisation == company and charge.amount_excl_vat == Decimal("600.00")
    session.refresh_from_db()
    assert charge.service_date == session.starts_at.date()
    assert not services.needs_contract(enrolment)


@pytest.mark.django_db
def test_a_payer_must_be_an_organisation_one_manages(session, sittings, bob, company, make_application):
    with pytest.raises(DomainError):
        make_application(session, bob, funding="employer", payer=company)
    assert not Enrolment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("funding", ["public", "cpf"])
def test_funders_outside_are_not_billed_here(
    session, sittings, alice, sophie, private_operator, make_application, funding
):
    services.accept(make_application(session, alice, funding=funding), by=sophie)
    assert not Charge.objects.exists()


@pytest.mark.django_db
def test_a_free_programme_bills_nothing_and_needs_no_contract(
    session, sittings, alice, sophie, private_operator, make_application
):
    session.programme.price_excl_vat = Decimal("0")
    session.programme.save()
    enrolment = services.accept(make_application(session, alice, funding="self"), by=sophie)
    assert enrolment.funding == "free" and not services.needs_contract(enrolment)
    assert not Charge.objects.exists()


@pytest.mark.django_db
def test_a_cancelled_session_withdraws_what_was_not_billed(accepted, alice, sophie, private_operator):
    services.sign_contract(accepted, by=alice, name="Alice Martin", agreed=True)
    first = Installment.objects.filter(enrolment=accepted).order_by("due_on").first()
    payments.hand_over_due(first.due_on)
    assert Charge.objects.filter(source="learning.installment").exists()
    services.cancel_session(accepted.session, by=sophie, reason="Trop peu d’inscrits.")
    assert not Charge.objects.filter(source="learning.installment").exists()
    assert not Installment.objects.filter(enrolment=accepted, withdrawn_at__isnull=True).exists()


@pytest.mark.django_db
def test_a_cancelled_session_credits_what_was_billed(
    session,
    sittings,
    bob,
    sophie,
    company,
    private_operator,
    make_application,
    make_bill,
):
    from cocotte.accounts import permissions
    from cocotte.accounts.models import Role
    from cocotte.billing import issuing, runs

    permissions.grant_role(bob, Role.Name.ORGANISATION_MANAGER, company)
    enrolment = services.accept(make_application(session, bob, funding="employer", payer=company), by=sophie)
    charge = Charge.objects.get(source="learning.enrolment", source_id=enrolment.pk)
    bill = runs.attach(make_bill(private_operator, company, []), [charge])
    issuing.issue(bill, by=sophie)
    services.cancel_session(session, by=sophie, reason="Formatrice indisponible.")
    credit = Bill.objects.get(kind=Bill.Kind.CREDIT_NOTE, credited_bill=bill)
    assert credit.status == Bill.Status.DRAFT  # the team issues it
    assert [line.amount_excl_vat for line in credit.lines.all()] == [Decimal("600.00")]

    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(sophie)
    page = client.get(reverse("learning:staff_session", args=[session.pk])).content.decode()
    assert "Remboursements à faire" in page and "un avoir est en brouillon" in page


@pytest.mark.django_db
def test_a_cancelled_session_billed_on_a_statement_is_noted_for_a_refund(
    programme, other_site, bob, carol, company, public_operator, make_application, make_bill
):
    from cocotte.accounts import permissions
    from cocotte.accounts.models import Role
    from cocotte.billing import issuing, runs
    from cocotte.core.models import AuditEntry
    from cocotte.learning.models import Session

    permissions.grant_role(bob, Role.Name.ORGANISATION_MANAGER, company)
    elsewhere = Session.objects.create(
        programme=programme,
        site=other_site,
        label="Allanche",
        status=Session.Status.OPEN,
        capacity=4,
        enrolment_closes=timezone.now() + timedelta(days=20),
    )
    enrolment = services.accept(make_application(elsewhere, bob, funding="employer", payer=company), by=carol)
    charge = Charge.objects.get(source="learning.enrolment", source_id=enrolment.pk)
    statement = runs.attach(make_bill(public_operator, company, [], kind=Bill.Kind.STATEMENT), [charge])
    issuing.issue(statement, by=carol)
    services.cancel_session(elsewhere, by=carol, reason="Salle indisponible.")
    assert AuditEntry.objects.filter(action="learning.refund_to_make", object_id=enrolment.pk).exists()
    assert [item["kind"] for item in services.money_to_return(elsewhere)] == ["refund"]
    assert not Bill.objects.filter(kind=Bill.Kind.CREDIT_NOTE).exists()
