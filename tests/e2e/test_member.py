"""A member books a room through the grid, finds it in « Mes réservations », moves it and cancels it; books a
weekly series around another member's booking. On a desktop screen and on a phone."""

import re

import pytest
from django.utils import formats, translation
from playwright.sync_api import Page, expect

from cocotte.bookings.models import Booking
from tests.helpers import day_ahead, paris

from .helpers import PHONE, check_a11y, field, log_in, visit

pytestmark = pytest.mark.e2e


def card(page: Page, text: str):
    return page.locator(".card").filter(has_text=text)


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_book_move_and_cancel_a_room(new_page, screen, site, room, alice, verified):
    page = new_page(**(PHONE if screen == "phone" else {}))

    verified(alice)
    day = day_ahead(5)
    log_in(page, "alice@example.org")

    visit(page, f"/reserver/{site.slug}/?date={day.isoformat()}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Réserver à Murat")
    page.get_by_role("link", name="Réserver Salle-Reunion à 10:00").click()
    page.wait_for_url(f"**/reserver/{site.slug}/{room.pk}/?debut=*")
    check_a11y(page)
    field(page, "Jour").fill(day.isoformat())
    expect(field(page, "De")).to_have_value(re.compile(r"^10:00(:00)?$"))
    field(page, "À").fill("11:30")
    field(page, "Note pour l’équipe").fill("Réunion du comité")
    page.get_by_role("button", name="Vérifier").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer la réservation")
    check_a11y(page)
    expect(page.locator("dl")).to_contain_text("de 10 h 00 à 11 h 30")
    page.get_by_role("button", name="Confirmer", exact=True).click()

    page.wait_for_url("**/mes-reservations/")
    check_a11y(page)
    expect(page.get_by_role("status")).to_contain_text("C’est réservé.")
    booked = card(page, "Salle-Reunion")
    expect(booked).to_contain_text("de 10 h 00 à 11 h 30")
    booking = Booking.objects.get(member=alice)
    assert (booking.start, booking.end, booking.status) == (
        paris(day, 10),
        paris(day, 11, 30),
        Booking.Status.CONFIRMED,
    )

    booked.get_by_role("link", name=re.compile(r"^Déplacer")).click()
    page.wait_for_url(f"**/mes-reservations/{booking.pk}/deplacer/")
    check_a11y(page)
    field(page, "Jour").fill(day.isoformat())
    field(page, "De").fill("14:00")
    field(page, "À").fill("15:00")
    page.get_by_role("button", name="Déplacer").click()

    page.wait_for_url("**/mes-reservations/")
    check_a11y(page)
    expect(page.get_by_role("status")).to_contain_text("Réservation déplacée.")
    expect(card(page, "Salle-Reunion")).to_contain_text("de 14 h 00 à 15 h 00")
    booking.refresh_from_db()
    assert (booking.start, booking.end) == (paris(day, 14), paris(day, 15))

    card(page, "Salle-Reunion").get_by_role("link", name=re.compile(r"^Annuler")).click()
    page.wait_for_url(f"**/mes-reservations/{booking.pk}/annuler/")
    check_a11y(page)
    page.get_by_role("button", name="Oui, annuler").click()

    page.wait_for_url("**/mes-reservations/")
    check_a11y(page)
    expect(page.get_by_role("status")).to_contain_text("Réservation annulée.")
    expect(page.get_by_text("Aucune réservation à venir.")).to_be_visible()
    called_off = page.get_by_role("heading", name="Annulées ou refusées, à venir").locator(
        "xpath=following-sibling::ul[1]"
    )
    expect(called_off).to_contain_text("Salle-Reunion")
    expect(called_off).to_contain_text("annulée")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_a_weekly_series_skips_the_week_another_member_holds(page, logged_in, site, room, alice, bob, book):
    first = day_ahead(3)
    second = day_ahead(10)
    book(bob, room, paris(second, 10), paris(second, 11))
    logged_in(page, alice)

    visit(page, f"/reserver/{site.slug}/?date={first.isoformat()}")
    # The text alternative of the grid: the list of free slots.
    page.get_by_role("link", name=re.compile(r"^Réserver Salle-Reunion, ")).first.click()
    page.wait_for_url(f"**/reserver/{site.slug}/{room.pk}/?debut=*")
    check_a11y(page)
    field(page, "Jour").fill(first.isoformat())
    field(page, "De").fill("10:00")
    field(page, "À").fill("11:00")
    field(page, "Répéter").select_option(label="Toutes les semaines")
    field(page, "Nombre de fois").fill("4")
    page.get_by_role("button", name="Vérifier").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer la réservation")
    check_a11y(page)
    occurrences = page.get_by_role("table", name="Occurrences de la série et leurs conflits")
    rows = occurrences.locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.filter(has_text="impossible")).to_have_count(1)
    expect(rows.nth(1)).to_contain_text("impossible")
    with translation.override("fr"):
        expect(rows.nth(1)).to_contain_text(formats.date_format(second, "j F Y"))
    expect(page.get_by_role("button", name="Confirmer", exact=True)).to_have_count(0)
    page.get_by_role("button", name="Réserver les occurrences libres").click()

    page.wait_for_url("**/mes-reservations/")
    check_a11y(page)
    expect(page.get_by_role("status")).to_contain_text(
        "3 réservations enregistrées. 1 occurrence non réservée."
    )
    expect(page.locator(".card").filter(has_text="série")).to_have_count(3)
    mine = Booking.objects.filter(member=alice, status=Booking.Status.CONFIRMED).order_by("start")
    assert [b.start for b in mine] == [paris(day_ahead(d), 10) for d in (3, 17, 24)]
    assert len({b.series_id for b in mine}) == 1


def test_the_forms_keep_the_day_clicked_or_booked(page, logged_in, site, room, alice, book):
    day = day_ahead(5)
    booking = book(alice, room, paris(day, 14), paris(day, 15))
    logged_in(page, alice)
    visit(page, f"/reserver/{site.slug}/?date={day.isoformat()}")
    page.get_by_role("link", name="Réserver Salle-Reunion à 10:00").click()
    page.wait_for_url(f"**/reserver/{site.slug}/{room.pk}/?debut=*")
    assert field(page, "Jour").input_value() == day.isoformat()
    visit(page, f"/mes-reservations/{booking.pk}/deplacer/")
    assert field(page, "Jour").input_value() == day.isoformat()
