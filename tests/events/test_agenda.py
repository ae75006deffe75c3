"""The public agenda (list and month), its iCalendar and Atom feeds; queries constant in the data, pages
light."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import icalendar
import pytest
import recurring_ical_events
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cocotte.events import services
from cocotte.learning.models import Programme, Session
from tests.helpers import day_ahead, paris

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def programme(site):
    return Programme.objects.create(
        site=site,
        title="Cycle création d’entreprise",
        slug="cycle-creation",
        objectives="Construire son projet.",
        duration_hours=15,
        accessibility="De plain-pied.",
        accessibility_contact="Sophie",
        assessment_method="Jury.",
        provider_name="Hautes Terres Communauté",
        published=True,
    )


@pytest.fixture
def session(programme, site):
    """An open session; its dates are its sittings' (set here directly: the agenda only reads them)."""
    return Session.objects.create(
        programme=programme,
        site=site,
        label="Printemps",
        status=Session.Status.OPEN,
        capacity=8,
        enrolment_closes=paris(day_ahead(9), 18),
    )


@pytest.fixture
def calendar_of(make_event, session, make_user):
    def make(count: int, registrations: int = 0):
        events = []
        for i in range(count):
            day = day_ahead(3 + i % 20)
            events.append(
                make_event(title=f"Événement {i}", start=paris(day, 9), end=paris(day, 12), capacity=50)
            )
        for i in range(registrations):
            services.register(events[i % len(events)], member=make_user(f"r{count}-{i}@example.org"))
        Session.objects.filter(pk=session.pk).update(
            starts_at=paris(day_ahead(10), 9), ends_at=paris(day_ahead(12), 12, 30)
        )
        return events

    return make


def test_the_agenda_lists_public_events_and_open_training_sessions(
    client, calendar_of, make_event, programme
):
    calendar_of(2)
    make_event(title="Rencontre réservée", audience="members")
    make_event(title="Brouillon secret", publish=False)
    page = client.get(reverse("events:agenda"))
    assert "Événement 0" in page.text and "Événement 1" in page.text
    assert "Cycle création d’entreprise — Printemps" in page.text
    assert f'href="/formations/{programme.slug}/"' in page.text or programme.slug in page.text
    assert "Rencontre réservée" not in page.text and "Brouillon secret" not in page.text


def test_members_see_members_only_events_in_the_agenda(client, make_event, alice):
    make_event(title="Rencontre réservée", audience="members")
    client.force_login(alice)
    assert "Rencontre réservée" in client.get(reverse("events:agenda")).text


def test_the_month_view_is_a_table_with_the_days_items(client, calendar_of):
    events = calendar_of(1)
    local = timezone.localtime(events[0].start)
    page = client.get(reverse("events:month", args=[local.year, local.month]))
    assert page.status_code == 200
    assert "<table" in page.text and "<caption" in page.text and 'scope="col"' in page.text
    assert "Événement 0" in page.text
    assert client.get(reverse("events:month", args=[2026, 13])).status_code == 404


def test_the_ics_feed_parses_and_expands(client, calendar_of, make_event, sophie):
    events = calendar_of(3)
    make_event(title="Rencontre réservée", audience="members")
    services.cancel_event(events[2], by=sophie, reason="Neige")
    response = client.get(reverse("events:ics"))
    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    found = recurring_ical_events.of(calendar).between(timezone.now(), timezone.now() + timedelta(days=60))
    summaries = {str(e["SUMMARY"]): str(e["STATUS"]) for e in found}
    assert summaries == {"Événement 0": "CONFIRMED", "Événement 1": "CONFIRMED", "Événement 2": "CANCELLED"}


def test_the_atom_feed_parses(client, calendar_of):
    calendar_of(2)
    response = client.get(reverse("events:atom"))
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 — our own feed, in a test
    titles = sorted(entry.find(f"{ATOM}title").text for entry in root.iter(f"{ATOM}entry"))
    assert titles == ["Événement 0", "Événement 1"]


def _count(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries), len(response.content)


@pytest.mark.parametrize("who", ["visitor", "member"])
def test_queries_are_constant_and_pages_light(client, calendar_of, alice, who):
    if who == "member":
        client.force_login(alice)
    small = calendar_of(2, registrations=2)
    local = timezone.localtime(small[0].start)
    urls = [
        reverse("events:agenda"),
        reverse("events:month", args=[local.year, local.month]),
        reverse("events:list"),
        reverse("events:detail", args=[small[0].pk]),
        reverse("events:ics"),
        reverse("events:atom"),
    ]
    before = {url: _count(client, url) for url in urls}
    calendar_of(30, registrations=60)
    after = {url: _count(client, url) for url in urls}
    for url in urls:
        assert after[url][0] == before[url][0], (url, before[url], after[url])
        assert after[url][1] < 100_000, (url, after[url][1])


def test_the_month_shows_a_training_on_its_sittings_days_only(client, session, sophie):
    """A session runs for weeks but meets on a few days: the month's table lists those days, not every day
    between the first and the last (Session.starts_at … ends_at)."""
    from cocotte.learning.models import Sitting

    days = [day_ahead(10), day_ahead(17), day_ahead(24)]
    for day in days:
        Sitting.objects.create(session=session, start=paris(day, 9), end=paris(day, 12, 30), trainer=sophie)
    Session.objects.filter(pk=session.pk).update(starts_at=paris(days[0], 9), ends_at=paris(days[-1], 12, 30))
    first = days[0]
    page = client.get(reverse("events:month", args=[first.year, first.month]))
    in_month = [d for d in days if (d.year, d.month) == (first.year, first.month)]
    assert page.text.count("Cycle création d’entreprise — Printemps</a>") == len(in_month)
    assert f"{len(in_month)} rendez-vous ce mois-ci." in page.text
