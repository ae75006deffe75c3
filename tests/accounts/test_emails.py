"""allauth's e-mails name the platform and link to its public address, not to the host a request came through.

The test client's host is "testserver": before, the sign-up e-mail said « Bonjour de la part de testserver » and
linked to http://testserver/…, as a real one named the machine behind the proxy.
"""

import re

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from tests.web.test_form_errors import signup_data

pytestmark = pytest.mark.django_db

PUBLIC = "https://cocotte.example.org"
NAME = "Cocotte du Cézallier"
SENDER = "Cocotte du Cézallier <reservations@cocotte.example.org>"


@pytest.fixture(autouse=True)
def public_address():
    cache.clear()  # allauth rate-limits by the cache
    with override_settings(COCOTTE_PUBLIC_URL=PUBLIC, COCOTTE_SITE_NAME=NAME, DEFAULT_FROM_EMAIL=SENDER):
        yield
    cache.clear()


def links(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


def assert_names_the_platform(message):
    assert message.subject.startswith(f"[{NAME}] "), message.subject
    assert NAME in message.body
    assert "testserver" not in message.subject + message.body
    assert message.from_email == SENDER
    for link in links(message.body):
        assert link.startswith(PUBLIC + "/"), link


def test_the_sign_up_e_mail_names_the_platform_and_links_to_its_public_address(client, mailoutbox):
    response = client.post(reverse("account_signup"), signup_data())
    assert response.status_code == 302

    [message] = mailoutbox
    assert message.to == ["new@example.org"]
    assert_names_the_platform(message)
    [link] = [link for link in links(message.body) if "/comptes/" in link]
    # The link works where it points: its path is the confirmation page.
    assert client.get(link.removeprefix(PUBLIC)).status_code == 200


def test_the_password_reset_e_mail_links_to_the_public_address(client, alice, mailoutbox):
    response = client.post(reverse("account_reset_password"), {"email": alice.email})
    assert response.status_code == 302

    [message] = mailoutbox
    assert_names_the_platform(message)
    [link] = [link for link in links(message.body) if "/comptes/" in link]
    assert client.get(link.removeprefix(PUBLIC)).status_code in (
        200,
        302,
    )  # allauth hides the key by a redirect


def test_the_login_code_e_mail_names_the_platform(client, alice, mailoutbox):
    response = client.post(reverse("account_request_login_code"), {"email": alice.email})
    assert response.status_code == 302

    [message] = mailoutbox
    assert_names_the_platform(message)


def test_by_default_the_sender_and_the_subjects_say_cocotte(client, mailoutbox, settings):
    with override_settings(COCOTTE_SITE_NAME="Cocotte"):
        client.post(reverse("account_signup"), signup_data())
    [message] = mailoutbox
    assert message.subject.startswith("[Cocotte] ")
    from cocotte import settings as defaults

    assert (
        "Cocotte" in defaults.DEFAULT_FROM_EMAIL
        and "localhost" not in defaults.DEFAULT_FROM_EMAIL.split("@")[0]
    )
