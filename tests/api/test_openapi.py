"""The OpenAPI document tells client programs the truth, and every error keeps the one JSON shape."""

import enum
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from ninja import Router, Schema

from cocotte.api import CocotteAPI
from cocotte.bookings import rules


@pytest.fixture
def document(api):
    return api.get("/openapi.json").json()


VISITORS_WELCOME = {
    "/sites",
    "/sites/{slug}",
    "/resources",
    "/availability",
    "/trainings/sessions",
    "/trainings/sessions/{session_id}",
    "/events",
    "/events/{event_id}",
}


def test_endpoints_open_to_visitors_say_that_no_credentials_are_needed(document):
    # Regression: they were documented as needing a token or a session, which a client generator believes.
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            open_to_visitors = {} in operation["security"]
            assert open_to_visitors == (path.removeprefix("/api/v1") in VISITORS_WELCOME), f"{method} {path}"
            assert {"BearerToken": []} in operation["security"]


def test_every_error_response_is_documented_with_the_error_shape(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorOut"}, f"{method} {path} {status}"


def test_two_different_schemas_under_one_name_stop_the_document():
    # Regression guard: two enums both called « Kind » made the document describe one with the other's values.
    class Resource:
        class Kind(enum.StrEnum):
            DESK = "desk"

    class Block:
        class Kind(enum.StrEnum):
            REPAIRS = "repairs"

    class ResourceIn(Schema):
        kind: Resource.Kind

    class BlockIn(Schema):
        kind: Block.Kind

    router = Router()

    @router.post("/resources")
    def add_resource(request, payload: ResourceIn):
        """A resource."""

    @router.post("/blocks")
    def add_block(request, payload: BlockIn):
        """A block."""

    api = CocotteAPI(urls_namespace="test-kinds")
    api.add_router("", router)

    with pytest.raises(ImproperlyConfigured, match="'Kind'"):
        api.get_openapi_schema(path_prefix="/test/")


def test_a_method_an_endpoint_does_not_serve_is_a_405_in_the_error_shape(api, alice):
    response = api.call("PUT", "/me", as_=alice)

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response.json()["detail"]
    assert response["Allow"] == "GET"


def test_the_documented_years_are_the_engines(document):
    # The patterns are written out; the engine's limits are constants: they must say the same.
    first_day = next(
        p["schema"]
        for p in document["paths"]["/api/v1/availability"]["get"]["parameters"]
        if p["name"] == "date"
    )
    start = document["components"]["schemas"]["BookingIn"]["properties"]["start"]
    earliest, latest = rules.EARLIEST_YEAR, rules.LATEST_YEAR

    def accepts(schema, year: int) -> bool:
        value = f"{year}-06-15" if schema is first_day else f"{year}-06-15T09:00:00+02:00"
        return re.match(schema["pattern"], value) is not None

    assert [accepts(first_day, y) for y in (earliest, earliest + 1, latest - 1, latest)] == [
        False,
        True,
        True,
        False,
    ]
    assert [accepts(start, y) for y in (earliest - 1, earliest, latest, latest + 1)] == [
        False,
        True,
        True,
        False,
    ]


INPUTS = ("BookingIn", "PreviewIn", "MoveIn", "BlockIn")


def instant_schemas(document):
    for name in INPUTS:
        for field in ("start", "end"):
            schema = document["components"]["schemas"][name]["properties"][field]
            yield next((s for s in schema.get("anyOf", ()) if s.get("type") == "string"), schema)


def test_instants_are_documented_as_date_times_with_their_offset(document):
    # Bug 6: the document did not say that an instant needs its offset, so generated requests were naive or
    # filtered out by the thousand; clients read the pattern as the rule.
    for schema in instant_schemas(document):
        assert schema["format"] == "date-time"
        pattern = re.compile(schema["pattern"])
        for accepted in ("2026-12-01T09:00:00+01:00", "2026-12-01T08:00:00Z", "2026-12-01T08:00:00.5-03:30"):
            assert pattern.search(accepted), accepted
        for refused in (
            "2026-12-01T09:00:00",
            "2026-12-01 09:00:00+01:00",
            "2026-12-01",
            "1999-12-01T09:00:00Z",
        ):
            assert not pattern.search(refused), refused
        assert "décalage" in schema["description"]


def test_the_inputs_say_that_a_slot_follows_the_resources_unit(document):
    for name in ("BookingIn", "PreviewIn", "MoveIn"):
        description = document["components"]["schemas"][name]["description"]
        assert "unité de la ressource" in description and "not_on_unit" in description, name
    unit = document["components"]["schemas"]["ResourceOut"]["properties"]["unit"]
    assert "demi-heure" in unit["description"]


def test_ids_are_documented_as_positive(document):
    properties = document["components"]["schemas"]["BookingIn"]["properties"]
    assert properties["resource"]["minimum"] == 1
    assert document["components"]["schemas"]["BlockIn"]["properties"]["resource"]["minimum"] == 1


def test_the_documents_examples_are_accepted_on_an_existing_resource(
    api, document, alice, sophie, room, book
):
    # The examples are the inputs' own, built when the document is, so they stay ahead of its readers: sent for a
    # resource that exists (theirs say 1), each is done, not refused.
    schemas = document["components"]["schemas"]

    def example(name, index=0):
        body = dict(schemas[name]["examples"][index])
        if "resource" in body:
            body["resource"] = room.pk
        return body

    booked = api.post("/bookings", example("BookingIn"), as_=alice)
    assert booked.status_code == 201, booked.json()
    series = api.post("/bookings", example("BookingIn", 1), as_=alice)
    assert series.status_code == 201, series.json()
    preview = api.post("/bookings/preview", example("PreviewIn"), as_=alice)
    assert preview.status_code == 200, preview.json()
    moved = api.patch(f"/bookings/{booked.json()['id']}", example("MoveIn"), as_=alice)
    assert moved.status_code == 200, moved.json()
    blocked = api.post("/blocks", example("BlockIn"), as_=sophie)
    assert blocked.status_code == 201, blocked.json()
