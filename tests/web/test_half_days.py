"""Booking a desk by the half-day or the day through the pages, at a telecentre open 9–12 and 14–18: the form
offers the site's own periods, the engine accepts them, and what the grid and its list show free can be booked
by following their links."""

import re
from datetime import time
from urllib.parse import unquote

import pytest
from django.urls import reverse

from cocotte.bookings.models import Booking
from cocotte.spaces.models import Resource
from tests.helpers import day_ahead, paris

from .html import Page

pytestmark = pytest.mark.django_db


@pytest.fixture
def telecentre(make_site):
    return make_site("telecentre", hours=((time(9), time(12)), (time(14), time(18))))


@pytest.fixture
def desk(telecentre, make_resource):
    return make_resource(
        telecentre, "poste", kind=Resource.Kind.DESK, unit=Resource.Unit.HALF_DAY, max_units=2
    )


def book_url(resource):
    return reverse("bookings:book", args=[resource.site.slug, resource.pk])


def checked_part(response) -> str:
    (value,) = [
        attrs["value"]
        for tag, attrs in Page(response.content.decode()).all
        if tag == "input" and attrs.get("name") == "part" and "checked" in attrs
    ]
    return value


def test_the_form_names_the_sites_periods_with_their_hours(client, alice, desk):
    client.force_login(alice)
    day = day_ahead()

    response = client.get(book_url(desk), {"debut": paris(day, 14).isoformat()})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Matinée, 09:00–12:00" in html
    assert "Après-midi, 14:00–18:00" in html
    assert "Journée entière, 09:00–18:00" in html
    assert checked_part(response) == "afternoon"


@pytest.mark.parametrize(
    ("part", "start", "end"),
    [("morning", (9,), (12,)), ("afternoon", (14,), (18,)), ("day", (9,), (18,))],
)
def test_a_member_books_a_half_day_or_the_day_through_the_form(client, alice, desk, part, start, end):
    client.force_login(alice)
    day = day_ahead()
    data = {"date": day.isoformat(), "part": part}

    check = client.post(book_url(desk), {**data, "step": "check"})

    assert check.status_code == 200, Page(check.content.decode()).errorlists
    assert f"de {start[0]} h 00 à {end[0]} h 00" in check.content.decode()  # « Quand » on the confirm page
    confirm = client.post(book_url(desk), {**data, "step": "confirm"})
    assert confirm.status_code == 302
    booking = Booking.objects.get(member=alice)
    assert (booking.start, booking.end, booking.status) == (
        paris(day, *start),
        paris(day, *end),
        Booking.Status.CONFIRMED,
    )


def test_the_morning_and_the_afternoon_of_one_desk_are_two_bookings(client, alice, bob, desk):
    day = day_ahead()
    for member, part in ((alice, "morning"), (bob, "afternoon")):
        client.force_login(member)
        response = client.post(book_url(desk), {"date": day.isoformat(), "part": part, "step": "confirm"})
        assert response.status_code == 302
    assert sorted(Booking.objects.values_list("start", "end")) == [
        (paris(day, 9), paris(day, 12)),
        (paris(day, 14), paris(day, 18)),
    ]
    client.force_login(alice)
    response = client.post(book_url(desk), {"date": day.isoformat(), "part": "day", "step": "check"})
    assert response.status_code == 400
    assert "déjà réservé" in response.content.decode()


def test_every_free_slot_the_grid_lists_opens_a_form_that_books_it(client, alice, desk, telecentre):
    client.force_login(alice)
    day = day_ahead()
    grid = client.get(reverse("bookings:grid", args=[telecentre.slug]), {"date": day.isoformat()})
    assert grid.status_code == 200
    html = grid.content.decode()
    listed = html[html.index('id="liste"') :]
    links = sorted(set(re.findall(rf'href="({re.escape(book_url(desk))}\?debut=[^"]+)"', listed)))
    assert len(links) == 2  # the morning and the afternoon

    # In the day's grid, the lunch break is closed: no "+" between 12:00 and 14:00.
    cells = re.findall(
        rf'href="{re.escape(book_url(desk))}\?debut=([^"]+)"', html[: html.index('id="liste"')]
    )
    starts = {unquote(value)[11:16] for value in cells}
    assert {"09:00", "11:30", "14:00", "17:30"} <= starts
    assert not starts & {"12:00", "12:30", "13:00", "13:30"}

    for link in links:
        form = client.get(link.replace("&amp;", "&"))
        part = checked_part(form)
        response = client.post(book_url(desk), {"date": day.isoformat(), "part": part, "step": "confirm"})
        assert response.status_code == 302, Page(response.content.decode()).errorlists
    assert sorted(Booking.objects.values_list("start", "end")) == [
        (paris(day, 9), paris(day, 12)),
        (paris(day, 14), paris(day, 18)),
    ]
