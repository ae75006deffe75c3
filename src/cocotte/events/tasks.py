"""E-mails about registrations, sent by the task worker once the change that asks for them commits.

Where the task backend writes in the same database as the registrations (django-tasks' database backend, the
default), the task is enqueued inside the transaction: it commits, or rolls back, with the change. Otherwise
it is enqueued on commit. Tasks take primary keys and re-read what was committed."""

import contextlib
import contextvars

from django_tasks import task

from cocotte.core import tasking

from . import emails
from .models import Registration


def _enqueue(task_, *args) -> None:
    tasking.enqueue_with(Registration, task_, *args)


_muted = contextvars.ContextVar("events_mail_muted", default=False)


@contextlib.contextmanager
def muted():
    """No e-mail for the changes made inside (demo data: invented people)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def after_commit(kind: str, registration_id: int, **extra) -> None:
    if _muted.get():
        return
    _enqueue(send_notice, kind, registration_id, extra)


def after_commit_event(kind: str, event_id: int, **extra) -> None:
    if _muted.get():
        return
    _enqueue(send_event_notice, kind, event_id, extra)


@task()
def send_notice(kind: str, registration_id: int, extra: dict | None = None) -> bool:
    return emails.send(kind, registration_id, **(extra or {}))


@task()
def send_event_notice(kind: str, event_id: int, extra: dict | None = None) -> int:
    """One message to each person still registered (confirmed, offered, waiting) to the event."""
    ids = Registration.objects.filter(
        event_id=event_id,
        status__in=[
            Registration.Status.CONFIRMED,
            Registration.Status.OFFERED,
            Registration.Status.WAITLISTED,
        ],
    ).values_list("pk", flat=True)
    return sum(bool(emails.send(kind, pk, **(extra or {}))) for pk in ids)
