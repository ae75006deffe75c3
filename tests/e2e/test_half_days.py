"""A member books a desk by the half-day at a telecentre with a lunch break (open 9–12 and 14–18), through the
grid, the booking form and the confirmation page."""

import re
from datetime import time

import pytest
from playwright.sync_api import expect

from cocotte.bookings.models import Booking
from cocotte.spaces.models import Resource
from tests.helpers import day_ahead, paris

from .helpers import check_a11y, visit

pytestmark = pytest.mark.e2e


@pytest.fixture
def telecentre(make_site):
    return make_site("telecentre", name="Télécentre", hours=((time(9), time(12)), (time(14), time(18))))


@pytest.fixture
def desk(telecentre, make_resource):
    return make_resource(
        telecentre,
        "poste",
        name="Poste Fenêtre",
        kind=Resource.Kind.DESK,
        unit=Resource.Unit.HALF_DAY,
        max_units=2,
    )


def test_a_member_books_the_morning_of_a_desk_at_a_site_with_a_lunch_break(
    page, logged_in, telecentre, desk, alice, bob, book
):
    day = day_ahead(4)
    book(bob, desk, paris(day, 14), paris(day, 18))  # the afternoon is taken: the morning is still free
    logged_in(page, alice)

    visit(page, f"/reserver/{telecentre.slug}/?date={day.isoformat()}")
    # The lunch break is closed in the grid; the morning offers a slot, the taken afternoon none.
    expect(page.get_by_role("link", name="Réserver Poste Fenêtre à 12:30")).to_have_count(0)
    expect(page.get_by_role("link", name="Réserver Poste Fenêtre à 14:00")).to_have_count(0)
    page.get_by_role("link", name="Réserver Poste Fenêtre à 10:00").click()
    page.wait_for_url(f"**/reserver/{telecentre.slug}/{desk.pk}/?debut=*")
    check_a11y(page)

    # The form names the site's own periods with their hours, the one clicked chosen.
    morning = page.get_by_label("Matinée, 09:00–12:00")
    expect(morning).to_be_checked()
    expect(page.get_by_label("Après-midi, 14:00–18:00")).not_to_be_checked()
    expect(page.get_by_label("Journée entière, 09:00–18:00")).to_be_visible()
    page.get_by_role("button", name="Vérifier").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer la réservation")
    check_a11y(page)
    expect(page.locator("dl")).to_contain_text("de 9 h 00 à 12 h 00")
    page.get_by_role("button", name="Confirmer", exact=True).click()

    page.wait_for_url("**/mes-reservations/")
    check_a11y(page)
    expect(page.get_by_role("status")).to_contain_text("C’est réservé.")
    expect(page.locator(".card").filter(has_text="Poste Fenêtre")).to_contain_text(
        re.compile(r"de 9 h 00 à 12 h 00")
    )
    booking = Booking.objects.get(member=alice)
    assert (booking.start, booking.end, booking.status) == (
        paris(day, 9),
        paris(day, 12),
        Booking.Status.CONFIRMED,
    )
