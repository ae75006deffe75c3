"""Periodic jobs run once per period, however many schedulers are running."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection

from cocotte.bookings import tasks
from cocotte.bookings.models import Booking
from cocotte.core import scheduler
from cocotte.core.models import ScheduledRun
from tests.helpers import day_ahead, paris


@pytest.fixture
def job(request):
    """job(name, every, func): a periodic job registered for this test only."""
    saved = scheduler.jobs()

    def register(name, every, func):
        scheduler._jobs.clear()
        scheduler.register(name, every, func)

    request.addfinalizer(lambda: (scheduler._jobs.clear(), scheduler._jobs.update(saved)))
    return register


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_waking_together_run_a_job_once(job):
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)

    job("test.slow", timedelta(hours=1), slow)
    now = datetime(2026, 12, 2, 10, 17, tzinfo=UTC)
    barrier = threading.Barrier(4)

    def host():
        barrier.wait(10)
        scheduler.run_due(now)
        connection.close()

    threads = [threading.Thread(target=host) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert calls == [1]
    [run] = ScheduledRun.objects.all()
    assert run.period_start == datetime(2026, 12, 2, 10, tzinfo=UTC) and run.finished_at is not None


@pytest.mark.django_db
def test_a_job_runs_again_in_the_next_period_not_before(job):
    calls = []
    job("test.count", timedelta(minutes=15), lambda: calls.append(1))
    first = datetime(2026, 12, 2, 10, 1, tzinfo=UTC)
    assert scheduler.run_due(first) == ["test.count"]
    assert scheduler.run_due(first + timedelta(minutes=13)) == []
    assert scheduler.run_due(first + timedelta(minutes=14)) == ["test.count"]
    assert len(calls) == 2


@pytest.mark.django_db
def test_a_failed_run_is_recorded_and_the_others_still_run(job):
    def broken():
        raise OSError("SMTP down")

    job("test.broken", timedelta(hours=1), broken)
    scheduler.register("test.fine", timedelta(hours=1), lambda: None)
    assert sorted(scheduler.run_due()) == ["test.broken", "test.fine"]
    broken_run = ScheduledRun.objects.get(job="test.broken")
    assert "SMTP down" in broken_run.error and broken_run.finished_at is not None
    assert ScheduledRun.objects.get(job="test.fine").error == ""


def test_periods_shorter_than_a_minute_are_refused():
    with pytest.raises(ValueError):
        scheduler.register("test.too_often", timedelta(seconds=10), lambda: None)


def test_the_engine_registers_its_sweeps():
    assert {"bookings.deliver_events", "bookings.reminders"} <= set(scheduler.jobs())


@pytest.mark.django_db
def test_the_command_runs_one_pass_for_cron(job):
    calls = []
    job("test.cron", timedelta(hours=1), lambda: calls.append(1))
    call_command("scheduler", "--once", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert calls == [1]


@pytest.mark.django_db
def test_the_reminder_sweep_sends_what_is_due_once(alice, bob, room, book):
    """A reminder whose task was lost goes out with the sweep after 18:00 the day before, once; a booking
    made after that time gets none (its confirmation has just told the member)."""
    tomorrow = day_ahead(1)
    booked_early = book(alice, room, paris(tomorrow, 10), paris(tomorrow, 11))
    due = tasks.reminder_due(booked_early)
    Booking.objects.filter(pk=booked_early.pk).update(created_at=due - timedelta(hours=5))
    late = book(bob, room, paris(tomorrow, 14), paris(tomorrow, 15))
    Booking.objects.filter(pk=late.pk).update(created_at=due + timedelta(minutes=30))

    assert tasks.send_due_reminders(due - timedelta(minutes=1)) == 0
    assert tasks.send_due_reminders(due + timedelta(hours=1)) == 1
    assert tasks.send_due_reminders(due + timedelta(hours=2)) == 0
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
