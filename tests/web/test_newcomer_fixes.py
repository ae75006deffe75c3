"""What a newcomer stumbled on, each fixed and kept fixed: deadlines said before they bite, one way of writing
periods, booking on behalf by searching, the planner's index, pages that speak French when refusing."""

from datetime import time, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from cocotte.bookings.models import Booking
from cocotte.core.timeutils import at_local
from tests.helpers import PARIS, day_ahead, paris

from .html import text_of


def slot(day, start="09:00", end="10:00", **extra):
    return {"step": "check", "date": day.isoformat(), "start_time": start, "end_time": end, **extra}


# --- 2. deadlines -------------------------------------------------------------------------------------


def soon_within_the_notice():
    """A whole hour inside the room's 24 h notice and inside the site's opening (8:00–20:00), whatever the
    time the tests run at: in two hours or so, or tomorrow at 8:00 when that falls after 19:00."""
    soon = (timezone.localtime(timezone.now(), PARIS) + timedelta(hours=2)).replace(
        minute=0, second=0, microsecond=0
    )
    if soon.hour < 8 or soon.hour >= 19:
        next_day = soon.date() if soon.hour < 8 else soon.date() + timedelta(days=1)
        return paris(next_day, 8)
    return soon


def test_my_bookings_offers_move_and_cancel_only_before_the_deadline_and_says_until_when(
    client, alice, room, book
):
    soon = soon_within_the_notice()
    late = book(alice, room, soon, soon + timedelta(hours=1))
    early = book(alice, room, paris(day_ahead(5), 10), paris(day_ahead(5), 11))
    client.force_login(alice)

    response = client.get(reverse("bookings:mine"))
    html = response.content.decode()

    assert reverse("bookings:move", args=[early.pk]) in html
    assert reverse("bookings:move", args=[late.pk]) not in html
    assert reverse("bookings:cancel", args=[late.pk]) not in html
    text = text_of(response)
    assert "Le délai pour la déplacer ou l’annuler est passé" in text
    assert "Modifiable jusqu’au" in text and "à 10 h 00" in text  # the early one's deadline, the day before


def test_the_refusal_after_the_deadline_names_the_deadline_not_a_count_of_hours(alice, office, book):
    from cocotte.bookings import services
    from cocotte.bookings.errors import InvalidBooking

    first = day_ahead(10)
    booking = book(
        alice,
        office,
        at_local(first, time(0), PARIS),
        at_local(first + relativedelta(months=1), time(0), PARIS),
    )
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CONFIRMED)
    office.cancellation_notice_hours = 720
    office.save()
    booking.refresh_from_db()

    with pytest.raises(InvalidBooking) as refusal:
        services.cancel(booking, by=alice)

    assert "720" not in refusal.value.message
    assert "jusqu’au" in refusal.value.message


def test_the_confirm_step_says_until_when_the_booking_can_be_changed(client, alice, room):
    client.force_login(alice)
    day = day_ahead(7)

    response = client.post(reverse("bookings:book", args=[room.site.slug, room.pk]), slot(day))

    assert response.status_code == 200
    assert "Vous pourrez la déplacer ou l’annuler jusqu’au" in text_of(response)


def test_the_confirmation_e_mail_promises_no_deadline_already_passed(alice, room, book, committed):
    soon = soon_within_the_notice()
    with committed():
        book(alice, room, soon, soon + timedelta(hours=1))

    body = mail.outbox[-1].body
    assert "Vous pouvez la déplacer ou l’annuler jusqu’au" not in body
    assert "écrivez à l’équipe du lieu" in body


# --- 3. one way of writing periods ---------------------------------------------------------------------


def test_a_month_long_office_reads_as_whole_days_in_the_planner_and_my_bookings(
    client, alice, sophie, office, book
):
    first = day_ahead(10)
    book(
        alice,
        office,
        at_local(first, time(0), PARIS),
        at_local(first + relativedelta(months=1), time(0), PARIS),
    )
    client.force_login(alice)

    mine = text_of(client.get(reverse("bookings:mine")))
    client.force_login(sophie)
    planner = text_of(client.get(reverse("planner:site", args=[office.site.slug])))
    pending = planner.split("Demandes à valider", 2)[2].split("Réservations", 1)[0]  # the requests' list

    for text in (mine, pending):
        assert "00:00" not in text and "0 h 00 à 0 h 00" not in text
        assert " inclus" in text


