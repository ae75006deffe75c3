"""A site's calendar (hours, closures) is cached by each web process, and stays right when another process
changes it: the cache is keyed by the site's `calendar_version`, read with the site, which every saved or
deleted hour or closure changes in the database."""

import os
import subprocess
import sys
from datetime import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cocotte.spaces.models import OpeningHours, Site
from tests.api.conftest import ApiClient, instant
from tests.helpers import day_ahead, paris


def first_free(api, day, resource):
    response = api.get("/availability", site="murat", date=str(day))
    assert response.status_code == 200
    row = next(r for r in response.json()["resources"] if r["resource"] == resource.pk)
    return [(instant(s["start"]), instant(s["end"])) for s in row["free"]]


def database_url() -> str:
    """The URL of the test database, for another process."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user, host, port = settings["USER"], settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


def in_another_process(code: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "cocotte.settings"}
    subprocess.run(  # noqa: S603 — our own interpreter and code
        [sys.executable, "-m", "cocotte", "shell", "-c", code], env=env, check=True, capture_output=True
    )


@pytest.mark.django_db(transaction=True)
def test_opening_hours_changed_by_another_process_are_seen_by_the_next_availability(room):
    api, day = ApiClient(), day_ahead(7)
    assert first_free(api, day, room) == [(paris(day, 8), paris(day, 20))]  # cached by this process now

    in_another_process(
        "from datetime import time\n"
        "from cocotte.spaces.models import OpeningHours\n"
        f"hours = OpeningHours.objects.get(site__slug='murat', weekday={day.weekday()})\n"
        "hours.opens, hours.closes = time(10), time(12)\n"
        "hours.save()\n"
    )
    assert first_free(api, day, room) == [(paris(day, 10), paris(day, 12))]

    in_another_process(
        "from cocotte.spaces.models import Closure, Site\n"
        f"Closure.objects.create(site=Site.objects.get(slug='murat'), start_date='{day}', end_date='{day}',"
        " reason='Inventaire')\n"
    )
    assert first_free(api, day, room) == []

    in_another_process("from cocotte.spaces.models import Closure\nClosure.objects.all().delete()\n")
    assert first_free(api, day, room) == [(paris(day, 10), paris(day, 12))]


def test_the_calendar_is_read_once_then_served_from_the_cache_until_it_changes(site, room):
    api, day = ApiClient(), day_ahead(7)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            free = first_free(api, day, room)
        calendar = [
            q["sql"] for q in captured if "spaces_openinghours" in q["sql"] or "spaces_closure" in q["sql"]
        ]
        return free, len(calendar)

    assert queries() == ([(paris(day, 8), paris(day, 20))], 2)
    assert queries() == ([(paris(day, 8), paris(day, 20))], 0)

    hours = OpeningHours.objects.get(site=Site.objects.get(pk=site.pk), weekday=day.weekday())  # a copy
    hours.closes = time(18)
    hours.save()

    assert queries() == ([(paris(day, 8), paris(day, 18))], 2)
    assert queries() == ([(paris(day, 8), paris(day, 18))], 0)
