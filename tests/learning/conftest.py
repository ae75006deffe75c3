"""Trainings' fixtures: the business-creation cycle at Murat, a trainer, and a session of three sittings.

`trainer` (Théo) holds the trainer role at the Murat site; `sophie` is its staff (tests/conftest.py). The
session's sittings fall on days ahead (the Murat test site is open 08:00–20:00 every day): a full day
09:00–17:00 (two half-days, two sheets), then two mornings 09:00–12:30.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cocotte.accounts import permissions
from cocotte.accounts.models import Role
from cocotte.learning.models import Module, Programme, Qualification, Session
from tests.helpers import day_ahead, paris


@pytest.fixture
def trainer(make_user, site):
    user = make_user("theo@example.org", first_name="Théo", last_name="Formateur")
    permissions.grant_role(user, Role.Name.TRAINER, site)
    return user


@pytest.fixture
def qualification(db):
    return Qualification.objects.create(name="Découpe laser, niveau 1", slug="laser-1")


@pytest.fixture
def programme(site):
    programme = Programme.objects.create(
        site=site,
        title="Cycle création d’entreprise",
        slug="cycle-creation",
        objectives="Construire et valider son projet de création d’entreprise.",
        prerequisites="Avoir un projet de création ou de reprise.",
        audience="Porteurs de projet du territoire.",
        duration_hours=Decimal("15.00"),
        price_excl_vat=Decimal("600.00"),
        accessibility="Locaux de plain-pied ; adaptations possibles sur demande, deux semaines avant.",
        accessibility_contact="Sophie Chargée, 04 71 20 00 00",
        assessment_method="Présentation du projet devant un jury en fin de cycle.",
        provider_name="Hautes Terres Communauté",
        provider_declaration="84150000015",
        min_trainees=2,
        published=True,
    )
    Module.objects.create(programme=programme, position=1, title="Étude de marché", hours=Decimal("8"))
    Module.objects.create(programme=programme, position=2, title="Prévisionnel financier", hours=Decimal("7"))
    return programme


@pytest.fixture
def session(programme, site):
    """An open session of 3 places, enrolment open until the day before its first sitting (no sittings yet:
    `sittings` adds them through the services)."""
    return Session.objects.create(
        programme=programme,
        site=site,
        label="Printemps",
        status=Session.Status.OPEN,
        capacity=3,
        enrolment_opens=timezone.now() - timedelta(days=1),
        enrolment_closes=paris(day_ahead(9), 18),
    )


@pytest.fixture
def sitting_times():
    """(start, end) of the session's three sittings: a full day, then two mornings."""
    return [
        (paris(day_ahead(10), 9), paris(day_ahead(10), 17)),
        (paris(day_ahead(11), 9), paris(day_ahead(11), 12, 30)),
        (paris(day_ahead(12), 9), paris(day_ahead(12), 12, 30)),
    ]


# --- L1's fixtures: sittings through the services, applications, a second session -------------------------

from tests.billing.conftest import company, make_bill, private_operator, public_operator  # noqa: E402, F401


@pytest.fixture
def sittings(session, sophie, trainer, room, sitting_times):
    """The session's three sittings, added by sophie through the services (the room booked by the engine)."""
    from cocotte.learning import services

    return [
        services.add_sitting(session, by=sophie, start=start, end=end, trainer=trainer, room=room)
        for start, end in sitting_times
    ]


@pytest.fixture
def make_application():
    """apply(session, member, **fields): a member's application through the service."""
    from cocotte.learning import services

    def make(session, member, **fields):
        fields.setdefault("project", "Ouvrir une épicerie vrac à Murat.")
        fields.setdefault("prerequisites_met", True)
        return services.apply(session, trainee=member, application=services.Application(**fields))

    return make


@pytest.fixture
def make_member(make_user):
    """make_member(n): members trainee1@…, trainee2@…"""

    def make(n):
        return make_user(f"trainee{n}@example.org", first_name=f"Stagiaire{n}", last_name="Test")

    return make


@pytest.fixture
def autumn(programme, site):
    """Another open session of the same programme (for moves)."""
    return Session.objects.create(
        programme=programme,
        site=site,
        label="Automne",
        status=Session.Status.OPEN,
        capacity=2,
        enrolment_opens=timezone.now() - timedelta(days=1),
        enrolment_closes=paris(day_ahead(39), 18),
    )


# --- evidence (L2): sittings, sheets and accepted trainees made directly, as the services would ---------


@pytest.fixture
def make_sitting(trainer, room):
    """A sitting of the session with its sheets (halfdays.plan_sheets), no room booking: for evidence tests."""
    from cocotte.learning import halfdays
    from cocotte.learning.models import Sitting

    def make(session, start, end, *, by=None, module=None):
        sitting = Sitting.objects.create(
            session=session, start=start, end=end, trainer=by or trainer, room=room, module=module
        )
        halfdays.plan_sheets(sitting)
        return sitting

    return make


@pytest.fixture
def enrol():
    """An accepted enrolment of `user` in `session`."""
    from cocotte.learning.models import Enrolment

    def make(session, user, **fields):
        fields.setdefault("status", Enrolment.Status.ACCEPTED)
        fields.setdefault("project", "Ouvrir une librairie-café à Murat.")
        return Enrolment.objects.create(session=session, trainee=user, **fields)

    return make


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    """Tasks run at once when enqueued (the e-mails that follow a commit)."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "ENQUEUE_ON_COMMIT": False}
    }


@pytest.fixture
def now_sheet(session, make_sitting, enrol, alice, bob):
    """A sheet open right now (a short sitting around the present), alice and bob accepted."""
    from cocotte.learning.models import Sheet

    enrol(session, alice)
    enrol(session, bob)
    now = timezone.now()
    sitting = make_sitting(session, now - timedelta(minutes=10), now + timedelta(minutes=20))
    return Sheet.objects.get(sitting=sitting, start__lte=now, end__gt=now)
