"""Moving, cancelling, approving, refusing and blocking, with their deadlines and permissions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cocotte.accounts import permissions
from cocotte.accounts.models import Role
from cocotte.bookings import services
from cocotte.bookings.errors import BookingError, Conflict, Forbidden, InvalidBooking, NotFound
from cocotte.bookings.models import Block, Booking
from cocotte.core.models import AuditEntry
from tests.helpers import day_ahead, paris

pytestmark = pytest.mark.django_db


def unchanged(booking):
    """Snapshot of what a refused change must leave as it was."""
    booking.refresh_from_db()
    return (booking.resource_id, booking.start, booking.end, booking.status)


class TestMove:
    def test_a_member_moves_her_booking_to_a_free_slot(self, alice, room, book):
        day = day_ahead()
        booking = book(alice, room, paris(day, 10), paris(day, 11))
        moved = services.move(booking, by=alice, start=paris(day, 14), end=paris(day, 15, 30))
        moved.refresh_from_db()
        assert (moved.start, moved.end) == (paris(day, 14), paris(day, 15, 30))
        entry = AuditEntry.objects.get(object_id=booking.pk, action="booking.moved")
        assert entry.data["before"]["start"].startswith(paris(day, 10).isoformat()[:16])

    def test_a_move_may_overlap_its_own_old_slot(self, alice, room, book):
        day = day_ahead()
        booking = book(alice, room, paris(day, 10), paris(day, 11))
        services.move(booking, by=alice, start=paris(day, 10, 30), end=paris(day, 11, 30))

    def test_a_move_onto_a_taken_slot_is_refused_and_changes_nothing(self, alice, bob, room, book):
        day = day_ahead()
        mine = book(alice, room, paris(day, 10), paris(day, 11))
        book(bob, room, paris(day, 14), paris(day, 15))
        before = unchanged(mine)
        with pytest.raises(Conflict):
            services.move(mine, by=alice, start=paris(day, 14), end=paris(day, 15))
        assert unchanged(mine) == before

    def test_someone_elses_booking_cannot_be_moved(self, alice, bob, room, book):
        day = day_ahead()
        mine = book(alice, room, paris(day, 10), paris(day, 11))
        with pytest.raises(Forbidden):
            services.move(mine, by=bob, start=paris(day, 14), end=paris(day, 15))

    def test_staff_of_another_site_cannot_move_it_but_staff_of_this_site_can(
        self, alice, carol, sophie, room, book
    ):
        day = day_ahead()
        booking = book(alice, room, paris(day, 10), paris(day, 11))
        with pytest.raises(Forbidden):
            services.move(booking, by=carol, start=paris(day, 14), end=paris(day, 15))
        services.move(booking, by=sophie, start=paris(day, 14), end=paris(day, 15))

    def test_a_move_to_another_resource_of_the_site(self, alice, room, site, make_resource, book):
        visio = make_resource(site, "visio")
        day = day_ahead()
        booking = book(alice, room, paris(day, 10), paris(day, 11))
        moved = services.move(booking, by=alice, start=paris(day, 10), end=paris(day, 11), resource=visio)
        assert moved.resource == visio


class TestCancel:
    def test_a_member_cancels_before_the_deadline(self, alice, room, book):
        day = day_ahead()
        booking = book(alice, room, paris(day, 10), paris(day, 11))
        services.cancel(booking, by=alice)
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED
        assert AuditEntry.objects.filter(object_id=booking.pk, action="booking.cancelled").exists()

    def test_after_the_deadline_only_staff_may_cancel(self, alice, sophie, site, make_resource, book):
        studio = make_resource(site, "studio", cancellation_notice_hours=24 * 30)
        booking = book(alice, studio, paris(day_ahead(3), 10), paris(day_ahead(3), 11))
        with pytest.raises(InvalidBooking) as caught:
            services.cancel(booking, by=alice)
        assert caught.value.code == "deadline_passed"
        assert unchanged(booking)[3] == Booking.Status.CONFIRMED
        services.cancel(booking, by=sophie, reason="Panne de chauffage")
        booking.refresh_from_db()
        assert (booking.status, booking.staff_reason) == (Booking.Status.CANCELLED, "Panne de chauffage")

    def test_cancelling_twice_is_refused(self, alice, room, book):
        day = day_ahead()
        booking = book(alice, room, paris(day, 10), paris(day, 11))
        services.cancel(booking, by=alice)
        with pytest.raises(InvalidBooking) as caught:
            services.cancel(booking, by=alice)
        assert caught.value.code == "not_live"

    def test_another_member_cannot_cancel(self, alice, bob, room, book):
        booking = book(alice, room, paris(day_ahead(), 10), paris(day_ahead(), 11))
        with pytest.raises(Forbidden):
            services.cancel(booking, by=bob)


class TestApproval:
    @pytest.fixture
    def request_(self, alice, site, make_resource, book):
        lab = make_resource(site, "laser", requires_approval=True)
        return book(alice, lab, paris(day_ahead(), 10), paris(day_ahead(), 11))

    def test_staff_of_the_site_approves(self, request_, sophie):
        services.approve(request_, by=sophie)
        assert unchanged(request_)[3] == Booking.Status.CONFIRMED

    def test_a_member_or_staff_of_another_site_cannot_approve(self, request_, alice, carol):
        for person in (alice, carol):
            with pytest.raises(Forbidden):
                services.approve(request_, by=person)
        assert unchanged(request_)[3] == Booking.Status.PENDING

    def test_a_refusal_needs_a_reason_for_the_member(self, request_, sophie):
        with pytest.raises(InvalidBooking) as caught:
            services.refuse(request_, by=sophie, reason="  ")
        assert caught.value.code == "reason_required"
        assert unchanged(request_)[3] == Booking.Status.PENDING

    def test_a_decided_request_cannot_be_decided_again(self, request_, sophie):
        services.approve(request_, by=sophie)
        with pytest.raises(InvalidBooking) as caught:
            services.refuse(request_, by=sophie, reason="Trop tard")
        assert caught.value.code == "not_pending"


class TestBlocks:
    def test_a_block_makes_its_period_unbookable(self, alice, sophie, room, book):
        day = day_ahead()
        services.block(room, by=sophie, start=paris(day, 8), end=paris(day, 12), reason="Peinture")
        with pytest.raises(Conflict) as caught:
            book(alice, room, paris(day, 10), paris(day, 11))
        assert caught.value.code == "blocked"
        assert "Peinture" in caught.value.message
        assert book(alice, room, paris(day, 12), paris(day, 13)).pk

    def test_a_block_over_bookings_is_refused_unless_they_are_cancelled(self, alice, sophie, room, book):
        day = day_ahead()
        booking = book(alice, room, paris(day, 10), paris(day, 11))
        with pytest.raises(Conflict) as caught:
            services.block(room, by=sophie, start=paris(day, 8), end=paris(day, 12), reason="Fuite d’eau")
        assert caught.value.details[0]["booking"] == booking.pk
        assert not Block.objects.exists()
        _block, cancelled = services.block(
            room,
            by=sophie,
            start=paris(day, 8),
            end=paris(day, 12),
            reason="Fuite d’eau",
            cancel_conflicting=True,
        )
        assert cancelled == [booking]
        booking.refresh_from_db()
        assert (booking.status, booking.staff_reason) == (Booking.Status.CANCELLED, "Fuite d’eau")

    def test_only_staff_of_the_site_blocks_and_unblocks(self, alice, carol, sophie, room):
        day = day_ahead()
        for person in (alice, carol):
            with pytest.raises(Forbidden):
                services.block(room, by=person, start=paris(day, 8), end=paris(day, 12), reason="x")
        block, _ = services.block(room, by=sophie, start=paris(day, 8), end=paris(day, 12), reason="Ménage")
        with pytest.raises(Forbidden):
            services.unblock(block, by=carol)
        services.unblock(block, by=sophie)
        assert not Block.objects.exists()
        assert AuditEntry.objects.filter(action="block.deleted").exists()


def test_every_refusal_is_a_booking_error_with_a_code():
    for cls in (InvalidBooking, Conflict, Forbidden):
        error = cls("message")
        assert isinstance(error, BookingError)
        assert error.code


def test_a_booking_in_progress_cannot_be_cancelled_by_its_member(alice, room, book, sophie):
    """Started bookings are history: only the site's staff may still change them."""
    now = timezone.now()
    booking = book(alice, room, paris(day_ahead(), 10), paris(day_ahead(), 11))
    Booking.objects.filter(pk=booking.pk).update(
        start=now - timedelta(minutes=10), end=now + timedelta(minutes=50)
    )
    booking.refresh_from_db()
    with pytest.raises(InvalidBooking) as caught:
        services.cancel(booking, by=alice)
    assert caught.value.code == "already_started"
    services.cancel(booking, by=sophie)


