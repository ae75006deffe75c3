"""Bad input: the page comes back (400 where the view says so) with each message next to its field, the
field pointing to it (aria-describedby) and marked invalid (aria-invalid), and nothing is written."""

from datetime import timedelta

import pytest
from django.urls import reverse

from cocotte.accounts.models import ApiToken, User
from cocotte.bookings.models import Block, Booking, BookingSeries

from .html import assert_field_error, assert_form_alert


def counts():
    return (
        Booking.objects.count(),
        tuple(Booking.objects.order_by("pk").values_list("status", "start", "end")),
        BookingSeries.objects.count(),
        Block.objects.count(),
        ApiToken.objects.count(),
        User.objects.count(),
    )


def slot(day, start="09:00", end="10:00", **extra):
    return {"step": "check", "date": day.isoformat(), "start_time": start, "end_time": end, **extra}


BOOKING_CASES = {
    # name: (POST data from the day, field id or None for the form's top, message)
    "end before start": (
        lambda d: slot(d, "11:00", "10:00"),
        "id_end_time",
        "La fin doit être après le début.",
    ),
    "outside opening hours": (
        lambda d: slot(d, "06:00", "07:00"),
        "id_start_time",
        "Le créneau sort des horaires d’ouverture du site.",
    ),
    "past date": (lambda d: slot(d - timedelta(days=14)), "id_start_time", "Ce créneau est passé."),
    "missing day": (lambda d: slot(d, date=""), "id_date", "Ce champ est obligatoire."),
    "missing start": (lambda d: slot(d, start=""), "id_start_time", "Ce champ est obligatoire."),
    "missing end": (lambda d: slot(d, end=""), "id_end_time", "Ce champ est obligatoire."),
    "not a date": (lambda d: slot(d, date="31/02/2026"), "id_date", "Saisissez une date valide."),
    "not a time": (lambda d: slot(d, start="9h"), "id_start_time", "Saisissez une heure valide."),
    "repeat without count": (lambda d: slot(d, repeat="WEEKLY"), "id_count", "Combien de fois"),
    "count of one": (lambda d: slot(d, repeat="WEEKLY", count="1"), "id_count", "supérieure ou égale à 2"),
    "count too high": (
        lambda d: slot(d, repeat="WEEKLY", count="500"),
        "id_count",
        "inférieure ou égale à 104",
    ),
    "unknown repeat": (
        lambda d: slot(d, repeat="HOURLY", count="3"),
        "id_repeat",
        "Sélectionnez un choix valide",
    ),
    "not on the half hour": (lambda d: slot(d, "09:10", "10:00"), "id_start_time", "se réserve par"),
    "note too long": (lambda d: slot(d, note="x" * 2001), "id_note", "2000 caractères"),
}


@pytest.mark.parametrize("step", ["check", "confirm"])
@pytest.mark.parametrize("case", BOOKING_CASES, ids=list(BOOKING_CASES))
def test_the_booking_form_says_what_is_wrong_next_to_the_field(world, client, case, step):
    data, field_id, message = BOOKING_CASES[case]
    client.force_login(world.bob)
    before = counts()
    response = client.post(
        reverse("bookings:book", args=[world.site.slug, world.room.pk]), {**data(world.day), "step": step}
    )
    assert response.status_code == 400
    assert_field_error(response, field_id, message)
    assert counts() == before


@pytest.mark.parametrize("step", ["check", "confirm"])
def test_a_taken_slot_is_said_at_the_top_of_the_booking_form(world, client, step):
    client.force_login(world.bob)
    before = counts()
    response = client.post(
        reverse("bookings:book", args=[world.site.slug, world.room.pk]),
        slot(world.day, "10:00", "11:00", step=step),
    )
    assert response.status_code == 400
    assert_form_alert(response, "Ce créneau est déjà réservé")
    assert counts() == before


def test_staff_booking_for_an_unknown_member_is_told_next_to_the_email(world, client):
    client.force_login(world.sophie)
    before = counts()
    response = client.post(
        reverse("bookings:book", args=[world.site.slug, world.room.pk]),
        slot(world.day, step="confirm", member_email="nobody@example.org"),
    )
    assert response.status_code == 400
    assert_field_error(
        response, "id_member_email", "Aucun membre actif ne correspond à « nobody@example.org »."
    )
    assert counts() == before


