"""The API keeps to its OpenAPI document, whatever it is sent: Schemathesis against the real WSGI application.

Each operation of /api/v1/openapi.json gets Schemathesis's coverage cases and MAX_EXAMPLES generated requests,
valid and invalid, each sent with the Bearer token of alice (a member) or of sophie (staff of the site). Every
response must have a documented status and a body that matches its schema; never a 500.

The document says what a valid request looks like (instants with their offset, ids from 1), but not what exists:
ids drawn at random name nothing (404), and slots drawn at random are past, closed or off the unit grid (422).
So a schema hook (`flatmap_case`) lets Hypothesis swap, in valid requests, most generated values for things
that exist — alice's booking, request and series, the resources, a block, the site's slug, a valid
rule, a slot on the half-hour grid within the coming weeks' opening hours, alice's bills, the training
session she applied to, the members-only event where she holds a place and a public one — so that requests
reach the engine and the services, and their successes. `test_generated_bookings_and_blocks_reach_the_engine` holds it to that: a share of the
generated bookings and blocks is created (201), the rest refused with a 4xx.

Writes and the series preview may refuse well-formed requests for the engine's own reasons (the slot is past,
outside opening hours, already taken: 422 or 409), so `positive_data_acceptance` is checked on reads only.

The WSGI application closes the database connection at the end of each request (Django's request_finished
signal); inside a test's transaction that would lose the test data, so the signal is held off meanwhile, as
Django's test client does. (`schemathesis.pytest.from_fixture` would load the schema lazily, but it does not
work with pytest 9.2, which no longer has `Node._nodeid`; the document is loaded at collection instead.)
"""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from cocotte.spaces.models import Resource
from cocotte.wsgi import application
from tests.helpers import day_ahead, paris

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

MAX_EXAMPLES = 25
ENGINE_EXAMPLES = 30  # per operation, in the test that counts what the engine created


@dataclass
class Things:
    """What exists in the test's database, for the hook to swap for generated values, and who may call."""

    member: dict[str, str]
    staff: dict[str, str]
    existing: dict[str, list] = field(default_factory=dict)
    resources: list[int] = field(default_factory=list)


class Current:
    """The things of the test that runs: the hook is registered once, at import, and reads them from here."""

    things: Things | None = None


@st.composite
def half_hour_slot(draw) -> tuple[str, str]:
    """A slot on the half-hour grid, within the opening hours (08:00–20:00) of one of the next 30 days."""
    start = paris(
        day_ahead(draw(st.integers(1, 30))), draw(st.integers(8, 17)), draw(st.sampled_from((0, 30)))
    )
    end = start + timedelta(minutes=30 * draw(st.integers(1, 4)))
    return start.isoformat(), end.isoformat()


def _same_kind(value, example) -> bool:
    """Whether a generated value stands where `example` could (an id may be drawn as 7 or as 7.0)."""
    if isinstance(example, int) and not isinstance(example, bool):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return type(value) is type(example)


@st.composite
def realistic(draw, case, things: Things):
    """`case` with most of its generated values swapped for things that exist."""
    for name in ("path_parameters", "query", "body"):
        container = getattr(case, name)
        if not isinstance(container, dict):
            continue
        container = dict(container)
        for key, choices in things.existing.items():
            # Hypothesis leans to the simplest draw (0): let that one be the swap, the rarer ones keep the value.
            if _same_kind(container.get(key), choices[0]) and draw(st.integers(0, 3)) < 3:
                container[key] = draw(st.sampled_from(choices))
        if name == "body" and isinstance(container.get("start"), str) and draw(st.integers(0, 2)) < 2:
            container["start"], end = draw(half_hour_slot())
            if "end" in container:
                container["end"] = end
        setattr(case, name, container)
    return case


@schema.hook
def flatmap_case(context, case):
    things = Current.things
    if things is None or case.meta is None or case.meta.generation.mode.is_negative:
        return st.just(case)  # invalid requests stay as generated: they test the refusals
    return realistic(case, things)


