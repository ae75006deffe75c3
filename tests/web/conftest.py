"""Shared data for the web page tests: one booking, one series and one request of alice's, one token; her
bills (`bills`), her trainings and her events (`activities`), each made when a row first asks."""

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import resolve, reverse
from django.utils import timezone

from cocotte.accounts import permissions
from cocotte.accounts.models import ApiToken, Role
from cocotte.billing import issuing, payments
from cocotte.billing.models import Bill, BillingRun, BillLine, Holding, Payment, Plan, Transmission
from cocotte.bookings import services
from cocotte.bookings.models import Block, Booking, BookingSeries
from cocotte.core.timeutils import at_local
from cocotte.events import services as events
from cocotte.events.models import Event, Registration
from cocotte.learning import attendance, certificates, complaints, qualifications
from cocotte.learning import services as learning
from cocotte.learning.models import (
    Certificate,
    Complaint,
    Enrolment,
    Grant,
    Mark,
    Module,
    Programme,
    Qualification,
    Session,
    Sheet,
    Sitting,
)
from tests.billing.conftest import make_bill, private_operator  # noqa: F401 — billing's fixtures
from tests.helpers import PARIS, day_ahead, paris

PERSONAS = ("anonymous", "alice", "bob", "sophie", "carol", "root")


@dataclass
class World:
    site: object
    other_site: object
    room: object
    office: object
    alice: object
    bob: object
    sophie: object
    carol: object
    root: object
    day: date
    booking: Booking
    series: BookingSeries
    pending: Booking
    token: ApiToken
    fixtures: object = field(default=None, repr=False)  # pytest's request: what `bills` is made from

    def persona(self, name):
        return None if name == "anonymous" else getattr(self, name)

    @property
    def bills(self) -> "Bills":
        """alice's bills, made when a row first asks: an operator running Murat would price the bookings."""
        return self.fixtures.getfixturevalue("bills")

    @property
    def activities(self) -> "Activities":
        """alice's trainings and events, made when a row first asks."""
        return self.fixtures.getfixturevalue("activities")


@dataclass
class Bills:
    """alice's invoice of Murat's operator (private mode), issued and paid in full by `payment`, a transfer."""

    invoice: Bill
    payment: Payment
    draft: Bill  # bob's draft of the month's run, for the team's review pages
    subscription: Holding  # alice's monthly subscription, which she may cancel
    failed: Transmission  # the invoice's e-mail that gave up: the team sends it again


@pytest.fixture
def bills(alice, bob, private_operator, make_bill):  # noqa: F811 — billing's fixtures
    invoice = issuing.issue(make_bill(private_operator, alice, [("Journée de coworking", 1, "15.00", "20")]))
    payment = payments.record(private_operator, alice, "18.00", Payment.Method.TRANSFER, invoice.issue_date)
    run = BillingRun.objects.create(operator=private_operator, month=date(2027, 1, 1), status="drafted")
    draft = make_bill(private_operator, bob, [("Salle de réunion", 2, "7.50", "20")], run=run)
    plan = Plan.objects.create(
        operator=private_operator, kind=Plan.Kind.SUBSCRIPTION, name="Abonnement", price_excl_vat=100
    )
    subscription = Holding.objects.create(
        plan=plan, member=alice, starts_on=date(2026, 1, 1), price_excl_vat=100
    )
    failed = Transmission.objects.create(
        bill=invoice, channel=Transmission.Channel.EMAIL, status=Transmission.Status.FAILED, attempts=12
    )
    return Bills(invoice, payment, draft, subscription, failed)


@dataclass
class Activities:
    """alice's trainings and events at Murat, made through the services (Théo trains):

    - session: « Printemps », open, two mornings in the meeting room on days 34 and 35 (`sitting`, the first);
      alice accepted (`enrolment`: self-funded, her contract to sign), bob's application waits (`application`);
    - running: « En cours », alice accepted (`running_enrolment`), its sitting is now (`sheet`, open; alice's
      line on it: `mark`);
    - completed: « Hiver », its sittings past, closed by sophie: alice completed it (`completed_enrolment`,
      her certificate of delivery `certificate`);
    - complaint: alice's complaint about the programme; grant: a qualification root granted alice;
    - forum: a public event on day 21 in the meeting room, 10 places, alice registered (`registration`);
      members_only: an event for members, day 22 at the village hall; draft: an unpublished event, day 23.
    """

    programme: Programme
    session: Session
    sitting: Sitting
    enrolment: Enrolment
    application: Enrolment
    running: Session
    running_enrolment: Enrolment
    sheet: Sheet
    mark: Mark
    completed: Session
    completed_enrolment: Enrolment
    certificate: Certificate
    complaint: Complaint
    grant: Grant
    forum: Event
    registration: Registration
    members_only: Event
    draft: Event


