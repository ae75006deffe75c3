"""The team's billing pages: run a month, review a draft, issue it; nobody else reaches them."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cocotte.billing import ledger
from cocotte.billing.models import Bill, BillingRun, Charge, RevenueType, Transmission
from tests.web.html import text_of


@pytest.fixture(autouse=True)
def tasks_run_at_once(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "ENQUEUE_ON_COMMIT": False}
    }
    settings.COCOTTE_BILLING_WORKERS = 1


def last_month() -> date:
    return (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)


@pytest.fixture
def charged(private_operator, alice, bob):
    for number, member in enumerate((alice, bob), start=1):
        ledger.hand_over(
            private_operator,
            member,
            source="test.booking",
            source_id=number,
            revenue_type=RevenueType.MEETING_ROOM,
            label="Salle de réunion, 2 h",
            service_date=last_month(),
            quantity=Decimal("2"),
            unit="hour",
            unit_price_excl_vat=Decimal("7.50"),
            vat_rate=Decimal("20"),
        )
    return private_operator


def test_staff_prepare_review_and_issue_a_month(client, sophie, charged, alice):
    client.force_login(sophie)
    month = f"{last_month():%Y-%m}"

    response = client.post(reverse("billing:staff"), {"operator": charged.pk, "month": month}, follow=True)

    run = BillingRun.objects.get()
    assert response.status_code == 200 and run.status == BillingRun.Status.DRAFTED
    text = text_of(response)
    assert "2 brouillons" in text and "Alice Martin" in text and "36,00" in text  # 2 × 18.00 TTC

    draft = Bill.objects.get(member=alice)
    line = draft.lines.get()
    page = client.post(
        reverse("billing:line", args=[line.pk]),
        {"label": "Salle, tarif réduit", "quantity": "2", "unit_price": "5.00", "vat_rate": "20"},
        follow=True,
    )
    assert "Salle, tarif réduit" in text_of(page) and "12,00" in text_of(page)

    refused = client.post(reverse("billing:run_issue", args=[run.pk]), follow=True)
    assert "Cochez la case de confirmation" in text_of(refused)
    assert not Bill.objects.filter(status=Bill.Status.ISSUED).exists()

    issued = client.post(reverse("billing:run_issue", args=[run.pk]), {"confirm": "yes"}, follow=True)
    assert "2 pièces émises" in text_of(issued)
    assert sorted(Bill.objects.values_list("number", flat=True)) == [
        f"TM{timezone.localdate().year}-000001",
        f"TM{timezone.localdate().year}-000002",
    ]
    assert set(Charge.objects.values_list("status", flat=True)) == {Charge.Status.BILLED}


def test_a_bad_month_is_refused_with_a_message_and_nothing_is_made(client, sophie, charged):
    client.force_login(sophie)

    response = client.post(reverse("billing:staff"), {"operator": charged.pk, "month": "13/2027"})

    assert response.status_code == 400 and "AAAA-MM" in text_of(response)
    assert not BillingRun.objects.exists()


def test_a_credit_note_is_prepared_from_an_issued_invoice_and_issued_after_review(
    client, sophie, charged, alice
):
    client.force_login(sophie)
    client.post(reverse("billing:staff"), {"operator": charged.pk, "month": f"{last_month():%Y-%m}"})
    client.post(reverse("billing:run_issue", args=[BillingRun.objects.get().pk]), {"confirm": "yes"})
    invoice = Bill.objects.get(member=alice)

    draft_page = client.post(reverse("billing:credit_note", args=[invoice.pk]), follow=True)
    credit = Bill.objects.get(kind=Bill.Kind.CREDIT_NOTE)
    assert "Avoir en brouillon" in text_of(draft_page)
    client.post(reverse("billing:draft_issue", args=[credit.pk]))

    credit.refresh_from_db()
    assert credit.is_issued and credit.number.startswith("AV")
    assert credit.total_incl_vat == invoice.total_incl_vat and credit.pdf


def test_a_discarded_draft_goes_and_its_lines_wait_for_the_next_run(client, sophie, charged, alice):
    client.force_login(sophie)
    client.post(reverse("billing:staff"), {"operator": charged.pk, "month": f"{last_month():%Y-%m}"})
    draft = Bill.objects.get(member=alice)

    client.post(reverse("billing:draft_discard", args=[draft.pk]))

    assert not Bill.objects.filter(pk=draft.pk).exists()
    assert Charge.objects.filter(member=alice, bill__isnull=True, status=Charge.Status.OPEN).exists()


def test_only_the_operators_staff_reach_its_runs_and_drafts(client, sophie, carol, alice, charged):
    client.force_login(sophie)
    client.post(reverse("billing:staff"), {"operator": charged.pk, "month": f"{last_month():%Y-%m}"})
    run, draft = BillingRun.objects.get(), Bill.objects.filter(member=alice).get()

    client.force_login(alice)  # a member
    assert client.get(reverse("billing:staff")).status_code == 403
    assert client.get(reverse("billing:draft", args=[draft.pk])).status_code == 404
    client.force_login(carol)  # staff of another site, not run by this operator
    assert client.get(reverse("billing:run", args=[run.pk])).status_code == 404
    assert client.post(reverse("billing:run_issue", args=[run.pk]), {"confirm": "yes"}).status_code == 404
    assert client.post(reverse("billing:draft_discard", args=[draft.pk])).status_code == 404
    assert Bill.objects.filter(pk=draft.pk, status=Bill.Status.DRAFT).exists()


def test_an_issued_bill_is_no_longer_a_draft_to_edit(client, sophie, charged, alice):
    client.force_login(sophie)
    client.post(reverse("billing:staff"), {"operator": charged.pk, "month": f"{last_month():%Y-%m}"})
    client.post(reverse("billing:run_issue", args=[BillingRun.objects.get().pk]), {"confirm": "yes"})
    bill = Bill.objects.get(member=alice)

    assert client.get(reverse("billing:draft", args=[bill.pk])).status_code == 404
    assert (
        client.post(reverse("billing:line", args=[bill.lines.get().pk]), {"delete": "1"}).status_code == 404
    )


def test_a_sending_that_gave_up_is_listed_for_the_team_and_sent_again(
    client, sophie, charged, alice, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(sophie)
    client.post(reverse("billing:staff"), {"operator": charged.pk, "month": f"{last_month():%Y-%m}"})
    client.post(reverse("billing:run_issue", args=[BillingRun.objects.get().pk]), {"confirm": "yes"})
    invoice = Bill.objects.get(member=alice)
    transmission = Transmission.objects.get(bill=invoice)
    Transmission.objects.filter(pk=transmission.pk).update(
        status=Transmission.Status.FAILED, message="Boîte pleine", attempts=12
    )

    page = text_of(client.get(reverse("billing:staff")))
    assert "Envois à reprendre" in page and invoice.reference in page and "Boîte pleine" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("billing:send_again", args=[transmission.pk]))

    transmission.refresh_from_db()
    assert transmission.status == Transmission.Status.SENT
    assert any(invoice.reference in message.subject for message in mailoutbox)
