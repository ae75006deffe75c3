"""Who reaches the evidence pages: visitor, member, trainee (own / someone else's), trainer (own sitting /
another's), staff of the site, staff of another site, admin."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cocotte.accounts import permissions
from cocotte.accounts.models import Role
from cocotte.learning import attendance, certificates
from cocotte.learning.models import Certificate, Sheet

PERSONAS = (
    "visitor",
    "member",
    "trainee",
    "other_trainee",
    "trainer",
    "other_trainer",
    "staff",
    "other_staff",
    "admin",
)


@pytest.fixture
def world(session, make_sitting, enrol, make_user, alice, bob, trainer, sophie, carol, root, site):
    other_trainer = make_user("olga@example.org", first_name="Olga")
    permissions.grant_role(other_trainer, Role.Name.TRAINER, site)
    member = make_user("mia@example.org")
    mine, theirs = enrol(session, alice), enrol(session, bob)
    now = timezone.now()
    sitting = make_sitting(session, now - timedelta(minutes=10), now + timedelta(minutes=20))
    sheet = Sheet.objects.get(sitting=sitting, start__lte=now, end__gt=now)
    return {
        "visitor": None,
        "member": member,
        "trainee": alice,
        "other_trainee": bob,
        "trainer": trainer,
        "other_trainer": other_trainer,
        "staff": sophie,
        "other_staff": carol,
        "admin": root,
        "sheet": sheet,
        "mine": mine,
        "theirs": theirs,
        "session": session,
    }


def status(client, user, url, method="get"):
    client.logout()
    if user is not None:
        client.force_login(user)
    return getattr(client, method)(url).status_code


SHEET = {
    "visitor": 302,
    "member": 404,
    "trainee": 200,
    "other_trainee": 200,
    "trainer": 200,
    "other_trainer": 404,
    "staff": 200,
    "other_staff": 404,
    "admin": 200,
}
SHEET_PDF = {**SHEET, "trainee": 403, "other_trainee": 403}
CLOSE_SESSION = {
    "visitor": 302,
    "member": 403,
    "trainee": 403,
    "other_trainee": 403,
    "trainer": 403,
    "other_trainer": 403,
    "staff": 200,
    "other_staff": 403,
    "admin": 200,
}
REGISTER = {**CLOSE_SESSION, "other_staff": 200}
PUBLIC = dict.fromkeys(PERSONAS, 200)


@pytest.mark.parametrize("persona", PERSONAS)
def test_sheet_pages(client, world, persona):
    sheet = world["sheet"]
    assert status(client, world[persona], reverse("learning:sheet", args=[sheet.pk])) == SHEET[persona]
    assert (
        status(client, world[persona], reverse("learning:sheet_pdf", args=[sheet.pk])) == SHEET_PDF[persona]
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_signing_someone_elses_line(client, world, persona):
    """Nobody signs alice's line but alice: through her own page, or on the team's screen with her password."""
    mark = next(m for m in attendance.marks_of(world["sheet"]) if m.enrolment_id == world["mine"].pk)
    client.logout()
    if world[persona] is not None:
        client.force_login(world[persona])
    client.post(
        reverse("learning:sheet_sign", args=[world["sheet"].pk]),
        {"own-method": "typed", "own-typed_name": "Alice Martin"},
    )
    mark.refresh_from_db()
    assert (mark.state == "present") == (persona == "trainee")


@pytest.mark.parametrize("persona", PERSONAS)
def test_session_and_register_pages(client, world, persona):
    assert (
        status(client, world[persona], reverse("learning:session_close", args=[world["session"].pk]))
        == CLOSE_SESSION[persona]
    )
    assert status(client, world[persona], reverse("learning:complaints")) == REGISTER[persona]
    assert status(client, world[persona], reverse("learning:complaint_new")) == 200
    assert (
        status(client, world[persona], reverse("learning:results", args=[world["session"].programme.slug]))
        == 200
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_certificates(client, world, persona, sophie):
    from cocotte.learning.models import Session, Sitting

    Sitting.objects.filter(session=world["session"]).update(
        start=timezone.now() - timedelta(days=2, hours=1), end=timezone.now() - timedelta(days=2)
    )
    certificates.close_session(
        world["session"], by=sophie, outcomes={world["mine"].pk: (True, ""), world["theirs"].pk: (True, "")}
    )
    assert Session.objects.get(pk=world["session"].pk).status == "completed"
    cert = Certificate.objects.get(enrolment=world["mine"], kind="delivery")
    expected = {"visitor": 302, "trainee": 200, "staff": 200, "admin": 200}.get(persona, 404)
    assert status(client, world[persona], reverse("learning:certificate_pdf", args=[cert.pk])) == expected
    survey = {"visitor": 302, "trainee": 200}.get(persona, 404)
    assert (
        status(client, world[persona], reverse("learning:survey", args=[world["mine"].pk, "chaud"])) == survey
    )