# --- 5. booking on behalf -------------------------------------------------------------------------------


def test_staff_find_the_member_by_part_of_their_name_and_return_to_the_planner(client, sophie, alice, room):
    client.force_login(sophie)
    day = day_ahead(7)
    url = reverse("bookings:book", args=[room.site.slug, room.pk])

    checked = client.post(url, slot(day, member_email="alice"))
    assert checked.status_code == 200, text_of(checked)
    confirmed = client.post(url, slot(day, member_email="alice", step="confirm"))

    booking = Booking.objects.get(member=alice)
    assert booking.booked_by == sophie
    assert confirmed.status_code == 302
    assert confirmed.url == reverse("planner:site", args=[room.site.slug]) + f"?date={day.isoformat()}"


def test_a_search_matching_several_members_lists_them_to_choose_from(client, sophie, make_user, room):
    make_user("marie.dupont@example.org", first_name="Marie", last_name="Dupont")
    make_user("marie.roux@example.org", first_name="Marie", last_name="Roux")
    client.force_login(sophie)

    response = client.post(
        reverse("bookings:book", args=[room.site.slug, room.pk]), slot(day_ahead(7), member_email="marie")
    )

    assert response.status_code == 400
    text = text_of(response)
    assert "Plusieurs membres correspondent" in text
    assert "marie.dupont@example.org" in text and "marie.roux@example.org" in text
    assert not Booking.objects.exists()


# --- 6. the planner's index -----------------------------------------------------------------------------


def test_the_planner_index_shows_what_waits_and_who_comes_today(
    client, sophie, alice, approval_room, room, book
):
    book(alice, approval_room, paris(day_ahead(3), 10), paris(day_ahead(3), 11))
    now = timezone.localtime(timezone.now(), PARIS)
    # The next full hour, or the opening at 8 when the test runs at night.
    start = max(
        now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1),
        now.replace(hour=8, minute=0, second=0, microsecond=0),
    )
    if start.date() == now.date() and start.hour < 19:
        book(alice, room, start, start + timedelta(minutes=30))
    client.force_login(sophie)

    text = text_of(client.get(reverse("planner:index")))

    assert "1 demande à traiter" in text
    if start.date() == now.date() and start.hour < 19:
        assert "Alice" in text.split("Aujourd’hui", 1)[1]


def test_staff_land_on_the_planner_after_logging_in_and_members_on_their_bookings(client, sophie, alice):
    for person, landing in ((sophie, "planner:index"), (alice, "bookings:mine")):
        client.logout()
        response = client.post(
            reverse("account_login"), {"login": person.email, "password": "a-long-password-1"}
        )
        assert response.status_code == 302
        assert response.url == reverse(landing)


# --- 8. refusals in the site's layout --------------------------------------------------------------------


def test_a_member_opening_the_planner_is_told_it_is_for_the_team(client, alice, site):
    client.force_login(alice)

    response = client.get(reverse("planner:site", args=[site.slug]))

    assert response.status_code == 403
    text = text_of(response)
    assert "Cette page est réservée à l’équipe de ce lieu." in text
    assert "Cocotte" in text  # the site's layout, not Django's bare page


# --- 13. revoking a token asks first ---------------------------------------------------------------------


def test_revoking_a_token_asks_for_confirmation_first(client, alice):
    from cocotte.accounts.models import ApiToken

    token, _raw = ApiToken.issue(alice, name="agenda")
    client.force_login(alice)
    url = reverse("accounts:revoke_token", args=[token.pk])

    page = client.get(url)
    assert page.status_code == 200 and "Révoquer le jeton « agenda » ?" in text_of(page)
    token.refresh_from_db()
    assert token.revoked_at is None
    client.post(url)
    token.refresh_from_db()
    assert token.revoked_at is not None


