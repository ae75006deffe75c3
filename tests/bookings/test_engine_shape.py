"""What the next apps build on: several resources at once, booking as the system, the rules, participants
and subscribers they plug in, and the outbox that tells the world after commit, once."""

import ast
import pathlib
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction

from cocotte.bookings import events, hooks, services
from cocotte.bookings.errors import Conflict, InvalidBooking
from cocotte.bookings.models import Booking, BookingEvent, EventDelivery
from cocotte.core.models import AuditEntry
from tests.helpers import day_ahead, paris

pytestmark = pytest.mark.django_db


@pytest.fixture
def plug(request):
    """plug(kind, name, func): register an extension for this test only."""

    def register(kind, name, func):
        {
            "rule": hooks.register_rule,
            "participant": hooks.register_participant,
            "subscriber": hooks.subscribe,
        }[kind](name, func)
        request.addfinalizer(lambda: hooks.unregister(name))

    return register


# --- several resources at once --------------------------------------------------------------------------


def test_book_many_takes_every_room_or_none(site, room, make_resource, alice, bob, book):
    day = day_ahead()
    hall, kitchen = make_resource(site, "grande-salle"), make_resource(site, "cuisine")
    book(bob, kitchen, paris(day, 10), paris(day, 11))
    wanted = [(room, paris(day, 9), paris(day, 12)), (hall, paris(day, 9), paris(day, 12))]

    with pytest.raises(Conflict):
        services.book_many([*wanted, (kitchen, paris(day, 9), paris(day, 12))], member=alice)
    assert not Booking.objects.filter(member=alice).exists()

    taken = services.book_many(wanted, member=alice)
    assert [(b.resource, b.start) for b in taken] == [(room, paris(day, 9)), (hall, paris(day, 9))]
    [event] = BookingEvent.objects.filter(kind="booked", bookings=[b.pk for b in taken])
    assert event.data["statuses"] == ["confirmed", "confirmed"]


def test_book_many_refuses_two_overlapping_periods_of_one_room(room, alice):
    day = day_ahead()
    with pytest.raises(Conflict):
        services.book_many(
            [(room, paris(day, 9), paris(day, 11)), (room, paris(day, 10), paris(day, 12))], member=alice
        )
    assert not Booking.objects.exists()


# --- the system -----------------------------------------------------------------------------------------


def test_the_system_books_on_a_decision_and_the_audit_names_who_decided(office, alice, sophie):
    """A contest award: six months of office, beyond the advance limit, no approval asked."""
    first_day = (day_ahead(400)).replace(day=1)
    start = paris(first_day, 0)
    from dateutil.relativedelta import relativedelta

    end = paris(first_day + relativedelta(months=6), 0)
    award = services.System(decided_by=sophie, reason="Lauréate Start'up Chef 2027")

    booking = services.book(resource=office, member=alice, start=start, end=end, by=award)

    assert booking.status == Booking.Status.CONFIRMED and booking.booked_by == sophie
    entry = AuditEntry.objects.get(action="booking.created", object_id=booking.pk)
    assert entry.actor == sophie
    assert entry.data["system"] is True and entry.data["reason"] == "Lauréate Start'up Chef 2027"
    assert BookingEvent.objects.get(kind="booked").actor == sophie


def test_the_system_needs_a_reason(sophie):
    with pytest.raises(ValueError):
        services.System(decided_by=sophie, reason=" ")


# --- rules and participants -----------------------------------------------------------------------------


def test_a_plugged_rule_refuses_inside_the_lock_and_nothing_is_written(room, alice, plug):
    seen = []

    def machines_need_training(proposal):
        seen.append((proposal.action, proposal.resource.pk, proposal.member))
        raise InvalidBooking("Formation requise.", code="qualification_required")

    plug("rule", "test.training", machines_need_training)
    day = day_ahead()
    with pytest.raises(InvalidBooking) as refused:
        services.book(resource=room, member=alice, start=paris(day, 9), end=paris(day, 10))
    assert refused.value.code == "qualification_required"
    assert seen == [("book", room.pk, alice)]
    assert not Booking.objects.exists() and not BookingEvent.objects.exists()


def test_a_participant_writes_in_the_same_transaction_and_can_refuse_it_all(room, alice, plug):
    day = day_ahead()
    calls = []

    def billing(change):
        calls.append((change.kind, [b.pk for b in change.bookings]))
        AuditEntry.objects.create(
            actor=None, action="test.billed", content_type_id=1, object_id=change.bookings[0].pk
        )
        if len(calls) == 2:
            raise Conflict("Carte épuisée.", code="card_empty")

    plug("participant", "test.billing", billing)
    booking = services.book(resource=room, member=alice, start=paris(day, 9), end=paris(day, 10))
    assert calls == [("booked", [booking.pk])]
    with pytest.raises(Conflict):
        services.book(resource=room, member=alice, start=paris(day, 11), end=paris(day, 12))
    assert Booking.objects.count() == 1
    assert AuditEntry.objects.filter(action="test.billed").count() == 1  # the refused one's row went too


# --- the outbox -----------------------------------------------------------------------------------------


def test_the_engine_modules_import_neither_emails_nor_tasks():
    """The engine announces, it does not call: e-mails and reminders subscribe (notifications)."""
    engine = pathlib.Path(services.__file__).parent
    for name in ("services", "rules", "schedule", "recurrence", "events", "hooks", "places"):
        tree = ast.parse((engine / f"{name}.py").read_text())
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module in (None, "cocotte.bookings")
            for alias in node.names
        } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not imported & {"emails", "tasks", "notifications", ".emails", "cocotte.bookings.emails"}, name


