"""Events' fixtures: the forum at Murat (a published event of 3 places in the meeting room, with a waiting
list and one question), a factory of events through the services, and `sent` to run the e-mail tasks.

Tasks run at once (django-tasks' immediate backend); `with sent():` runs what the changes enqueue on commit,
as the task worker would once they commit.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cocotte.events import services
from cocotte.events.models import Event
from tests.helpers import day_ahead, paris


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "ENQUEUE_ON_COMMIT": False}
    }


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture
def make_event(site, sophie):
    def make(*, rooms=(), publish=True, questions=(), **fields):
        values = {
            "title": "Forum du télétravail",
            "description": "Rencontres, ateliers et témoignages.",
            "start": paris(day_ahead(14), 9),
            "end": paris(day_ahead(14), 17),
            "capacity": 3,
            "waiting_list": True,
            "registration_opens": timezone.now() - timedelta(days=1),
        }
        values.update(fields)
        if not rooms and "outside_address" not in values:
            values["outside_address"] = "Salle des fêtes, 15300 Murat"
        event = services.create_event(by=sophie, site=site, rooms=rooms, questions=list(questions), **values)
        if publish:
            event = services.publish(event, by=sophie)
        return Event.objects.get(pk=event.pk)

    return make


@pytest.fixture
def forum(make_event, room):
    return make_event(
        rooms=[room],
        questions=[{"label": "Votre activité ?", "kind": "text", "choices": "", "required": False}],
    )


@pytest.fixture
def workshop(make_event):
    """A priced workshop (members only pay: 25 € HT, 20 % VAT), 2 places, with a waiting list."""
    return make_event(title="Atelier impression 3D", capacity=2, price_excl_vat=Decimal("25.00"))
