"""Who may call what: every API operation × every persona, with the status each one gets.

The personas: an anonymous visitor; alice, who owns the booking, the request and the series acted on; bob,
another member; sophie, staff of the Murat site where all of it is; carol, staff of another site; root, admin.
Someone else's booking does not exist for bob or carol (404, not 403: no way to probe ids); the site's staff
manage everything at their site. alice sees her own request but only the staff decide it (403). Anyone may
try to block a resource, which is public (403 but for the staff); a block to lift is found by the staff only
(404). A refused call changes nothing; an accepted change does change something.

Bills (tests/api/conftest.py, `invoices`): alice's invoice of Murat's operator, its draft, and her statement of
Allanche's (public mode). A member sees their own issued bills; the staff of a site every bill of its operator,
drafts included; anyone else's does not exist (404).

Trainings and events (tests/api/conftest.py, `activities`): an open session of a published programme, which
alice has applied to, and a members-only event, where alice holds a place. Anyone reads the sessions; applying,
reading and withdrawing one's application is a member's (401), and a second application of alice's is a
conflict (409); without an application, there is none to read or withdraw (404). A members-only event does not
exist for visitors (404); each member registers once (alice's second time: 409) and cancels only a place they
hold (404 without one).
"""

from datetime import timedelta

import pytest

from tests.helpers import paris

from .conftest import activities_state, bookings_state, slot

PERSONAS = ("anonymous", "alice", "bob", "sophie", "carol", "root")

# fmt: off
MATRIX = [
    # operation                                                anonymous alice bob  sophie carol root
    ("GET /sites",                                                200,  200,  200,  200,  200, 200),
    ("GET /sites/{slug}",                                         200,  200,  200,  200,  200, 200),
    ("GET /resources",                                            200,  200,  200,  200,  200, 200),
    ("GET /availability",                                         200,  200,  200,  200,  200, 200),
    ("GET /me",                                                   401,  200,  200,  200,  200, 200),
    ("GET /bookings",                                             401,  200,  200,  200,  200, 200),
    ("POST /bookings",                                            401,  201,  201,  201,  201, 201),
    ("POST /bookings (for alice)",                                401,  201,  403,  201,  403, 201),
    ("POST /bookings/preview",                                    401,  200,  200,  200,  200, 200),
    ("GET /bookings/{booking_id}",                                401,  200,  404,  200,  404, 200),
    ("PATCH /bookings/{booking_id}",                              401,  200,  404,  200,  404, 200),
    ("DELETE /bookings/{booking_id}",                             401,  200,  404,  200,  404, 200),
    ("POST /bookings/{booking_id}/check-in (too early)",          401,  422,  404,  422,  404, 422),
    ("POST /bookings/{booking_id}/approve",                       401,  403,  404,  200,  404, 200),
    ("POST /bookings/{booking_id}/refuse",                        401,  403,  404,  200,  404, 200),
    ("DELETE /series/{series_id}",                                401,  200,  404,  200,  404, 200),
    ("POST /blocks",                                              401,  403,  403,  201,  403, 201),
    ("DELETE /blocks/{block_id}",                                 401,  404,  404,  204,  404, 204),
    ("GET /invoices",                                             401,  200,  200,  200,  200, 200),
    ("GET /invoices/{invoice_id}",                                401,  200,  404,  200,  404, 200),
    ("GET /invoices/{invoice_id} (draft)",                        401,  404,  404,  200,  404, 200),
    ("GET /invoices/{invoice_id} (statement)",                    401,  200,  404,  404,  200, 200),
    ("GET /invoices/{invoice_id}/pdf",                            401,  200,  404,  200,  404, 200),
    ("GET /invoices/{invoice_id}/pdf (statement)",                401,  200,  404,  404,  200, 200),
    ("GET /trainings/sessions",                                   200,  200,  200,  200,  200, 200),
    ("GET /trainings/sessions/{session_id}",                      200,  200,  200,  200,  200, 200),
    ("POST /trainings/sessions/{session_id}/enrolments",          401,  409,  201,  201,  201, 201),
    ("GET /trainings/sessions/{session_id}/enrolments/mine",      401,  200,  404,  404,  404, 404),
    ("DELETE /trainings/sessions/{session_id}/enrolments/mine",   401,  200,  404,  404,  404, 404),
    ("GET /events",                                               200,  200,  200,  200,  200, 200),
    ("GET /events/{event_id}",                                    404,  200,  200,  200,  200, 200),
    ("POST /events/{event_id}/registrations",                     401,  409,  201,  201,  201, 201),
    ("DELETE /events/{event_id}/registrations/mine",              401,  200,  404,  404,  404, 404),
]
# fmt: on


