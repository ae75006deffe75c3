"""The capacity is never exceeded under concurrent registrations, on SQLite and on PostgreSQL; one freed
place makes one promotion, also when two cancellations arrive at once.

Threads with their own connections (as concurrent requests have) are released together by a barrier; the
count of places taken is slowed down on purpose after it is read (`_held` sleeps), so that the window between
"a place is left" and "the registration is written" is wide. The control (PostgreSQL: SQLite's IMMEDIATE
transactions serialise writers whatever the code does) shows the race happens when the event's lock is off.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cocotte.events import errors, services
from cocotte.events.models import Event, Registration
from tests.helpers import day_ahead, make_members, paris

THREADS = 12
RACE_WINDOW = 0.05

pytestmark = pytest.mark.django_db(transaction=True)

Status = Registration.Status


@pytest.fixture
def slow_count(monkeypatch):
    original = services._held

    def held(event):
        result = original(event)
        time.sleep(RACE_WINDOW)
        return result

    monkeypatch.setattr(services, "_held", held)


@pytest.fixture
def no_mail(monkeypatch):
    monkeypatch.setattr(services, "_notify", lambda *a, **k: None)


def new_event(site, staff, *, capacity, waiting_list) -> Event:
    event = services.create_event(
        by=staff,
        site=site,
        title="Forum",
        description="…",
        outside_address="Salle des fêtes",
        start=paris(day_ahead(10), 9),
        end=paris(day_ahead(10), 17),
        capacity=capacity,
        waiting_list=waiting_list,
        registration_opens=timezone.now() - timedelta(days=1),
    )
    return services.publish(event, by=staff)


@pytest.fixture
def staff(make_user, site):
    return make_user("staff@example.org", staff_of=[site])


def race(functions) -> list:
    barrier = threading.Barrier(len(functions))
    outcomes: list = [None] * len(functions)

    def run(index, function):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = function()
        except BaseException as error:  # reported to the test, never swallowed
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return outcomes


def registering(event_id, member):
    return lambda: services.register(Event.objects.get(pk=event_id), member=member)


@pytest.mark.parametrize("waiting_list", [False, True])
def test_n_people_for_the_last_place_one_gets_it(site, staff, slow_count, no_mail, waiting_list):
    event = new_event(site, staff, capacity=1, waiting_list=waiting_list)
    members = make_members(THREADS, "last")
    outcomes = race([registering(event.pk, m) for m in members])
    unexpected = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, errors.Full)]
    assert not unexpected, unexpected
    assert Registration.objects.filter(event=event, status=Status.CONFIRMED).count() == 1
    refused = sum(isinstance(o, errors.Full) for o in outcomes)
    waiting = Registration.objects.filter(event=event, status=Status.WAITLISTED).count()
    if waiting_list:
        assert (waiting, refused) == (THREADS - 1, 0)
    else:
        assert (waiting, refused) == (0, THREADS - 1)


def test_two_cancellations_at_once_make_exactly_two_offers(site, staff, slow_count, no_mail):
    event = new_event(site, staff, capacity=2, waiting_list=True)
    members = make_members(6, "cancel")
    regs = [services.register(event, member=m) for m in members]
    outcomes = race(
        [
            lambda r=r, m=m: services.cancel_registration(r, by=m)
            for r, m in zip(regs[:2], members[:2], strict=True)
        ]
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    statuses = dict(Registration.objects.filter(event=event).values_list("pk", "status"))
    assert [statuses[r.pk] for r in regs] == [Status.CANCELLED] * 2 + [Status.OFFERED] * 2 + [
        Status.WAITLISTED
    ] * 2


@pytest.mark.postgres
def test_control_without_the_events_lock_the_capacity_is_exceeded(
    site, staff, slow_count, no_mail, monkeypatch
):
    """The same race with `_lock` reading the row without FOR UPDATE: more than one gets the last place."""
    monkeypatch.setattr(services, "_lock", lambda pk: Event.objects.select_related("site").get(pk=pk))
    event = new_event(site, staff, capacity=1, waiting_list=False)
    members = make_members(THREADS, "control")
    race([registering(event.pk, m) for m in members])
    assert Registration.objects.filter(event=event, status=Status.CONFIRMED).count() > 1
