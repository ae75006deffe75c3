"""What one booking costs the database: the queries of POST /bookings, pinned so that a change which adds a
round trip to the hottest write of the platform is seen (docs/PERFORMANCE.md measures their time)."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from cocotte.bookings.models import Booking, BookingEvent
from tests.helpers import day_ahead, paris

from .conftest import slot


def _post(api, member, body):
    with CaptureQueriesContext(connection) as queries:
        response = api.post("/bookings", body, as_=member)
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    return response, statements


def test_a_booking_is_created_in_eight_statements_its_price_and_delivery_task_included(api, alice, room):
    day = day_ahead(7)
    # The steady state: the token's use is recorded once a minute, the site's calendar is cached.
    api.post("/bookings", slot(room, paris(day, 8), paris(day, 9)), as_=alice)

    response, statements = _post(api, alice, slot(room, paris(day, 9), paris(day, 10)))

    assert response.status_code == 201
    # token, resource under its lock, what is busy, the booking, the audit entry, billing's look for the
    # site's operator (none here: nothing more is asked), the event, its task
    assert len(statements) == 8, "\n".join(statements)
    booking = Booking.objects.get(pk=response.json()["id"])
    event = BookingEvent.objects.latest("pk")
    assert event.bookings == [booking.pk]
    # Enqueued in the same transaction as the event: one commit, and no event without its task.
    assert DBTaskResult.objects.filter(args_kwargs__args=[event.pk]).count() == 1


def test_a_conflict_is_refused_in_three_statements(api, alice, bob, room):
    day = day_ahead(7)
    api.post("/bookings", slot(room, paris(day, 9), paris(day, 10)), as_=alice)
    api.get("/me", as_=bob)

    response, statements = _post(api, bob, slot(room, paris(day, 9), paris(day, 9) + timedelta(minutes=30)))

    assert response.status_code == 409
    assert len(statements) == 3, "\n".join(statements)  # token, resource under its lock, what is busy


def test_the_team_s_roles_are_read_only_when_a_rule_depends_on_them(api, alice, room):
    far = day_ahead(room.max_advance_days + 2)

    response, statements = _post(api, alice, slot(room, paris(far, 9), paris(far, 10)))

    assert response.status_code == 422
    assert response.json()["code"] == "too_far_ahead"
    assert any("accounts_role" in sql for sql in statements)


def test_a_priced_booking_costs_four_statements_more_its_charge_included(api, alice, room):
    from decimal import Decimal

    from cocotte.billing.models import Charge, Operator, PriceLine, SiteOperator

    operator = Operator.objects.create(
        name="Télécentre",
        legal_name="Association Télécentre",
        mode=Operator.Mode.PRIVATE,
        street="Place",
        postal_code="15300",
        city="Murat",
        siret="81234567600017",
    )
    SiteOperator.objects.create(site=room.site, operator=operator)
    PriceLine.objects.create(
        operator=operator, kind=room.kind, unit=room.unit, amount_excl_vat=Decimal("7.50"), label="Salle"
    )
    day = day_ahead(7)
    api.post("/bookings", slot(room, paris(day, 8), paris(day, 9)), as_=alice)

    response, statements = _post(api, alice, slot(room, paris(day, 9), paris(day, 10)))

    assert response.status_code == 201
    assert response.json()["price"]["amount_excl_vat"] == "15.00"
    # the eight above, then: the member's profile (category, organisation), their holdings under lock,
    # the price lines, the charge — priced inside the transaction, never again after it
    assert len(statements) == 12, "\n".join(statements)
    assert Charge.objects.filter(source_id=response.json()["id"]).count() == 1
