"""Periodic jobs: one small runner, each job run once per period even when started on several hosts.

Apps register their jobs in `AppConfig.ready()` with `register(name, every, func)`; `cocotte scheduler`
(started by `make demo` beside the task worker; one per host in production, or several: it is safe) wakes
up every few seconds and runs what is due. A run is claimed by inserting a `ScheduledRun` row for the job
and its period, which a unique constraint allows once: of two schedulers waking at the same time, one
runs the job, the other skips it. Periods are aligned on the epoch in UTC (a job every hour runs once in
each hour, whenever the schedulers started). A failed run is recorded with its error and retried in the
next period; a job must therefore be safe to run again (the reminders' and the outbox's sweeps are).
"""

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import ScheduledRun

logger = logging.getLogger(__name__)

EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday: weekly periods start on Mondays


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    func: Callable[[], object]

    def period_start(self, now: datetime) -> datetime:
        return EPOCH + ((now - EPOCH) // self.every) * self.every


_jobs: dict[str, Job] = {}


def register(name: str, every: timedelta, func: Callable[[], object]) -> None:
    """Run `func()` once in every period of length `every` (registering a name again replaces it)."""
    if every < timedelta(minutes=1):
        raise ValueError("Periodic jobs run at most once a minute.")
    _jobs[name] = Job(name, every, func)


def jobs() -> dict[str, Job]:
    return dict(_jobs)


def run_due(now: datetime | None = None) -> list[str]:
    """Run every job whose current period has no run yet; returns the names of the jobs this call ran."""
    now = now or timezone.now()
    ran = []
    for job in _jobs.values():
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(job=job.name, period_start=job.period_start(now))
        except IntegrityError:
            continue  # run in this period already, here or by another scheduler
        error = ""
        try:
            job.func()
        except Exception:
            logger.exception("Periodic job %s failed; it runs again next period.", job.name)
            error = traceback.format_exc(limit=5)
        ScheduledRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), error=error)
        ran.append(job.name)
    return ran
