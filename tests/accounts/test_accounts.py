"""Accounts: email login, profiles, roles, and API tokens stored hashed."""

import hashlib

import pytest
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction

from cocotte.accounts import permissions
from cocotte.accounts.models import ApiToken, Profile

pytestmark = pytest.mark.django_db


def test_the_login_is_the_email_whatever_its_case(django_user_model):
    user = django_user_model.objects.create_user("Alice@Example.org", "a-long-password-1")
    assert user.email == "alice@example.org"
    assert authenticate(username="ALICE@example.org", password="a-long-password-1") == user


def test_two_accounts_cannot_share_an_email(django_user_model):
    django_user_model.objects.create_user("alice@example.org", "x")
    with pytest.raises(IntegrityError), transaction.atomic():
        django_user_model.objects.create_user("alice@example.org", "y")


def test_every_account_gets_a_profile(alice):
    assert alice.profile.status == Profile.Status.OTHER


def test_roles_follow_the_sites_people_manage(alice, sophie, carol, root, site, other_site):
    assert not permissions.is_site_staff(alice, site.pk)
    assert permissions.is_site_staff(sophie, site.pk)
    assert not permissions.is_site_staff(sophie, other_site.pk)
    assert permissions.is_site_staff(carol, other_site.pk) and not permissions.is_site_staff(carol, site.pk)
    assert permissions.is_site_staff(root, site.pk) and permissions.is_site_staff(root, other_site.pk)


def test_an_inactive_account_has_no_role(sophie, site):
    sophie.is_active = False
    assert not permissions.is_member(sophie)
    assert not permissions.is_site_staff(sophie, site.pk)


def test_a_token_is_stored_as_its_hash_only(alice):
    token, raw = ApiToken.issue(alice, name="Agenda")
    assert raw.startswith("cct_")
    token.refresh_from_db()
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in (token.key_hash, token.hint)
    assert ApiToken.authenticate(raw) == alice


def test_a_revoked_token_or_an_inactive_account_no_longer_authenticates(alice):
    token, raw = ApiToken.issue(alice)
    token.revoke()
    assert ApiToken.authenticate(raw) is None
    _token, raw = ApiToken.issue(alice)
    alice.is_active = False
    alice.save()
    assert ApiToken.authenticate(raw) is None


def test_token_use_is_recorded(alice):
    token, raw = ApiToken.issue(alice)
    ApiToken.authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_me_gives_the_private_calendar_address_and_it_serves_my_calendar(client, alice):
    _token, raw = ApiToken.issue(alice)
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    assert me["ical_url"].startswith("http://testserver/calendrier/membre/")
    feed = client.get(me["ical_url"].removeprefix("http://testserver"))
    assert feed.status_code == 200
    assert feed["Content-Type"].startswith("text/calendar")
    alice.profile.renew_calendar_key()
    assert client.get(me["ical_url"].removeprefix("http://testserver")).status_code == 404
