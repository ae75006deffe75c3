"""The events' API: reading events (capacity, places left), registering and cancelling one's place."""

import pytest

from cocotte.events import services
from cocotte.events.models import Registration
from tests.api.conftest import ApiClient


@pytest.fixture
def api(db):
    return ApiClient()


def test_anyone_lists_public_events_members_also_members_only(api, forum, make_event, alice):
    members_only = make_event(title="Rencontre réservée", audience="members")
    make_event(title="Brouillon", publish=False)
    anonymous = api.get("/events")
    assert anonymous.status_code == 200
    assert [e["id"] for e in anonymous.json()] == [forum.pk]
    assert anonymous.json()[0]["capacity"] == 3 and anonymous.json()[0]["places_left"] == 3
    member = api.get("/events", as_=alice).json()
    assert {e["id"] for e in member} == {forum.pk, members_only.pk}
    assert api.get(f"/events/{members_only.pk}").status_code == 404
    assert api.get(f"/events/{members_only.pk}", as_=alice).status_code == 200


def test_register_answers_201_confirmed_then_waitlisted(api, make_event, alice, bob):
    event = make_event(capacity=1)
    first = api.post(f"/events/{event.pk}/registrations", {}, as_=alice)
    assert first.status_code == 201 and first.json()["status"] == "confirmed"
    second = api.post(f"/events/{event.pk}/registrations", as_=bob)
    assert second.status_code == 201 and second.json()["status"] == "waitlisted"
    assert api.get(f"/events/{event.pk}").json()["places_left"] == 0


@pytest.mark.parametrize(
    ("setup", "code", "status"),
    [("duplicate", "already_registered", 409), ("full", "full", 409), ("closed", "closed", 409)],
)
def test_refusals_are_clear(api, make_event, alice, bob, sophie, setup, code, status):
    event = make_event(capacity=1, waiting_list=False)
    if setup == "duplicate":
        services.register(event, member=alice)
    elif setup == "full":
        services.register(event, member=bob)
    else:
        services.cancel_event(event, by=sophie, reason="Neige")
    before = Registration.objects.count()
    response = api.post(f"/events/{event.pk}/registrations", {}, as_=alice)
    assert response.status_code == status and response.json()["code"] == code
    assert response.json()["detail"]
    assert Registration.objects.count() == before


def test_registering_needs_an_account(api, forum):
    response = api.post(f"/events/{forum.pk}/registrations", {})
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_bad_answers_are_a_422(api, make_event, alice):
    event = make_event(
        questions=[{"label": "Repas ?", "kind": "choice", "choices": "Oui\nNon", "required": True}]
    )
    response = api.post(f"/events/{event.pk}/registrations", {"answers": {}}, as_=alice)
    assert response.status_code == 422 and response.json()["code"] == "answer_required"


def test_delete_mine_frees_the_place_for_the_next(api, make_event, alice, bob):
    event = make_event(capacity=1)
    api.post(f"/events/{event.pk}/registrations", {}, as_=alice)
    api.post(f"/events/{event.pk}/registrations", {}, as_=bob)
    response = api.delete(f"/events/{event.pk}/registrations/mine", as_=alice)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert Registration.objects.get(member=bob).status == "offered"
    again = api.delete(f"/events/{event.pk}/registrations/mine", as_=alice)
    assert again.status_code == 404 and again.json()["code"] == "not_registered"


def test_the_routes_are_in_the_openapi_document(api, db):
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/api/v1/events", "/api/v1/events/{event_id}", "/api/v1/events/{event_id}/registrations"} <= set(
        paths
    )
    assert "delete" in paths["/api/v1/events/{event_id}/registrations/mine"]


# The events' rows of the API's permission matrix (each persona against a members-only event, where the
# registrant holds a place). 401: no credentials; 404: members-only events do not exist for visitors.
# fmt: off
MATRIX = [
    # operation                                    visitor member registrant staff other-staff admin
    ("GET /events",                                  200,   200,     200,     200,    200,     200),
    ("GET /events/{id}",                             404,   200,     200,     200,    200,     200),
    ("POST /events/{id}/registrations",              401,   201,     409,     201,    201,     201),
    ("DELETE /events/{id}/registrations/mine",       401,   404,     200,     404,    404,     404),
]
# fmt: on
WHO = ("visitor", "member", "registrant", "staff", "other staff", "admin")


@pytest.mark.parametrize("row", MATRIX, ids=[row[0] for row in MATRIX])
@pytest.mark.parametrize("who", WHO)
def test_permission_matrix(api, make_event, alice, bob, sophie, carol, root, row, who):
    event = make_event(audience="members", capacity=10)
    services.register(event, member=alice)
    user = {"visitor": None, "member": bob, "registrant": alice, "staff": sophie, "other staff": carol}.get(
        who, root
    )
    method, path = row[0].split(" ")
    path = path.replace("{id}", str(event.pk))
    before = sorted(Registration.objects.values_list("pk", "status"))
    response = api.call(method, path, {} if method == "POST" else None, as_=user)
    expected = row[1 + WHO.index(who)]
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert sorted(Registration.objects.values_list("pk", "status")) == before


def test_the_list_reads_a_fixed_number_of_queries(api, make_event, make_user, room, alice):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/events", as_=alice).status_code == 200
        return len(queries)

    make_event(rooms=[room])
    count()  # the token is issued on the first call
    before = count()
    for i in range(8):
        event = make_event(title=f"Atelier {i}", capacity=5)
        services.register(event, member=make_user(f"p{i}@example.org"))
    assert count() == before
