"""Places of pooled spaces: each live booking holds one, the database refuses what does not fit, and a
capacity changes through the engine without rewriting history."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from cocotte.bookings import places, services
from cocotte.bookings.errors import Conflict, InvalidBooking
from cocotte.bookings.models import Booking
from cocotte.core.models import AuditEntry
from cocotte.spaces.models import Resource
from tests.helpers import day_ahead, paris

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_places(site, make_resource):
    """An open space of two places, by the hour."""
    return make_resource(
        site, "coin-calme", kind=Resource.Kind.OPEN_SPACE, unit=Resource.Unit.HOUR, capacity=2
    )


def live_places(resource):
    return sorted(Booking.objects.live().filter(resource=resource).values_list("start", "place"))


def test_overlapping_bookings_hold_distinct_places_and_adjacent_ones_share(two_places, alice, bob, book):
    day = day_ahead()
    first = book(alice, two_places, paris(day, 9), paris(day, 11))
    second = book(bob, two_places, paris(day, 10), paris(day, 12))
    after = book(alice, two_places, paris(day, 11), paris(day, 12))
    assert (first.place, second.place, after.place) == (1, 2, 1)
    with pytest.raises(Conflict):
        book(bob, two_places, paris(day, 11), paris(day, 12))  # both places taken at 11:00


def test_a_day_fits_when_a_place_is_free_in_the_morning_and_another_in_the_afternoon(
    two_places, make_user, alice, book
):
    """Morning: place 2 taken; afternoon: place 1 taken. No single place is free all day, yet never more
    than one is taken: the engine moves an upcoming booking to the other place and the day fits."""
    day = day_ahead()
    bob, dan = make_user("bob2@example.org"), make_user("dan@example.org")
    morning_1 = book(alice, two_places, paris(day, 9), paris(day, 12))
    morning_2 = book(bob, two_places, paris(day, 9), paris(day, 12))
    services.cancel(morning_1, by=alice)
    afternoon = book(dan, two_places, paris(day, 14), paris(day, 17))
    assert (morning_2.place, afternoon.place) == (2, 1)

    whole_day = book(alice, two_places, paris(day, 9), paris(day, 17))

    afternoon.refresh_from_db()
    assert whole_day.place == 1 and afternoon.place == 2
    held = Booking.objects.live().filter(resource=two_places)
    assert sorted((b.start, b.place) for b in held) == sorted(
        [(paris(day, 9), 2), (paris(day, 9), 1), (paris(day, 14), 2)]
    )


def test_assigning_places_keeps_each_booking_where_it_is_when_it_can():
    t = [timezone.now() + timedelta(hours=h) for h in range(6)]
    movable = [
        places.Held("a", t[0], t[2], 2),
        places.Held("b", t[1], t[3], 1),
        places.Held("new", t[0], t[4], None),
    ]
    # In order of start: a keeps 2, the new one takes the lowest free (1), b moves to what is left.
    assert places.assign(3, [], movable) == {"a": 2, "new": 1, "b": 3}
    assert places.assign(3, [places.Held("old", t[0], t[1], 1)], movable[:2]) == {"a": 2, "b": 1}
    assert places.assign(2, [], movable) is None  # three overlap at t[1]


@pytest.mark.parametrize("place", [3, 4])
def test_the_database_refuses_a_place_beyond_the_capacity(open_space, alice, place):
    """Written without the engine (a script, a future code path): a trigger refuses it, on every database."""
    day = day_ahead()
    with pytest.raises(IntegrityError, match="bookings_place_within_capacity"), transaction.atomic():
        Booking.objects.create(
            resource=open_space, member=alice, start=paris(day, 8), end=paris(day, 13), place=place + 1
        )
    Booking.objects.create(
        resource=open_space, member=alice, start=paris(day, 8), end=paris(day, 13), place=3
    )


def test_the_database_refuses_a_capacity_below_the_places_of_upcoming_bookings(open_space, alice, book):
    day = day_ahead()
    for _ in range(3):
        book(alice, open_space, paris(day, 8), paris(day, 13))
    with pytest.raises(IntegrityError, match="bookings_place_within_capacity"), transaction.atomic():
        Resource.objects.filter(pk=open_space.pk).update(capacity=2)


def past_bookings(resource, member, count):
    """Bookings of yesterday's morning (history: written in bulk, as an import would)."""
    yesterday = timezone.localdate() - timedelta(days=1)
    rows = [
        Booking(resource=resource, member=member, start=paris(yesterday, 8), end=paris(yesterday, 13))
        for _ in range(count)
    ]
    services.load_history(rows)
    return rows


def test_lowering_a_capacity_when_only_past_bookings_overlap_keeps_history(open_space, alice, sophie):
    """Bug: on PostgreSQL the admin answered 500 (the exclusion constraint), on SQLite it rewrote history."""
    past = past_bookings(open_space, alice, 3)
    assert sorted(b.place for b in past) == [1, 2, 3]

    services.change_capacity(open_space, 1, by=sophie)

    open_space.refresh_from_db()
    assert open_space.capacity == 1
    assert sorted(Booking.objects.filter(pk__in=[b.pk for b in past]).values_list("place", flat=True)) == [
        1,
        2,
        3,
    ]
    entry = AuditEntry.objects.get(action="resource.capacity_changed")
    assert (entry.actor, entry.data) == (sophie, {"before": 3, "after": 1})


def test_lowering_a_capacity_moves_upcoming_bookings_to_the_places_left(open_space, alice, bob, sophie, book):
    day = day_ahead()
    first = book(alice, open_space, paris(day, 8), paris(day, 13))
    second = book(bob, open_space, paris(day, 8), paris(day, 13))
    third = book(alice, open_space, paris(day, 13), paris(day, 20))  # place 1: free in the afternoon
    services.cancel(first, by=alice)
    assert (second.place, third.place) == (2, 1)

    services.change_capacity(open_space, 1, by=sophie)

    assert live_places(open_space) == [(paris(day, 8), 1), (paris(day, 13), 1)]
    second.refresh_from_db()
    assert second.place == 1


def test_a_capacity_below_the_upcoming_peak_is_refused_and_nothing_changes(
    open_space, alice, bob, sophie, book
):
    day = day_ahead()
    book(alice, open_space, paris(day, 8), paris(day, 13))
    book(bob, open_space, paris(day, 8), paris(day, 13))
    with pytest.raises(InvalidBooking) as refused:
        services.change_capacity(open_space, 1, by=sophie)
    assert refused.value.code == "capacity_below_peak"
    assert "2 réservations" in refused.value.message
    open_space.refresh_from_db()
    assert open_space.capacity == 3


def test_only_the_sites_staff_change_a_capacity(open_space, alice, carol):
    from cocotte.bookings.errors import Forbidden

    for person in (alice, carol):
        with pytest.raises(Forbidden):
            services.change_capacity(open_space, 5, by=person)


def test_decisions_follow_the_row_read_under_the_lock_not_the_callers_copy(open_space, alice, bob, book):
    """Bug: the lock read only the resource's id; `book` decided with the caller's stale capacity and
    approval rule."""
    stale = Resource.objects.get(pk=open_space.pk)
    Resource.objects.filter(pk=open_space.pk).update(capacity=1, requires_approval=True)
    day = day_ahead()
    first = services.book(resource=stale, member=alice, start=paris(day, 8), end=paris(day, 13))
    assert first.status == Booking.Status.PENDING
    with pytest.raises(Conflict):
        services.book(resource=stale, member=bob, start=paris(day, 8), end=paris(day, 13))
