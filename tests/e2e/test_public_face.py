"""A visitor finds, from the home page, where a place is, when it is open, whom to call and how to book; the
team's planner index and booking on behalf of a member, as staff use them. At desktop and phone size."""

import re
from datetime import time

import pytest
from playwright.sync_api import expect

from cocotte.bookings.models import Booking
from cocotte.spaces.models import Equipment, Resource
from tests.helpers import day_ahead, paris

from .helpers import PHONE, check_a11y, field, visit

pytestmark = pytest.mark.e2e


@pytest.fixture
def telecentre(make_site, make_resource):
    site = make_site(
        "telecentre",
        name="Télécentre de Murat",
        hours=((time(9), time(12, 30)), (time(13, 30), time(17, 30))),
        days=range(5),
        description="Le premier télécentre du territoire.",
        audience="Télétravailleurs et porteurs de projet.",
        directions="Au rez-de-chaussée de la mairie.",
        phone="+33465710012",
        email="murat@example.org",
        contact_name="Claire Martin",
        contact_role="chargée de mission",
    )
    room = make_resource(site, "salle", name="Salle du Plomb", seats=8)
    room.equipment.add(Equipment.objects.create(name="Écran", slug="ecran"))
    make_resource(site, "open-space", name="Open space", kind=Resource.Kind.OPEN_SPACE, capacity=12)
    return site


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_visitor_goes_from_the_home_page_to_a_place_and_to_booking_it(new_page, telecentre, size):
    page = new_page(**(PHONE if size == "phone" else {}))
    visit(page, "/")

    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Télécentre de Murat"))
    expect(card).to_contain_text("15300 Murat")
    expect(card).to_contain_text("04 65 71 00 12")
    card.get_by_role("link", name="Découvrir le lieu Télécentre de Murat").click()

    page.wait_for_url("**/lieux/telecentre/")
    check_a11y(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Télécentre de Murat")
    expect(page.get_by_role("table")).to_contain_text("9 h 00 – 12 h 30, 13 h 30 – 17 h 30")
    expect(page.get_by_role("link", name="Voir sur la carte OpenStreetMap")).to_have_attribute(
        "href", "https://www.openstreetmap.org/search?query=1+place+de+l%E2%80%99%C3%89glise%2C+15300+Murat"
    )
    expect(page.get_by_role("link", name="04 65 71 00 12")).to_have_attribute("href", "tel:+33465710012")
    expect(page.get_by_text("Claire Martin, chargée de mission")).to_be_visible()
    spaces = page.get_by_role("region", name="Les espaces")
    expect(spaces).to_contain_text("8 personnes")
    expect(spaces).to_contain_text("12 places")
    spaces.get_by_role("link", name="Réserver Salle du Plomb").click()
    page.wait_for_url("**/comptes/login/**")  # a visitor logs in (or signs up) to book


def test_staff_see_what_waits_then_book_for_a_member_found_by_name(
    page, logged_in, site, sophie, alice, room, approval_room, book
):
    book(alice, approval_room, paris(day_ahead(3), 10), paris(day_ahead(3), 11))
    logged_in(page, sophie)
    visit(page, "/equipe/planning/")
    expect(page.get_by_role("link", name="1 demande à traiter")).to_be_visible()

    day = day_ahead(6)
    visit(page, f"/reserver/{site.slug}/{room.pk}/")
    field(page, "Jour").fill(day.isoformat())
    field(page, "De").fill("10:00")
    field(page, "À").fill("11:00")
    field(page, "Pour le membre (nom ou e-mail)").fill("Alice")
    page.get_by_role("button", name="Vérifier").click()
    check_a11y(page)
    page.get_by_role("button", name="Confirmer").click()

    page.wait_for_url(f"**/equipe/planning/{site.slug}/?date={day.isoformat()}")
    check_a11y(page)
    expect(page.get_by_role("status")).to_contain_text("Réservé pour")
    assert Booking.objects.filter(member=alice, resource=room, start=paris(day, 10)).exists()


def test_the_day_grid_of_an_opening_day_fits_a_1280_px_screen(new_page, make_site, make_resource):
    site = make_site("grand", name="Grand tiers-lieu", hours=((time(8), time(20)),))  # 24 half-hours
    for n in range(8):
        make_resource(site, f"salle-{n}", name=f"Salle de réunion numéro {n}")
    page = new_page(viewport={"width": 1280, "height": 800})

    visit(page, f"/reserver/{site.slug}/?date={day_ahead(3).isoformat()}")

    overflow = page.evaluate(
        "(() => { const r = document.querySelector('.table-wrap'); return r.scrollWidth - r.clientWidth; })()"
    )
    assert overflow <= 0, f"the grid scrolls {overflow}px sideways at 1280 px"
    expect(page.get_by_role("columnheader", name="19 h 30")).to_be_attached()


def test_on_a_phone_the_free_slots_come_before_the_grid(new_page, make_site, make_resource):
    site = make_site("petit", name="Petit tiers-lieu")
    make_resource(site, "salle", name="Salle")
    page = new_page(**PHONE)

    visit(page, f"/reserver/{site.slug}/?date={day_ahead(3).isoformat()}")

    list_top = page.get_by_role("heading", name="Créneaux libres, en liste").bounding_box()["y"]
    grid_top = page.get_by_role("region", name=re.compile("Petit tiers-lieu")).bounding_box()["y"]
    assert list_top < grid_top
