"""Recurring bookings: one row per occurrence, conflicts reported per occurrence, all or only the free ones."""

from datetime import timedelta

import pytest
from django.test import override_settings

from cocotte.bookings import services
from cocotte.bookings.errors import Conflict, InvalidBooking
from cocotte.bookings.models import Booking, BookingSeries
from tests.helpers import day_ahead, paris

pytestmark = pytest.mark.django_db


def weekly(member, resource, day, count=4, **kwargs):
    return services.book_series(
        resource=resource,
        member=member,
        start=paris(day, 9),
        end=paris(day, 10),
        rrule=f"FREQ=WEEKLY;COUNT={count}",
        **kwargs,
    )


def test_a_weekly_series_books_one_row_per_occurrence(alice, room):
    day = day_ahead(3)
    result = weekly(alice, room, day)
    assert [b.start for b in result.bookings] == [paris(day + timedelta(weeks=i), 9) for i in range(4)]
    assert all(b.series == result.series for b in result.bookings)
    assert result.skipped == []


def test_the_preview_reports_the_conflict_of_each_occurrence_and_writes_nothing(alice, bob, room, book):
    day = day_ahead(3)
    book(bob, room, paris(day + timedelta(weeks=2), 9, 30), paris(day + timedelta(weeks=2), 10, 30))
    occurrences = services.preview_series(
        resource=room, member=alice, start=paris(day, 9), end=paris(day, 10), rrule="FREQ=WEEKLY;COUNT=4"
    )
    assert [o.is_free for o in occurrences] == [True, True, False, True]
    assert occurrences[2].problem.code == "conflict"
    assert Booking.objects.count() == 1
    assert not BookingSeries.objects.exists()


def test_all_or_nothing_refuses_the_whole_series_when_one_week_is_taken(alice, bob, room, book):
    day = day_ahead(3)
    book(bob, room, paris(day + timedelta(weeks=1), 9), paris(day + timedelta(weeks=1), 10))
    with pytest.raises(Conflict) as caught:
        weekly(alice, room, day)
    assert caught.value.code == "series_conflict"
    assert [d["start"] for d in caught.value.details] == [paris(day + timedelta(weeks=1), 9)]
    assert Booking.objects.filter(member=alice).count() == 0
    assert not BookingSeries.objects.exists()


def test_skip_conflicts_books_the_free_occurrences_only(alice, bob, room, book):
    day = day_ahead(3)
    book(bob, room, paris(day + timedelta(weeks=1), 9), paris(day + timedelta(weeks=1), 10))
    result = weekly(alice, room, day, skip_conflicts=True)
    assert len(result.bookings) == 3
    assert [o.start for o in result.skipped] == [paris(day + timedelta(weeks=1), 9)]


def test_occurrences_that_overlap_each_other_conflict_too(alice, room):
    """Daily 2-hour slots every day are fine; a rule whose occurrences overlap is not."""
    day = day_ahead(3)
    with pytest.raises(Conflict):
        services.book_series(
            resource=room,
            member=alice,
            start=paris(day, 9),
            end=paris(day + timedelta(days=1), 10),
            rrule="FREQ=DAILY;COUNT=3",
        )


def test_one_occurrence_or_the_rest_of_the_series_can_be_cancelled(alice, room):
    result = weekly(alice, room, day_ahead(3))
    services.cancel(result.bookings[1], by=alice)
    cancellation = services.cancel_series(result.series, by=alice)
    assert len(cancellation.cancelled) == 3
    statuses = list(Booking.objects.filter(series=result.series).values_list("status", flat=True))
    assert statuses == [Booking.Status.CANCELLED] * 4


def test_cancelling_a_series_keeps_occurrences_past_the_deadline(alice, site, make_resource):
    studio = make_resource(site, "studio", cancellation_notice_hours=24 * 6)
    result = weekly(alice, studio, day_ahead(3))
    cancellation = services.cancel_series(result.series, by=alice)
    assert [b.pk for b, _error in cancellation.kept] == [result.bookings[0].pk]
    assert cancellation.kept[0][1].code == "deadline_passed"
    assert len(cancellation.cancelled) == 3


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ("", "invalid_rrule"),
        ("FREQ=WEEKLY", "invalid_rrule"),  # never ends
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20300101", "invalid_rrule"),
        ("FREQ=SECONDLY;COUNT=3", "invalid_rrule"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=1", "invalid_rrule"),  # 30 February never comes
        ("FREQ=WEEKLY;COUNT=abc", "invalid_rrule"),
        ("FREQ=WEEKLY;INTERVAL=0;COUNT=2", "invalid_rrule"),
        ("FREQ=DAILY;UNTIL=21000101", "series_too_long"),
        ("FREQ=WEEKLY;COUNT=1000", "series_too_long"),  # past the two-year window
        ("FREQ=DAILY;COUNT=1000", "too_many_occurrences"),
        ("DTSTART:20200101T000000\nRRULE:FREQ=DAILY;COUNT=2", "invalid_rrule"),
        ("FREQ=WEEKLY;COUNT=-1", "invalid_rrule"),
        # Rules that yield no occurrence say so, with their own code (COUNT=0 read as "no count" booked
        # up to the two-year window; DAILY;COUNT=0 was refused as too many occurrences).
        ("FREQ=DAILY;COUNT=0", "empty_rrule"),
        ("FREQ=WEEKLY;COUNT=0", "empty_rrule"),
        ("FREQ=WEEKLY;UNTIL=20200101", "empty_rrule"),  # ends before the first start
    ],
)
def test_bad_rules_are_refused_with_a_clear_code(alice, room, rule, code):
    day = day_ahead(3)
    with pytest.raises(InvalidBooking) as caught:
        services.book_series(resource=room, member=alice, start=paris(day, 9), end=paris(day, 10), rrule=rule)
    assert caught.value.code == code
    assert not Booking.objects.exists()


@pytest.mark.parametrize("rule", ["FREQ=WEEKLY;COUNT=0", "FREQ=DAILY;COUNT=0"])
def test_a_rule_of_no_occurrence_books_nothing_even_when_skipping_conflicts(alice, room, rule):
    day = day_ahead(3)
    for call in (
        lambda: services.book_series(
            resource=room,
            member=alice,
            start=paris(day, 9),
            end=paris(day, 10),
            rrule=rule,
            skip_conflicts=True,
        ),
        lambda: services.preview_series(
            resource=room, member=alice, start=paris(day, 9), end=paris(day, 10), rrule=rule
        ),
    ):
        with pytest.raises(InvalidBooking) as caught:
            call()
        assert (caught.value.code, caught.value.field) == ("empty_rrule", "rrule")
        assert caught.value.message == "Cette règle ne donne aucune occurrence."
    assert not Booking.objects.exists()
    assert not BookingSeries.objects.exists()


@override_settings(COCOTTE_MAX_SERIES_OCCURRENCES=5)
def test_the_number_of_occurrences_is_capped(alice, room):
    with pytest.raises(InvalidBooking) as caught:
        weekly(alice, room, day_ahead(3), count=6)
    assert caught.value.code == "too_many_occurrences"


def test_an_until_rule_in_utc_is_understood(alice, room):
    day = day_ahead(3)
    until = (day + timedelta(weeks=2)).strftime("%Y%m%dT235959Z")
    result = services.book_series(
        resource=room,
        member=alice,
        start=paris(day, 9),
        end=paris(day, 10),
        rrule=f"RRULE:FREQ=WEEKLY;UNTIL={until}",
    )
    assert len(result.bookings) == 3
