"""Each page runs as many SQL queries with 2 resources and 5 bookings as with 15 resources and 300
bookings (past ones too): no query per resource, booking, person or token."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cocotte.bookings.models import Booking

from .data import DataSet

SMALL = {"resources": 2, "bookings": 5, "people": 2, "tokens": 1}
LARGE = {"resources": 15, "bookings": 300, "people": 25, "tokens": 12}


def pages(data):
    site, day = data.site, data.day.isoformat()
    resource = data.resources[0]
    start = f"{day}T09:00:00+01:00"
    return {
        # name: (who, URL)
        "home": ("member", reverse("home")),
        "home, anonymous": (None, reverse("home")),
        "site page": ("member", reverse("spaces:site", args=[site.slug])),
        "site page, anonymous": (None, reverse("spaces:site", args=[site.slug])),
        "grid, day": ("member", reverse("bookings:grid", args=[site.slug]) + f"?date={day}"),
        "grid, week": ("member", reverse("bookings:grid", args=[site.slug]) + f"?date={day}&vue=semaine"),
        "grid, filtered": (
            "member",
            reverse("bookings:grid", args=[site.slug])
            + f"?date={day}&type=meeting_room&places=2&equipement=ecran",
        ),
        "grid, anonymous": (None, reverse("bookings:grid", args=[site.slug]) + f"?date={day}"),
        "book": ("member", reverse("bookings:book", args=[site.slug, resource.pk]) + f"?debut={start}"),
        "my bookings": ("member", reverse("bookings:mine")),
        "my bookings, page 2": ("member", reverse("bookings:mine") + "?page=2"),
        "profile": ("member", reverse("accounts:profile")),
        "planner, day": ("staff", reverse("planner:site", args=[site.slug]) + f"?date={day}"),
        "planner, week": ("staff", reverse("planner:site", args=[site.slug]) + f"?date={day}&vue=semaine"),
    }


@pytest.fixture
def dataset(site, make_resource, make_user, alice):
    return DataSet(site, make_resource, make_user, alice)


def count_queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(context.captured_queries), [q["sql"] for q in context.captured_queries]


PAGES = [
    "home",
    "home, anonymous",
    "site page",
    "site page, anonymous",
    "grid, day",
    "grid, week",
    "grid, filtered",
    "grid, anonymous",
    "book",
    "my bookings",
    "my bookings, page 2",
    "profile",
    "planner, day",
    "planner, week",
]


# At most, whatever the data (a site's hours and closures come from the process's cache of calendars, see
# spaces.opening: the grid and booking pages ran 2 more before).
MOST_QUERIES = {
    "home": 7,  # sites, their resources, hours and closures (prefetched), the session, the user, the roles
    "home, anonymous": 4,
    "site page": 8,
    "site page, anonymous": 5,
    "grid, day": 9,
    "grid, week": 9,
    "grid, filtered": 10,
    "grid, anonymous": 6,
    "book": 5,
    "my bookings": 6,
    "my bookings, page 2": 6,
    "profile": 6,
    "planner, day": 13,
    "planner, week": 13,
}


@pytest.mark.parametrize("page", PAGES)
def test_a_page_runs_the_same_queries_whatever_the_data(dataset, client, sophie, page):
    dataset.grow(**SMALL)
    who, url = pages(dataset)[page]
    user = {"member": dataset.member, "staff": sophie, None: None}[who]
    if user:
        client.force_login(user)
    client.get(url)  # warm the per-process caches (content types, allauth…)
    small, _sql = count_queries(client, url)
    dataset.grow(**LARGE)
    assert Booking.objects.filter(resource__site=dataset.site).count() == LARGE["bookings"]
    large, large_sql = count_queries(client, url)
    assert large == small, f"{small} queries with little data, {large} with more:\n" + "\n".join(large_sql)
    assert large <= MOST_QUERIES[page], f"{large} queries, {MOST_QUERIES[page]} at most:\n" + "\n".join(
        large_sql
    )
