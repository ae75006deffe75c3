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
from django.contrib.auth.models import Group, Permission
from django.db.models import Q
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
