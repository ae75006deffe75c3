"""An event's rooms go through the booking engine; priced places hand their lines to billing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from cocotte.billing.models import Charge, Operator, RevenueType, SiteOperator
from cocotte.bookings.errors import BookingError
from cocotte.bookings.models import Booking
from cocotte.events import errors, services
from cocotte.events.models import Event, Registration
from tests.helpers import day_ahead, paris


@pytest.fixture
def operator(site):
    operator = Operator.objects.create(
        name="Hautes Terres Communauté",
        legal_name="Communauté de communes Hautes Terres Communauté",
        mode=Operator.Mode.PRIVATE,
        street="4 rue du Faubourg Notre-Dame",
        postal_code="15300",
        city="Murat",
        siret="20006663700014",
        invoice_prefix="HTC",
    )
    SiteOperator.objects.create(site=site, operator=operator)
    return operator


@pytest.fixture
def hall(site, make_resource):
    return make_resource(site, "grande-salle", seats=60, name="Grande salle")


def live_bookings(event):
    return list(Booking.objects.live().filter(held_for=f"events.event:{event.pk}").order_by("resource_id"))


def test_a_forum_books_all_its_rooms_through_the_engine(make_event, room, hall):
    event = make_event(rooms=[room, hall])
    bookings = live_bookings(event)
    assert [b.resource_id for b in bookings] == sorted([room.pk, hall.pk])
    assert all((b.start, b.end) == (event.start, event.end) for b in bookings)


def test_a_conflict_refuses_the_event_and_saves_nothing(make_event, room, hall, alice, book):
    start = paris(day_ahead(14), 10)
    book(alice, hall, start, start + timedelta(hours=1))
    with pytest.raises(BookingError) as refused:
        make_event(rooms=[room, hall])
    assert refused.value.message  # the engine's own words
    assert not Event.objects.exists()
    assert not Booking.objects.filter(held_for__startswith="events.").exists()


def test_moving_the_event_moves_its_rooms_and_tells_registrants(make_event, room, hall, alice, sophie, sent):
    event = make_event(rooms=[room])
    services.register(event, member=alice)
    mail.outbox.clear()
    new_start, new_end = paris(day_ahead(15), 9), paris(day_ahead(15), 12)
    with sent():
        services.update_event(event, by=sophie, start=new_start, end=new_end, rooms=[room, hall])
    bookings = live_bookings(event)
    assert len(bookings) == 2 and all((b.start, b.end) == (new_start, new_end) for b in bookings)
    [message] = mail.outbox
    assert message.to == ["alice@example.org"] and "Changement" in message.subject
    # Dropping a room releases it.
    services.update_event(event, by=sophie, rooms=[hall])
    assert [b.resource_id for b in live_bookings(event)] == [hall.pk]


def test_a_move_onto_a_taken_slot_changes_nothing(make_event, room, alice, sophie, book):
    event = make_event(rooms=[room])
    taken = paris(day_ahead(16), 9)
    book(alice, room, taken, taken + timedelta(hours=1))
    with pytest.raises(BookingError):
        services.update_event(event, by=sophie, start=taken, end=taken + timedelta(hours=3))
    event.refresh_from_db()
    assert event.start == paris(day_ahead(14), 9)
    assert [(b.start, b.end) for b in live_bookings(event)] == [(event.start, event.end)]


def test_cancelling_the_event_releases_rooms_and_tells_everyone(make_event, room, alice, bob, sophie, sent):
    event = make_event(rooms=[room], capacity=1)
    services.register(event, member=alice)
    services.register(event, member=bob)  # waiting
    mail.outbox.clear()
    with sent():
        services.cancel_event(event, by=sophie, reason="Panne de chauffage")
    assert live_bookings(event) == []
    assert set(Registration.objects.filter(event=event).values_list("status", flat=True)) == {"cancelled"}
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.org", "bob@example.org"]
    assert all("Panne de chauffage" in m.body for m in mail.outbox)


def test_only_site_staff_create_events(site, carol, alice):
    fields = {"title": "X", "description": "Y", "capacity": 5, "outside_address": "Ailleurs"}
    fields |= {"start": paris(day_ahead(5), 9), "end": paris(day_ahead(5), 10)}
    for who in (alice, carol):
        with pytest.raises(errors.Forbidden):
            services.create_event(by=who, site=site, **fields)


def test_a_priced_place_is_handed_to_billing_and_withdrawn_when_cancelled_in_time(workshop, operator, alice):
    registration = services.register(workshop, member=alice)
    charge = Charge.objects.get(source="events.registration", source_id=registration.pk)
    assert charge.member == alice and charge.revenue_type == RevenueType.EVENT
    assert charge.unit_price_excl_vat == Decimal("25.00") and charge.operator == operator
    result = services.cancel_registration(registration, by=alice)
    assert result.refund == "withdrawn"
    assert not Charge.objects.filter(source="events.registration").exists()


def test_a_late_cancellation_keeps_the_line(make_event, operator, alice):
    soon = timezone.now() + timedelta(hours=5)
    event = make_event(
        price_excl_vat=Decimal("10"), start=soon, end=soon + timedelta(hours=2), outside_address="Ici"
    )
    registration = services.register(event, member=alice)
    assert services.cancel_registration(registration, by=alice).refund == "kept"
    assert Charge.objects.filter(source_id=registration.pk).exists()


def test_a_waiting_member_is_billed_only_once_they_take_the_place(workshop, operator, make_user):
    people = [make_user(f"m{i}@example.org") for i in range(3)]
    regs = [services.register(workshop, member=p) for p in people]
    assert Charge.objects.count() == 2
    services.cancel_registration(regs[0], by=people[0])
    assert Charge.objects.count() == 1
    services.accept_offer(Registration.objects.get(pk=regs[2].pk), by=people[2])
    assert set(Charge.objects.values_list("source_id", flat=True)) == {regs[1].pk, regs[2].pk}


def test_a_team_cancellation_takes_every_line_back(workshop, operator, alice, bob, sophie):
    services.register(workshop, member=alice)
    services.register(workshop, member=bob)
    assert Charge.objects.count() == 2
    services.cancel_event(workshop, by=sophie, reason="Imprimante en panne")
    assert not Charge.objects.exists()


def test_a_team_member_cancelling_someones_late_place_does_not_charge_it(make_event, operator, alice, sophie):
    soon = timezone.now() + timedelta(hours=5)
    event = make_event(
        price_excl_vat=Decimal("10"), start=soon, end=soon + timedelta(hours=2), outside_address="Ici"
    )
    registration = services.register(event, member=alice)
    assert services.cancel_registration(registration, by=sophie).refund == "withdrawn"
