"""The events' demo: the forum today (about sixty registrations, some arrived), its next edition in rooms
booked through the engine, a members-only meetup and a priced workshop with people waiting; seeding twice
changes nothing."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from cocotte.bookings.models import Booking
from cocotte.events.models import Event, Registration


@pytest.fixture
def demo(db, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    call_command("seed_demo", stdout=StringIO())


def test_the_demo_holds_the_forum_under_way(demo):
    year = timezone.localdate().year
    forum = Event.objects.get(title=f"Forum du télétravail {year}")
    assert forum.start <= timezone.now() < forum.end
    registrations = Registration.objects.filter(event=forum)
    assert 50 <= registrations.count() <= 60
    assert registrations.filter(member__isnull=True, status="confirmed").count() > 30
    arrived = registrations.filter(checked_in_at__isnull=False).count()
    assert 0 < arrived < registrations.filter(status="confirmed").count()


def test_the_demo_holds_the_next_edition_meetup_and_workshop(demo):
    following = Event.objects.get(title=f"Forum du télétravail {timezone.localdate().year + 1}")
    assert following.status == "published" and following.start > timezone.now()
    assert Booking.objects.live().filter(held_for=f"events.event:{following.pk}").count() >= 2
    assert Event.objects.get(title="Apéro des télétravailleurs").audience == "members"
    workshop = Event.objects.get(title="Atelier découverte de l’impression 3D")
    assert workshop.is_priced and Registration.objects.filter(event=workshop, status="waitlisted").exists()


def test_seeding_again_changes_nothing(demo):
    before = (Event.objects.count(), Registration.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (Event.objects.count(), Registration.objects.count()) == before