@pytest.fixture
def activities(site, room, alice, bob, sophie, root, make_user):
    trainer = make_user("theo@example.org", first_name="Théo", last_name="Formateur")
    permissions.grant_role(trainer, Role.Name.TRAINER, site)
    programme = Programme.objects.create(
        site=site,
        title="Cycle création d’entreprise",
        slug="cycle-creation",
        objectives="Construire et valider son projet de création d’entreprise.",
        prerequisites="Avoir un projet de création ou de reprise.",
        audience="Porteurs de projet du territoire.",
        duration_hours=Decimal("7.00"),
        price_excl_vat=Decimal("280.00"),
        accessibility="Locaux de plain-pied.",
        assessment_method="Présentation du projet en fin de cycle.",
        published=True,
    )
    Module.objects.create(programme=programme, position=1, title="Étude de marché", hours=Decimal("7"))
    now = timezone.now()

    def session(label, closes):
        return Session.objects.create(
            programme=programme,
            site=site,
            label=label,
            status=Session.Status.OPEN,
            capacity=6,
            enrolment_opens=now - timedelta(days=1),
            enrolment_closes=closes,
        )

    def accepted(session, member):
        application = learning.Application(
            project="Ouvrir une épicerie vrac à Murat.", prerequisites_met=True
        )
        return learning.accept(learning.apply(session, trainee=member, application=application), by=sophie)

    def sitting(session, start, end, **place):
        return learning.add_sitting(session, by=sophie, start=start, end=end, trainer=trainer, **place)

    hall = {"outside_address": "Salle des fêtes, 15300 Murat"}
    spring = session("Printemps", paris(day_ahead(33), 18))
    enrolment = accepted(spring, alice)
    application = learning.apply(
        spring, trainee=bob, application=learning.Application(project="Un gîte.", prerequisites_met=True)
    )
    first = sitting(spring, paris(day_ahead(34), 9), paris(day_ahead(34), 12, 30), room=room)
    sitting(spring, paris(day_ahead(35), 9), paris(day_ahead(35), 12, 30), room=room)

    running = session("En cours", now + timedelta(hours=1))
    running_enrolment = accepted(running, alice)
    sitting(running, now - timedelta(minutes=10), now + timedelta(minutes=20), **hall)
    sheet = Sheet.objects.get(sitting__session=running, start__lte=now, end__gt=now)
    mark = next(m for m in attendance.marks_of(sheet) if m.enrolment_id == running_enrolment.pk)

    winter = session("Hiver", now + timedelta(hours=1))
    completed_enrolment = accepted(winter, alice)
    sitting(winter, now - timedelta(days=3, hours=3), now - timedelta(days=3), **hall)
    certificates.close_session(
        winter, by=sophie, outcomes={completed_enrolment.pk: (True, "Projet présenté")}
    )
    certificate = Certificate.objects.get(enrolment=completed_enrolment, kind=Certificate.Kind.DELIVERY)

    complaint = complaints.file_complaint(
        name="Alice Martin",
        email=alice.email,
        subject="Salle trop froide",
        description="Le chauffage ne marchait pas le premier matin.",
        programme=programme,
        author=alice,
    )
    qualification = Qualification.objects.create(name="Découpe laser, niveau 1", slug="laser-1")
    grant = qualifications.grant(qualification, alice, by=root, site=site)

    def event(title, day, *, publish=True, **fields):
        made = events.create_event(
            by=sophie,
            site=site,
            title=title,
            description="Rencontres et échanges.",
            start=paris(day_ahead(day), 18),
            end=paris(day_ahead(day), 20),
            capacity=10,
            registration_opens=now - timedelta(days=1),
            **fields,
        )
        return Event.objects.get(pk=(events.publish(made, by=sophie) if publish else made).pk)

    forum = event("Forum du télétravail", 21, rooms=[room])
    registration = events.register(forum, member=alice)
    members_only = event("Apéro des membres", 22, audience=Event.Audience.MEMBERS, **hall)
    draft = event("Portes ouvertes", 23, publish=False, **hall)
    return Activities(
        programme=programme,
        session=Session.objects.get(pk=spring.pk),
        sitting=first,
        enrolment=enrolment,
        application=application,
        running=running,
        running_enrolment=running_enrolment,
        sheet=sheet,
        mark=mark,
        completed=winter,
        completed_enrolment=completed_enrolment,
        certificate=certificate,
        complaint=complaint,
        grant=grant,
        forum=forum,
        registration=registration,
        members_only=members_only,
        draft=draft,
    )


