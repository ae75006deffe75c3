"""Logging in: by password or by a code sent by email, and repeated failures slowed down."""

import re

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()  # allauth counts attempts in the cache
    yield
    cache.clear()


def test_a_member_logs_in_with_email_and_password(client, alice):
    response = client.post("/comptes/login/", {"login": "ALICE@example.org", "password": "a-long-password-1"})
    assert response.status_code == 302
    assert client.get("/mes-reservations/").status_code == 200


def test_repeated_wrong_passwords_are_rate_limited(client, alice):
    for i in range(6):
        response = client.post("/comptes/login/", {"login": alice.email, "password": f"wrong-{i}"})
    assert "Trop de tentatives de connexion" in response.content.decode()
    # Even the right password is refused until the limit expires: guessing gains nothing.
    response = client.post("/comptes/login/", {"login": alice.email, "password": "a-long-password-1"})
    assert response.status_code == 200
    assert client.get("/mes-reservations/").status_code == 302


def test_a_member_logs_in_with_a_code_sent_by_email(client, alice, mailoutbox):
    response = client.post("/comptes/login/code/", {"email": alice.email})
    assert response.status_code == 302
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", mailoutbox[-1].body, re.MULTILINE).group(1)
    response = client.post(response["Location"], {"code": code})
    assert response.status_code == 302
    assert client.get("/mes-reservations/").status_code == 200
