"""The API test kit: a JSON client that speaks as a persona, and a small world of bookings to act on.

`api.get("/me", as_=alice)` calls /api/v1/me with a Bearer token of alice's; `as_=None` is an anonymous
visitor. The client enforces CSRF like a browser-less client meets it in production.
"""

import copy
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from cocotte.accounts import permissions
from cocotte.accounts.models import ApiToken, Role
from cocotte.billing import issuing, payments
from cocotte.billing.models import Bill, Payment
from cocotte.bookings import services
from cocotte.bookings.models import Block, Booking, BookingSeries
from cocotte.events import services as events
from cocotte.events.models import Event, Registration
from cocotte.learning import services as learning
from cocotte.learning.models import Enrolment, Module, Programme, Session
from tests.billing.conftest import company, make_bill, private_operator, public_operator  # noqa: F401 — billing's
from tests.helpers import day_ahead, paris

API = "/api/v1"


class ApiClient:
    def __init__(self):
        self.client = Client(enforce_csrf_checks=True)
        self._tokens: dict[int, str] = {}

    def token(self, user) -> str:
        if user.pk not in self._tokens:
            self._tokens[user.pk] = ApiToken.issue(user, name="tests")[1]
        return self._tokens[user.pk]

    def headers(self, user) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"} if user is not None else {}

    def call(self, method: str, path: str, body=None, *, as_=None, query=None):
        kwargs = {}
        if body is not None:
            kwargs = {"data": json.dumps(body), "content_type": "application/json"}
        return self.client.generic(
            method, API + path, headers=self.headers(as_), query_params=query, **kwargs
        )

    def get(self, path: str, *, as_=None, **query):
        return self.call("GET", path, as_=as_, query=query or None)

    def post(self, path: str, body=None, *, as_=None):
        return self.call("POST", path, body, as_=as_)

    def patch(self, path: str, body=None, *, as_=None):
        return self.call("PATCH", path, body, as_=as_)

    def delete(self, path: str, *, as_=None):
        return self.call("DELETE", path, as_=as_)


@pytest.fixture
def api(db):
    return ApiClient()


def slot(resource, start: datetime, end: datetime, **extra) -> dict:
    """The JSON body of a booking request."""
    return {"resource": resource.pk, "start": start.isoformat(), "end": end.isoformat(), **extra}


def instant(value: str) -> datetime:
    """An instant as the API writes it ("…Z" or with an offset)."""
    return datetime.fromisoformat(value)


def bookings_state():
    """Everything a refused request must leave as it was."""
    return (
        sorted(Booking.objects.values_list("id", "resource_id", "start", "end", "status", "staff_reason")),
        sorted(BookingSeries.objects.values_list("id", flat=True)),
        sorted(Block.objects.values_list("id", "resource_id", "start", "end")),
    )


def activities_state():
    """Applications to trainings and registrations to events: what a refused request must leave as it was."""
    return (
        sorted(Enrolment.objects.values_list("id", "session_id", "trainee_id", "status")),
        sorted(Registration.objects.values_list("id", "event_id", "member_id", "status")),
    )


@dataclass
class World:
    """What the personas act on, at the Murat site (open every day 08:00–20:00).

    - booking: alice's confirmed booking of the meeting room, in a week, 10:00–11:00;
    - request: alice's pending request for the workshop (which needs the team's approval), same time;
    - series: alice's weekly series of the meeting room, 14:00–15:00, three weeks from day 8;
    - block: maintenance of the meeting room on day 9, 08:00–12:00, set by sophie.
    """

    booking: Booking
    request: Booking
    series: BookingSeries
    block: Block
    room: object
    workshop: object

    @property
    def day(self):
        return day_ahead(7)


@pytest.fixture
def workshop(site, make_resource):
    return make_resource(site, "atelier", requires_approval=True)


@pytest.fixture
def world(alice, bob, sophie, carol, root, room, workshop, book):
    day = day_ahead(7)
    booking = book(alice, room, paris(day, 10), paris(day, 11))
    request = book(alice, workshop, paris(day, 10), paris(day, 11))
    assert request.status == Booking.Status.PENDING
    series = services.book_series(
        resource=room,
        member=alice,
        start=paris(day + timedelta(1), 14),
        end=paris(day + timedelta(1), 15),
        rrule="FREQ=WEEKLY;COUNT=3",
    ).series
    block, _ = services.block(
        room,
        by=sophie,
        start=paris(day + timedelta(2), 8),
        end=paris(day + timedelta(2), 12),
        reason="Peinture",
    )
    return World(booking=booking, request=request, series=series, block=block, room=room, workshop=workshop)


