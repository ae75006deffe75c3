"""The engine refuses what breaks a rule, with a clear code, and writes nothing."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils import timezone

from cocotte.bookings import services
from cocotte.bookings.errors import Conflict, Forbidden, InvalidBooking
from cocotte.bookings.models import Booking
from cocotte.core.models import AuditEntry
from cocotte.core.timeutils import at_local
from cocotte.spaces.models import Closure, Resource
from tests.helpers import PARIS, day_ahead, paris

pytestmark = pytest.mark.django_db


def refused(code, call):
    """Run a call the engine must refuse with `code`; check that no booking or audit row appeared."""
    bookings, entries = Booking.objects.count(), AuditEntry.objects.count()
    with pytest.raises((InvalidBooking, Conflict, Forbidden)) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    assert caught.value.message  # something a person can read
    assert (Booking.objects.count(), AuditEntry.objects.count()) == (bookings, entries)
    return caught.value


def test_a_member_books_a_free_room_and_it_is_audited(alice, room, book):
    day = day_ahead()
    booking = book(alice, room, paris(day, 10), paris(day, 11, 30))
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.booked_by == alice
    assert (
        booking.start == datetime.combine(day, time(9), tzinfo=UTC) or booking.start.utcoffset() is not None
    )
    entry = AuditEntry.objects.get(object_id=booking.pk, action="booking.created")
    assert entry.actor == alice


def test_times_are_stored_in_utc(alice, room, book):
    day = day_ahead()
    booking = book(alice, room, paris(day, 10), paris(day, 11))
    booking.refresh_from_db()
    assert booking.start.utcoffset() == timedelta(0)
    assert booking.start.astimezone(PARIS).time() == time(10)


def test_the_same_slot_cannot_be_booked_twice(alice, bob, room, book):
    day = day_ahead()
    book(alice, room, paris(day, 10), paris(day, 11))
    error = refused("conflict", lambda: book(bob, room, paris(day, 10, 30), paris(day, 11, 30)))
    assert "déjà réservé" in error.message


def test_back_to_back_bookings_do_not_conflict(alice, bob, room, book):
    """Intervals are half-open: [10:00, 11:00) and [11:00, 12:00) share no instant."""
    day = day_ahead()
    book(alice, room, paris(day, 10), paris(day, 11))
    assert book(bob, room, paris(day, 11), paris(day, 12)).pk


def test_a_cancelled_booking_frees_its_slot(alice, bob, room, book):
    day = day_ahead()
    first = book(alice, room, paris(day, 10), paris(day, 11))
    services.cancel(first, by=alice)
    assert book(bob, room, paris(day, 10), paris(day, 11)).pk


def test_a_pending_request_holds_its_slot_until_refused(alice, bob, sophie, site, make_resource, book):
    lab = make_resource(site, "laser", kind=Resource.Kind.MACHINE, requires_approval=True)
    day = day_ahead()
    request = book(alice, lab, paris(day, 10), paris(day, 11))
    assert request.status == Booking.Status.PENDING
    refused("conflict", lambda: book(bob, lab, paris(day, 10), paris(day, 11)))
    services.refuse(request, by=sophie, reason="Machine en révision")
    request.refresh_from_db()
    assert request.status == Booking.Status.REFUSED
    assert request.staff_reason == "Machine en révision"
    assert book(bob, lab, paris(day, 10), paris(day, 11)).status == Booking.Status.PENDING


def test_staff_bookings_on_an_approval_resource_are_confirmed_at_once(
    alice, sophie, site, make_resource, book
):
    lab = make_resource(site, "laser", kind=Resource.Kind.MACHINE, requires_approval=True)
    day = day_ahead()
    booking = book(alice, lab, paris(day, 10), paris(day, 11), by=sophie)
    assert booking.status == Booking.Status.CONFIRMED
    assert (booking.member, booking.booked_by) == (alice, sophie)


@pytest.mark.parametrize(
    ("code", "start", "end"),
    [
        ("invalid_period", (10, 0), (10, 0)),
        ("invalid_period", (11, 0), (10, 0)),
        ("not_on_unit", (10, 15), (11, 0)),
        ("not_on_unit", (10, 0), (10, 45)),
        ("outside_opening_hours", (7, 0), (9, 0)),
        ("outside_opening_hours", (19, 30), (20, 30)),
    ],
)
def test_bad_periods_are_refused_with_their_reason(alice, room, book, code, start, end):
    day = day_ahead()
    refused(code, lambda: book(alice, room, paris(day, *start), paris(day, *end)))


def test_naive_datetimes_are_refused(alice, room, book):
    day = day_ahead()
    naive = datetime.combine(day, time(10))
    refused("naive_datetime", lambda: book(alice, room, naive, paris(day, 11)))


def test_too_short_and_too_long_are_refused(alice, site, make_resource, book):
    studio = make_resource(site, "studio", min_units=2, max_units=4)  # one to two hours
    day = day_ahead()
    refused("too_short", lambda: book(alice, studio, paris(day, 10), paris(day, 10, 30)))
    refused("too_long", lambda: book(alice, studio, paris(day, 10), paris(day, 12, 30)))
    assert book(alice, studio, paris(day, 10), paris(day, 12)).pk


def test_the_past_is_refused_but_the_slot_in_progress_may_be_booked(alice, room, book):
    now = timezone.now().astimezone(PARIS)
    yesterday = now.date() - timedelta(days=1)
    refused("in_past", lambda: book(alice, room, paris(yesterday, 10), paris(yesterday, 11)))
    slot_start = now.replace(minute=0 if now.minute < 30 else 30, second=0, microsecond=0)
    if time(8) <= slot_start.time() and slot_start.hour < 19:
        assert book(alice, room, slot_start, slot_start + timedelta(minutes=30)).pk


def test_too_far_ahead_is_refused_for_members_not_for_staff(alice, sophie, site, make_resource, book):
    studio = make_resource(site, "studio", max_advance_days=30)
    day = day_ahead(45)
    refused("too_far_ahead", lambda: book(alice, studio, paris(day, 10), paris(day, 11)))
    assert book(alice, studio, paris(day, 10), paris(day, 11), by=sophie).pk


def test_a_closure_day_is_refused_with_its_reason(alice, site, room, book):
    day = day_ahead(10)
    Closure.objects.create(site=site, start_date=day, end_date=day, reason="Inventaire")
    error = refused("closed", lambda: book(alice, room, paris(day, 10), paris(day, 11)))
    assert "Inventaire" in error.message


def test_public_holidays_close_a_site_that_observes_them(alice, make_site, make_resource, book):
    site = make_site("riom", holidays=True)
    studio = make_resource(site, "studio")
    # The next Fête nationale from tomorrow on: always within the 400 days one may book ahead, whatever the
    # date (14 July of next year is more than 400 days away from January to early June).
    tomorrow = day_ahead(1)
    day = date(tomorrow.year, 7, 14)
    if day < tomorrow:
        day = day.replace(year=day.year + 1)
    error = refused("closed", lambda: book(alice, studio, paris(day, 10), paris(day, 11)))
    assert "férié" in error.message


def test_an_inactive_resource_cannot_be_booked(alice, room, book):
    room.is_active = False
    room.save()
    day = day_ahead()
    refused("inactive_resource", lambda: book(alice, room, paris(day, 10), paris(day, 11)))


def test_a_member_cannot_book_for_someone_else(alice, bob, room, book):
    day = day_ahead()
    refused("forbidden", lambda: book(bob, room, paris(day, 10), paris(day, 11), by=alice))


def test_lunch_breaks_split_the_opening(alice, make_site, make_resource, book):
    site = make_site("telecentre", hours=((time(9), time(12, 30)), (time(13, 30), time(17, 30))))
    studio = make_resource(site, "salle")
    day = day_ahead()
    assert book(alice, studio, paris(day, 9), paris(day, 12, 30)).pk
    refused("outside_opening_hours", lambda: book(alice, studio, paris(day, 12), paris(day, 14)))


class TestHalfDays:
    def test_morning_afternoon_and_full_day_are_the_bookable_units(self, alice, bob, make_user, desk, book):
        day = day_ahead()
        assert book(alice, desk, paris(day, 8), paris(day, 13)).pk
        assert book(bob, desk, paris(day, 13), paris(day, 20)).pk
        other = day + timedelta(days=1)
        assert book(make_user("c@example.org"), desk, paris(other, 8), paris(other, 20)).pk

    def test_a_half_day_must_start_and_end_on_its_boundaries(self, alice, desk, book):
        day = day_ahead()
        refused("not_on_unit", lambda: book(alice, desk, paris(day, 9), paris(day, 13)))
        refused("not_on_unit", lambda: book(alice, desk, paris(day, 8), paris(day, 12)))

    def test_a_pooled_open_space_takes_as_many_bookings_as_places(self, make_user, open_space, book):
        day = day_ahead()
        people = [make_user(f"m{i}@example.org") for i in range(4)]
        for person in people[:3]:
            book(person, open_space, paris(day, 8), paris(day, 13))
        error = refused("conflict", lambda: book(people[3], open_space, paris(day, 8), paris(day, 13)))
        assert "places" in error.message
        assert book(people[3], open_space, paris(day, 13), paris(day, 20)).pk

    def test_pooled_capacity_counts_concurrent_bookings_not_overlapping_ones(
        self, make_user, site, make_resource, book
    ):
        """Capacity 2: 10–11 and 11–12 are never together, so 10–12 still fits."""
        hall = make_resource(site, "hall", kind=Resource.Kind.OPEN_SPACE, capacity=2)
        day = day_ahead()
        book(make_user("a1@example.org"), hall, paris(day, 10), paris(day, 11))
        book(make_user("a2@example.org"), hall, paris(day, 11), paris(day, 12))
        assert book(make_user("a3@example.org"), hall, paris(day, 10), paris(day, 12)).pk
        refused(
            "conflict", lambda: book(make_user("a4@example.org"), hall, paris(day, 10), paris(day, 10, 30))
        )


class TestMonths:
    def first_of_next_month(self):
        today = timezone.localdate()
        return (today.replace(day=1) + timedelta(days=32)).replace(day=1)

    def test_an_office_is_rented_by_whole_months_and_waits_for_approval(self, alice, office, book):
        first = self.first_of_next_month()
        end = (first + timedelta(days=200)).replace(day=1)
        booking = book(alice, office, at_local(first, time(0), PARIS), at_local(end, time(0), PARIS))
        assert booking.status == Booking.Status.PENDING

    def test_a_month_must_start_at_midnight_and_end_a_whole_number_of_months_later(self, alice, office, book):
        first = self.first_of_next_month()
        refused(
            "not_on_unit",
            lambda: book(alice, office, paris(first, 9), at_local(first.replace(day=20), time(0), PARIS)),
        )
        refused(
            "not_on_unit",
            lambda: book(
                alice,
                office,
                at_local(first, time(0), PARIS),
                at_local(first.replace(day=20), time(0), PARIS),
            ),
        )

    def test_more_months_than_allowed_is_too_long(self, alice, office, book):
        first = self.first_of_next_month()
        end = first.replace(year=first.year + 2)
        refused(
            "too_long",
            lambda: book(alice, office, at_local(first, time(0), PARIS), at_local(end, time(0), PARIS)),
        )
