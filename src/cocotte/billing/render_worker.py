"""The processes that render a billing run's PDFs (`runs.Renderers`): started afresh, not forked, so that no
database connection is shared with the process that started them; this module imports nothing of Django's
models until the process is set up (unpickling a task would otherwise load them too early)."""


def start(database_name: str) -> None:
    """Set the process up on the same database as its parent (the test database in tests)."""
    import django
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = database_name
    django.setup()


def render(bill_ids: list[int]) -> str:
    """A worker's share of PDFs; what went wrong, if anything (the parent raises it)."""
    from .runs import render_share

    return render_share(bill_ids)
