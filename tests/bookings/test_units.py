"""Half-day and day resources follow the site's real opening: at a telecentre open 9–12 and 14–18, a desk is
booked for the morning (9–12), the afternoon (14–18) or the day (9–18, the lunch break inside it being closed
time). Availability shows free exactly what the rules accept."""

from datetime import time, timedelta

import pytest

from cocotte.accounts import permissions
from cocotte.accounts.models import Role
from cocotte.bookings import schedule, services
from cocotte.bookings.errors import Conflict, InvalidBooking
from cocotte.bookings.models import Booking
from cocotte.core.timeutils import day_bounds
from cocotte.spaces.models import Closure, Resource
from tests.helpers import PARIS, day_ahead, paris

from .test_dst import autumn, spring  # noqa: F401 — fixtures: the days the clocks change

pytestmark = pytest.mark.django_db

LUNCH_BREAK = ((time(9), time(12)), (time(14), time(18)))


@pytest.fixture
def telecentre(make_site):
    return make_site("telecentre", hours=LUNCH_BREAK)


@pytest.fixture
def desk(telecentre, make_resource):
    return make_resource(
        telecentre, "poste", kind=Resource.Kind.DESK, unit=Resource.Unit.HALF_DAY, max_units=2
    )


def book(member, resource, start, end):
    return services.book(resource=resource, member=member, start=start, end=end)


def refused(code, call) -> InvalidBooking | Conflict:
    before = Booking.objects.count()
    with pytest.raises((InvalidBooking, Conflict)) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    assert Booking.objects.count() == before
    return caught.value


def free_of(resource, day):
    resource = Resource.objects.select_related("site").get(pk=resource.pk)
    (entry,) = schedule.availability([resource], *day_bounds(day, PARIS))
    return entry


def test_a_desk_is_booked_for_the_morning_the_afternoon_or_the_day_around_the_lunch_break(
    alice, bob, make_user, desk
):
    day = day_ahead()
    morning = book(alice, desk, paris(day, 9), paris(day, 12))
    afternoon = book(bob, desk, paris(day, 14), paris(day, 18))  # the morning's booking is no conflict
    assert (morning.status, afternoon.status) == (Booking.Status.CONFIRMED, Booking.Status.CONFIRMED)
    other = day + timedelta(days=1)
    assert [(s.start, s.end) for s in free_of(desk, other).free] == [
        (paris(other, 9), paris(other, 12)),
        (paris(other, 14), paris(other, 18)),
    ]
    whole = book(make_user("c@example.org"), desk, paris(other, 9), paris(other, 18))
    assert (whole.start, whole.end) == (paris(other, 9), paris(other, 18))


def test_a_day_spans_the_break_but_hours_do_not(alice, bob, desk, telecentre, make_resource):
    room = make_resource(telecentre, "salle", unit=Resource.Unit.HOUR)
    day = day_ahead()
    assert book(alice, desk, paris(day, 9), paris(day, 18)).pk
    refused("outside_opening_hours", lambda: book(bob, room, paris(day, 11), paris(day, 15)))
    assert book(bob, room, paris(day, 11), paris(day, 12)).pk
    # A closed day is still said closed, not "not on unit".
    closed = day + timedelta(days=1)
    Closure.objects.create(site=telecentre, start_date=closed, end_date=closed, reason="Inventaire")
    refused("closed", lambda: book(alice, desk, paris(closed, 9), paris(closed, 18)))


def test_a_day_conflicts_with_either_half_day(alice, bob, desk):
    day = day_ahead()
    book(alice, desk, paris(day, 9), paris(day, 12))
    refused("conflict", lambda: book(bob, desk, paris(day, 9), paris(day, 18)))
    later = day + timedelta(days=1)
    book(alice, desk, paris(later, 14), paris(later, 18))
    refused("conflict", lambda: book(bob, desk, paris(later, 9), paris(later, 18)))
    book(bob, desk, paris(later, 9), paris(later, 12))  # the morning is still free


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ((9, 0), (13, 0), "end"),  # the old split, across the break
        ((13, 0), (18, 0), "start"),
        ((9, 0), (12, 30), "end"),
        ((10, 0), (12, 0), "start"),
        ((12, 0), (14, 0), "start"),  # the break itself
    ],
)
def test_a_period_that_is_not_a_half_day_nor_the_day_is_not_on_unit(alice, desk, start, end, field):
    day = day_ahead()
    error = refused("not_on_unit", lambda: book(alice, desk, paris(day, *start), paris(day, *end)))
    assert error.field == field
    # The message says which periods the day offers.
    assert "demi-journée" in error.message
    assert "matinée de 09:00 à 12:00" in error.message
    assert "après-midi de 14:00 à 18:00" in error.message
    assert "journée de 09:00 à 18:00" in error.message


def test_a_site_without_a_break_splits_the_day_at_its_half_day_split(alice, bob, make_site, make_resource):
    site = make_site("sans-pause", hours=((time(8), time(18)),), half_day_split=time(12, 30))
    desk = make_resource(site, "poste", kind=Resource.Kind.DESK, unit=Resource.Unit.HALF_DAY, max_units=2)
    day = day_ahead()
    book(alice, desk, paris(day, 8), paris(day, 12, 30))
    book(bob, desk, paris(day, 12, 30), paris(day, 18))
    other = day + timedelta(days=1)
    error = refused("not_on_unit", lambda: book(alice, desk, paris(other, 8), paris(other, 13)))
    assert "matinée de 08:00 à 12:30" in error.message
    assert "après-midi de 12:30 à 18:00" in error.message
    assert book(alice, desk, paris(other, 8), paris(other, 18)).pk


