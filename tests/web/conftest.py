"""Shared data for the web page tests: one booking, one series and one request of alice's, one token."""

from dataclasses import dataclass, field
from datetime import date, time
from urllib.parse import urlparse

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import resolve, reverse

from cocotte.accounts.models import ApiToken
from cocotte.billing import issuing, payments
from cocotte.billing.models import Bill, BillingRun, BillLine, Holding, Payment, Plan, Transmission
from cocotte.bookings import services
from cocotte.bookings.models import Block, Booking, BookingSeries
from cocotte.core.timeutils import at_local
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
    )


def redirect_target(response) -> str:
    """The URL name a redirect points to, e.g. "bookings:mine"."""
    return resolve(urlparse(response.url).path).view_name


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and urlparse(response.url).path == reverse("account_login")