def operation_of(row: str) -> str:
    """ "POST /bookings (for alice)" → "POST /bookings": a row may try a variant of an operation."""
    return row.split(" (")[0]


ACTIVITIES = ("/trainings", "/events")  # the rows on `activities`

APPLICATION = {
    "project": "Reprendre la boulangerie du village.",
    "prerequisites_met": True,
    "funding": "self",
}


def activity_request(row: str, activities) -> tuple[str, str, dict | None]:
    """The request of a row on the trainings' session or the members-only event."""
    method, path = operation_of(row).split(" ")
    path = path.replace("{session_id}", str(activities.session.pk))
    path = path.replace("{event_id}", str(activities.event.pk))
    body = {"/enrolments": APPLICATION, "/registrations": {}}.get(path[path.rfind("/") :])
    return method, path, body if method == "POST" else None


def request_for(row: str, world, alice, invoices=None, activities=None) -> tuple[str, str, dict | None]:
    """The request each row makes: always on alice's things at the Murat site (her bills: `invoices`; her
    application and registration: `activities`)."""
    if activities is not None:
        return activity_request(row, activities)
    if row.startswith("GET /invoices"):
        bill = {"draft": invoices.draft, "statement": invoices.statement}.get(
            row.partition(" (")[2].rstrip(")"), invoices.invoice
        )
        return ("GET", operation_of(row).removeprefix("GET ").replace("{invoice_id}", str(bill.pk)), None)
    day = world.day
    free = slot(world.room, paris(day + timedelta(3), 10), paris(day + timedelta(3), 11))
    requests = {
        "GET /sites": ("GET", "/sites", None),
        "GET /sites/{slug}": ("GET", "/sites/murat", None),
        "GET /resources": ("GET", "/resources?site=murat", None),
        "GET /availability": ("GET", f"/availability?site=murat&date={day}&days=3", None),
        "GET /me": ("GET", "/me", None),
        "GET /bookings": ("GET", "/bookings", None),
        "POST /bookings": ("POST", "/bookings", free),
        "POST /bookings (for alice)": ("POST", "/bookings", {**free, "member": alice.pk}),
        "POST /bookings/preview": ("POST", "/bookings/preview", {**free, "rrule": "FREQ=WEEKLY;COUNT=2"}),
        "GET /bookings/{booking_id}": ("GET", f"/bookings/{world.booking.pk}", None),
        "PATCH /bookings/{booking_id}": (
            "PATCH",
            f"/bookings/{world.booking.pk}",
            {"start": paris(day, 12).isoformat(), "end": paris(day, 13).isoformat()},
        ),
        "DELETE /bookings/{booking_id}": ("DELETE", f"/bookings/{world.booking.pk}", None),
        "POST /bookings/{booking_id}/check-in (too early)": (
            "POST",
            f"/bookings/{world.booking.pk}/check-in",
            None,
        ),
        "POST /bookings/{booking_id}/approve": ("POST", f"/bookings/{world.request.pk}/approve", {}),
        "POST /bookings/{booking_id}/refuse": (
            "POST",
            f"/bookings/{world.request.pk}/refuse",
            {"reason": "L’atelier est réservé à une formation."},
        ),
        "DELETE /series/{series_id}": ("DELETE", f"/series/{world.series.pk}", None),
        "POST /blocks": (
            "POST",
            "/blocks",
            {
                **slot(world.room, paris(day + timedelta(4), 8), paris(day + timedelta(4), 9)),
                "reason": "Ménage",
            },
        ),
        "DELETE /blocks/{block_id}": ("DELETE", f"/blocks/{world.block.pk}", None),
    }
    return requests[row]


