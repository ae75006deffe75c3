"""Small helpers for tests: days ahead and wall-clock instants in Paris."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from cocotte.core.timeutils import at_local, zone

PARIS = zone("Europe/Paris")


def day_ahead(days: int = 7) -> date:
    return timezone.localdate() + timedelta(days=days)


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    """The aware instant of a wall-clock time in Paris on a day, in UTC."""
    return at_local(day, time(hour, minute), PARIS)


def make_members(count: int, prefix: str) -> list:
    """`count` members at once (for the races): <prefix>-<i>@example.org, without a usable password."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    User = get_user_model()
    User.objects.bulk_create(
        User(email=f"{prefix}-{i}@example.org", password=make_password(None)) for i in range(count)
    )
    return list(User.objects.filter(email__startswith=f"{prefix}-").order_by("email"))
