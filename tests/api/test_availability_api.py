"""Availability: what is free and what is taken at a site, for anyone, in a bounded number of queries."""

import json
import re
from datetime import time, timedelta

import pytest
from django.utils import timezone

from cocotte.bookings import services
from cocotte.bookings.models import Booking
from cocotte.spaces.models import Resource
from tests.helpers import day_ahead, paris

from .conftest import instant, slot


def test_availability_shows_free_and_busy_time_of_each_resource(api, alice, room, desk, book):
    day = day_ahead(7)
    book(alice, room, paris(day, 10), paris(day, 11))

    response = api.get("/availability", site="murat", date=str(day))

    assert response.status_code == 200
    body = response.json()
    assert (body["site"], instant(body["start"]), instant(body["end"])) == (
        "murat",
        paris(day, 0),
        paris(day + timedelta(1), 0),
    )
    salle = next(r for r in body["resources"] if r["resource"] == room.pk)
    assert [(instant(s["start"]), instant(s["end"])) for s in salle["free"]] == [
        (paris(day, 8), paris(day, 10)),
        (paris(day, 11), paris(day, 20)),
    ]
    assert [(instant(b["start"]), b["kind"]) for b in salle["busy"]] == [(paris(day, 10), "booking")]


def test_availability_over_several_days_and_of_one_kind(api, room, desk):
    day = day_ahead(7)

    response = api.get("/availability", site="murat", date=str(day), days=3, kind="desk")

    body = response.json()
    assert instant(body["end"]) == paris(day + timedelta(3), 0)
    assert [r["resource"] for r in body["resources"]] == [desk.pk]
    assert len(body["resources"][0]["free"]) == 3  # one opening a day


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date": "9999-12-31"}, "date"),
        ({"date": "0001-01-01"}, "date"),
        ({"date": "2000-01-01"}, "date"),
        ({"date": "2026-12-01", "days": 32}, "days"),
        ({"date": "2026-12-01", "days": 0}, "days"),
        ({"date": "2026-12-01", "kind": "maintenance"}, "kind"),
    ],
    ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()) if isinstance(q, dict) else q,
)
def test_a_period_that_cannot_be_asked_is_a_422(api, site, query, field):
    # Regression: days near year 1 or 9999 overflowed while computing the period (a 500).
    response = api.get("/availability", site="murat", **query)

    assert (response.status_code, response.json()["code"], response.json()["field"]) == (
        422,
        "invalid_input",
        field,
    )


def test_availability_of_an_unknown_site_is_a_404(api, db):
    response = api.get("/availability", site="nulle-part", date=str(day_ahead(1)))

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def fill(site, make_resource, members, *, resources: int, bookings: int, day):
    """`resources` more meeting rooms at the site and `bookings` bookings spread over them and over a week."""
    rooms = [make_resource(site, f"salle-{site.resources.count()}-{n}") for n in range(resources)]
    slots = [(d, h) for d in range(7) for h in range(8, 20)]
    batch = []
    for n in range(bookings):
        resource = rooms[n % len(rooms)]
        d, h = slots[n // len(rooms)]
        start = paris(day + timedelta(d), h)
        batch.append(
            Booking(resource=resource, member=members[n % 2], start=start, end=start + timedelta(minutes=30))
        )
    services.load_history(batch)
    return rooms


def queries_of_availability(api, viewer, day, max_queries):
    """The SQL queries of one call for a week at the site, as `viewer` (after a first call: a token records its
    first use with a write, once a minute)."""
    api.get("/availability", as_=viewer, site="murat", date=str(day), days=7)
    with max_queries(MAX_QUERIES) as queries:
        response = api.get("/availability", as_=viewer, site="murat", date=str(day), days=7)
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries]


# The caller's token; the site (its opening hours and closures come from the process's cache, see
# spaces.opening); its resources; their bookings and blocks (one query); the sites the caller manages; the
# members' names, for the staff: 6, whatever the sizes (8 before the calendar was cached).
MAX_QUERIES = 6


@pytest.mark.parametrize("viewer", ["anonymous", "alice", "sophie"])
def test_availability_runs_the_same_few_queries_for_2_or_20_resources_and_5_or_200_bookings(
    viewer, api, site, make_resource, alice, bob, sophie, request, django_assert_max_num_queries
):
    user = None if viewer == "anonymous" else request.getfixturevalue(viewer)
    day = day_ahead(7)
    fill(site, make_resource, [alice, bob], resources=2, bookings=5, day=day)
    small = queries_of_availability(api, user, day, django_assert_max_num_queries)

    fill(site, make_resource, [alice, bob], resources=18, bookings=195, day=day)
    assert Booking.objects.count() == 200 and site.resources.count() == 20
    large = queries_of_availability(api, user, day, django_assert_max_num_queries)

    assert len(large) == len(small), "\n".join(large)


