"""The billing run's work for the task worker, so that a staff page never waits for a month of bills."""

from django.contrib.auth import get_user_model
from django_tasks import task

from . import runs
from .models import BillingRun


def _person(user_id: int | None):
    return get_user_model().objects.filter(pk=user_id).first() if user_id else None


@task()
def prepare_run(run_id: int, by_id: int | None = None) -> int:
    run = BillingRun.objects.select_related("operator").get(pk=run_id)
    return runs.prepare(run.operator, run.month, by=_person(by_id)).bills.count()


@task()
def issue_run(run_id: int, by_id: int | None = None, bill_ids: list[int] | None = None) -> int:
    run = BillingRun.objects.select_related("operator").get(pk=run_id)
    return len(runs.issue_run(run, by=_person(by_id), bills=bill_ids))