@pytest.fixture
def world(site, other_site, room, office, alice, bob, sophie, carol, root, book, request):
    day = day_ahead(7)
    booking = book(alice, room, paris(day, 10), paris(day, 11))
    series = services.book_series(
        resource=room,
        member=alice,
        start=paris(day, 14),
        end=paris(day, 15),
        rrule="FREQ=WEEKLY;COUNT=3",
    ).series
    first = day_ahead(10)
    pending = book(
        alice,
        office,
        at_local(first, time(0), PARIS),
        at_local(first + relativedelta(months=1), time(0), PARIS),
    )
    assert pending.status == Booking.Status.PENDING
    token, _raw = ApiToken.issue(alice, name="agenda")
    return World(
        site,
        other_site,
        room,
        office,
        alice,
        bob,
        sophie,
        carol,
        root,
        day,
        booking,
        series,
        pending,
        token,
        fixtures=request,
    )


@pytest.fixture
def login(client):
    """The test client, logged in as this user (or left anonymous for None)."""

    def as_(user):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return as_


def state(world) -> tuple:
    """What a refused request must leave as it was."""
    alice = world.alice
    alice.profile.refresh_from_db()
    alice.refresh_from_db()
    return (
        tuple(Booking.objects.order_by("pk").values_list("pk", "status", "start", "end", "resource_id")),
        tuple(Block.objects.values_list("pk", flat=True)),
        tuple(ApiToken.objects.live().order_by("pk").values_list("pk", flat=True)),
        BookingSeries.objects.count(),
        tuple(Bill.objects.order_by("pk").values_list("pk", "status", "total_incl_vat")),
        tuple(BillLine.objects.order_by("pk").values_list("pk", "label")),
        tuple(BillingRun.objects.order_by("pk").values_list("pk", "status")),
        tuple(Holding.objects.order_by("pk").values_list("pk", "ends_on", "cancelled_at")),
        tuple(Transmission.objects.order_by("pk").values_list("pk", "status", "attempts")),
        alice.profile.calendar_key,
        alice.profile.phone,
        alice.first_name,
        activities_state(),
    )


def activities_state() -> tuple:
    """Trainings (sessions, sittings, applications, lines of sheets, complaints, qualifications) and events
    (their status, registrations): what a refused request leaves as it was."""
    return (
        tuple(Session.objects.order_by("pk").values_list("pk", "status", "capacity", "starts_at")),
        tuple(Sitting.objects.order_by("pk").values_list("pk", "start", "end", "room_id")),
        tuple(Enrolment.objects.order_by("pk").values_list("pk", "status", "contract_signed_at")),
        tuple(Mark.objects.order_by("pk").values_list("pk", "state")),
        tuple(Sheet.objects.order_by("pk").values_list("pk", "locked_at", "trainer_signed_at")),
        tuple(Complaint.objects.order_by("pk").values_list("pk", "status", "response")),
        tuple(Grant.objects.order_by("pk").values_list("pk", "status")),
        tuple(Event.objects.order_by("pk").values_list("pk", "status", "title", "start")),
        tuple(Registration.objects.order_by("pk").values_list("pk", "status", "checked_in_at")),
    )


def redirect_target(response) -> str:
    """The URL name a redirect points to, e.g. "bookings:mine"."""
    return resolve(urlparse(response.url).path).view_name


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and urlparse(response.url).path == reverse("account_login")
