"""The API keeps to its OpenAPI document, whatever it is sent: Schemathesis against the real WSGI application.

Each operation of /api/v1/openapi.json gets Schemathesis's coverage cases and MAX_EXAMPLES generated requests,
valid and invalid, each sent with the Bearer token of alice (a member) or of sophie (staff of the site). Every
response must have a documented status and a body that matches its schema; never a 500. In about half of the
valid requests, generated values are swapped for things that exist (alice's booking, request and series, the
room, a block, the site's slug, a valid rule, an open slot in the coming weeks), so that requests reach the
engine and its successes, not only 404 and « in the past ».

Writes and the series preview may refuse well-formed requests for the engine's own reasons (the slot is past,
outside opening hours, already taken: 422 or 409), so `positive_data_acceptance` is checked on reads only.

The WSGI application closes the database connection at the end of each request (Django's request_finished
signal); inside a test's transaction that would lose the test data, so the signal is held off meanwhile, as
Django's test client does. (`schemathesis.pytest.from_fixture` would load the schema lazily, but it does not
work with pytest 9.2, which no longer has `Node._nodeid`; the document is loaded at collection instead.)
"""

import random
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from cocotte.wsgi import application
from tests.helpers import day_ahead, paris

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

MAX_EXAMPLES = 25


@dataclass
class Callers:
    """Who calls (alice or sophie, a token each), and things that exist, to swap for generated values."""

    headers: list[dict[str, str]]
    existing: dict[str, list] = field(default_factory=dict)


@pytest.fixture
def wsgi_keeps_the_test_connection():
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def callers(world, api, alice, sophie, wsgi_keeps_the_test_connection):
    in_a_week = paris(day_ahead(7), 9)
    return Callers(
        headers=[api.headers(alice), api.headers(sophie)],
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
            "resource": [world.room.pk, world.workshop.pk],
            "member": [alice.pk, sophie.pk],
            "rrule": [
                "FREQ=WEEKLY;COUNT=3",
                "FREQ=DAILY;INTERVAL=2;COUNT=4",
                f"FREQ=WEEKLY;BYDAY=MO,TH;UNTIL={in_a_week + timedelta(days=30):%Y%m%dT%H%M%SZ}",
            ],
        },
    )


def prepare(case, callers: Callers, rng: random.Random) -> dict[str, str]:
    """Pick the caller, and in valid requests (which stay valid) swap about half of the generated values for
    things that exist: ids, the site's slug, a valid rule, an open slot in the coming weeks."""
    headers = rng.choice(callers.headers)
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return headers
    for container in (case.path_parameters, case.query, case.body):
        if not isinstance(container, dict):
            continue
        for name, choices in callers.existing.items():
            if type(container.get(name)) is type(choices[0]) and rng.random() < 0.5:
                container[name] = rng.choice(choices)
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("start"), str) and rng.random() < 0.5:
        start = paris(day_ahead(rng.randint(1, 30)), rng.randint(8, 18), rng.choice((0, 30)))
        body["start"] = start.isoformat()
        if isinstance(body.get("end"), str):
            body["end"] = (start + timedelta(minutes=30 * rng.randint(1, 4))).isoformat()
    return headers


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis folder in the repository; each run explores afresh
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_openapi_document_says(case, callers):
    # Drawn from the case itself, not from a global random state: a failure that Hypothesis replays replays.
    rng = random.Random(repr((case.method, case.path, case.path_parameters, case.query, case.body)))
    headers = prepare(case, callers, rng)
    excluded = [] if case.method == "GET" else [positive_data_acceptance]

    case.call_and_validate(headers=headers, excluded_checks=excluded)
