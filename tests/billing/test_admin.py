"""The billing back office in the admin.

- An issued bill and its lines are read-only: the admin refuses to change or delete them (403), a selection
  cannot be deleted in bulk; a draft stays editable and deletable.
- The staff of a site see their operator's rows and not another's, whose pages answer 404.
- What the services and the worker write is read-only (403), even for an admin.
- An aid is granted through `aids.grant` (a refusal over the de minimis ceiling is shown and writes nothing),
  a declared aid through `aids.declare`, a payment through `payments.record` (allocated; a régie receipt in
  public mode): read-only afterwards.
- A lease the team signs for an organisation covers its people's bookings; a card's days left are corrected
  without losing what bookings took.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from cocotte.accounts.models import Organisation
from cocotte.billing import aids, issuing, ledger, payments
from cocotte.billing.models import (
    Aid,
    AidLedgerEntry,
    Allocation,
    Bill,
    BillingRun,
    BillLine,
    CancellationRule,
    Charge,
    Closing,
    CreditUse,
    Holding,
    Operator,
    Payment,
    Plan,
    PriceLine,
    Reminder,
    RevenueType,
    Sequence,
    SiteOperator,
    Transmission,
)
from cocotte.core.admin import ReadOnlyAdminMixin
from cocotte.core.models import AuditEntry
from cocotte.spaces.models import Resource
from tests.helpers import day_ahead, paris

pytestmark = pytest.mark.django_db

K, U = Resource.Kind, Resource.Unit


@pytest.fixture
def admin_client(client, root):
    client.force_login(root)
    return client


@pytest.fixture
def issued(private_operator, alice, make_bill):
    return issuing.issue(make_bill(private_operator, alice, [("Journée de coworking", 2, "15.00", "20")]))


@pytest.fixture
def draft(private_operator, alice, make_bill):
    return make_bill(private_operator, alice, [("Journée de coworking", 1, "15.00", "20")])


def change_url(bill):
    return reverse("admin:billing_bill_change", args=[bill.pk])


def delete_url(bill):
    return reverse("admin:billing_bill_delete", args=[bill.pk])


def snapshot(bill):
    bill.refresh_from_db()
    lines = list(BillLine.objects.filter(bill=bill).values_list("label", "quantity", "amount_excl_vat"))
    return (bill.buyer_name, bill.note, bill.status, bill.total_incl_vat, lines)


def form_data(bill, **changes):
    """What the change form posts: the bill's editable fields and its lines' inline formset."""
    lines = list(bill.lines.order_by("position"))
    data = {
        "operator": bill.operator_id,
        "kind": bill.kind,
        "member": bill.member_id or "",
        "organisation": bill.organisation_id or "",
        "period_start": bill.period_start.isoformat(),
        "period_end": bill.period_end.isoformat(),
        "buyer_name": bill.buyer_name,
        "buyer_address": bill.buyer_address,
        "note": bill.note,
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": str(len(lines)),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for i, line in enumerate(lines):
        data.update(
            {
                f"lines-{i}-id": line.pk,
                f"lines-{i}-bill": bill.pk,
                f"lines-{i}-position": line.position,
                f"lines-{i}-kind": line.kind,
                f"lines-{i}-label": line.label,
                f"lines-{i}-revenue_type": line.revenue_type,
                f"lines-{i}-service_start": line.service_start.isoformat(),
                f"lines-{i}-service_end": line.service_end.isoformat(),
                f"lines-{i}-quantity": str(line.quantity),
                f"lines-{i}-unit": line.unit,
                f"lines-{i}-unit_price_excl_vat": str(line.unit_price_excl_vat),
                f"lines-{i}-vat_rate": str(line.vat_rate),
                f"lines-{i}-amount_excl_vat": str(line.amount_excl_vat),
            }
        )
    data.update(changes)
    return data


def test_an_issued_bill_is_shown_read_only(admin_client, issued):
    response = admin_client.get(change_url(issued))

    assert response.status_code == 200
    html = response.content.decode()
    assert issued.number in html
    assert 'name="buyer_name"' not in html and 'name="lines-0-label"' not in html
    assert 'name="_save"' not in html and delete_url(issued) not in html


def test_the_admin_refuses_to_change_an_issued_bill_or_its_lines(admin_client, issued):
    before = snapshot(issued)

    response = admin_client.post(
        change_url(issued), form_data(issued, buyer_name="Quelqu’un d’autre", **{"lines-0-quantity": "9"})
    )

    assert response.status_code == 403
    assert snapshot(issued) == before


def test_the_admin_refuses_to_delete_an_issued_bill(admin_client, issued):
    assert admin_client.get(delete_url(issued)).status_code == 403
    assert admin_client.post(delete_url(issued), {"post": "yes"}).status_code == 403
    assert Bill.objects.filter(pk=issued.pk).exists()


def test_no_bulk_deletion_can_take_issued_bills_with_it(admin_client, issued, draft):
    changelist = reverse("admin:billing_bill_changelist")

    response = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [issued.pk, draft.pk], "post": "yes"}
    )

    assert response.status_code in (200, 302)
    assert Bill.objects.filter(pk__in=[issued.pk, draft.pk]).count() == 2
    assert "delete_selected" not in admin_client.get(changelist).content.decode()


def test_a_draft_stays_editable_and_deletable(admin_client, draft):
    response = admin_client.post(
        change_url(draft),
        form_data(
            draft,
            buyer_name="Alice Martin-Durand",
            **{"lines-0-quantity": "2", "lines-0-amount_excl_vat": "30.00"},
        ),
    )

    assert response.status_code == 302, response.content.decode()[-3000:]
    draft.refresh_from_db()
    assert draft.buyer_name == "Alice Martin-Durand"
    assert draft.lines.get().quantity == Decimal("2")

    assert admin_client.post(delete_url(draft), {"post": "yes"}).status_code == 302
    assert not Bill.objects.filter(pk=draft.pk).exists()


# --- The team of a site, and what it sees -------------------------------------------------------------------


@pytest.fixture
def as_staff(client):
    """Log `user` in: their role over a site gives them billing's admin (no group needed) and scopes it."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def other_company(db):
    return Organisation.objects.create(
        name="Fromagerie du Cézallier", siren="552081317", address="15300 Allanche"
    )


