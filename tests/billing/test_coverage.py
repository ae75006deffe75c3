"""What pays for a booking: a lease, a subscription (its coworking, then its included hours), a card or a
pass, then pay-as-you-go — shown before the member confirms, recorded as the booking is made, given back
when it is cancelled in time, charged by the operator's rule when cancelled within the notice."""

from datetime import timedelta
from decimal import Decimal

import pytest

from cocotte.billing.models import CancellationRule, Charge, CreditUse, Holding, Plan, PriceLine
from cocotte.bookings import hooks, services
from cocotte.spaces.models import Resource
from tests.helpers import day_ahead, paris

K, U = Resource.Kind, Resource.Unit


@pytest.fixture
def priced(private_operator):
    for kind, unit, amount in (
        (K.DESK, U.HALF_DAY, "7.50"),
        (K.OPEN_SPACE, U.HALF_DAY, "6.00"),
        (K.MEETING_ROOM, U.HALF_HOUR, "7.50"),
    ):
        PriceLine.objects.create(
            operator=private_operator, kind=kind, unit=unit, amount_excl_vat=Decimal(amount), label=f"{kind}"
        )
    return private_operator


def hold(operator, member, kind, *, days="0", hours="0", resource=None, ends_in=None):
    plan = Plan.objects.create(
        operator=operator,
        kind=kind,
        name=f"{kind}",
        price_excl_vat=Decimal("100"),
        days=Decimal(days),
        included_hours=Decimal(hours),
        day_kinds=[K.DESK, K.OPEN_SPACE] if kind != Plan.Kind.LEASE else [],
        hour_kinds=[K.MEETING_ROOM],
    )
    today = day_ahead(0)
    return Holding.objects.create(
        plan=plan,
        member=member,
        resource=resource,
        starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=ends_in) if ends_in is not None else None,
        price_excl_vat=plan.price_excl_vat,
        days_left=Decimal(days),
    )


def quote(resource, member, start, end):
    return hooks.quote(hooks.Proposal("book", resource, member, member, start, end))


MORNING, DAY = (8, 13), (8, 20)


@pytest.mark.parametrize(
    "plan, days, hours, resource_name, period, covered_by, to_pay, credit_left",
    [
        # no plan: pay-as-you-go
        (None, "0", "0", "desk", DAY, "pay_as_you_go", "15.00", None),
        # a card: a half-day takes half a day, a day a whole one
        (Plan.Kind.CARD, "10", "0", "desk", MORNING, "card", "0.00", "9.5"),
        (Plan.Kind.CARD, "10", "0", "desk", DAY, "card", "0.00", "9.0"),
        # a card running out: half a day left covers the morning, the afternoon is paid
        (Plan.Kind.CARD, "0.5", "0", "desk", DAY, "mixed", "7.50", "0.0"),
        # a day pass covers a day of the open space
        (Plan.Kind.DAY_PASS, "1", "0", "open_space", DAY, "day_pass", "0.00", "0.0"),
        # a card does not cover a meeting room
        (Plan.Kind.CARD, "10", "0", "room", (10, 11), "pay_as_you_go", "15.00", "10.0"),
        # a subscription covers coworking whole, and the room from its included hours
        (Plan.Kind.SUBSCRIPTION, "0", "0", "desk", DAY, "subscription", "0.00", None),
        (Plan.Kind.SUBSCRIPTION, "0", "2", "room", (10, 11), "included_hours", "0.00", None),
        (Plan.Kind.SUBSCRIPTION, "0", "0.5", "room", (10, 11), "mixed", "7.50", None),
    ],
)
def test_what_pays_for_a_booking(
    alice,
    desk,
    open_space,
    room,
    priced,
    book,
    plan,
    days,
    hours,
    resource_name,
    period,
    covered_by,
    to_pay,
    credit_left,
):
    resource = {"desk": desk, "open_space": open_space, "room": room}[resource_name]
    holding = hold(priced, alice, plan, days=days, hours=hours) if plan else None
    day = day_ahead(3)
    start, end = paris(day, period[0]), paris(day, period[1])

    price = quote(resource, alice, start, end)
    assert (price["covered_by"], price["amount_excl_vat"]) == (covered_by, to_pay)
    booking = book(alice, resource, start, end)

    assert booking.price["amount_excl_vat"] == to_pay  # the same as what was shown
    charge = Charge.objects.filter(source="bookings.booking", source_id=booking.pk).first()
    assert (charge.amount_excl_vat if charge else Decimal("0.00")) == Decimal(to_pay)
    if credit_left is not None:
        holding.refresh_from_db()
        assert holding.days_left == Decimal(credit_left)


def test_a_subscription_ending_mid_month_stops_covering_after_its_end(alice, desk, priced, book):
    hold(priced, alice, Plan.Kind.SUBSCRIPTION, ends_in=2)
    inside, after = day_ahead(2), day_ahead(4)

    assert quote(desk, alice, paris(inside, 8), paris(inside, 13))["covered_by"] == "subscription"
    assert quote(desk, alice, paris(after, 8), paris(after, 13))["covered_by"] == "pay_as_you_go"


def test_an_organisations_card_covers_its_people(alice, desk, priced, company, book):
    alice.profile.organisation = company
    alice.profile.save()
    plan = Plan.objects.create(
        operator=priced,
        kind=Plan.Kind.CARD,
        name="Carte 10 jours",
        price_excl_vat=Decimal("120"),
        days=Decimal("10"),
        day_kinds=[K.DESK],
    )
    Holding.objects.create(
        plan=plan, organisation=company, starts_on=day_ahead(0), price_excl_vat=Decimal("120"), days_left=10
    )
    day = day_ahead(3)

    assert quote(desk, alice, paris(day, 8), paris(day, 13))["covered_by"] == "card"


def test_cancelled_in_time_gives_the_card_day_back_and_charges_nothing(alice, desk, priced, book):
    holding = hold(priced, alice, Plan.Kind.CARD, days="0.5")
    day = day_ahead(5)
    booking = book(alice, desk, paris(day, 8), paris(day, 20))

    services.cancel(booking, by=alice)

    holding.refresh_from_db()
    assert holding.days_left == Decimal("0.5")
    assert not CreditUse.objects.filter(booking=booking).exists()
    assert not Charge.objects.filter(source_id=booking.pk).exists()


def test_cancelled_within_the_notice_is_charged_by_the_rule(alice, sophie, room, priced, book, site):
    CancellationRule.objects.create(operator=priced, kind=K.MEETING_ROOM, percent=Decimal("50"))
    room.cancellation_notice_hours = 72
    room.save()
    soon = paris(day_ahead(1), 8)
    booking = book(
        alice, room, soon, soon + timedelta(hours=1)
    )  # within the 3 days' notice, whatever the hour now

    services.cancel(booking, by=sophie)  # only the team may cancel so late

    charge = Charge.objects.get(source_id=booking.pk)
    assert charge.amount_excl_vat == Decimal("7.50")  # half of 2 × 7.50
    assert "annulation tardive" in charge.label
