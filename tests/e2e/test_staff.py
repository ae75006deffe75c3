"""The site's team approves a pending request and takes a resource out, from the planner."""

import re

import pytest
from playwright.sync_api import expect

from cocotte.bookings.models import Block, Booking
from cocotte.spaces.models import Resource
from tests.helpers import day_ahead, paris

from .helpers import check_a11y, field, visit

pytestmark = pytest.mark.e2e


def test_staff_approve_a_request_and_block_a_resource(
    page, logged_in, site, room, alice, sophie, book, make_resource
):
    visio = make_resource(site, "visio", kind=Resource.Kind.MEETING_ROOM, requires_approval=True)
    day = day_ahead(4)
    request = book(alice, visio, paris(day, 9), paris(day, 10), note="Pour un entretien d’embauche")
    assert request.status == Booking.Status.PENDING
    logged_in(page, sophie)
    visit(page, "/")

    page.get_by_role("link", name="Planning de l’équipe").click()
    page.wait_for_url("**/equipe/planning/")  # the index: what waits at each site
    check_a11y(page)
    expect(page.get_by_role("link", name="1 demande à traiter")).to_be_visible()
    page.get_by_role("link", name=f"Ouvrir le planning de {site.name}").click()
    page.wait_for_url(f"**/equipe/planning/{site.slug}/")
    check_a11y(page)
    pending = page.locator(".card").filter(has_text="Alice Martin")
    expect(pending).to_contain_text("Visio")
    expect(pending).to_contain_text("Pour un entretien d’embauche")
    pending.get_by_role("button", name=re.compile(r"^Valider")).click()

    expect(page.get_by_role("status")).to_contain_text("Demande validée")
    page.wait_for_url(f"**/equipe/planning/{site.slug}/")
    check_a11y(page)
    expect(page.get_by_text("Aucune demande en attente.")).to_be_visible()
    request.refresh_from_db()
    assert request.status == Booking.Status.CONFIRMED

    blocked_day = day_ahead(6)
    form = page.locator(f"form[action$='/planning/{site.slug}/indisponibilite/']")
    field(form, "Ressource").select_option(label=str(room))
    field(form, "Du").fill(blocked_day.isoformat())
    field(form, "à partir de").fill("08:00")
    field(form, "jusqu’à").fill("12:00")
    field(form, "Motif").fill("Peinture des murs")
    form.get_by_role("button", name="Bloquer").click()

    expect(page.get_by_role("status")).to_contain_text(f"{room.name} est indisponible sur cette période")
    check_a11y(page)
    block = Block.objects.get(resource=room)
    assert (block.start, block.end, block.reason) == (
        paris(blocked_day, 8),
        paris(blocked_day, 12),
        "Peinture des murs",
    )

    filters = page.get_by_role("form", name="Filtrer les ressources")
    field(filters, "Jour").fill(blocked_day.isoformat())
    filters.get_by_role("button", name="Afficher").click()
    page.wait_for_url(f"**/equipe/planning/{site.slug}/?date={blocked_day.isoformat()}*")
    check_a11y(page)
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(room.name)))
    expect(row.locator("td.blocked")).to_have_count(1)  # 08:00–12:00, one cell over its half hours
    expect(row.locator("td.blocked")).to_have_attribute("colspan", "8")
    expect(row.locator("td.blocked").first).to_contain_text("Peinture des murs")