def admin_url(model, action, *args):
    return reverse(f"admin:billing_{model._meta.model_name}_{action}", args=args)


def build_world(operator, site, member, organisation, *, make_resource, make_bill, book):
    """One row of every billing model for an operator, written as the services write them."""
    today = timezone.localdate()
    desk = make_resource(site, f"poste-{site.slug}", kind=K.DESK, unit=U.HALF_DAY, max_units=2)
    price = PriceLine.objects.create(
        operator=operator, kind=K.DESK, unit=U.HALF_DAY, amount_excl_vat=Decimal("7.50"), label="Demi-journée"
    )
    rule = CancellationRule.objects.create(operator=operator, kind=K.DESK, percent=Decimal("50"))
    card = Plan.objects.create(
        operator=operator,
        kind=Plan.Kind.CARD,
        name=f"Carte 10 jours {site.name}",
        price_excl_vat=Decimal("100"),
        days=Decimal("10"),
        day_kinds=[K.DESK],
    )
    holding = Holding.objects.create(
        plan=card, member=member, starts_on=today, price_excl_vat=Decimal("100"), days_left=Decimal("10")
    )
    day = day_ahead(3)
    book(member, desk, paris(day, 8), paris(day, 13))  # takes half a day of the card
    kind = Bill.Kind.STATEMENT if operator.is_public else Bill.Kind.INVOICE
    issued = issuing.issue(
        make_bill(operator, organisation, [("Location de salle", 2, "15.00", "20")], kind=kind)
    )
    draft = make_bill(operator, member, [("Journée de coworking", 1, "15.00", "20")], kind=kind)
    payment = payments.record(operator, organisation, "10.00", Payment.Method.TRANSFER, today, bills=[issued])
    charge = ledger.hand_over(
        operator,
        member,
        source="fablab.use",
        source_id=operator.pk,
        revenue_type=RevenueType.FABLAB,
        label="Découpe laser",
        service_date=today,
        quantity=Decimal("1"),
        unit="forfait",
        unit_price_excl_vat=Decimal("12.00"),
        vat_rate=Decimal("20"),
    )
    aid = aids.grant(
        operator,
        organisation,
        kind=Aid.Kind.REDUCED_RATE,
        funder="Région",
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 1, 31),
        monthly_amount=Decimal("100"),
    )
    rows = {
        Operator: operator,
        SiteOperator: SiteOperator.objects.get(site=site),
        PriceLine: price,
        CancellationRule: rule,
        Plan: card,
        Holding: holding,
        CreditUse: CreditUse.objects.get(holding=holding),
        Bill: draft,
        Charge: charge,
        Sequence: Sequence.objects.get(operator=operator),
        BillingRun: BillingRun.objects.create(operator=operator, month=date(2027, 1, 1)),
        Transmission: Transmission.objects.create(bill=issued, channel=Transmission.Channel.EMAIL),
        Reminder: Reminder.objects.create(bill=issued, days_overdue=15),
        Payment: payment,
        Allocation: payment.allocations.get(),
        Aid: aid,
        AidLedgerEntry: aid.ledger_entry,
        Closing: Closing.objects.create(
            operator=operator,
            period=Closing.Period.MONTH,
            starts_on=date(2020, 1, 1),
            ends_on=date(2020, 1, 31),
            manifest="",
            archive=b"",
            archive_sha256="0" * 64,
        ),
    }
    return rows


