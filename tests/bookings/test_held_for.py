"""A room the house holds for its own activity (a training's sitting, an event): booked through the engine like
any other, so that it conflicts with members' bookings, but billed to nobody and mailed to nobody by the engine."""

from decimal import Decimal

import pytest
from django.core import mail

from cocotte.billing.models import Charge, PriceLine
from cocotte.bookings import services
from cocotte.bookings.errors import Conflict, Forbidden
from cocotte.spaces.models import Resource
from tests.billing.conftest import private_operator  # noqa: F401 — an operator that bills the site
from tests.helpers import day_ahead, paris

HELD = "learning.sitting:1"


@pytest.fixture
def priced_room(private_operator, room):  # noqa: F811
    PriceLine.objects.create(
        operator=private_operator,
        kind=Resource.Kind.MEETING_ROOM,
        unit=Resource.Unit.HALF_HOUR,
        amount_excl_vat=Decimal("7.50"),
        label="Salle",
    )
    return room


def test_staff_hold_a_room_without_a_bill_or_an_email(sophie, priced_room, committed):
    day = day_ahead(5)
    with committed():
        booking = services.book(
            resource=priced_room,
            member=sophie,
            by=sophie,
            start=paris(day, 9),
            end=paris(day, 12),
            held_for=HELD,
        )
    assert booking.held_for == HELD and booking.status == "confirmed"
    assert booking.price is None
    assert not Charge.objects.filter(source="bookings.booking", source_id=booking.pk).exists()
    assert mail.outbox == []


def test_a_members_booking_of_the_same_room_is_still_billed(alice, priced_room, committed):
    day = day_ahead(5)
    with committed():
        booking = services.book(resource=priced_room, member=alice, start=paris(day, 9), end=paris(day, 10))
    assert Charge.objects.filter(source="bookings.booking", source_id=booking.pk).exists()
    assert len(mail.outbox) == 1


def test_a_held_room_conflicts_with_members(sophie, alice, room):
    day = day_ahead(5)
    services.book(
        resource=room, member=sophie, by=sophie, start=paris(day, 9), end=paris(day, 12), held_for=HELD
    )
    with pytest.raises(Conflict):
        services.book(resource=room, member=alice, start=paris(day, 10), end=paris(day, 11))


def test_only_the_sites_staff_hold_rooms(alice, carol, room):
    day = day_ahead(5)
    for who in (alice, carol):
        with pytest.raises(Forbidden):
            services.book(
                resource=room, member=who, by=who, start=paris(day, 9), end=paris(day, 12), held_for=HELD
            )
    assert not room.bookings.exists()