def test_a_day_on_a_pooled_open_space_spans_the_break_and_counts_in_both_halves(
    make_user, telecentre, make_resource
):
    hall = make_resource(
        telecentre,
        "open-space",
        kind=Resource.Kind.OPEN_SPACE,
        unit=Resource.Unit.HALF_DAY,
        capacity=2,
        max_units=2,
    )
    day = day_ahead()
    people = [make_user(f"p{i}@example.org") for i in range(4)]
    book(people[0], hall, paris(day, 9), paris(day, 18))
    book(people[1], hall, paris(day, 9), paris(day, 12))
    error = refused("conflict", lambda: book(people[2], hall, paris(day, 9), paris(day, 18)))
    assert "places" in error.message
    book(people[2], hall, paris(day, 14), paris(day, 18))  # one place left in the afternoon
    refused("conflict", lambda: book(people[3], hall, paris(day, 14), paris(day, 18)))
    entry = free_of(hall, day)
    assert entry.free == []
    assert [(s.start, s.end) for s in entry.full] == [
        (paris(day, 9), paris(day, 12)),
        (paris(day, 14), paris(day, 18)),
    ]


def test_a_day_resource_is_booked_from_the_first_opening_to_the_last_closing(
    alice, telecentre, make_resource
):
    room = make_resource(telecentre, "salle-journee", unit=Resource.Unit.DAY, max_units=1)
    day = day_ahead()
    refused("not_on_unit", lambda: book(alice, room, paris(day, 9), paris(day, 12)))
    assert book(alice, room, paris(day, 9), paris(day, 18)).pk
    assert [(s.start, s.end) for s in free_of(room, day + timedelta(1)).free] == [
        (paris(day + timedelta(1), 9), paris(day + timedelta(1), 18))
    ]


def test_with_three_openings_the_half_days_are_cut_at_the_split(alice, bob, make_site, make_resource):
    """A coffee break in the morning and a lunch break: the morning spans the coffee break."""
    site = make_site("trois", hours=((time(8), time(10)), (time(10, 30), time(12)), (time(14), time(18))))
    desk = make_resource(site, "poste", kind=Resource.Kind.DESK, unit=Resource.Unit.HALF_DAY, max_units=2)
    day = day_ahead()
    assert [(s.start, s.end) for s in free_of(desk, day).free] == [
        (paris(day, 8), paris(day, 12)),
        (paris(day, 14), paris(day, 18)),
    ]
    book(alice, desk, paris(day, 8), paris(day, 12))
    book(bob, desk, paris(day, 14), paris(day, 18))
    refused("not_on_unit", lambda: book(alice, desk, paris(day, 10, 30), paris(day, 12)))


class TestAvailabilityAgreesWithTheRules:
    def test_a_half_day_touched_by_a_block_is_not_shown_free(self, sophie, desk, telecentre):
        permissions.grant_role(sophie, Role.Name.SITE_STAFF, telecentre)
        day = day_ahead()
        services.block(desk, by=sophie, start=paris(day, 10), end=paris(day, 11), reason="Réparation")
        assert [(s.start, s.end) for s in free_of(desk, day).free] == [(paris(day, 14), paris(day, 18))]

    def test_every_free_slot_can_be_booked(self, make_user, alice, desk, telecentre, make_resource):
        hall = make_resource(
            telecentre, "open-space", kind=Resource.Kind.OPEN_SPACE, unit=Resource.Unit.HALF_DAY, capacity=2
        )
        day = day_ahead()
        book(alice, desk, paris(day, 14), paris(day, 18))
        book(alice, hall, paris(day, 9), paris(day, 18))
        for resource in (desk, hall):
            for slot in free_of(resource, day).free:
                assert book(
                    make_user(f"{resource.slug}-{slot.start:%H}@example.org"), resource, slot.start, slot.end
                )
            assert free_of(resource, day).free == []


class TestDaylightSaving:
    @pytest.mark.parametrize("which", ["spring", "autumn"])
    def test_half_days_and_days_follow_the_wall_clock(self, request, alice, bob, make_user, desk, which):
        day = request.getfixturevalue(which)
        assert [(s.start, s.end) for s in free_of(desk, day).free] == [
            (paris(day, 9), paris(day, 12)),
            (paris(day, 14), paris(day, 18)),
        ]
        book(alice, desk, paris(day, 9), paris(day, 12))
        book(bob, desk, paris(day, 14), paris(day, 18))
        later = day + timedelta(days=7)
        booking = book(make_user("c@example.org"), desk, paris(later, 9), paris(later, 18))
        assert booking.start.astimezone(PARIS).time() == time(9)


def test_a_weekly_series_of_mornings_at_a_site_with_a_break(alice, desk):
    day = day_ahead()
    result = services.book_series(
        resource=desk, member=alice, start=paris(day, 9), end=paris(day, 12), rrule="FREQ=WEEKLY;COUNT=3"
    )
    assert [(b.start, b.end) for b in result.bookings] == [
        (paris(day + timedelta(weeks=i), 9), paris(day + timedelta(weeks=i), 12)) for i in range(3)
    ]


def test_a_morning_is_moved_to_the_afternoon(alice, desk):
    day = day_ahead()
    booking = book(alice, desk, paris(day, 9), paris(day, 12))
    moved = services.move(booking, by=alice, start=paris(day, 14), end=paris(day, 18))
    assert (moved.start, moved.end) == (paris(day, 14), paris(day, 18))