@pytest.fixture
def worlds(
    private_operator,
    public_operator,
    site,
    other_site,
    alice,
    bob,
    company,
    other_company,
    make_resource,
    make_bill,
    book,
):
    """Murat's operator (private, billing alice and the company) and Allanche's (public, bob and a dairy)."""
    tools = {"make_resource": make_resource, "make_bill": make_bill, "book": book}
    return (
        build_world(private_operator, site, alice, company, **tools),
        build_world(public_operator, other_site, bob, other_company, **tools),
    )


READ_ONLY = [Charge, BillingRun, Transmission, Reminder, Sequence, Closing, CreditUse, Allocation]
THROUGH_SERVICES = [Aid, AidLedgerEntry, Payment]


def test_every_billing_model_has_its_page_and_the_workers_rows_are_read_only():
    registered = set(admin.site._registry)
    billing = {m for m in registered if m._meta.app_label == "billing"}
    assert billing >= {
        *READ_ONLY,
        *THROUGH_SERVICES,
        SiteOperator,
        PriceLine,
        CancellationRule,
        Plan,
        Holding,
    }
    assert all(isinstance(admin.site._registry[m], ReadOnlyAdminMixin) for m in READ_ONLY)
    assert Organisation in registered  # with the billing details inline, accounts' page otherwise unchanged


def test_staff_see_their_operators_rows_and_another_operators_are_404(as_staff, sophie, carol, worlds):
    murat, allanche = worlds
    client = as_staff(sophie)
    for model, mine in murat.items():
        theirs = allanche[model]
        listing = client.get(admin_url(model, "changelist"))
        assert listing.status_code == 200, model
        html = listing.content.decode()
        assert admin_url(model, "change", mine.pk) in html, model
        assert admin_url(model, "change", theirs.pk) not in html, model
        assert client.get(admin_url(model, "change", mine.pk)).status_code == 200, model
        assert client.get(admin_url(model, "change", theirs.pk)).status_code == 404, model
        assert client.get(admin_url(model, "history", theirs.pk)).status_code == 404, model

    # The same the other way round, and an id that does not exist answers the same 404.
    client = as_staff(carol)
    assert client.get(admin_url(Bill, "change", murat[Bill].pk)).status_code == 404
    assert client.get(admin_url(Bill, "change", 999999)).status_code == 404
    assert client.get(admin_url(Bill, "change", allanche[Bill].pk)).status_code == 200


def test_staff_cannot_write_another_operators_rows(as_staff, sophie, worlds):
    _murat, allanche = worlds
    client = as_staff(sophie)
    price = allanche[PriceLine]

    assert client.post(admin_url(PriceLine, "delete", price.pk), {"post": "yes"}).status_code == 404
    response = client.post(
        admin_url(PriceLine, "change", price.pk),
        {
            "operator": price.operator_id,
            "kind": K.DESK,
            "unit": U.HALF_DAY,
            "amount_excl_vat": "0",
            "label": "x",
        },
    )
    assert response.status_code == 404
    price.refresh_from_db()
    assert price.amount_excl_vat == Decimal("7.50")

    # Nor choose another operator for a new row: the form offers only theirs.
    response = client.post(
        admin_url(PriceLine, "add"),
        {
            "operator": price.operator_id,
            "kind": K.OPEN_SPACE,
            "unit": U.DAY,
            "amount_excl_vat": "1",
            "label": "y",
        },
    )
    assert response.status_code == 200 and "operator" in response.context["adminform"].form.errors
    assert not PriceLine.objects.filter(label="y").exists()