@pytest.fixture
def wsgi_keeps_the_test_connection():
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def things(
    world, invoices, activities, api, alice, sophie, site, make_resource, wsgi_keeps_the_test_connection
):
    in_a_week = paris(day_ahead(7), 9)
    pooled = make_resource(site, "open-space-demi-heure", kind=Resource.Kind.OPEN_SPACE, capacity=3)
    resources = [world.room.pk, world.workshop.pk, pooled.pk]
    Current.things = Things(
        member=api.headers(alice),
        staff=api.headers(sophie),
        resources=resources,
        existing={
            "site": ["murat"],
            "slug": ["murat"],
            "booking_id": [
                world.booking.pk,
                world.request.pk,
                *world.series.bookings.values_list("pk", flat=True),
            ],
            "series_id": [world.series.pk],
            "block_id": [world.block.pk],
            # alice's bills (tests/api/conftest.py): sophie, staff of Murat, sees the draft too, and not the
            # statement of Allanche; the draft's PDF is a 409.
            "invoice_id": [
                invoices.invoice.pk,
                invoices.credit_note.pk,
                invoices.statement.pk,
                invoices.draft.pk,
            ],
            # tests/api/conftest.py, `activities`: alice has applied to the session and holds a place at the
            # members-only event; sophie has neither (her application or registration is a 201, then a 409).
            "session_id": [activities.session.pk],
            "event_id": [activities.event.pk, activities.public_event.pk],
            # Hypothesis leans to False, which the training's services refuse (422 prerequisites_not_met).
            "prerequisites_met": [True],
            "resource": resources,
            "member": [alice.pk, sophie.pk],
            "rrule": [
                "FREQ=WEEKLY;COUNT=3",
                "FREQ=DAILY;INTERVAL=2;COUNT=4",
                f"FREQ=WEEKLY;BYDAY=MO,TH;UNTIL={in_a_week + timedelta(days=30):%Y%m%dT%H%M%SZ}",
            ],
        },
    )
    yield Current.things
    Current.things = None


def send(case, things: Things):
    """Send `case` as alice or sophie, and check its answer against the document."""
    # Drawn from the case itself, not from a global random state: a failure that Hypothesis replays replays.
    # (Not by the hook: a token set in the case's headers counts as generated, and Schemathesis then expects
    # it to be refused.) Blocks are the staff's: sophie sends most of them.
    rng = random.Random(repr((case.method, case.path, case.path_parameters, case.query, case.body)))
    staff_share = 0.75 if case.path.endswith("/blocks") else 0.5
    headers = things.staff if rng.random() < staff_share else things.member
    excluded = [] if case.method == "GET" else [positive_data_acceptance]
    return case.call_and_validate(headers=headers, excluded_checks=excluded)


FUZZ_SETTINGS = settings(
    deadline=None,
    database=None,  # no .hypothesis folder in the repository; each run explores afresh
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@schema.parametrize()
@settings(FUZZ_SETTINGS, max_examples=MAX_EXAMPLES)
def test_the_api_answers_as_its_openapi_document_says(case, things):
    send(case, things)


@pytest.mark.parametrize("body", ["[null, null]", "3", '"oui"'])
def test_a_registration_body_that_is_not_an_object_is_refused(body, activities, api, bob):
    response = api.client.generic(
        "POST",
        f"/api/v1/events/{activities.public_event.pk}/registrations",
        data=body,
        content_type="application/json",
        headers=api.headers(bob),
    )

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid_input"


@pytest.mark.parametrize("path", ["/api/v1/bookings", "/api/v1/blocks"])
def test_generated_bookings_and_blocks_reach_the_engine(path, things):
    # Valid requests drawn from the document, through the same hook: if they stop reaching the engine (ids that
    # name nothing, slots that are never open), the fuzzing above tests the 404s and 422s only.
    statuses = Counter()

    @given(case=schema[path]["POST"].as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(FUZZ_SETTINGS, max_examples=ENGINE_EXAMPLES, derandomize=True)
    def post(case):
        statuses[send(case, things).status_code] += 1

    post()

    assert statuses[201] >= ENGINE_EXAMPLES // 10, statuses
    assert all(400 <= status < 500 for status in statuses if status != 201), statuses


# Refusals decided before any service runs: the document's validation, an id that names nothing, no token.
NOT_REACHED = {"invalid_input", "not_found", "unauthenticated"}


@pytest.mark.parametrize(
    "path", ["/api/v1/trainings/sessions/{session_id}/enrolments", "/api/v1/events/{event_id}/registrations"]
)
def test_generated_applications_and_registrations_reach_the_services(path, things):
    # The same hook gives the session's and the events' ids: a generated application or registration is
    # taken (201) or refused by the services for their own reasons (409 already done, 422 prerequisites not
    # met, funding…), not only by the document's validation (422 invalid_input) or for an unknown id (404).
    answers = Counter()

    @given(case=schema[path]["POST"].as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(FUZZ_SETTINGS, max_examples=ENGINE_EXAMPLES, derandomize=True)
    def post(case):
        response = send(case, things)
        answers[(response.status_code, response.json().get("code", ""))] += 1

    post()

    reached = sum(n for (status, code), n in answers.items() if status == 201 or code not in NOT_REACHED)
    assert any(status == 201 for status, _code in answers), answers
    assert reached >= ENGINE_EXAMPLES // 2, answers
    assert all(status == 201 or 400 <= status < 500 for status, _code in answers), answers
