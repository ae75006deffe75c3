"""Each page runs as many SQL queries with 2 resources and 5 bookings as with 15 resources and 300
bookings (past ones too), and with one event and one training session as with 20 events (their registrations)
and 10 sessions (their sittings and applications): no query per resource, booking, person, token, event or
session."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cocotte.bookings.models import Booking

from .data import DataSet

SMALL = {"resources": 2, "bookings": 5, "people": 2, "tokens": 1, "events": 1, "sessions": 1}
LARGE = {"resources": 15, "bookings": 300, "people": 25, "tokens": 12, "events": 20, "sessions": 10}


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
        "agenda": ("member", reverse("events:agenda")),
        "agenda, anonymous": (None, reverse("events:agenda")),
        "agenda, month": ("member", reverse("events:month", args=[data.day.year, data.day.month])),
        "event": ("member", reverse("events:detail", args=[data.events[0].pk])),
        "event, anonymous": (None, reverse("events:detail", args=[data.events[0].pk])),
        "trainings": ("member", reverse("learning:catalogue")),
        "trainings, anonymous": (None, reverse("learning:catalogue")),
        "programme": ("member", reverse("learning:programme", args=[data.programme.slug])),
    }


# Texts the large data's pages show (True) or not (False): the 20th event is for members, the 19th public.
SHOWN = {
    "agenda": {"Rencontre 19": True, "Rencontre 18": True, "Session 9": True},
    "agenda, anonymous": {"Rencontre 19": False, "Rencontre 18": True, "Session 9": True},
    "trainings": {"Session 9": True},
    "trainings, anonymous": {"Session 9": True},
    "programme": {"Session 9": True},
}


@pytest.fixture
def dataset(site, make_resource, make_user, alice, sophie):
    return DataSet(site, make_resource, make_user, alice, staff=sophie)


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
    "agenda",
    "agenda, anonymous",
    "agenda, month",
    "event",
    "event, anonymous",
    "trainings",
    "trainings, anonymous",
    "programme",
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
    "agenda": 5,  # the session, the user, the roles; events with their places held; sessions
    "agenda, anonymous": 2,
    "agenda, month": 5,
    "event": 6,
    "event, anonymous": 2,
    "trainings": 4,  # the session, the user, the roles; sessions with their places held
    "trainings, anonymous": 1,
    "programme": 6,
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
    if page in SHOWN:  # the page does show the data it grew (the members-only events to members only)
        html = client.get(url).content.decode()
        assert all((text in html) == shown for text, shown in SHOWN[page].items()), page
    assert large == small, f"{small} queries with little data, {large} with more:\n" + "\n".join(large_sql)
    assert large <= MOST_QUERIES[page], f"{large} queries, {MOST_QUERIES[page]} at most:\n" + "\n".join(
        large_sql
    )