# --- 11. the move form, and "Modifier" on the confirm step -----------------------------------------------


def test_the_move_form_offers_neither_repetition_nor_a_note_and_keeps_the_note(client, alice, room, book):
    booking = book(alice, room, paris(day_ahead(6), 10), paris(day_ahead(6), 11), note="Réunion CA")
    client.force_login(alice)

    page = client.get(reverse("bookings:move", args=[booking.pk])).content.decode()
    assert 'name="repeat"' not in page and 'name="note"' not in page
    client.post(
        reverse("bookings:move", args=[booking.pk]),
        {"date": day_ahead(6).isoformat(), "start_time": "14:00", "end_time": "15:00"},
    )

    booking.refresh_from_db()
    assert booking.start == paris(day_ahead(6), 14) and booking.note == "Réunion CA"


def test_modifier_on_the_confirm_step_returns_to_the_form_as_it_was_filled(client, alice, room):
    client.force_login(alice)
    url = reverse("bookings:book", args=[room.site.slug, room.pk])
    day = day_ahead(7)

    response = client.post(
        url, {**slot(day, "15:00", "16:30", note="Atelier"), "step": "confirm", "edit": "1"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="15:00"' in html and 'value="16:30"' in html and "Atelier" in html
    assert not Booking.objects.exists()


# --- 4. past time reads as past; free slots start on the unit ---------------------------------------------


def test_the_past_reads_as_past_and_free_time_starts_on_the_unit(client, alice, room):
    from cocotte.bookings import schedule

    now = timezone.now()
    today = timezone.localdate()
    client.force_login(alice)

    day_page = text_of(
        client.get(reverse("bookings:grid", args=[room.site.slug]) + f"?date={today.isoformat()}")
    )
    if timezone.localtime(now, PARIS).hour >= 9:  # some of today's opening (08:00–20:00) has gone
        assert "passé" in day_page
    [entry] = schedule.availability([room], now - timedelta(hours=1), now + timedelta(hours=6))
    for slot in entry.free:
        local = timezone.localtime(slot.start, PARIS)
        assert local.minute in (0, 30) and local.second == 0, slot.start


# --- 6. the planner: a long booking shows its name once; the block form names whose bookings ------------


def test_a_booking_over_many_cells_shows_its_member_once_in_the_planner(client, sophie, alice, room, book):
    day = day_ahead(8)
    book(alice, room, paris(day, 9), paris(day, 12))  # six half-hour cells
    client.force_login(sophie)

    html = client.get(
        reverse("planner:site", args=[room.site.slug]) + f"?date={day.isoformat()}"
    ).content.decode()

    assert html.count("Alice Martin") == 1
    assert 'colspan="6"' in html


def test_the_block_form_names_whose_bookings_are_in_the_way(client, sophie, alice, room, book):
    day = day_ahead(30)
    book(alice, room, paris(day, 10), paris(day, 11))
    client.force_login(sophie)

    response = client.post(
        reverse("planner:block", args=[room.site.slug]),
        {
            "block-resource": room.pk,
            "block-date": day.isoformat(),
            "block-kind": "maintenance",
            "block-reason": "Peinture",
        },
    )

    assert response.status_code == 400
    assert "Alice Martin" in text_of(response)


# --- my bookings with a long history ----------------------------------------------------------------------


def test_my_bookings_shows_the_next_fifty_and_the_cancelled_ones_ahead_apart(client, alice, room):
    from cocotte.bookings import services

    series = services.book_series(
        resource=room,
        member=alice,
        start=paris(day_ahead(2), 9),
        end=paris(day_ahead(2), 10),
        rrule="FREQ=DAILY;COUNT=52",
    )
    services.cancel(series.bookings[0], by=alice)
    client.force_login(alice)

    response = client.get(reverse("bookings:mine"))
    text = text_of(response)

    assert response.content.decode().count('class="card"') == 50
    assert "Les 50 prochaines seulement" in text
    assert "Annulées ou refusées, à venir" in text.split("Passées et annulées")[0]
