"""CSRF on every form, security headers on every page, secure cookies behind HTTPS."""

import os
import subprocess
import sys

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse

from .conftest import state
from .test_permissions import ROWS, post_data, url_for

REFUSED = ("405", "404", "403")
# Every POST that a logged-in person may make, with who makes it: alice, or sophie for the team's pages.
POSTS = [
    (label, name, "alice" if cells[1] not in REFUSED else "sophie")
    for label, method, name, *cells in ROWS
    if method == "POST" and (cells[1] not in REFUSED or cells[3] not in REFUSED)
]


def test_the_csrf_list_covers_the_forms():
    names = {name for _label, name, _who in POSTS}
    assert {
        "bookings:book",
        "bookings:move",
        "bookings:cancel",
        "bookings:cancel_series",
        "accounts:profile",
        "accounts:renew_calendar",
        "accounts:create_token",
        "accounts:revoke_token",
        "planner:block",
        "planner:approve",
        "planner:refuse",
        "set_language",
        "billing:run_issue",
        "billing:draft_issue",
        "billing:credit_note",
    } <= names


@pytest.mark.parametrize(("label", "name", "who"), POSTS, ids=[p[0] for p in POSTS])
def test_a_post_without_the_csrf_token_is_refused(world, label, name, who):
    client = Client(enforce_csrf_checks=True)
    client.force_login(getattr(world, who))
    url = url_for(world, label, name)
    before = state(world)
    response = client.post(url, post_data(world, label))
    assert response.status_code == 403
    assert state(world) == before


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("account_login", {"login": "alice@example.org", "password": "a-long-password-1"}),
        ("account_signup", {"email": "new@example.org", "password1": "x", "password2": "x"}),
        ("account_logout", {}),
    ],
)
def test_the_account_forms_want_the_csrf_token_too(world, url_name, data):
    response = Client(enforce_csrf_checks=True).post(reverse(url_name), data)
    assert response.status_code == 403


def test_with_the_token_the_same_post_goes_through(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    client.get(reverse("accounts:profile"))
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("accounts:renew_calendar"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302


HEADER_PAGES = {
    # name: (who, URL)
    "home": (None, lambda w: reverse("home")),
    "grid": (None, lambda w: reverse("bookings:grid", args=[w.site.slug])),
    "book": ("alice", lambda w: reverse("bookings:book", args=[w.site.slug, w.room.pk])),
    "my bookings": ("alice", lambda w: reverse("bookings:mine")),
    "move": ("alice", lambda w: reverse("bookings:move", args=[w.booking.pk])),
    "someone else's booking (404)": ("bob", lambda w: reverse("bookings:move", args=[w.booking.pk])),
    "profile": ("alice", lambda w: reverse("accounts:profile")),
    "planner": ("sophie", lambda w: reverse("planner:site", args=[w.site.slug])),
    "privacy": (None, lambda w: reverse("privacy")),
    "login": (None, lambda w: reverse("account_login")),
    "signup": (None, lambda w: reverse("account_signup")),
    "login redirect (302)": (None, lambda w: reverse("bookings:mine")),
    "member feed": (None, lambda w: reverse("calendar:member", args=[w.alice.profile.calendar_key])),
}


@pytest.mark.parametrize("page", HEADER_PAGES)
def test_pages_send_the_security_headers(world, client, page):
    who, url = HEADER_PAGES[page]
    if who:
        client.force_login(getattr(world, who))
    response = client.get(url(world))
    csp = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in ("same-origin", "no-referrer")


def settings_in_a_fresh_process(tmp_path, **env):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0)"
    )
    environment = {
        **os.environ,
        "COCOTTE_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "cocotte.settings",
        "SECRET_KEY": "x" * 60,
        **env,
    }
    environment.pop("DATABASE_URL", None)
    result = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout.split()


def test_cookies_are_secure_behind_https_only(tmp_path):
    assert settings_in_a_fresh_process(tmp_path, SECURE="true") == ["True", "True", "True", "True"]
    assert settings_in_a_fresh_process(tmp_path, SECURE="false") == ["False", "False", "False", "False"]


def test_with_secure_settings_the_cookies_sent_are_secure(world, client, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    EmailAddress.objects.update_or_create(
        user=world.alice, email=world.alice.email, defaults={"verified": True, "primary": True}
    )
    page = client.get(reverse("account_login"))
    assert page.cookies["csrftoken"]["secure"]
    response = client.post(
        reverse("account_login"), {"login": world.alice.email, "password": "a-long-password-1"}
    )
    assert response.status_code == 302
    assert response.cookies["sessionid"]["secure"]
    assert response.cookies["sessionid"]["httponly"]