def test_the_free_half_days_of_a_desk_at_a_site_with_a_lunch_break_can_each_be_booked(
    api, alice, bob, make_site, make_resource
):
    site = make_site("telecentre", hours=((time(9), time(12)), (time(14), time(18))))
    desk = make_resource(site, "poste", kind=Resource.Kind.DESK, unit=Resource.Unit.HALF_DAY, max_units=2)
    day = day_ahead(7)

    body = api.get("/availability", site="telecentre", date=str(day)).json()

    (entry,) = [r for r in body["resources"] if r["resource"] == desk.pk]
    free = [(instant(s["start"]), instant(s["end"])) for s in entry["free"]]
    assert free == [(paris(day, 9), paris(day, 12)), (paris(day, 14), paris(day, 18))]
    refused = api.post("/bookings", slot(desk, paris(day, 9), paris(day, 13)), as_=alice)
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
        422,
        "not_on_unit",
        "end",
    )
    assert "matinée de 09:00 à 12:00" in refused.json()["detail"]
    for member, (start, end) in zip((alice, bob), free, strict=True):
        response = api.post("/bookings", slot(desk, start, end), as_=member)
        assert response.status_code == 201, response.content
    assert api.get("/availability", site="telecentre", date=str(day)).json()["resources"][0]["free"] == []


@pytest.mark.parametrize("viewer", ["anonymous", "alice", "sophie"])
def test_the_availability_answer_is_exactly_what_its_documented_schema_renders(
    viewer, api, request, alice, bob, sophie, room, open_space, book
):
    # The handler builds plain data and renders it with orjson, bypassing ninja's validation: its answer must
    # stay what the OpenAPI document promises and what ninja rendered before, field for field (names, types,
    # null or not, instants written as Django's encoder writes them: "…Z", milliseconds).
    from ninja.renderers import JSONRenderer

    from cocotte.bookings.api import AvailabilityOut

    user = None if viewer == "anonymous" else request.getfixturevalue(viewer)
    today, later = timezone.localdate(), day_ahead(2)
    book(alice, room, paris(later, 10), paris(later, 11))
    book(bob, room, paris(later, 14), paris(later, 15), note="réunion")
    for member in (alice, bob, sophie):  # the open space's three places, all taken in the morning
        book(member, open_space, paris(later, 8), paris(later, 13))
    services.block(
        room, by=sophie, start=paris(later, 16), end=paris(later, 17), reason="Réparation du vidéo"
    )

    response = api.get("/availability", as_=user, site="murat", date=str(today), days=3)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    validated = AvailabilityOut.model_validate(body)
    rendered = JSONRenderer().render(None, validated.model_dump(), response_status=200)
    assert json.loads(rendered) == body
    rows = {r["resource"]: r for r in body["resources"]}
    assert [b["kind"] for b in rows[room.pk]["busy"]] == ["booking", "booking", "block"]
    assert rows[room.pk]["busy"][2]["reason"] == "Réparation du vidéo"
    assert [instant(s["start"]) for s in rows[open_space.pk]["full"]] == [paris(later, 8)]
    mine = [b for r in body["resources"] for b in r["busy"] if b["mine"]]
    assert len(mine) == {"anonymous": 0, "alice": 2, "sophie": 1}[viewer]
    named = {b["member"] for r in body["resources"] for b in r["busy"]} - {None}
    assert named == ({"Alice Martin", "Bob Durand", "Sophie Chargée"} if viewer == "sophie" else set())
    # Today's free time starts now: an instant with microseconds, which Django's encoder cuts to milliseconds.
    first_free = rows[room.pk]["free"][0]["start"]
    if timezone.now() < paris(today, 20):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", first_free), first_free


def test_the_document_still_describes_the_availability_answer_with_its_schemas(api):
    document = api.get("/openapi.json").json()
    ok = document["paths"]["/api/v1/availability"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/AvailabilityOut"}
    schemas = document["components"]["schemas"]
    assert set(schemas["AvailabilityOut"]["properties"]) == {"site", "start", "end", "resources"}
    assert set(schemas["ResourceAvailabilityOut"]["properties"]) == {
        "resource",
        "name",
        "kind",
        "capacity",
        "free",
        "busy",
        "full",
    }
    assert set(schemas["BusyOut"]["properties"]) == {
        "start",
        "end",
        "kind",
        "status",
        "reason",
        "mine",
        "booking",
        "member",
    }
