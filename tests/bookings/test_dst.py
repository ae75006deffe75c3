"""The days the clocks change in Europe/Paris (last Sunday of March and of October)."""

from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from cocotte.bookings import schedule, services
from cocotte.core.timeutils import at_local, day_bounds
from tests.helpers import PARIS, paris

pytestmark = pytest.mark.django_db


def last_sunday(year, month):
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


@pytest.fixture
def spring():
    today = timezone.localdate()
    year = today.year if last_sunday(today.year, 3) > today + timedelta(days=2) else today.year + 1
    return last_sunday(year, 3)


@pytest.fixture
def autumn():
    today = timezone.localdate()
    year = today.year if last_sunday(today.year, 10) > today + timedelta(days=2) else today.year + 1
    return last_sunday(year, 10)


@pytest.fixture
def all_night(make_site, make_resource):
    """A site open around the clock, every day, so that the hours that shift can be booked."""
    site = make_site("nuit", hours=((time(0), time(0)),))
    return make_resource(site, "salle", max_units=60)


def test_the_spring_day_has_23_hours_and_the_autumn_day_25(spring, autumn):
    start, end = day_bounds(spring, PARIS)
    assert end - start == timedelta(hours=23)
    start, end = day_bounds(autumn, PARIS)
    assert end - start == timedelta(hours=25)


def test_a_booking_across_the_spring_gap_lasts_one_real_hour_less(alice, all_night, spring):
    """01:30 to 03:30 on the wall clock is one hour: 02:00–03:00 does not exist that night."""
    booking = services.book(
        resource=all_night, member=alice, start=paris(spring, 1, 30), end=paris(spring, 3, 30)
    )
    assert booking.end - booking.start == timedelta(hours=1)


def test_the_repeated_autumn_hour_is_booked_twice_without_conflict(alice, bob, all_night, autumn):
    """02:00–03:00 happens twice: first in summer time (UTC+2), then in winter time (UTC+1)."""
    first = at_local(autumn, time(2), PARIS)  # fold=0: the first 02:00, 00:00 UTC
    assert first.hour == 0
    services.book(resource=all_night, member=alice, start=first, end=first + timedelta(hours=1))
    second = first + timedelta(hours=1)  # the second 02:00, 01:00 UTC
    booking = services.book(resource=all_night, member=bob, start=second, end=second + timedelta(hours=1))
    assert booking.start.astimezone(PARIS).time() == time(2)


def test_a_day_long_booking_on_the_autumn_day_lasts_25_hours(alice, all_night, autumn):
    start, end = day_bounds(autumn, PARIS)
    booking = services.book(resource=all_night, member=alice, start=start, end=end)
    assert booking.end - booking.start == timedelta(hours=25)


def test_a_weekly_series_keeps_its_wall_clock_time_across_the_change(alice, room, spring):
    """A Tuesday 09:00 meeting stays at 09:00 in Paris, so moves by an hour in UTC."""
    tuesday = spring - timedelta(days=5)
    result = services.book_series(
        resource=room,
        member=alice,
        start=paris(tuesday, 9),
        end=paris(tuesday, 10),
        rrule="FREQ=WEEKLY;COUNT=2",
    )
    local = [b.start.astimezone(PARIS).time() for b in result.bookings]
    assert local == [time(9), time(9)]
    assert [b.start.hour for b in result.bookings] == [8, 7]  # UTC+1, then UTC+2


def test_opening_hours_follow_the_wall_clock_on_change_days(
    alice, bob, make_site, make_resource, spring, autumn
):
    site = make_site("dimanche", hours=((time(8), time(20)),))
    studio = make_resource(site, "studio")
    for day in (spring, autumn):
        services.book(resource=studio, member=alice, start=paris(day, 8), end=paris(day, 9))
        services.book(resource=studio, member=bob, start=paris(day, 19), end=paris(day, 20))


def test_availability_on_the_spring_day_counts_23_hours(all_night, spring):
    start, end = day_bounds(spring, PARIS)
    (entry,) = schedule.availability([all_night], start, end)
    assert sum((s.end - s.start for s in entry.free), timedelta()) == timedelta(hours=23)


def test_a_series_whose_slot_ends_before_it_starts_on_the_clock_is_refused(alice, all_night, autumn):
    """02:40 summer time to 02:10 winter time is half an hour, but cannot repeat at a fixed wall-clock time."""
    from cocotte.bookings.errors import InvalidBooking

    start = at_local(autumn, time(2, 40), PARIS)  # the first 02:40 (UTC+2)
    end = start + timedelta(minutes=30)  # 02:10, the second time round (UTC+1)
    assert end.astimezone(PARIS).time() == time(2, 10)
    with pytest.raises(InvalidBooking) as caught:
        services.book_series(
            resource=all_night, member=alice, start=start, end=end, rrule="FREQ=DAILY;COUNT=2"
        )
    assert caught.value.code == "invalid_period"


def test_a_series_may_start_at_the_second_occurrence_of_the_repeated_hour(alice, all_night, autumn):
    second = at_local(autumn, time(2), PARIS) + timedelta(hours=1)  # the second 02:00, 01:00 UTC
    result = services.book_series(
        resource=all_night,
        member=alice,
        start=second,
        end=second + timedelta(hours=1),
        rrule="FREQ=WEEKLY;COUNT=2",
    )
    assert result.bookings[0].start == second
