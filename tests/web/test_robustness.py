"""Odd input answers 400 with a message, never a server error: days far away, impossible moments."""

import pytest
from django.urls import reverse

from .html import assert_field_error
from .test_form_errors import block_data, block_id

FAR = ["9999-12-31", "0001-01-01", "1900-01-01", "2201-01-01"]
OUT_OF_RANGE = "Date hors des limites (2001–2199)."


@pytest.mark.parametrize("view", ["bookings:grid", "planner:site"])
@pytest.mark.parametrize("week", [False, True], ids=["day", "week"])
@pytest.mark.parametrize("day", FAR)
def test_a_far_day_on_the_grid_is_refused_next_to_the_date(world, client, view, week, day):
    client.force_login(world.sophie)
    response = client.get(
        reverse(view, args=[world.site.slug]) + f"?date={day}" + ("&vue=semaine" if week else "")
    )
    assert response.status_code == 400
    assert_field_error(response, "id_date", OUT_OF_RANGE)


@pytest.mark.parametrize("day", ["2001-01-01", "2199-12-31"])
@pytest.mark.parametrize("week", [False, True], ids=["day", "week"])
def test_the_grid_shows_the_first_and_last_days_it_accepts(world, client, day, week):
    url = reverse("bookings:grid", args=[world.site.slug]) + f"?date={day}" + ("&vue=semaine" if week else "")
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "debut",
    [
        "abc",
        "2026-12-07T09:00:00",  # no offset
        "2026-02-30T09:00:00%2B01:00",  # no such day
        "2026-12-07T09:00:00%2B25:00",  # no such offset
        "9999-12-31T23:59:00%2B01:00",
        "0001-01-01T00:00:00%2B00:00",
    ],
)
@pytest.mark.parametrize("resource", ["room", "office"])
def test_an_odd_slot_in_the_link_shows_an_empty_form(world, client, debut, resource):
    client.force_login(world.alice)
    url = reverse("bookings:book", args=[world.site.slug, getattr(world, resource).pk]) + f"?debut={debut}"
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("day", FAR)
@pytest.mark.parametrize(
    ("resource", "fields"),
    [
        ("room", {"start_time": "23:00", "end_time": "00:00"}),
        ("room", {"start_time": "09:00", "end_time": "10:00", "repeat": "DAILY", "count": "104"}),
        ("office", {"months": "36"}),
    ],
    ids=["time", "series", "months"],
)
def test_a_far_day_in_the_booking_form_is_refused_next_to_the_date(world, client, day, resource, fields):
    client.force_login(world.sophie)
    data = {"step": "check", "date": day, **fields}
    response = client.post(
        reverse("bookings:book", args=[world.site.slug, getattr(world, resource).pk]), data
    )
    assert response.status_code == 400
    assert_field_error(response, "id_date", OUT_OF_RANGE)


def test_the_engine_refuses_what_the_form_lets_through_at_the_edge(world, client):
    client.force_login(world.sophie)
    response = client.post(
        reverse("bookings:book", args=[world.site.slug, world.office.pk]),
        {"step": "check", "date": "2199-12-01", "months": "36"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize("day", FAR)
def test_a_far_day_in_the_move_form_is_refused(world, client, day):
    client.force_login(world.alice)
    response = client.post(
        reverse("bookings:move", args=[world.booking.pk]),
        {"date": day, "start_time": "23:00", "end_time": "00:00"},
    )
    assert response.status_code == 400
    assert_field_error(response, "id_date", OUT_OF_RANGE)


@pytest.mark.parametrize("day", FAR)
@pytest.mark.parametrize("field", ["date", "end_date"])
def test_a_far_day_in_the_block_form_is_refused(world, client, day, field):
    client.force_login(world.sophie)
    response = client.post(
        reverse("planner:block", args=[world.site.slug]), block_data(world, **{field: day})
    )
    assert response.status_code == 400
    assert_field_error(response, block_id(field), OUT_OF_RANGE)


def test_deciding_twice_and_cancelling_twice_are_told_not_crashed(world, client):
    client.force_login(world.sophie)
    for _ in range(2):
        assert client.post(reverse("planner:approve", args=[world.pending.pk])).status_code == 302
    assert client.post(reverse("planner:refuse", args=[world.pending.pk]), {"reason": "x"}).status_code == 400
    for _ in range(2):
        assert client.post(reverse("bookings:cancel", args=[world.booking.pk])).status_code == 302
        assert client.post(reverse("bookings:cancel_series", args=[world.series.pk])).status_code == 302
    assert client.get(reverse("bookings:move", args=[world.booking.pk])).status_code == 200
    assert client.get(reverse("bookings:mine") + "?page=abc").status_code == 200