CELLS = [
    pytest.param(row[0], persona, status, id=f"{row[0]} as {persona} -> {status}")
    for row in MATRIX
    for persona, status in zip(PERSONAS, row[1:], strict=True)
]

EXPECTED_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}
# Where a refusal says more than its status.
ROW_CODES = {
    ("POST /trainings/sessions/{session_id}/enrolments", 409): "already_enrolled",
    ("POST /events/{event_id}/registrations", 409): "already_registered",
    ("DELETE /events/{event_id}/registrations/mine", 404): "not_registered",
    ("POST /bookings/{booking_id}/check-in (too early)", 422): "check_in_too_early",
}


def state():
    return bookings_state(), activities_state()


@pytest.mark.parametrize(("row", "persona", "expected"), CELLS)
def test_each_persona_gets_the_status_of_the_matrix(row, persona, expected, world, api, alice, request):
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    # Bills only for their rows: an operator running Murat would price the other rows' bookings.
    invoices = request.getfixturevalue("invoices") if row.startswith("GET /invoices") else None
    # The session and the event only for theirs: the other rows' free slots stay free.
    activities = (
        request.getfixturevalue("activities") if row.partition(" ")[2].startswith(ACTIVITIES) else None
    )
    method, path, body = request_for(row, world, alice, invoices, activities)
    before = state()

    response = api.call(method, path, body, as_=user)

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["code"] == ROW_CODES.get((row, expected), EXPECTED_CODES.get(expected))
        assert state() == before, "a refused call changed something"
    elif method != "GET" and not path.endswith("/preview"):
        assert state() != before, "an accepted change changed nothing"


def test_the_matrix_has_a_row_for_every_operation_of_the_openapi_document(api):
    document = api.get("/openapi.json").json()
    documented = {
        f"{method.upper()} {path.removeprefix('/api/v1')}"
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }

    assert documented == {operation_of(row[0]) for row in MATRIX}


# fmt: off
AVAILABILITY_VISIBILITY = [
    # persona       booking id   member's name   mine
    ("anonymous",   False,       False,          False),
    ("alice",       True,        False,          True),
    ("bob",         False,       False,          False),
    ("sophie",      True,        True,           False),
    ("carol",       False,       False,          False),
    ("root",        True,        True,           False),
]
# fmt: on


@pytest.mark.parametrize(("persona", "sees_id", "sees_name", "mine"), AVAILABILITY_VISIBILITY)
def test_availability_shows_names_to_the_sites_staff_and_ids_to_the_owner_and_staff(
    persona, sees_id, sees_name, mine, world, api, request
):
    user = None if persona == "anonymous" else request.getfixturevalue(persona)

    response = api.get("/availability", as_=user, site="murat", date=str(world.day))

    assert response.status_code == 200
    room = next(r for r in response.json()["resources"] if r["resource"] == world.room.pk)
    (busy,) = [b for b in room["busy"] if b["kind"] == "booking"]
    assert busy["status"] == "confirmed"  # everyone sees that the slot is taken
    assert busy["booking"] == (world.booking.pk if sees_id else None)
    assert busy["member"] == ("Alice Martin" if sees_name else None)
    assert busy["mine"] is mine


def test_a_block_and_its_reason_are_shown_to_everyone(world, api, bob):
    response = api.get("/availability", as_=bob, site="murat", date=str(world.day + timedelta(2)))

    room = next(r for r in response.json()["resources"] if r["resource"] == world.room.pk)
    blocks = [b for b in room["busy"] if b["kind"] == "block"]
    assert [(b["reason"], b["booking"], b["member"]) for b in blocks] == [("Peinture", None, None)]


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_members_only_event_is_listed_for_members_only_and_the_session_for_everyone(
    persona, activities, api, request
):
    user = None if persona == "anonymous" else request.getfixturevalue(persona)

    listed = {e["id"] for e in api.get("/events", as_=user).json()}
    sessions = api.get("/trainings/sessions", as_=user).json()

    assert activities.public_event.pk in listed
    assert (activities.event.pk in listed) == (persona != "anonymous")
    # alice's application holds no place until the team accepts it.
    assert [(s["id"], s["places_left"], s["open_for_enrolment"]) for s in sessions] == [
        (activities.session.pk, 3, True)
    ]