class TestFormerStaff:
    """Booking for a member as staff gives no lasting right over it: leaving the team takes the right away."""

    def test_who_left_the_team_can_no_longer_move_cancel_or_see_what_they_booked(
        self, alice, sophie, site, room, book
    ):
        day = day_ahead()
        booking = book(alice, room, paris(day, 10), paris(day, 11), by=sophie)
        permissions.revoke_role(sophie, Role.Name.SITE_STAFF, site)
        before = unchanged(booking)
        with pytest.raises(Forbidden):
            services.move(booking, by=sophie, start=paris(day, 14), end=paris(day, 15))
        with pytest.raises(Forbidden):
            services.cancel(booking, by=sophie)
        with pytest.raises(NotFound):
            services.get_booking_for(sophie, booking.pk)
        assert unchanged(booking) == before
        services.cancel(booking, by=alice)  # the member still may

    def test_who_left_the_team_can_no_longer_cancel_a_series_they_booked(self, alice, sophie, site, room):
        day = day_ahead()
        result = services.book_series(
            resource=room,
            member=alice,
            by=sophie,
            start=paris(day, 9),
            end=paris(day, 10),
            rrule="FREQ=WEEKLY;COUNT=3",
        )
        permissions.revoke_role(sophie, Role.Name.SITE_STAFF, site)
        with pytest.raises(Forbidden):
            services.cancel_series(result.series, by=sophie)
        with pytest.raises(NotFound):
            services.get_series_for(sophie, result.series.pk)
        assert (
            not Booking.objects.filter(series=result.series).exclude(status=Booking.Status.CONFIRMED).exists()
        )

    def test_the_sites_current_staff_still_manage_it(self, alice, sophie, make_user, site, room, book):
        day = day_ahead()
        booking = book(alice, room, paris(day, 10), paris(day, 11), by=sophie)
        permissions.revoke_role(sophie, Role.Name.SITE_STAFF, site)
        marc = make_user("marc@example.org", staff_of=[site])
        services.move(booking, by=marc, start=paris(day, 14), end=paris(day, 15))
