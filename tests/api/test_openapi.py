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


VISITORS_WELCOME = {"/sites", "/sites/{slug}", "/resources", "/availability"}


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
        return re.match(schema["pattern"], f"{year}-06-15") is not None

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