def test_a_series_with_a_taken_occurrence_is_refused_whole_on_confirm(world, client):
    client.force_login(world.bob)
    before = counts()
    response = client.post(
        reverse("bookings:book", args=[world.site.slug, world.room.pk]),
        slot(world.day, "14:00", "15:00", repeat="WEEKLY", count="2", step="confirm"),
    )
    assert response.status_code == 400
    assert_form_alert(response, "2 occurrences sur 2 ne peuvent pas être réservées.")
    assert counts() == before


MOVE_CASES = {
    "end before start": (
        {"start_time": "12:00", "end_time": "11:00"},
        "id_end_time",
        "La fin doit être après le début.",
    ),
    "missing day": ({"date": ""}, "id_date", "Ce champ est obligatoire."),
    "past": ({"days": -14}, "id_start_time", "Ce créneau est passé."),
    "outside opening hours": (
        {"start_time": "21:00", "end_time": "22:00"},
        "id_start_time",
        "Le créneau sort des horaires d’ouverture du site.",
    ),
}


@pytest.mark.parametrize("case", MOVE_CASES, ids=list(MOVE_CASES))
def test_the_move_form_says_what_is_wrong_next_to_the_field(world, client, case):
    changes, field_id, message = MOVE_CASES[case]
    changes = dict(changes)
    day = world.day + timedelta(days=changes.pop("days", 0))
    data = {"date": day.isoformat(), "start_time": "12:00", "end_time": "13:00", **changes}
    client.force_login(world.alice)
    before = counts()
    response = client.post(reverse("bookings:move", args=[world.booking.pk]), data)
    assert response.status_code == 400
    assert_field_error(response, field_id, message)
    assert counts() == before


def test_moving_onto_a_taken_slot_is_said_at_the_top_of_the_form(world, client):
    client.force_login(world.alice)
    before = counts()
    response = client.post(
        reverse("bookings:move", args=[world.booking.pk]),
        {"date": world.day.isoformat(), "start_time": "14:00", "end_time": "15:00"},
    )
    assert response.status_code == 400
    assert_form_alert(response, "Ce créneau est déjà réservé")
    assert counts() == before


@pytest.mark.parametrize("reason", ["", "   "])
def test_refusing_without_a_reason(world, client, reason):
    client.force_login(world.sophie)
    before = counts()
    response = client.post(reverse("planner:refuse", args=[world.pending.pk]), {"reason": reason})
    assert response.status_code == 400
    assert_field_error(response, "id_reason", "Ce champ est obligatoire.")
    assert counts() == before
    world.pending.refresh_from_db()
    assert world.pending.status == Booking.Status.PENDING


BLOCK_PREFIX = "block"  # the planner's block form has a prefix: its fields are block-date, id_block-date…


def block_data(world, **changes):
    """The block form's POST data, with its prefix."""
    data = {
        "resource": world.room.pk,
        "date": world.day.isoformat(),
        "start_time": "12:00",
        "end_date": "",
        "end_time": "13:00",
        "kind": "maintenance",
        "reason": "Peinture",
        **changes,
    }
    return {f"{BLOCK_PREFIX}-{name}": value for name, value in data.items()}


def block_id(name: str) -> str:
    return f"id_{BLOCK_PREFIX}-{name}"


BLOCK_CASES = {
    "end before start": ({"end_time": "10:00"}, "end_time", "La fin doit être après le début."),
    "last day before the first": (
        {"end_date": "2001-01-01"},
        "end_time",
        "La fin doit être après le début.",
    ),
    "no reason": ({"reason": ""}, "reason", "Ce champ est obligatoire."),
    "no resource": ({"resource": ""}, "resource", "Ce champ est obligatoire."),
    "another site's resource": ({"resource": "other"}, "resource", "Sélectionnez un choix valide"),
    "unknown kind": ({"kind": "party"}, "kind", "Sélectionnez un choix valide"),
}


@pytest.mark.parametrize("case", BLOCK_CASES, ids=list(BLOCK_CASES))
def test_the_block_form_says_what_is_wrong_next_to_the_field(world, client, make_resource, case):
    changes, field, message = BLOCK_CASES[case]
    if changes.get("resource") == "other":
        changes = {"resource": make_resource(world.other_site, "salle").pk}
    client.force_login(world.sophie)
    before = counts()
    response = client.post(reverse("planner:block", args=[world.site.slug]), block_data(world, **changes))
    assert response.status_code == 400
    assert_field_error(response, block_id(field), message)
    assert counts() == before


