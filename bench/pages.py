"""Phase: the member pages — the booking grid of a day and of a week (`bookings:grid`) and "my bookings" —
on the demo data of a seeded database, as a logged-in member (Alice, by her session cookie).

In a process bound to the database (`python -m bench.pages --out FILE`): the SQL each page runs and its
time through Django's test client (wall and CPU time of Django and of PostgreSQL per request, as
bench.availability measures the API); then each page through gunicorn (the settings' defaults, 2 workers),
one request at a time, the three pages in turns, with the member's session cookie.
"""

import argparse
from datetime import timedelta
from pathlib import Path

from bench import common

SITE = "cocotte-numerique"
MEMBER = "alice@cocotte.test"


def pages() -> dict[str, str]:
    """{name: path}: today's grid (or the next weekday's), this week's grid, my bookings."""
    from django.urls import reverse
    from django.utils import timezone

    today = timezone.localdate()
    day = today + timedelta(days=max(0, 7 - today.weekday()) if today.weekday() >= 5 else 0)
    monday = today - timedelta(days=today.weekday())
    grid = reverse("bookings:grid", args=[SITE])
    return {
        "grid_day": f"{grid}?date={day.isoformat()}",
        "grid_week": f"{grid}?date={monday.isoformat()}&vue=semaine",
        "my_bookings": reverse("bookings:mine"),
    }


def logged_in_client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(email=MEMBER))  # a session row, as a real login
    return client


def in_process(client, path: str, count: int, warmup: int) -> dict:
    def call():
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} → {response.status_code}")

    return {
        **common.in_process_costs(call, count, warmup),
        "queries": common.queries_of(call),
        "response_bytes": len(client.get(path).content),
    }


def measure(port: int, paths: dict[str, str], cookies: dict, *, requests: int, warmup: int) -> dict:
    samples = {name: [] for name in paths}
    for number in range(warmup + requests):
        for name, path in paths.items():
            response = common.request(port, "GET", path, cookies=cookies)
            if response.status != 200:
                raise RuntimeError(f"GET {path} → {response.status}: {response.body[:200]!r}")
            if number >= warmup:
                samples[name].append(response.seconds * 1000)
    return {name: common.summary(values) for name, values in samples.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args(argv)

    common.setup_django()
    from django.conf import settings

    from cocotte.bookings.models import Booking

    paths = pages()
    client = logged_in_client()
    cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
    result = {
        "site": SITE,
        "member": MEMBER,
        "paths": paths,
        "bookings_in_database": Booking.objects.count(),
        "member_bookings": Booking.objects.filter(member__email=MEMBER).count(),
        "default_server": common.default_server(),
        "in_process": {
            name: in_process(client, path, args.requests, args.warmup) for name, path in paths.items()
        },
    }
    with common.gunicorn(args.port, workers=2, log_name="gunicorn-pages") as port:
        result["http"] = measure(port, paths, cookies, requests=args.requests, warmup=args.warmup)
    common.write_json(args.out, result)


if __name__ == "__main__":
    main()
