"""A member's data: downloaded whole, and erased on request — anonymised where the platform must keep a trace."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse

from cocotte.accounts import gdpr
from cocotte.accounts.models import ApiToken, Consent, User
from cocotte.bookings import services
from cocotte.bookings.models import Booking
from cocotte.core.models import AuditEntry
from tests.helpers import day_ahead, paris

PASSWORD = "a-long-password-1"


@pytest.fixture
def alice_s_data(alice, bob, room, book):
    Consent.objects.create(user=alice, document="terms", version="2026-11", ip_address="192.0.2.7")
    upcoming = book(alice, room, paris(day_ahead(5), 10), paris(day_ahead(5), 11), note="Rendez-vous banque")
    past = book(alice, room, paris(day_ahead(2), 10), paris(day_ahead(2), 11), note="Atelier CV")
    Booking.objects.filter(pk=past.pk).update(
        start=past.start - timedelta(days=30), end=past.end - timedelta(days=30)
    )
    bobs = book(bob, room, paris(day_ahead(5), 14), paris(day_ahead(5), 15), note="Bob's")
    _token, raw = ApiToken.issue(alice, name="agenda")
    return {"upcoming": upcoming, "past": past, "bobs": bobs, "raw_token": raw}


def test_a_member_downloads_everything_held_on_them_and_nothing_of_others(client, alice, alice_s_data):
    client.force_login(alice)

    response = client.get(reverse("accounts:my_data"))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="cocotte-mes-donnees-')
    data = json.loads(response.content)
    assert data["account"]["email"] == "alice@example.org"
    assert data["account"]["consents"][0]["version"] == "2026-11"
    assert data["account"]["api_tokens"][0]["name"] == "agenda"
    notes = {b["note"] for b in data["bookings"]}
    assert notes == {"Rendez-vous banque", "Atelier CV"}  # bob's booking is not in it
    assert (
        "raw_token" not in response.content.decode()
        and alice_s_data["raw_token"] not in response.content.decode()
    )


def test_a_wrong_password_deletes_nothing(client, alice, alice_s_data):
    client.force_login(alice)

    response = client.post(reverse("accounts:delete_account"), {"confirmation": "pas le bon"})

    assert response.status_code == 400
    assert "Mot de passe incorrect" in response.content.decode()
    alice.refresh_from_db()
    assert alice.is_active and alice.email == "alice@example.org"
    assert Booking.objects.get(pk=alice_s_data["upcoming"].pk).status == Booking.Status.CONFIRMED


def test_deleting_the_account_anonymises_the_person_and_frees_their_upcoming_places(
    client, alice, bob, room, alice_s_data
):
    client.force_login(alice)

    response = client.post(reverse("accounts:delete_account"), {"confirmation": PASSWORD})

    assert response.status_code == 302 and response.url == reverse("home")
    erased = User.objects.get(pk=alice.pk)
    assert not erased.is_active and not erased.has_usable_password()
    assert erased.email.endswith("@invalid") and (erased.first_name, erased.last_name) == ("", "")
    assert erased.profile.phone == "" and erased.profile.commune == ""
    assert not erased.roles.exists()
    # The upcoming booking is cancelled: its slot is free for others again.
    assert Booking.objects.get(pk=alice_s_data["upcoming"].pk).status == Booking.Status.CANCELLED
    upcoming = alice_s_data["upcoming"]
    services.book(resource=room, member=bob, start=upcoming.start, end=upcoming.end)
    # The past booking stays in the place's history, without the member's words.
    past = Booking.objects.get(pk=alice_s_data["past"].pk)
    assert past.status == Booking.Status.CONFIRMED and past.note == ""
    # Bob's data is untouched.
    assert Booking.objects.get(pk=alice_s_data["bobs"].pk).note == "Bob's"
    # The consent stays as evidence, without the IP address.
    assert Consent.objects.get(user=alice).ip_address is None
    # The token no longer opens the API; the session is gone; the erasure is in the audit trail.
    api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {alice_s_data['raw_token']}"})
    assert api.status_code == 401
    assert client.get(reverse("accounts:profile")).status_code == 302
    assert AuditEntry.objects.filter(action="account.erased", object_id=alice.pk).exists()
    assert not client.login(email="alice@example.org", password=PASSWORD)


def test_an_account_without_password_confirms_with_its_email(client, make_user):
    member = make_user("code@example.org")
    member.set_unusable_password()
    member.save()
    client.force_login(member)

    refused = client.post(reverse("accounts:delete_account"), {"confirmation": "autre@example.org"})
    accepted = client.post(reverse("accounts:delete_account"), {"confirmation": " Code@Example.org "})

    assert refused.status_code == 400
    assert accepted.status_code == 302
    assert not User.objects.get(pk=member.pk).is_active


def test_an_app_s_failing_erasure_leaves_everything_as_it_was(alice, alice_s_data):
    def broken(user):
        raise RuntimeError("disk full")

    gdpr.register("zz-broken", export=lambda user: None, erase=broken)
    try:
        with pytest.raises(RuntimeError):
            gdpr.erase(alice)
    finally:
        gdpr._parts.pop("zz-broken")

    alice.refresh_from_db()
    assert alice.is_active and alice.email == "alice@example.org"
    assert Booking.objects.get(pk=alice_s_data["upcoming"].pk).status == Booking.Status.CONFIRMED
