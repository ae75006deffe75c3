"""`gunicorn bench.wsgi_tuned`: cocotte.wsgi with one change recommended in docs/PERFORMANCE.md applied in
memory, to measure what it gives before src/ has it (src/ is not touched).

The change: the engine's write lock takes the resource's row only. `resource_write_lock` ran
`Resource.objects.select_for_update().filter(pk=…).values_list("pk").first()`; `first()` orders by the
model's default ordering (site, position, name), which joins spaces_site, and a plain FOR UPDATE then locks the
site's row as well: every booking of a site waits for every other one in progress, whatever the resource.
`select_for_update(of=("self",))` and no join (`order_by()`) lock the one row that the protocol needs.
Commit 1031a51 made the same change in src/: since then this module serves the same code as cocotte.wsgi.
"""

import contextlib

from cocotte.wsgi import application  # sets Django up first: the imports below need the apps loaded

# isort: split
from django.db import transaction

from cocotte.bookings import services
from cocotte.spaces.models import Resource

# The engine's own transaction wrapper when it has one (it may translate database errors), else atomic().
_transaction = getattr(services, "write_transaction", transaction.atomic)


@contextlib.contextmanager
def resource_write_lock(resource):
    with _transaction():
        Resource.objects.select_for_update(of=("self",)).filter(pk=resource.pk).order_by().values_list(
            "pk"
        ).first()
        yield


services.resource_write_lock = resource_write_lock

__all__ = ["application"]