def test_the_admin_sees_every_operators_rows(admin_client, worlds):
    for world in worlds:
        for model, row in world.items():
            assert admin_client.get(admin_url(model, "change", row.pk)).status_code == 200, model


def test_staff_keep_their_operator_but_neither_add_nor_delete_one(as_staff, sophie, private_operator):
    client = as_staff(sophie)
    assert client.get(admin_url(Operator, "change", private_operator.pk)).status_code == 200
    assert client.get(admin_url(Operator, "add")).status_code == 403
    assert client.get(admin_url(Operator, "delete", private_operator.pk)).status_code == 403


def test_staff_without_the_role_see_no_billing_at_all(as_staff, make_user, worlds):
    stranger = make_user("stagiaire@example.org")
    stranger.is_staff = True  # in the admin, but staff of no site
    stranger.save()
    client = as_staff(stranger)
    assert client.get(admin_url(Bill, "changelist")).status_code == 403
    assert client.get(admin_url(Bill, "change", worlds[0][Bill].pk)).status_code == 404


def test_what_the_services_write_cannot_be_added_changed_or_deleted_even_by_an_admin(admin_client, worlds):
    murat, _allanche = worlds
    for model in READ_ONLY + THROUGH_SERVICES:
        row = murat[model]
        before = model.objects.filter(pk=row.pk).values().get()
        if model in READ_ONLY:
            assert admin_client.get(admin_url(model, "add")).status_code == 403, model
        page = admin_client.get(admin_url(model, "change", row.pk))
        assert page.status_code == 200 and b'name="_save"' not in page.content, model  # shown, not editable
        assert admin_client.post(admin_url(model, "change", row.pk), {}).status_code == 403, model
        assert admin_client.get(admin_url(model, "delete", row.pk)).status_code == 403, model
        assert admin_client.post(admin_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403, (
            model
        )
        assert model.objects.filter(pk=row.pk).values().get() == before, model


# --- Aids: through aids.grant and aids.declare --------------------------------------------------------------


def aid_form(operator, organisation, **changes):
    data = {
        "operator": operator.pk,
        "organisation": organisation.pk,
        "kind": Aid.Kind.RENT_COVERAGE,
        "funder": "Hautes Terres Communauté",
        "legal_basis": aids.LEGAL_BASIS,
        "granted_on": timezone.localdate().isoformat(),
        "percent": "",
        "monthly_amount": "500.00",
        "starts_on": "2027-01-01",
        "ends_on": "2027-12-31",
        "monthly_rent": "",
        "market_monthly_rent": "",
        "_save": "Enregistrer",
    }
    data.update(changes)
    return data


@pytest.fixture
def billed_company(private_operator, company, make_bill):
    """The company is a customer of Murat's operator (a draft bill): its staff may grant it an aid."""
    make_bill(private_operator, company, [("Location de bureau", 1, "300.00", "20")])
    return company


def test_an_aid_over_the_ceiling_is_refused_with_its_reason_and_nothing_is_written(
    as_staff, sophie, private_operator, billed_company
):
    aids.declare(
        billed_company,
        granted_on=timezone.localdate() - timedelta(days=30),
        amount=Decimal("299000"),
        funder="Région",
        aid_type="subvention",
        legal_basis=aids.LEGAL_BASIS,
    )
    before = (Aid.objects.count(), AidLedgerEntry.objects.count(), AuditEntry.objects.count())
    client = as_staff(sophie)

    response = client.post(admin_url(Aid, "add"), aid_form(private_operator, billed_company))  # 6,000 € more

    assert response.status_code == 200
    html = response.content.decode()
    assert "Aide refusée" in html and "plafond de minimis" in html and billed_company.siren in html
    assert (Aid.objects.count(), AidLedgerEntry.objects.count(), AuditEntry.objects.count()) == before


def test_an_aid_granted_in_the_admin_enters_the_ledger_and_is_read_only_afterwards(
    as_staff, sophie, private_operator, billed_company
):
    client = as_staff(sophie)

    response = client.post(admin_url(Aid, "add"), aid_form(private_operator, billed_company))

    assert response.status_code == 302, response.content.decode()[-3000:]
    aid = Aid.objects.get()
    assert aid.gross_grant_equivalent == Decimal("6000.00") and aid.granted_by == sophie
    entry = aid.ledger_entry
    assert (entry.siren, entry.amount, entry.declared) == (billed_company.siren, Decimal("6000.00"), False)
    page = client.get(admin_url(Aid, "change", aid.pk)).content.decode()
    assert 'name="_save"' not in page and "nouvelle aide" in page


def test_an_ill_formed_aid_shows_the_services_message(as_staff, sophie, private_operator, billed_company):
    client = as_staff(sophie)

    response = client.post(
        admin_url(Aid, "add"),
        aid_form(private_operator, billed_company, starts_on="2027-12-31", ends_on="2027-01-01"),
    )

    assert response.status_code == 200 and "L’aide finit avant de commencer." in response.content.decode()
    assert not Aid.objects.exists()


def test_staff_grant_aids_only_to_the_companies_their_operator_deals_with(
    as_staff, sophie, private_operator, other_company
):
    response = as_staff(sophie).post(admin_url(Aid, "add"), aid_form(private_operator, other_company))
    assert response.status_code == 200 and "organisation" in response.context["adminform"].form.errors
    assert not Aid.objects.exists()


def test_an_aid_declared_by_the_company_goes_through_declare(as_staff, sophie, billed_company):
    client = as_staff(sophie)

    response = client.post(
        admin_url(AidLedgerEntry, "add"),
        {
            "organisation": billed_company.pk,
            "granted_on": "2026-06-01",
            "amount": "12000",
            "funder": "Région Auvergne-Rhône-Alpes",
            "aid_type": "subvention",
            "legal_basis": aids.LEGAL_BASIS,
            "_save": "Enregistrer",
        },
    )

    assert response.status_code == 302, response.content.decode()[-3000:]
    entry = AidLedgerEntry.objects.get()
    assert (entry.siren, entry.amount, entry.declared, entry.aid) == (
        billed_company.siren,
        Decimal("12000.00"),
        True,
        None,
    )
    assert AuditEntry.objects.filter(action="billing.aid.declared", actor=sophie).exists()


# --- Payments: through payments.record ----------------------------------------------------------------------


def payment_form(operator, debtor, **changes):
    data = {
        "operator": operator.pk,
        "member": debtor.pk,
        "organisation": "",
        "amount": "7.20",
        "method": Payment.Method.CASH,
        "received_on": timezone.localdate().isoformat(),
        "reference": "",
        "revenue_type": RevenueType.COWORKING,
        "_save": "Enregistrer",
    }
    data.update(changes)
    return data


@pytest.fixture
def statement(public_operator, alice, make_bill):
    """Alice's issued statement at Allanche (public mode): two half-days at 3 € excl. VAT, 7.20 € incl."""
    bill = make_bill(
        public_operator, alice, [("Demi-journée de coworking", 2, "3.00", "20")], kind=Bill.Kind.STATEMENT
    )
    return issuing.issue(bill)


def test_a_payment_added_is_allocated_and_gets_its_regie_receipt(
    as_staff, carol, public_operator, alice, statement
):
    client = as_staff(carol)

    response = client.post(admin_url(Payment, "add"), payment_form(public_operator, alice), follow=True)

    assert response.status_code == 200
    payment = Payment.objects.get()
    year = timezone.localdate().year
    assert payment.receipt_number == f"R{year}-000001" and payment.recorded_by == carol
    assert list(payment.allocations.values_list("bill_id", "amount")) == [(statement.pk, Decimal("7.20"))]
    assert payments.is_paid(statement)
    assert f"R{year}-000001" in response.content.decode()  # told on the way back

    page = client.get(admin_url(Payment, "change", payment.pk)).content.decode()
    receipt = reverse("billing:receipt_pdf", args=[payment.pk])
    assert receipt in page and 'name="_save"' not in page
    pdf = client.get(receipt)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def test_a_payment_the_regie_may_not_collect_is_refused_and_nothing_is_written(
    as_staff, carol, public_operator, alice, statement
):
    client = as_staff(carol)

    response = client.post(
        admin_url(Payment, "add"), payment_form(public_operator, alice, revenue_type=RevenueType.OFFICE)
    )

    assert response.status_code == 200 and "n’est pas autorisée à encaisser" in response.content.decode()
    assert not Payment.objects.exists() and not Allocation.objects.exists()
    assert not Sequence.objects.filter(series__startswith="R").exists()


def test_a_payment_names_its_bills_and_cannot_be_recorded_online(
    as_staff, sophie, private_operator, alice, make_bill
):
    first = issuing.issue(make_bill(private_operator, alice, [("Journée", 1, "15.00", "20")]))
    second = issuing.issue(make_bill(private_operator, alice, [("Journée", 1, "15.00", "20")]))
    client = as_staff(sophie)

    refused = client.post(admin_url(Payment, "add"), payment_form(private_operator, alice, method="online"))
    assert refused.status_code == 200 and "method" in refused.context["adminform"].form.errors

    response = client.post(
        admin_url(Payment, "add"),
        payment_form(
            private_operator, alice, amount="18.00", method=Payment.Method.TRANSFER, bills=[second.pk]
        ),
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert payments.is_paid(second) and not payments.is_paid(first)


# --- Holdings: leases signed by the team; cards corrected with care ----------------------------------------


@pytest.fixture
def lease_plan(private_operator):
    return Plan.objects.create(
        operator=private_operator,
        kind=Plan.Kind.LEASE,
        name="Poste dédié au mois",
        price_excl_vat=Decimal("180"),
    )


def lease_form(plan, office, **changes):
    data = {
        "plan": plan.pk,
        "member": "",
        "organisation": "",
        "resource": office.pk,
        "starts_on": timezone.localdate().isoformat(),
        "ends_on": "",
        "price_excl_vat": "",
        "_save": "Enregistrer",
    }
    data.update(changes)
    return data


def test_a_lease_signed_by_staff_for_an_organisation_covers_its_peoples_bookings(
    as_staff, sophie, alice, company, desk, lease_plan, book
):
    client = as_staff(sophie)

    response = client.post(admin_url(Holding, "add"), lease_form(lease_plan, desk, organisation=company.pk))

    assert response.status_code == 302, response.content.decode()[-3000:]
    lease = Holding.objects.get()
    assert (lease.organisation, lease.resource, lease.price_excl_vat, lease.created_by) == (
        company,
        desk,
        Decimal("180.00"),  # the plan's price, left empty
        sophie,
    )
    alice.profile.organisation = company
    alice.profile.save()
    day = day_ahead(3)
    booking = book(alice, desk, paris(day, 8), paris(day, 13))
    assert booking.price["covered_by"] == "lease"
    assert not Charge.objects.filter(source="bookings.booking", source_id=booking.pk).exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"member": "ALICE", "organisation": "COMPANY"}, "member"),  # both
        ({}, "member"),  # neither
        ({"organisation": "COMPANY", "resource": "ELSEWHERE"}, "resource"),  # another operator's office
        ({"organisation": "COMPANY", "ends_on": "2000-01-01"}, "ends_on"),
    ],
)
def test_a_lease_is_checked_before_it_is_signed(
    as_staff, sophie, alice, company, desk, other_site, make_resource, lease_plan, changes, field
):
    elsewhere = make_resource(other_site, "bureau-allanche", kind=K.OFFICE, unit=U.MONTH)
    names = {"ALICE": alice.pk, "COMPANY": company.pk, "ELSEWHERE": elsewhere.pk}
    data = lease_form(lease_plan, desk, **{k: names.get(v, v) for k, v in changes.items()})

    response = as_staff(sophie).post(admin_url(Holding, "add"), data)

    assert response.status_code == 200 and field in response.context["adminform"].form.errors
    assert not Holding.objects.exists()


