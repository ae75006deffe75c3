"""A member takes a pass, a card or a subscription from their space, for themself or an organisation they
manage; a card is billed at once and covers the next booking; a subscription is cancelled at the month's end."""

from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from cocotte.accounts import permissions
from cocotte.accounts.models import Role
from cocotte.billing import runs, shop
from cocotte.billing.models import Bill, Charge, Holding, Plan
from cocotte.spaces.models import Resource
from tests.helpers import day_ahead, paris
from tests.web.html import text_of

K = Resource.Kind


@pytest.fixture
def on_sale(private_operator):
    make = Plan.objects.create
    return {
        "card": make(
            operator=private_operator,
            kind=Plan.Kind.CARD,
            name="Carte 10 jours",
            price_excl_vat=Decimal("90.00"),
            days=Decimal("10"),
            valid_months=6,
            day_kinds=[K.OPEN_SPACE, K.DESK],
        ),
        "subscription": make(
            operator=private_operator,
            kind=Plan.Kind.SUBSCRIPTION,
            name="Abonnement coworking",
            price_excl_vat=Decimal("100.00"),
            day_kinds=[K.OPEN_SPACE, K.DESK],
        ),
        "lease": make(
            operator=private_operator, kind=Plan.Kind.LEASE, name="Bureau", price_excl_vat=Decimal("250")
        ),
    }


def test_a_card_taken_online_is_billed_at_once_and_covers_the_next_desk_day(
    client, alice, on_sale, desk, book
):
    client.force_login(alice)

    response = client.post(reverse("billing:plans"), {"plan": on_sale["card"].pk}, follow=True)

    holding = Holding.objects.get(member=alice)
    assert holding.days_left == 10
    assert holding.ends_on == timezone.localdate() + relativedelta(months=6) - timedelta(days=1)
    [bill] = Bill.objects.filter(member=alice)
    assert bill.is_issued and bill.number and bill.total_incl_vat == Decimal("108.00")
    assert "Carte 10 jours" in text_of(response) and bill.reference in text_of(response)

    day = day_ahead(3)
    book(alice, desk, paris(day, 8), paris(day, 13))  # a morning: half a day of the card
    holding.refresh_from_db()
    assert holding.days_left == Decimal("9.5")
    # The month's run knows the sale: it is not billed again.
    runs.prepare(on_sale["card"].operator, timezone.localdate().replace(day=1), today=timezone.localdate())
    assert Bill.objects.filter(member=alice).count() == 1


def test_a_subscription_is_billed_by_the_run_and_cancelled_at_the_end_of_the_month(client, alice, on_sale):
    client.force_login(alice)
    client.post(reverse("billing:plans"), {"plan": on_sale["subscription"].pk})
    holding = Holding.objects.get(member=alice)
    assert not Bill.objects.exists()  # the month's run bills it

    response = client.post(reverse("billing:cancel_plan", args=[holding.pk]), follow=True)

    holding.refresh_from_db()
    today = timezone.localdate()
    next_month = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    assert holding.cancelled_at and holding.ends_on == next_month - timedelta(days=1)
    assert "il court jusqu’au" in text_of(response)
    run = runs.prepare(on_sale["subscription"].operator, next_month, today=next_month)
    assert not run.bills.exists()  # nothing after the month it ends


def test_a_second_subscription_at_the_same_operator_is_refused(alice, on_sale):
    shop.take(on_sale["subscription"], alice, by=alice)
    with pytest.raises(shop.ShopError, match="court déjà"):
        shop.take(on_sale["subscription"], alice, by=alice)
    assert Holding.objects.count() == 1


def test_a_lease_is_not_taken_online(client, alice, on_sale):
    client.force_login(alice)
    response = client.post(reverse("billing:plans"), {"plan": on_sale["lease"].pk})
    assert response.status_code == 400 and not Holding.objects.exists()


def test_a_manager_takes_a_card_for_their_organisation_but_not_for_another(client, alice, on_sale, company):
    client.force_login(alice)
    refused = client.post(
        reverse("billing:plans"), {"plan": on_sale["card"].pk, "for_organisation": company.pk}
    )
    assert refused.status_code == 400 and not Holding.objects.exists()

    permissions.grant_role(alice, Role.Name.ORGANISATION_MANAGER, company)
    client.post(reverse("billing:plans"), {"plan": on_sale["card"].pk, "for_organisation": company.pk})

    holding = Holding.objects.get()
    assert holding.organisation == company and holding.member is None
    assert Bill.objects.get().organisation == company


def test_a_start_in_the_past_is_refused_with_a_message_and_nothing_is_written(client, alice, on_sale):
    client.force_login(alice)
    response = client.post(
        reverse("billing:plans"),
        {"plan": on_sale["card"].pk, "starts_on": (timezone.localdate() - timedelta(days=1)).isoformat()},
    )
    assert response.status_code == 400 and "aujourd’hui ou dans les trois mois" in text_of(response)
    assert not Holding.objects.exists() and not Charge.objects.exists() and not Bill.objects.exists()


def test_someone_elses_subscription_cannot_be_cancelled(client, alice, bob, on_sale):
    holding = shop.take(on_sale["subscription"], bob, by=bob)
    client.force_login(alice)
    assert client.post(reverse("billing:cancel_plan", args=[holding.pk])).status_code == 404
    holding.refresh_from_db()
    assert holding.cancelled_at is None
