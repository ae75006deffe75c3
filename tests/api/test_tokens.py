"""Saying who you are: personal API tokens, the web session, and what the API tells a caller about itself."""

import hashlib
import secrets
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from cocotte.accounts.models import ApiToken
from tests.helpers import day_ahead, paris

from .conftest import API, slot


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_api_token_command_prints_a_token_that_works_and_stores_only_its_hash(client, alice):
    out = StringIO()

    call_command("api_token", "Alice@Example.org", "--name", "script de compta", stdout=out)

    raw = out.getvalue().strip()
    assert raw.startswith(ApiToken.PREFIX)
    token = ApiToken.objects.get(user=alice)
    assert token.name == "script de compta"
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = [str(value) for value in ApiToken.objects.values_list().get()]
    assert not any(raw in value for value in stored), "the token itself must not be stored"
    response = client.get(f"{API}/me", headers=bearer(raw))
    assert (response.status_code, response.json()["email"]) == (200, "alice@example.org")


def test_the_api_token_command_refuses_an_unknown_or_deactivated_account(alice):
    alice.is_active = False
    alice.save()

    with pytest.raises(CommandError):
        call_command("api_token", "nobody@example.org", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("api_token", "alice@example.org", stdout=StringIO())
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("path", ["/me", "/bookings", "/sites", "/availability?site=murat&date=2026-12-01"])
def test_an_unknown_token_is_a_401_invalid_token_even_where_visitors_are_welcome(client, site, path):
    # A wrong token is an error to fix, not a visit: it never falls back to anonymous access.
    response = client.get(API + path, headers=bearer("cct_not-a-real-token"))

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_a_revoked_token_is_a_401_invalid_token(client, alice):
    token, raw = ApiToken.issue(alice)
    assert client.get(f"{API}/me", headers=bearer(raw)).status_code == 200

    token.revoke()

    response = client.get(f"{API}/me", headers=bearer(raw))
    assert (response.status_code, response.json()["code"]) == (401, "invalid_token")


def test_the_token_of_a_deactivated_account_no_longer_works(client, alice):
    _token, raw = ApiToken.issue(alice)
    alice.is_active = False
    alice.save()

    response = client.get(f"{API}/me", headers=bearer(raw))

    assert (response.status_code, response.json()["code"]) == (401, "invalid_token")


def test_without_credentials_a_member_endpoint_is_a_401_unauthenticated(client, db):
    response = client.get(f"{API}/me")

    assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")


def test_a_token_records_when_it_was_last_used(client, alice):
    token, raw = ApiToken.issue(alice)
    assert token.last_used_at is None

    client.get(f"{API}/me", headers=bearer(raw))

    token.refresh_from_db()
    assert token.last_used_at is not None


ME = ("id", "email", "first_name", "last_name", "profile", "staff_of", "is_admin")


def test_me_returns_my_account_and_profile(api, alice):
    alice.profile.commune = "Murat"
    alice.profile.phone = "04 71 00 00 00"
    alice.profile.status = "teleworker"
    alice.profile.save()

    response = api.get("/me", as_=alice)

    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ME} == {
        "id": alice.pk,
        "email": "alice@example.org",
        "first_name": "Alice",
        "last_name": "Martin",
        "profile": {
            "status": "teleworker",
            "organisation": None,
            "phone": "04 71 00 00 00",
            "commune": "Murat",
            "language": "fr",
        },
        "staff_of": [],
        "is_admin": False,
    }


def test_me_says_which_sites_i_manage_and_whether_i_am_admin(api, sophie, root):
    assert api.get("/me", as_=sophie).json()["staff_of"] == ["murat"]
    assert api.get("/me", as_=root).json()["is_admin"] is True


# --- the web session ----------------------------------------------------------------------------------------


@pytest.fixture
def browser(alice):
    """alice's browser, logged in to the web site, which checks CSRF as in production."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    return browser


def booking_body(room) -> dict:
    day = day_ahead(7)
    return slot(room, paris(day, 9), paris(day, 10))


def test_the_web_session_is_enough_to_read(browser):
    response = browser.get(f"{API}/me")

    assert (response.status_code, response.json()["email"]) == (200, "alice@example.org")


def test_a_write_with_the_web_session_needs_the_csrf_token(browser, room):
    without = browser.post(f"{API}/bookings", booking_body(room), content_type="application/json")
    csrf = secrets.token_hex(16)  # what the web site's forms set in the cookie and send back
    browser.cookies["csrftoken"] = csrf
    with_token = browser.post(
        f"{API}/bookings", booking_body(room), content_type="application/json", headers={"X-CSRFToken": csrf}
    )

    assert (without.status_code, without.json()["code"]) == (403, "csrf_failed")
    assert with_token.status_code == 201


def test_an_anonymous_write_is_told_to_authenticate_not_about_csrf(room):
    # Regression: django-ninja checked CSRF before knowing whether anyone was logged in, so an anonymous
    # client got « CSRF check Failed » (403, code http_error) instead of 401 unauthenticated.
    anonymous = Client(enforce_csrf_checks=True)

    response = anonymous.post(f"{API}/bookings", booking_body(room), content_type="application/json")

    assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")


def test_a_token_write_needs_no_csrf_token(room, alice):
    _token, raw = ApiToken.issue(alice)

    response = Client(enforce_csrf_checks=True).post(
        f"{API}/bookings", booking_body(room), content_type="application/json", headers=bearer(raw)
    )

    assert response.status_code == 201


# --- the API describes itself -------------------------------------------------------------------------------


def test_the_openapi_document_and_the_docs_are_served(client, db):
    document = client.get(f"{API}/openapi.json")
    docs = client.get(f"{API}/docs")

    assert document.status_code == 200
    assert document.json()["info"]["title"] == "Cocotte API"
    assert "/api/v1/bookings" in document.json()["paths"]
    assert docs.status_code == 200
    assert b"openapi.json" in docs.content