def test_an_office_is_not_leased_twice_at_once(as_staff, sophie, company, alice, desk, lease_plan):
    client = as_staff(sophie)
    assert (
        client.post(
            admin_url(Holding, "add"), lease_form(lease_plan, desk, organisation=company.pk)
        ).status_code
        == 302
    )

    response = client.post(admin_url(Holding, "add"), lease_form(lease_plan, desk, member=alice.pk))

    assert response.status_code == 200 and "déjà loué" in response.content.decode()
    assert Holding.objects.count() == 1


def holding_form(holding, **changes):
    data = {
        "ends_on": holding.ends_on.isoformat() if holding.ends_on else "",
        "days_left": str(holding.days_left),
        "initial-days_left": str(holding.days_left),
        "uses-TOTAL_FORMS": "0",
        "uses-INITIAL_FORMS": "0",
        "uses-MIN_NUM_FORMS": "0",
        "uses-MAX_NUM_FORMS": "1000",
        "_save": "Enregistrer",
    }
    data.update(changes)
    return data


@pytest.fixture
def card(private_operator, alice):
    plan = Plan.objects.create(
        operator=private_operator,
        kind=Plan.Kind.CARD,
        name="Carte 10 jours",
        price_excl_vat=Decimal("120"),
        days=Decimal("10"),
        day_kinds=[K.DESK],
    )
    return Holding.objects.create(
        plan=plan, member=alice, starts_on=timezone.localdate(), price_excl_vat=Decimal("120"), days_left=10
    )


