"""Rendering a billing run's PDFs, here or in the processes `runs.Renderers` starts: started afresh, not
forked, so that no database connection is shared with the process that started them. This module imports
nothing of Django's models until it renders (unpickling a task in a new process would load them too early)."""

import logging

logger = logging.getLogger(__name__)
CHUNK = 50  # bills read at once: two queries for fifty bills, not three a bill


def start(database_name: str) -> None:
    """Set a rendering process up on the same database as its parent (the test database in tests)."""
    import django
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = database_name
    django.setup()


def render(bill_ids: list[int]) -> str:
    """A worker's share of PDFs; what went wrong, if anything (the parent raises it)."""
    from django.db import connections

    try:
        render_here(bill_ids)
        return ""
    except Exception as error:
        logger.exception("PDF rendering failed")
        return f"{type(error).__name__}: {error}"
    finally:
        connections.close_all()


def render_here(bill_ids: list[int]) -> None:
    """Render and keep the issued bills' PDFs in this order, a chunk of bills (with their lines and the invoice
    a credit note corrects) read at a time."""
    from . import issuing
    from .models import Bill

    for start in range(0, len(bill_ids), CHUNK):
        chunk = bill_ids[start : start + CHUNK]
        bills = (
            Bill.objects.select_related("operator", "credited_bill").prefetch_related("lines").in_bulk(chunk)
        )
        for bill_id in chunk:
            if bill_id not in bills:
                raise Bill.DoesNotExist(f"Bill {bill_id} does not exist.")
            issuing.render_pdf(bills[bill_id])
