"""Shared fixtures: named personas and factories that go through the real services.

alice and bob are members; sophie is staff of the Murat site; carol is staff of another site; root is admin.
The Murat test site is open every day 08:00–20:00 and ignores public holidays, so that tests can pick any
future day; the calendar's own rules are tested on purpose in tests/spaces.
"""

import os
from datetime import time

import pytest
from allauth.account.models import EmailAddress
from django.db import connection

from cocotte.accounts import permissions
from cocotte.accounts.models import Role
from cocotte.spaces.models import Network, OpeningHours, Resource, Site

STRICT = os.environ.get("COCOTTE_STRICT") == "1"  # set by CI: a test that cannot run fails, never skips


def pytest_runtest_setup(item):
    if "postgres" in item.keywords and connection.vendor != "postgresql":
        if STRICT:
            pytest.fail("PostgreSQL is required in CI: set DATABASE_URL, or deselect with -m 'not postgres'.")
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://…)")


@pytest.fixture
def make_user(django_user_model):
    def make(email, *, staff_of=(), admin=False, **fields):
        user = django_user_model.objects.create_user(
            email, "a-long-password-1", is_superuser=admin, is_staff=admin or bool(staff_of), **fields
        )
        for site in staff_of:
            permissions.grant_role(user, Role.Name.SITE_STAFF, site)
        # Their address is verified, as a member who signed up and clicked the link (allauth's record).
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        return user

    return make


@pytest.fixture
def network(db):
    return Network.objects.create(name="Hautes Terres", slug="hautes-terres")


@pytest.fixture
def make_site(network):
    def make(slug="murat", *, hours=((time(8), time(20)),), days=range(7), holidays=False, **fields):
        site = Site.objects.create(
            network=network,
            slug=slug,
            name=fields.pop("name", slug.title()),
            street="1 place de l’Église",
            postal_code="15300",
            city="Murat",
            closed_on_public_holidays=holidays,
            **fields,
        )
        OpeningHours.objects.bulk_create(
            OpeningHours(site=site, weekday=d, opens=o, closes=c) for d in days for o, c in hours
        )
        return site

    return make


@pytest.fixture
def site(make_site):
    return make_site("murat")


@pytest.fixture
def other_site(make_site):
    return make_site("allanche")


@pytest.fixture
def make_resource():
    def make(site, slug="salle", *, kind=Resource.Kind.MEETING_ROOM, unit=Resource.Unit.HALF_HOUR, **fields):
        defaults = {"name": slug.title(), "min_units": 1, "max_units": 24, "max_advance_days": 400}
        defaults.update(fields)
        return Resource.objects.create(site=site, slug=slug, kind=kind, unit=unit, **defaults)

    return make


@pytest.fixture
def room(site, make_resource):
    return make_resource(site, "salle-reunion", seats=10)


@pytest.fixture
def open_space(site, make_resource):
    return make_resource(
        site,
        "open-space",
        kind=Resource.Kind.OPEN_SPACE,
        unit=Resource.Unit.HALF_DAY,
        capacity=3,
        max_units=2,
    )


@pytest.fixture
def approval_room(site, make_resource):
    """A room that the team approves each request of."""
    return make_resource(site, "salle-validee", requires_approval=True, name="Salle du conseil")


@pytest.fixture
def desk(site, make_resource):
    return make_resource(site, "poste-1", kind=Resource.Kind.DESK, unit=Resource.Unit.HALF_DAY, max_units=2)


@pytest.fixture
def office(site, make_resource):
    return make_resource(
        site,
        "bureau-1",
        kind=Resource.Kind.OFFICE,
        unit=Resource.Unit.MONTH,
        max_units=12,
        requires_approval=True,
    )


@pytest.fixture
def alice(make_user):
    return make_user("alice@example.org", first_name="Alice", last_name="Martin")


@pytest.fixture
def bob(make_user):
    return make_user("bob@example.org", first_name="Bob", last_name="Durand")


@pytest.fixture
def sophie(make_user, site):
    return make_user("sophie@example.org", staff_of=[site], first_name="Sophie", last_name="Chargée")


@pytest.fixture
def carol(make_user, other_site):
    return make_user("carol@example.org", staff_of=[other_site], first_name="Carol", last_name="Autre")


@pytest.fixture
def root(make_user):
    return make_user("root@example.org", admin=True)


@pytest.fixture
def book():
    """Book through the engine: book(member, resource, start, end, by=None)."""
    from cocotte.bookings import services

    def make(member, resource, start, end, **kwargs):
        return services.book(resource=resource, member=member, start=start, end=end, **kwargs)

    return make


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` commits as a real commit would, then runs the task worker's deliveries: the
    events the engine recorded reach their subscribers (e-mails, reminders, the team)."""
    import contextlib

    from cocotte.bookings import events
    from cocotte.bookings.models import BookingEvent

    @contextlib.contextmanager
    def run():
        last = BookingEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        with django_capture_on_commit_callbacks(execute=True):
            yield
        for pk in BookingEvent.objects.filter(pk__gt=last).values_list("pk", flat=True):
            events.deliver(pk)  # what the task worker does with the tasks enqueued on commit

    return run


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hashing passwords properly is slow on purpose; tests create many accounts."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def french_by_default():
    """Each test starts in French, as a visitor does: a request in English must not leak into the next test."""
    from django.utils import translation

    translation.activate("fr")
    yield
    translation.activate("fr")


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: rate limits and counts of one test never reach the next."""
    from django.core.cache import cache

    cache.clear()
