"""The header's menu: each persona sees the same links, in the same order, whichever app declares them."""

import re

import pytest
from django.urls import resolve, reverse

from cocotte.accounts import permissions
from cocotte.accounts.models import Role

pytestmark = pytest.mark.django_db

BOOK = ("Réserver", "home")
AGENDA = ("Agenda", "events:agenda")
TRAININGS = ("Formations", "learning:catalogue")
MINE = ("Mes réservations", "bookings:mine")
MY_TRAININGS = ("Mes formations", "learning:mine")
BILLS = ("Mes factures", "billing:mine")
PLANNER = ("Planning de l’équipe", "planner:index")
BILLING = ("Facturation", "billing:staff")
TRAININGS_TEAM = ("Formations (équipe)", "learning:staff_index")
EVENTS_TEAM = ("Événements de l’équipe", "events:staff")
ATTENDANCE = ("Émargement", "learning:attendance")  # a trainer's every day
PROFILE = ("Mon profil", "accounts:profile")
LOGOUT = ("Se déconnecter", "account_logout")  # a button in a POST form
LOGIN = ("Se connecter", "account_login")
SIGNUP = ("Créer un compte", "account_signup")

EVERYONE = [BOOK, AGENDA, TRAININGS]
MEMBER = [*EVERYONE, MINE, MY_TRAININGS, BILLS]
TEAM = [*MEMBER, PLANNER, BILLING, TRAININGS_TEAM, EVENTS_TEAM]

MENUS = {
    None: [*EVERYONE, LOGIN, SIGNUP],
    "alice": [*MEMBER, PROFILE, LOGOUT],
    "trainer": [*MEMBER, ATTENDANCE, PROFILE, LOGOUT],  # Théo, trainer at Murat
    "carol": [*TEAM, PROFILE, LOGOUT],  # staff of another site: the team's menu too
    "sophie": [*TEAM, PROFILE, LOGOUT],
    "root": [*TEAM, PROFILE, LOGOUT],  # an admin, who trains nobody: no attendance sheets in the menu
}


@pytest.fixture
def trainer(make_user, site):
    user = make_user("theo@example.org", first_name="Théo", last_name="Formateur")
    permissions.grant_role(user, Role.Name.TRAINER, site)
    return user


def menu(html: str) -> list[tuple[str, str]]:
    """(text, target) of each entry of the main menu, a link's href or a form's action."""
    nav = re.search(r'<nav aria-label="Menu principal">(.*?)</nav>', html, re.S).group(1)
    items = []
    for item in re.findall(r"<li>(.*?)</li>", nav, re.S):
        target = re.search(r'(?:href|action)="([^"]*)"', item).group(1)
        text = re.sub(r"<[^>]+>", "", item).strip()
        items.append((text, target))
    return items


@pytest.mark.parametrize("who", list(MENUS))
def test_each_persona_sees_its_menu_on_every_kind_of_page(client, request, who, site):
    if who:
        client.force_login(request.getfixturevalue(who))
    pages = [
        reverse("home"),
        reverse("bookings:grid", args=[site.slug]),
        reverse("terms"),
        reverse("events:agenda"),
        reverse("learning:catalogue"),
    ]
    if who in ("sophie", "root"):
        pages.append(reverse("planner:site", args=[site.slug]))  # a page with its own « navigation »
    expected = [(label, reverse(name)) for label, name in MENUS[who]]
    for url in pages:
        assert menu(client.get(url).content.decode()) == expected, url


def test_logging_out_is_a_post_form_with_its_token(client, alice, site):
    client.force_login(alice)
    html = client.get(reverse("home")).content.decode()
    logout = reverse("account_logout")
    form = re.search(rf'<form method="post" action="{logout}">(.*?)</form>', html, re.S)
    assert form and 'name="csrfmiddlewaretoken"' in form.group(1)


def test_who_leaves_the_team_loses_the_teams_menu(client, sophie, site):
    permissions.revoke_role(sophie, Role.Name.SITE_STAFF, site)
    client.force_login(sophie)
    assert ("Planning de l’équipe", reverse("planner:index")) not in menu(
        client.get(reverse("home")).content.decode()
    )


def test_who_stops_training_loses_the_attendance_sheets_menu(client, trainer, site):
    client.force_login(trainer)
    assert ATTENDANCE in named(menu(client.get(reverse("home")).content.decode()))
    permissions.revoke_role(trainer, Role.Name.TRAINER, site)
    assert ATTENDANCE not in named(menu(client.get(reverse("home")).content.decode()))


def named(items):
    """(text, URL name) of menu items, for the entries' constants."""
    return [(text, resolve(target).view_name) for text, target in items]
