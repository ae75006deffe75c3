"""Each member page, with its stylesheets and scripts, weighs under 100 KB with a well-filled site
(15 resources, 300 bookings, 20 events, 10 training sessions): pages stay usable on a rural connection."""

import pytest
from django.urls import reverse

from .data import DataSet
from .html import linked_assets
from .test_queries import LARGE

BUDGET = 100_000


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def large(site, make_resource, make_user, alice, sophie):
    data = DataSet(site, make_resource, make_user, alice, staff=sophie)
    data.grow(**LARGE)
    return data


def member_pages(data):
    day, site = data.day.isoformat(), data.site
    grid = reverse("bookings:grid", args=[site.slug])
    return {
        "home": reverse("home"),
        "site page": reverse("spaces:site", args=[site.slug]),
        "grid, day": f"{grid}?date={day}",
        "grid, week": f"{grid}?date={day}&vue=semaine",
        "book": reverse("bookings:book", args=[site.slug, data.resources[0].pk])
        + f"?debut={day}T09:00:00%2B01:00",
        "my bookings": reverse("bookings:mine"),
        "profile": reverse("accounts:profile"),
        "agenda": reverse("events:agenda"),
        "agenda, month": reverse("events:month", args=[data.day.year, data.day.month]),
        "event": reverse("events:detail", args=[data.events[0].pk]),
        "trainings": reverse("learning:catalogue"),
        "programme": reverse("learning:programme", args=[data.programme.slug]),
    }


PAGES = [
    "home",
    "site page",
    "grid, day",
    "grid, week",
    "book",
    "my bookings",
    "profile",
    "agenda",
    "agenda, month",
    "event",
    "trainings",
    "programme",
]


def weigh(client, url) -> tuple[int, dict[str, int]]:
    response = client.get(url)
    assert response.status_code == 200
    html = body(response)
    parts = {"html": len(html)}
    for asset in linked_assets(html.decode()):
        fetched = client.get(asset)
        assert fetched.status_code == 200, asset
        parts[asset] = len(body(fetched))
    return sum(parts.values()), parts


@pytest.mark.parametrize("page", PAGES)
def test_a_member_page_and_its_styles_weigh_under_100_kb(large, client, page):
    client.force_login(large.member)
    total, parts = weigh(client, member_pages(large)[page])
    assert len(parts) >= 2, "the page's stylesheet was not found"
    assert total < BUDGET, parts
