"""A session's capacity is never exceeded, and a freed place is offered once, under real concurrency.

Threads, each with its own connection (as concurrent requests have), are released together by a barrier. The
count of held places is slowed down on purpose (`services.held` sleeps after counting) so that the window
between "a place is free" and "it is taken" is wide; the session row's lock (`SELECT … FOR UPDATE`; SQLite's
IMMEDIATE transactions) closes it. The control (PostgreSQL) shows the race does happen without the lock.
"""

import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from cocotte.learning import services
from cocotte.learning.models import Enrolment, Session
from tests.helpers import make_members

pytestmark = pytest.mark.django_db(transaction=True)
S = Enrolment.Status
RACE_WINDOW = 0.05
THREADS = 8


@pytest.fixture
def slow_count(monkeypatch):
    original = services.held

    def held(session):
        result = original(session)
        time.sleep(RACE_WINDOW)
        return result

    monkeypatch.setattr(services, "held", held)


@pytest.fixture
def without_lock(monkeypatch):
    """The control: the session read without its row lock."""

    def unlocked(session):
        pk = session if isinstance(session, int) else session.pk
        return Session.objects.select_related("programme", "site").get(pk=pk)

    monkeypatch.setattr(services, "_locked_session", unlocked)


def race(actions) -> list:
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = action()
        except BaseException as error:  # reported, never swallowed
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return outcomes


def _fill(session, sophie, members):
    """Applications of all members; the first `capacity` accepted."""
    applications = [
        services.apply(
            session, trainee=m, application=services.Application(project="Un projet", prerequisites_met=True)
        )
        for m in members
    ]
    return applications


def _accept_job(pk, staff_pk):
    def act():
        enrolment = Enrolment.objects.select_related("session").get(pk=pk)
        staff = get_user_model().objects.get(pk=staff_pk)
        return services.accept(enrolment, by=staff)

    return act


def _withdraw_job(pk):
    def act():
        enrolment = Enrolment.objects.select_related("session", "trainee").get(pk=pk)
        return services.withdraw(enrolment, by=enrolment.trainee)

    return act


def _held(session) -> int:
    return Enrolment.objects.filter(session=session, status__in=Enrolment.HOLDING).count()


def test_n_acceptances_for_the_last_place_give_it_to_exactly_one(session, sittings, sophie, slow_count):
    members = make_members(2 + THREADS, "last-place")
    applications = _fill(session, sophie, members)
    for application in applications[:2]:
        services.accept(application, by=sophie)  # 2 of 3 places taken

    outcomes = race([_accept_job(a.pk, sophie.pk) for a in applications[2:]])

    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    statuses = sorted(o.status for o in outcomes)
    assert statuses.count(S.ACCEPTED) == 1
    assert statuses.count(S.WAITLISTED) == THREADS - 1
    assert _held(session) == session.capacity


def test_two_withdrawals_at_once_promote_exactly_two(session, sittings, sophie, slow_count):
    members = make_members(3 + 5, "two-out")
    applications = _fill(session, sophie, members)
    placed = [services.accept(a, by=sophie) for a in applications[:3]]
    for application in applications[3:]:
        assert services.accept(application, by=sophie).status == S.WAITLISTED

    outcomes = race([_withdraw_job(placed[0].pk), _withdraw_job(placed[1].pk)])

    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    offered = list(
        Enrolment.objects.filter(session=session, status=S.OFFERED).order_by("waitlisted_at", "pk")
    )
    assert [e.pk for e in offered] == [a.pk for a in applications[3:5]]  # the two oldest, never three
    assert _held(session) == session.capacity


@pytest.mark.postgres
def test_control_without_the_lock_the_capacity_is_exceeded(
    session, sittings, sophie, slow_count, without_lock
):
    members = make_members(2 + THREADS, "control")
    applications = _fill(session, sophie, members)
    for application in applications[:2]:
        services.accept(application, by=sophie)

    race([_accept_job(a.pk, sophie.pk) for a in applications[2:]])

    assert _held(session) > session.capacity