@dataclass
class Invoices:
    """alice's bills, for the invoices' calls:

    - invoice: issued ten days ago by Murat's operator (private mode), 2 days at 15 € HT: 36 € incl. VAT, 10 € paid
      by transfer (`payment`) and 18 € credited (`credit_note`, issued five days ago): 8 € left;
    - draft: a draft of Murat's operator (its staff see it, alice does not);
    - statement: issued three days ago by Allanche's operator (public mode): no number, a reference.
    """

    invoice: Bill
    credit_note: Bill
    draft: Bill
    statement: Bill
    payment: Payment


@pytest.fixture
def invoices(alice, private_operator, public_operator, make_bill):  # noqa: F811 — billing's fixtures
    today = timezone.localdate()
    line = ("Journée de coworking", 2, "15.00", "20")
    invoice = issuing.issue(make_bill(private_operator, alice, [line]), on=today - timedelta(days=10))
    payment = payments.record(
        private_operator, alice, "10.00", Payment.Method.TRANSFER, today, bills=[invoice]
    )
    one_day = copy.copy(invoice.lines.get())  # what the credit note takes back: one day of the two
    one_day.quantity, one_day.amount_excl_vat = Decimal("1"), Decimal("15.00")
    credit_note = issuing.issue(
        issuing.credit_note_for(invoice, lines=[one_day]), on=today - timedelta(days=5)
    )
    draft = make_bill(private_operator, alice, [line])
    statement = issuing.issue(
        make_bill(public_operator, alice, [line], kind=Bill.Kind.STATEMENT), on=today - timedelta(days=3)
    )
    return Invoices(invoice, credit_note, draft, statement, payment)


@dataclass
class Activities:
    """A training session and an event at Murat, for the trainings' and events' calls:

    - session: an open session (3 places, enrolment open until day 33) of the published programme « Cycle
      création d’entreprise », two mornings in the meeting room on days 34 and 35, added by sophie through the
      services (the engine holds the room for them), Théo training; alice has applied to it;
    - event: a members-only meeting on day 21 at the village hall, 10 places, published by sophie; alice holds a
      place (confirmed);
    - public_event: a public workshop on day 22 in the meeting room, 5 places, with a waiting list.
    """

    session: Session
    event: Event
    public_event: Event


@pytest.fixture
def activities(site, room, sophie, alice, make_user):
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
    session = Session.objects.create(
        programme=programme,
        site=site,
        label="Printemps",
        status=Session.Status.OPEN,
        capacity=3,
        enrolment_opens=timezone.now() - timedelta(days=1),
        enrolment_closes=paris(day_ahead(33), 18),
    )
    for day in (34, 35):
        learning.add_sitting(
            session,
            by=sophie,
            start=paris(day_ahead(day), 9),
            end=paris(day_ahead(day), 12, 30),
            trainer=trainer,
            room=room,
        )
    learning.apply(
        session,
        trainee=alice,
        application=learning.Application(project="Ouvrir une épicerie vrac à Murat.", prerequisites_met=True),
    )

    def event(title, day, **fields):
        created = events.create_event(
            by=sophie,
            site=site,
            title=title,
            description="Rencontres et échanges entre membres.",
            start=paris(day_ahead(day), 18),
            end=paris(day_ahead(day), 20),
            registration_opens=timezone.now() - timedelta(days=1),
            **fields,
        )
        return Event.objects.get(pk=events.publish(created, by=sophie).pk)

    members_only = event(
        "Apéro des membres",
        21,
        audience=Event.Audience.MEMBERS,
        capacity=10,
        outside_address="Salle des fêtes, 15300 Murat",
    )
    events.register(members_only, member=alice)
    public = event("Atelier impression 3D", 22, rooms=[room], capacity=5, waiting_list=True)
    return Activities(session=Session.objects.get(pk=session.pk), event=members_only, public_event=public)
