"""`seed_demo` runs each app's demo module in the layers' order; an app above adds its part without editing theirs."""

import random
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cocotte.accounts.models import User
from cocotte.accounts.permissions import staffed_site_ids
from cocotte.core import seeding
from cocotte.spaces.models import Site

pytestmark = pytest.mark.django_db


def test_the_demo_modules_are_found_lowest_layer_first():
    names = [m.__name__ for m in seeding.demo_modules()]
    assert names == [
        "cocotte.accounts.demo",
        "cocotte.spaces.demo",
        "cocotte.bookings.demo",
        "cocotte.billing.demo",
        "cocotte.learning.demo",
        "cocotte.events.demo",
    ]


def test_an_app_above_finds_what_the_apps_below_made():
    seen = {}

    def seed(context):
        seen["sites"] = [s.slug for s in context.shared["sites"]]
        seen["people"] = list(context.shared["people"])[:2]

    later_app = SimpleNamespace(seed=seed)
    context = seeding.DemoContext(
        options={"bookings": 0}, rng=random.Random(1), stdout=StringIO(), style=SimpleNamespace(SUCCESS=str)
    )
    seeding.seed(context, [*seeding.demo_modules(), later_app])
    assert seen == {
        "sites": ["cocotte-numerique", "telecentre-murat"],
        "people": ["admin@cocotte.test", "equipe@cocotte.test"],
    }


def test_a_bad_option_is_refused_before_any_app_writes():
    with pytest.raises(CommandError, match="positif"):
        call_command("seed_demo", "--bookings", "-5", stdout=StringIO())
    assert not User.objects.exists() and not Site.objects.exists()


def test_the_demo_prints_its_accounts_after_the_bookings_and_keeps_murats_lunch_break():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("réservations de démonstration.")
    [team] = [line for line in lines if "equipe@cocotte.test" in line]
    assert team.endswith("staff:all")
    assert any("Facturation de démonstration" in line for line in lines)
    murat = Site.objects.get(slug="telecentre-murat")
    assert murat.opening_hours.filter(weekday=0).count() == 2
    assert {s.slug for s in Site.objects.filter(pk__in=_staffed("telecentre@cocotte.test"))} == {
        "telecentre-murat"
    }


def _staffed(email):
    return staffed_site_ids(User.objects.get(email=email))
