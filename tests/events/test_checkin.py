"""Check-in at the door: by name, by the QR code's URL; a reused or unknown code is said clearly."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cocotte.events import errors, services
from cocotte.events.models import Registration


@pytest.fixture
def registered(forum, alice):
    return services.register(forum, member=alice)


def test_staff_check_someone_in_once(registered, sophie):
    services.check_in(registered, by=sophie)
    registered.refresh_from_db()
    assert registered.checked_in_at and registered.checked_in_by == sophie
    with pytest.raises(errors.AlreadyCheckedIn, match=r"déjà enregistré à \d\d:\d\d"):
        services.check_in(Registration.objects.select_related("event").get(pk=registered.pk), by=sophie)


def test_a_stale_copy_cannot_check_in_twice(registered, sophie):
    """Two phones tap at once: the conditional UPDATE counts one arrival."""
    first = Registration.objects.select_related("event").get(pk=registered.pk)
    second = Registration.objects.select_related("event").get(pk=registered.pk)
    services.check_in(first, by=sophie)
    with pytest.raises(errors.AlreadyCheckedIn):
        services.check_in(second, by=sophie)


def test_only_the_sites_staff_check_in(registered, carol, bob):
    for who in (carol, bob):
        with pytest.raises(errors.Forbidden):
            services.by_checkin_code(registered.checkin_code, by=who)
    registered.refresh_from_db()
    assert registered.checked_in_at is None


def test_waiting_or_unknown_people_are_not_checked_in(forum, make_user, sophie):
    regs = [services.register(forum, member=make_user(f"m{i}@example.org")) for i in range(4)]
    waiting = Registration.objects.select_related("event").get(pk=regs[3].pk)
    with pytest.raises(errors.NotExpected):
        services.check_in(waiting, by=sophie)
    with pytest.raises(errors.UnknownCode):
        services.by_checkin_code("nope", by=sophie)


def test_the_qr_url_asks_staff_to_log_in_and_come_back(client, registered):
    url = reverse("events:scan", args=[registered.checkin_code])
    response = client.get(url)
    assert response.status_code == 302 and "next=" in response.url


def test_the_qr_url_checks_in_with_one_tap_then_says_already(client, registered, sophie):
    client.force_login(sophie)
    url = reverse("events:scan", args=[registered.checkin_code])
    page = client.get(url)
    assert page.status_code == 200 and "Alice Martin" in page.text
    assert client.post(url).status_code == 200
    again = client.post(url)
    assert again.status_code == 409
    local = timezone.localtime(Registration.objects.get(pk=registered.pk).checked_in_at)
    assert f"déjà enregistré à {local:%H:%M}" in again.text
    assert "Déjà enregistré à" in client.get(url).text
    unknown = client.get(reverse("events:scan", args=["inconnu"]))
    assert unknown.status_code == 404 and "Code inconnu" in unknown.text


def test_the_qr_url_refuses_other_staff(client, registered, carol):
    client.force_login(carol)
    assert client.post(reverse("events:scan", args=[registered.checkin_code])).status_code == 403


def test_the_door_page_finds_people_by_name_without_javascript(client, forum, make_user, sophie):
    for first in ("Jeanne", "Paul", "Jeannot"):
        services.register(
            forum, member=make_user(f"{first.lower()}@example.org", first_name=first, last_name="Roux")
        )
    client.force_login(sophie)
    door = reverse("events:door", args=[forum.pk])
    page = client.get(door, {"q": "jean"})
    assert "Jeanne Roux" in page.text and "Jeannot Roux" in page.text and "Paul Roux" not in page.text
    paul = Registration.objects.get(email="paul@example.org")
    response = client.post(door, {"registration": paul.pk, "q": "paul"})
    assert response.status_code == 302
    page = client.get(door)
    assert "1 arrivés sur 3 inscrits" in page.text


def test_late_comers_are_listed_after_the_start(forum, make_user, sophie):
    regs = [
        services.register(forum, member=make_user(f"m{i}@example.org", first_name=f"P{i}")) for i in range(3)
    ]
    services.check_in(Registration.objects.select_related("event").get(pk=regs[0].pk), by=sophie)
    before = services.door(forum)
    assert before.late == [] and (before.expected, before.arrived) == (3, 1)
    during = services.door(forum, now=forum.start + timedelta(minutes=20))
    assert sorted(r.pk for r in during.late) == sorted([regs[1].pk, regs[2].pk])


def test_checking_one_person_in_takes_few_queries(client, forum, make_user, sophie):
    regs = [services.register(forum, member=make_user(f"m{i}@example.org")) for i in range(3)]
    client.force_login(sophie)
    client.get("/")  # the session is warm, as a phone's at the door
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("events:scan", args=[regs[1].checkin_code]))
    assert response.status_code == 200
    # session, user, roles; the registration with its event; the conditional UPDATE; (savepoints aside)
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) <= 6, statements


def test_someone_unregistered_is_registered_and_arrived_at_the_door(client, make_event, alice, sophie):
    event = make_event(capacity=2, waiting_list=False)
    services.register(event, member=alice)
    client.force_login(sophie)
    door = reverse("events:door", args=[event.pk])
    response = client.post(door, {"action": "walk_in", "name": "Marcel Sans-Inscription", "email": ""})
    assert response.status_code == 302
    walk_in = Registration.objects.get(name="Marcel Sans-Inscription")
    assert walk_in.status == "confirmed" and walk_in.checked_in_by == sophie
    full = client.post(door, {"action": "walk_in", "name": "Une de trop", "email": "trop@example.org"})
    assert full.status_code == 400 and "capacité est atteinte" in full.text
    assert Registration.objects.filter(event=event).count() == 2


def test_only_the_team_registers_at_the_door(forum, carol):
    with pytest.raises(errors.Forbidden):
        services.register_at_door(forum, by=carol, name="X")
    assert not Registration.objects.exists()


def test_the_registrations_export_opens_in_a_spreadsheet(client, forum, alice, sophie):
    [question] = forum.questions.all()
    services.register(forum, member=alice, answers={str(question.pk): "=SOMME(A1:A9)"})
    client.force_login(sophie)
    response = client.get(reverse("events:export", args=[forum.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    header, row = text.splitlines()[:2]
    assert header.split(";")[:3] == ["Nom", "E-mail", "Statut"] and "Votre activité ?" in header
    assert row.startswith("Alice Martin;alice@example.org;Inscrit") and "'=SOMME" in row


def test_the_door_says_an_odd_registration_is_unknown_and_keeps_the_search(client, forum, sophie, alice):
    client.force_login(sophie)
    door = reverse("events:door", args=[forum.pk])
    for odd in ("abc", "1" * 30, "-3", ""):
        response = client.post(door, {"registration": odd, "q": "a&b"})
        assert response.status_code == 302, odd
        assert response["Location"] == f"{door}?q=a%26b"
    assert "Inscription introuvable." in client.get(door).text