def test_correcting_a_cards_days_left_keeps_what_bookings_took_meanwhile(
    as_staff, sophie, alice, card, desk, book
):
    client = as_staff(sophie)
    page = client.get(admin_url(Holding, "change", card.pk)).content.decode()
    assert 'name="days_left"' in page and 'name="plan"' not in page  # what the member took stays
    shown = holding_form(card, days_left="12")  # the team gives two days more…
    day = day_ahead(3)
    book(alice, desk, paris(day, 8), paris(day, 13))  # …while a booking takes half a day

    response = client.post(admin_url(Holding, "change", card.pk), shown, follow=True)

    assert response.status_code == 200, response.content.decode()[-3000:]
    card.refresh_from_db()
    assert card.days_left == Decimal("11.5")  # 10 - 0.5 + 2
    assert CreditUse.objects.filter(holding=card).count() == 1
    assert "il en reste 11,5" in response.content.decode()
    assert AuditEntry.objects.filter(action="billing.holding.changed", actor=sophie).exists()


def test_a_holding_ends_no_earlier_than_the_bookings_it_covered_and_is_not_deleted(
    as_staff, sophie, alice, card, desk, book
):
    day = day_ahead(3)
    book(alice, desk, paris(day, 8), paris(day, 13))
    client = as_staff(sophie)

    response = client.post(
        admin_url(Holding, "change", card.pk),
        holding_form(
            card,
            ends_on=(day - timedelta(days=1)).isoformat(),
            days_left="9.5",
            **{"initial-days_left": "9.5"},
        ),
    )

    assert response.status_code == 200 and "ends_on" in response.context["adminform"].form.errors
    card.refresh_from_db()
    assert card.ends_on is None and card.days_left == Decimal("9.5")
    assert client.get(admin_url(Holding, "delete", card.pk)).status_code == 403