def test_a_block_over_bookings_lists_them_and_blocks_nothing(world, client):
    client.force_login(world.sophie)
    before = counts()
    response = client.post(
        reverse("planner:block", args=[world.site.slug]),
        block_data(world, start_time="09:00", end_time="12:00"),
    )
    assert response.status_code == 400
    assert_form_alert(response, "Ces réservations occupent la période.")
    assert counts() == before


def profile_data(**changes):
    return {
        "first_name": "Alice",
        "last_name": "Martin",
        "status": "teleworker",
        "organisation": "",
        "commune": "",
        "phone": "",
        "language": "fr",
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "field_id", "message"),
    [
        ({"phone": "123"}, "id_phone", "Numéro de téléphone invalide"),
        ({"phone": "not a phone"}, "id_phone", "Numéro de téléphone invalide"),
        ({"first_name": ""}, "id_first_name", "Ce champ est obligatoire."),
        ({"status": "astronaut"}, "id_status", "Sélectionnez un choix valide"),
        ({"language": "de"}, "id_language", "Sélectionnez un choix valide"),
    ],
    ids=["short phone", "words for a phone", "no first name", "unknown status", "unknown language"],
)
def test_the_profile_form_says_what_is_wrong_next_to_the_field(world, client, changes, field_id, message):
    alice = world.alice
    alice.profile.phone = "+33471200000"
    alice.profile.save()
    client.force_login(alice)
    response = client.post(reverse("accounts:profile"), profile_data(**changes))
    assert response.status_code == 400
    assert_field_error(response, field_id, message)
    alice.refresh_from_db()
    alice.profile.refresh_from_db()
    assert (alice.first_name, alice.profile.phone, alice.profile.status) == ("Alice", "+33471200000", "other")


@pytest.mark.parametrize("name", ["", "   ", "x" * 101], ids=["empty", "blank", "too long"])
def test_a_token_needs_a_name(world, client, name):
    client.force_login(world.alice)
    before = counts()
    response = client.post(reverse("accounts:create_token"), {"name": name})
    assert response.status_code == 400
    message = "au plus 100 caractères" if name.strip() else "Donnez un nom au jeton."
    assert_field_error(response, "id_name", message)
    assert counts() == before
    assert "accounts/token_created.html" not in [t.name for t in response.templates]  # no secret shown


def signup_data(**changes):
    return {
        "email": "new@example.org",
        "password1": "a-long-password-1",
        "password2": "a-long-password-1",
        "first_name": "Nina",
        "last_name": "Neuve",
        "status": "teleworker",
        "organisation": "",
        "commune": "",
        "phone": "",
        "accept_terms": "on",
        "accept_privacy": "on",
        **changes,
    }


@pytest.mark.parametrize(
    ("missing", "field_ids"),
    [
        (["accept_terms"], ["id_accept_terms"]),
        (["accept_privacy"], ["id_accept_privacy"]),
        (["accept_terms", "accept_privacy"], ["id_accept_terms", "id_accept_privacy"]),
    ],
    ids=["terms", "privacy", "both"],
)
def test_signing_up_without_the_consents(db, client, missing, field_ids):
    data = signup_data()
    for name in missing:
        del data[name]
    response = client.post(reverse("account_signup"), data)
    assert response.status_code == 200  # allauth answers a refused sign-up with the form again
    for field_id in field_ids:
        assert_field_error(response, field_id, "Ce champ est obligatoire.")
    assert not User.objects.filter(email="new@example.org").exists()


def test_signing_up_with_a_bad_phone(db, client):
    response = client.post(reverse("account_signup"), signup_data(phone="12"))
    assert_field_error(response, "id_phone", "Numéro de téléphone invalide")
    assert not User.objects.filter(email="new@example.org").exists()


def test_signing_up_with_everything_creates_the_account_and_its_consents(db, client):
    response = client.post(reverse("account_signup"), signup_data())
    assert response.status_code == 302
    user = User.objects.get(email="new@example.org")
    assert sorted(user.consents.values_list("document", flat=True)) == ["privacy", "terms"]
