"""What trying the trainings' pages as their users turned up: a trainer finds their earlier sheets (and their
PDF), a trainee is invited to sign only on a day they have a sitting, the team is told when an acceptance
lands on the waiting list, a trainee is moved only to a session that has not begun, and a sitting's room
conflict names the room, next to the room's field."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from cocotte.learning.models import Enrolment, Session, Sitting
from tests.helpers import day_ahead, paris


def test_a_trainer_finds_their_earlier_sheets_and_their_pdf(
    client, session, make_sitting, enrol, alice, trainer, bob
):
    enrol(session, alice)
    long_ago = timezone.localdate() - timedelta(days=40)
    old = make_sitting(session, paris(long_ago, 9), paris(long_ago, 12, 30))
    sheet = old.sheets.get()
    client.force_login(trainer)
    page = client.get(reverse("learning:attendance")).text
    assert f'href="{reverse("learning:sheet", args=[sheet.pk])}"' in page
    assert f'href="{reverse("learning:sheet_pdf", args=[sheet.pk])}"' in page
    client.force_login(bob)  # neither trainer nor staff: not listed
    assert reverse("learning:sheet", args=[sheet.pk]) not in client.get(reverse("learning:attendance")).text


def _sign_link(page: str) -> bool:
    return "Signer ma présence du jour" in page


def test_a_trainee_is_invited_to_sign_only_on_a_day_with_a_sitting(
    client, session, make_sitting, enrol, alice
):
    enrol(session, alice)
    make_sitting(session, paris(day_ahead(10), 9), paris(day_ahead(10), 12, 30))
    client.force_login(alice)
    assert not _sign_link(client.get(reverse("learning:mine")).text)
    now = timezone.now()
    make_sitting(session, now - timedelta(minutes=10), now + timedelta(minutes=50))
    assert _sign_link(client.get(reverse("learning:mine")).text)


def test_accepting_into_a_full_session_says_the_person_is_on_the_waiting_list(
    client, session, enrol, make_user, sophie
):
    for i in range(session.capacity):
        enrol(session, make_user(f"place-{i}@example.org"))
    late = enrol(session, make_user("late@example.org"), status=Enrolment.Status.APPLIED)
    client.force_login(sophie)
    response = client.post(reverse("learning:staff_decide", args=[late.pk, "accepter"]), follow=True)
    late.refresh_from_db()
    assert late.status == Enrolment.Status.WAITLISTED
    assert "liste d’attente" in response.text
    assert "Décision enregistrée" not in response.text


def test_a_trainee_is_offered_a_move_only_to_a_session_that_has_not_begun(
    client, session, programme, site, enrol, alice, sophie, trainer
):
    now = timezone.now()
    started = Session.objects.create(
        programme=programme,
        site=site,
        label="Déjà commencée",
        status=Session.Status.OPEN,
        capacity=5,
        enrolment_closes=now + timedelta(days=1),
    )
    Sitting.objects.create(
        session=started, start=now - timedelta(days=3), end=now - timedelta(days=3, hours=-3), trainer=trainer
    )
    Session.objects.filter(pk=started.pk).update(
        starts_at=now - timedelta(days=3), ends_at=now + timedelta(days=20)
    )
    later = Session.objects.create(
        programme=programme,
        site=site,
        label="Automne",
        status=Session.Status.OPEN,
        capacity=5,
        enrolment_closes=now + timedelta(days=30),
    )
    Session.objects.filter(pk=later.pk).update(
        starts_at=now + timedelta(days=40), ends_at=now + timedelta(days=60)
    )
    enrol(session, alice, status=Enrolment.Status.APPLIED)
    client.force_login(sophie)
    page = client.get(reverse("learning:staff_session", args=[session.pk])).text
    choices = re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', page)
    offered = {label for _value, label in choices}
    assert "Automne" in offered and "Déjà commencée" not in offered


def test_a_sittings_room_conflict_names_the_room_next_to_its_field(
    client, session, sophie, trainer, room, alice, book
):
    day = day_ahead(12)
    book(alice, room, paris(day, 10), paris(day, 11))
    client.force_login(sophie)
    response = client.post(
        reverse("learning:staff_add_sitting", args=[session.pk]),
        {
            "new-day": day,
            "new-start": "09:00",
            "new-end": "12:30",
            "new-trainer": trainer.pk,
            "new-room": room.pk,
        },
    )
    assert response.status_code == 400
    errors = re.search(r'<ul class="errorlist" id="id_new-room_error">(.*?)</ul>', response.text, re.S)
    summary = re.search(r"error-summary.*?</div>", response.text, re.S)
    assert errors and room.name in errors.group(1), summary.group(0) if summary else response.text[-3000:]
    assert not Sitting.objects.filter(session=session).exists()


def test_a_sitting_ending_before_it_starts_is_said_next_to_its_end(client, session, sophie, trainer, room):
    client.force_login(sophie)
    response = client.post(
        reverse("learning:staff_add_sitting", args=[session.pk]),
        {
            "new-day": day_ahead(12),
            "new-start": "12:00",
            "new-end": "09:00",
            "new-trainer": trainer.pk,
            "new-room": room.pk,
        },
    )
    assert response.status_code == 400
    errors = re.search(r'<ul class="errorlist" id="id_new-end_error">(.*?)</ul>', response.text, re.S)
    assert errors and "La fin de la séance doit suivre son début." in errors.group(1)