def test_a_booking_request_records_one_event_and_sends_nothing_itself(room, alice, committed):
    day = day_ahead()
    with committed():
        pass
    booking = services.book(resource=room, member=alice, start=paris(day, 9), end=paris(day, 10))
    assert mail.outbox == []
    [event] = BookingEvent.objects.all()
    assert (event.kind, event.bookings, event.actor, event.delivered_at) == (
        "booked",
        [booking.pk],
        alice,
        None,
    )


def test_each_subscriber_gets_an_event_once_however_often_it_is_delivered(room, alice, plug, committed):
    got = []
    plug("subscriber", "test.counter", lambda event: got.append(event.pk))
    day = day_ahead()
    with committed():
        services.book(resource=room, member=alice, start=paris(day, 9), end=paris(day, 10))
    [event] = BookingEvent.objects.all()
    events.deliver(event.pk)
    events.deliver_pending()
    assert got == [event.pk]
    assert len(mail.outbox) == 1
    event.refresh_from_db()
    assert event.delivered_at is not None
    assert EventDelivery.objects.filter(event=event, done_at__isnull=False).count() == len(
        hooks.subscribers()
    )


def test_a_failing_subscriber_is_retried_by_the_sweep_and_the_others_are_not(
    room, alice, plug, committed, caplog
):
    attempts = []

    def flaky(event):
        attempts.append(event.pk)
        if len(attempts) == 1:
            raise OSError("provider down")

    plug("subscriber", "test.flaky", flaky)
    day = day_ahead()
    with committed():
        services.book(resource=room, member=alice, start=paris(day, 9), end=paris(day, 10))
    [event] = BookingEvent.objects.all()
    assert event.delivered_at is None and "test.flaky failed" in caplog.text
    assert len(mail.outbox) == 1

    events.deliver_pending()

    assert len(attempts) == 2 and len(mail.outbox) == 1  # the confirmation was not sent again
    event.refresh_from_db()
    assert event.delivered_at is not None


def test_a_claim_left_by_a_dead_worker_is_released_after_a_while(room, alice, plug, committed):
    got = []
    plug("subscriber", "test.late", lambda event: got.append(event.pk))
    day = day_ahead()
    with transaction.atomic():
        services.book(resource=room, member=alice, start=paris(day, 9), end=paris(day, 10))
    [event] = BookingEvent.objects.all()
    claim = EventDelivery.objects.create(event=event, subscriber="test.late")  # its worker died here
    events.deliver_pending()
    assert got == []
    EventDelivery.objects.filter(pk=claim.pk).update(
        claimed_at=claim.claimed_at - events.STALE_CLAIM - timedelta(1)
    )
    events.deliver_pending()
    assert got == [event.pk]


def test_a_muted_change_records_no_event(room, alice):
    day = day_ahead()
    with events.muted():
        services.book(resource=room, member=alice, start=paris(day, 9), end=paris(day, 10))
    assert not BookingEvent.objects.exists()


# --- the team is told of requests ----------------------------------------------------------------------


def test_the_sites_staff_are_emailed_when_a_request_needs_their_answer(
    approval_room, alice, sophie, carol, committed
):
    day = day_ahead()
    with committed():
        services.book(resource=approval_room, member=alice, start=paris(day, 9), end=paris(day, 10))
    to_staff = [m for m in mail.outbox if m.to == [sophie.email]]
    assert [m.to for m in mail.outbox if m.to != [alice.email]] == [
        [sophie.email]
    ]  # not carol, of another site
    [message] = to_staff
    assert message.subject.startswith("Demande à valider : ")
    assert "Alice Martin demande à réserver" in message.body
    assert f"/equipe/planning/{approval_room.site.slug}/" in message.body


def test_staff_booking_on_an_approved_resource_tells_nobody_else(approval_room, sophie, committed):
    day = day_ahead()
    with committed():
        services.book(resource=approval_room, member=sophie, start=paris(day, 9), end=paris(day, 10))
    assert [m.to for m in mail.outbox] == [[sophie.email]]  # her own confirmation


def test_plugged_rules_speak_before_anything_is_booked_too(room, alice, plug):
    """The choose step and a series' preview say what the rule would refuse, occurrence by occurrence."""
    day = day_ahead()

    def no_fridays(proposal):
        if proposal.start.weekday() == 4:
            raise InvalidBooking("Pas le vendredi.", code="no_fridays")

    plug("rule", "test.no_fridays", no_fridays)
    friday = day + timedelta(days=(4 - day.weekday()) % 7)
    with pytest.raises(InvalidBooking):
        services.check_booking(resource=room, member=alice, start=paris(friday, 9), end=paris(friday, 10))
    occurrences = services.preview_series(
        resource=room, member=alice, start=paris(friday, 9), end=paris(friday, 10), rrule="FREQ=DAILY;COUNT=3"
    )
    assert [o.problem.code if o.problem else None for o in occurrences] == ["no_fridays", None, None]
    assert not Booking.objects.exists()


def test_the_system_cancels_and_refuses_with_its_reason_in_the_audit_trail(
    alice, room, approval_room, root, book
):
    from cocotte.bookings.rules import System

    day = day_ahead(9)
    booking = book(alice, room, paris(day, 10), paris(day, 11))
    request = book(alice, approval_room, paris(day, 10), paris(day, 11))
    system = System(decided_by=root, reason="Compte supprimé")

    services.cancel(booking, by=system)
    services.refuse(request, by=system, reason="Bureau attribué au lauréat")

    cancelled = AuditEntry.objects.get(action="booking.cancelled", object_id=booking.pk)
    assert cancelled.data == {"system": True, "reason": "Compte supprimé"}
    refused = AuditEntry.objects.get(action="booking.refused", object_id=request.pk)
    assert refused.data == {"system": True, "reason": "Bureau attribué au lauréat"}
