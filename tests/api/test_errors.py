"""One error shape everywhere under /api/v1/: each app's refusals answer the status their kind carries, and an
address that names no operation answers a JSON 404, not Django's HTML page."""

import json

import pytest
from django.test import RequestFactory

from cocotte.api import api as ninja_api
from cocotte.core import errors

pytestmark = pytest.mark.django_db


class RoomClosedForWorks(errors.Conflict):
    """An error of an app the API has never heard of."""

    code = "closed_for_works"


def answer(exc: errors.DomainError):
    """The API's answer when a handler raises `exc`."""
    request = RequestFactory().get("/api/v1/anything")
    response = ninja_api.on_exception(request, exc)
    response.json = lambda: json.loads(response.content)
    return response


def test_an_apps_own_error_maps_itself_by_its_kind():
    response = answer(RoomClosedForWorks("Salle fermée pour travaux.", field="resource"))

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Salle fermée pour travaux.",
        "code": "closed_for_works",
        "field": "resource",
    }


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        (errors.DomainError, 422, "invalid"),
        (errors.Invalid, 422, "invalid"),
        (errors.Conflict, 409, "conflict"),
        (errors.Forbidden, 403, "forbidden"),
        (errors.NotFound, 404, "not_found"),
        (errors.Busy, 503, "busy"),
    ],
)
def test_each_kind_has_its_status_and_code(kind, status, code):
    response = answer(kind("Non."))

    assert (response.status_code, response.json()) == (status, {"detail": "Non.", "code": code})


def test_busy_says_when_to_try_again_and_the_others_do_not():
    assert answer(errors.Busy("Occupé."))["Retry-After"] == "1"
    assert not answer(errors.Conflict("Pris.")).has_header("Retry-After")


def test_what_is_in_the_way_is_answered_as_conflicts():
    taken = [{"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z", "kind": "booking"}]

    body = answer(errors.Conflict("Créneau pris.", details=taken)).json()

    assert body == {"detail": "Créneau pris.", "code": "conflict", "conflicts": taken}


def test_the_engines_errors_keep_their_names_and_are_core_kinds():
    from cocotte.bookings import errors as booking_errors

    pairs = [
        (booking_errors.InvalidBooking, errors.Invalid, 422, "invalid"),
        (booking_errors.Conflict, errors.Conflict, 409, "conflict"),
        (booking_errors.Forbidden, errors.Forbidden, 403, "forbidden"),
        (booking_errors.NotFound, errors.NotFound, 404, "not_found"),
        (booking_errors.DatabaseBusy, errors.Busy, 503, "busy"),
    ]
    for engine_kind, core_kind, status, code in pairs:
        error = engine_kind("Non.")
        assert isinstance(error, booking_errors.BookingError) and isinstance(error, core_kind)
        assert (error.status, error.code) == (status, code)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("GET", "/bookings/abc/whatever"),
        ("GET", "/sites/murat/resources/"),
        ("GET", "/"),
        ("POST", "/nope"),
        ("DELETE", "/bookings/1/whatever"),
    ],
)
def test_an_unknown_address_under_the_api_is_a_json_404(api, alice, method, path):
    for caller in (None, alice):  # a POST with no token nor CSRF cookie: still a 404, not a CSRF 403
        response = api.call(method, path, as_=caller)

        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["code"] == "not_found"
        assert set(response.json()) == {"detail", "code"}


def test_a_known_address_with_a_wrong_method_stays_a_json_405(api, alice):
    response = api.call("PUT", "/bookings/1/approve", as_=alice)

    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")
    assert response["Allow"] == "POST"


def test_an_address_outside_the_api_keeps_the_sites_html_404(client):
    response = client.get("/nope-not-a-page/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_validation_messages_are_in_the_request_s_language(api, alice, room):
    body = {"resource": "not a number", "start": "tomorrow", "end": "2026-12-08T10:00:00+01:00"}

    french = api.client.post(
        "/api/v1/bookings",
        data=json.dumps(body),
        content_type="application/json",
        headers={**api.headers(alice), "Accept-Language": "fr"},
    )
    english = api.client.post(
        "/api/v1/bookings",
        data=json.dumps(body),
        content_type="application/json",
        headers={**api.headers(alice), "Accept-Language": "en"},
    )

    assert french.status_code == english.status_code == 422
    french_msgs = {tuple(e["loc"]): e["msg"] for e in french.json()["errors"]}
    english_msgs = {tuple(e["loc"]): e["msg"] for e in english.json()["errors"]}
    assert french_msgs[("body", "payload", "resource")] == "Un nombre entier est attendu."
    assert english_msgs[("body", "payload", "resource")] == "An integer is expected."
    assert "ISO 8601" in french_msgs[("body", "payload", "start")]
    assert french.json()["detail"].startswith("resource : Un nombre entier")
