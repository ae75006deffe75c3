"""Free and busy time of many resources, read in a bounded number of queries."""

from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cocotte.bookings import schedule, services
from cocotte.core.timeutils import day_bounds
from cocotte.spaces.models import Resource
from tests.helpers import PARIS, day_ahead, paris

pytestmark = pytest.mark.django_db


def week_of(resources, day):
    start = day_bounds(day, PARIS)[0]
    resources = Resource.objects.filter(pk__in=[r.pk for r in resources]).select_related("site")
    resources = resources.prefetch_related("site__opening_hours", "site__closures")
    return schedule.availability(resources, start, start + timedelta(days=7))


def test_free_time_is_opening_hours_minus_bookings_and_blocks(alice, sophie, room, book):
    day = day_ahead(3)
    book(alice, room, paris(day, 10), paris(day, 11))
    services.block(room, by=sophie, start=paris(day, 14), end=paris(day, 15), reason="Ménage")
    (entry,) = schedule.availability([room], *day_bounds(day, PARIS))
    assert [(s.start, s.end) for s in entry.free] == [
        (paris(day, 8), paris(day, 10)),
        (paris(day, 11), paris(day, 14)),
        (paris(day, 15), paris(day, 20)),
    ]
    assert [(b.kind, b.start) for b in entry.busy] == [("booking", paris(day, 10)), ("block", paris(day, 14))]
    assert entry.busy[1].reason == "Ménage"


def test_a_pooled_space_shows_places_left_and_when_it_is_full(make_user, open_space, book):
    day = day_ahead(3)
    for i in range(3):
        book(make_user(f"p{i}@example.org"), open_space, paris(day, 8), paris(day, 13))
    book(make_user("p9@example.org"), open_space, paris(day, 13), paris(day, 20))
    (entry,) = schedule.availability([open_space], *day_bounds(day, PARIS))
    assert [(s.start, s.end, s.places_left) for s in entry.free] == [(paris(day, 13), paris(day, 20), 2)]
    assert [(s.start, s.end) for s in entry.full] == [(paris(day, 8), paris(day, 13))]


def test_free_time_does_not_include_the_past(room):
    from django.utils import timezone

    today = timezone.localdate()
    now = timezone.now()
    (entry,) = schedule.availability([room], *day_bounds(today, PARIS))
    # The half-hour under way may still be booked (rules.earliest_start): nothing before it is offered.
    assert all(slot.start > now - timedelta(minutes=30) for slot in entry.free)
    assert all(slot.start.minute in (0, 30) and slot.start.second == 0 for slot in entry.free)


def test_free_time_stops_at_the_booking_horizon(site, make_resource):
    studio = make_resource(site, "studio", max_advance_days=2)
    (entry,) = schedule.availability([studio], *day_bounds(day_ahead(5), PARIS))
    assert entry.free == []


def test_offices_are_free_around_the_clock(office):
    day = day_ahead(3)
    (entry,) = schedule.availability([office], *day_bounds(day, PARIS))
    assert [(s.start, s.end) for s in entry.free] == [day_bounds(day, PARIS)]


def test_a_weeks_availability_costs_the_same_queries_for_few_or_many_resources(
    site, make_resource, make_user, book
):
    few = [make_resource(site, f"r{i}") for i in range(2)]
    with CaptureQueriesContext(connection) as small:
        week_of(few, day_ahead(3))
    many = few + [make_resource(site, f"s{i}") for i in range(15)]
    member = make_user("busy@example.org")
    for i, resource in enumerate(many):
        for d in range(5):
            day = day_ahead(3 + d)
            book(member, resource, paris(day, 8 + i % 10), paris(day, 9 + i % 10))
    with CaptureQueriesContext(connection) as large:
        result = week_of(many, day_ahead(3))
    assert sum(len(e.busy) for e in result) == 17 * 5
    assert len(large) == len(small) <= 4


def test_opening_hours_with_a_break_make_two_free_slots(make_site, make_resource):
    site = make_site("pause", hours=((time(9), time(12)), (time(14), time(18))))
    studio = make_resource(site, "studio")
    day = day_ahead(3)
    (entry,) = schedule.availability([studio], *day_bounds(day, PARIS))
    assert [(s.start, s.end) for s in entry.free] == [
        (paris(day, 9), paris(day, 12)),
        (paris(day, 14), paris(day, 18)),
    ]
