"""Check-in: a member says they have arrived, or the team marks it; a confirmed booking that ends without one is a
no-show; the presence of a day is read from workspace bookings and their arrivals (bookings.presence)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cocotte.bookings import presence, services
from cocotte.bookings.errors import Forbidden, InvalidBooking
from cocotte.bookings.models import Booking
from cocotte.core.models import AuditEntry
from tests.helpers import day_ahead, paris


@pytest.fixture
def now_is(monkeypatch):
    """Set the clock the engine reads."""

    def set_(instant):
        monkeypatch.setattr(timezone, "now", lambda: instant)

    return set_


@pytest.fixture
def morning(alice, desk, book):
    day = day_ahead(3)
    return book(alice, desk, paris(day, 8), paris(day, 13))


def test_a_member_checks_in_from_half_an_hour_before_until_the_end(morning, alice, now_is):
    now_is(morning.start - timedelta(minutes=31))
    with pytest.raises(InvalidBooking) as early:
        services.check_in(morning, by=alice)
    assert early.value.code == "check_in_too_early"
    now_is(morning.start - timedelta(minutes=30))
    arrived = services.check_in(morning, by=alice)
    assert arrived.checked_in_at == morning.start - timedelta(minutes=30)
    assert arrived.checked_in_by == alice
    assert AuditEntry.objects.filter(action="booking.checked_in", object_id=morning.pk).count() == 1


def test_checking_in_twice_keeps_the_first_arrival(morning, alice, now_is):
    now_is(morning.start + timedelta(minutes=5))
    first = services.check_in(morning, by=alice).checked_in_at
    now_is(morning.start + timedelta(hours=1))
    assert services.check_in(morning, by=alice).checked_in_at == first
    assert AuditEntry.objects.filter(action="booking.checked_in").count() == 1


def test_a_member_cannot_check_in_after_the_end_but_the_team_can_within_a_week(
    morning, alice, sophie, now_is
):
    now_is(morning.end)
    with pytest.raises(InvalidBooking) as closed:
        services.check_in(morning, by=alice)
    assert closed.value.code == "check_in_closed"
    now_is(morning.end + timedelta(days=7))
    with pytest.raises(InvalidBooking):
        services.check_in(morning, by=sophie)
    now_is(morning.end + timedelta(days=6, hours=23))
    assert services.check_in(morning, by=sophie).checked_in_by == sophie


def test_nobody_else_checks_a_member_in(morning, bob, carol, now_is):
    now_is(morning.start)
    for stranger in (bob, carol):
        with pytest.raises(Forbidden):
            services.check_in(morning, by=stranger)
    assert Booking.objects.get(pk=morning.pk).checked_in_at is None


def test_a_cancelled_or_pending_booking_is_not_checked_in(morning, alice, approval_room, book, now_is):
    services.cancel(morning, by=alice)
    request = book(alice, approval_room, paris(day_ahead(3), 14), paris(day_ahead(3), 15))
    now_is(morning.start)
    for booking in (morning, request):
        with pytest.raises(InvalidBooking) as refused:
            services.check_in(booking, by=alice)
        assert refused.value.code == "check_in_not_confirmed"


def test_a_confirmed_booking_ended_without_arrival_is_a_no_show(morning, alice, bob, desk, book, now_is):
    afternoon = book(bob, desk, paris(day_ahead(3), 13), paris(day_ahead(3), 20))
    now_is(morning.start)
    services.check_in(morning, by=alice)
    later = afternoon.end + timedelta(minutes=1)
    assert list(Booking.objects.no_shows(later)) == [afternoon]
    assert not Booking.objects.no_shows(afternoon.end - timedelta(minutes=1)).exists()


def test_the_member_checks_in_from_their_bookings_page(client, morning, alice, now_is):
    client.force_login(alice)
    now_is(morning.start - timedelta(minutes=10))
    page = client.get("/mes-reservations/")
    assert f"/mes-reservations/{morning.pk}/arrivee/" in page.text
    response = client.post(f"/mes-reservations/{morning.pk}/arrivee/", follow=True)
    assert "Arrivée notée" in response.text
    assert Booking.objects.get(pk=morning.pk).checked_in_at is not None
    assert "Arrivée notée à 07:50" in client.get("/mes-reservations/").text


def test_the_team_marks_an_arrival_in_today_s_list(client, alice, sophie, carol, desk, now_is):
    day = timezone.localdate()
    # Written as history is: this morning has begun, and the engine books no past.
    booking = Booking.objects.create(resource=desk, member=alice, start=paris(day, 8), end=paris(day, 13))
    now_is(paris(day, 9))
    client.force_login(carol)
    assert client.post(f"/equipe/reservations/{booking.pk}/arrivee/").status_code == 404
    client.force_login(sophie)
    page = client.get("/equipe/planning/")
    assert f"/equipe/reservations/{booking.pk}/arrivee/" in page.text
    response = client.post(f"/equipe/reservations/{booking.pk}/arrivee/", follow=True)
    assert "Arrivée de Alice Martin notée." in response.text
    booking.refresh_from_db()
    assert booking.checked_in_by == sophie
    assert "arrivé·e à 09:00" in client.get("/equipe/planning/").text


def test_the_api_checks_in_and_says_when(client, morning, alice, bob, now_is):
    now_is(morning.start)
    client.force_login(bob)
    assert client.post(f"/api/v1/bookings/{morning.pk}/check-in").status_code == 404
    client.force_login(alice)
    answer = client.post(f"/api/v1/bookings/{morning.pk}/check-in")
    assert answer.status_code == 200
    assert answer.json()["checked_in_at"] is not None


class TestPresence:
    def test_who_is_expected_today_one_entry_per_member(
        self, alice, bob, desk, open_space, room, django_assert_num_queries
    ):
        day = timezone.localdate()
        Booking.objects.create(resource=desk, member=alice, start=paris(day, 8), end=paris(day, 13))
        Booking.objects.create(
            resource=desk,
            member=alice,
            start=paris(day, 13),
            end=paris(day, 20),
            checked_in_at=paris(day, 13, 5),
        )
        Booking.objects.create(resource=open_space, member=bob, start=paris(day, 8), end=paris(day, 13))
        Booking.objects.create(resource=room, member=bob, start=paris(day, 14), end=paris(day, 15))
        Booking.objects.create(
            resource=open_space,
            member=bob,
            start=paris(day, 13),
            end=paris(day, 20),
            status=Booking.Status.CANCELLED,
        )
        with django_assert_num_queries(1):
            expected = presence.expected_on(desk.site, day)
        by_member = {entry["member_id"]: entry for entry in expected}
        assert set(by_member) == {alice.pk, bob.pk}
        assert by_member[alice.pk]["end"] == paris(day, 20)
        assert by_member[alice.pk]["checked_in_at"] == paris(day, 13, 5)
        assert by_member[bob.pk]["end"] == paris(
            day, 13
        )  # the meeting room and the cancelled place do not count
        assert by_member[bob.pk]["checked_in_at"] is None

    def test_days_worked_are_the_checked_in_days_of_the_period(self, alice, desk, office):
        first = timezone.localdate() - timedelta(days=10)
        for offset, checked in ((0, True), (1, False), (2, True), (12, True)):
            day = first + timedelta(days=offset)
            Booking.objects.create(
                resource=desk,
                member=alice,
                start=paris(day, 8),
                end=paris(day, 13),
                checked_in_at=paris(day, 8, 30) if checked else None,
            )
        Booking.objects.create(
            resource=office,
            member=alice,
            start=paris(first, 13),
            end=paris(first, 18),
            checked_in_at=paris(first, 13),
        )
        worked = presence.days_worked(alice, desk.site, first, first + timedelta(days=9))
        assert [entry["day"] for entry in worked] == [first, first + timedelta(days=2)]
        assert worked[0]["start"] == paris(first, 8) and worked[0]["end"] == paris(first, 18)
        missed = presence.days_booked_not_checked_in(alice, desk.site, first, first + timedelta(days=9))
        assert missed == [first + timedelta(days=1)]
