"""Enqueuing a task for a change, so that it runs only once that change has committed, and never for a rolled-back one.

Where the task backend writes its rows in the same database as the change (django-tasks' database backend,
the default), the task is enqueued inside the transaction: it commits, or rolls back, with the change, and a
crash between the commit and the enqueue cannot lose it. Otherwise (Redis, the immediate backend of tests) it
is enqueued on commit. Tasks take primary keys and plain JSON values, and re-read what was committed.
"""

import functools

from django.db import router, transaction


def shares_the_transaction(task_, model) -> bool:
    """Whether `task_`'s backend writes in the database where `model`'s rows are written."""
    from django_tasks_db import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    return isinstance(task_.get_backend(), DatabaseBackend) and router.db_for_write(
        DBTaskResult
    ) == router.db_for_write(model)


def enqueue_with(model, task_, *args) -> None:
    """Enqueue `task_(*args)` for a change of `model`'s rows in the current transaction (see above)."""
    if shares_the_transaction(task_, model):
        task_.enqueue(*args)
    else:
        transaction.on_commit(functools.partial(task_.enqueue, *args), robust=True)