# --- An organisation's billing details ---------------------------------------------------------------------


def test_an_organisations_page_carries_its_billing_details(admin_client, company):
    page = admin_client.get(reverse("admin:accounts_organisation_change", args=[company.pk])).content.decode()
    assert 'name="billing_details-0-vat_number"' in page and "FR44732829320" in page


def test_the_add_pages_offer_the_staff_only_what_is_theirs(as_staff, sophie, site, worlds, lease_plan):
    murat, _allanche = worlds
    client = as_staff(sophie)
    forms = {}
    for model in (SiteOperator, PriceLine, CancellationRule, Plan, Holding, Aid, AidLedgerEntry, Payment):
        response = client.get(admin_url(model, "add"))
        assert response.status_code == 200, model
        forms[model] = response.context["adminform"].form.fields

    operator = murat[Operator]
    for model in (PriceLine, CancellationRule, Plan, Aid, Payment):
        assert list(forms[model]["operator"].queryset) == [operator], model
    assert list(forms[SiteOperator]["site"].queryset) == [site]
    assert {r.site_id for r in forms[PriceLine]["resource"].queryset} == {site.pk}
    assert list(forms[Holding]["plan"].queryset) == [
        lease_plan
    ]  # a card or subscription is the member's to take
    assert {r.site_id for r in forms[Holding]["resource"].queryset} == {site.pk}
    assert list(forms[Aid]["organisation"].queryset) == [murat[Aid].organisation]
    assert list(forms[AidLedgerEntry]["organisation"].queryset) == [murat[Aid].organisation]
    assert set(forms[Payment]["bills"].queryset) == set(
        Bill.objects.filter(operator=operator, status="issued")
    )
    assert Payment.Method.ONLINE not in dict(forms[Payment]["method"].choices)

    # The bills a payment settles are searched as you type, among theirs only.
    found = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "billing", "model_name": "allocation", "field_name": "bill", "term": ""},
    ).json()["results"]
    assert {int(r["id"]) for r in found} == set(
        Bill.objects.filter(operator=operator).values_list("pk", flat=True)
    )
