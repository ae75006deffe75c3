"""Events in the browser: a visitor registers to the forum and confirms from the e-mailed link; the team
checks people in at the door on a phone, by name and through the QR code's URL. axe-core on every page."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from cocotte.events import services
from cocotte.events.models import Registration
from tests.helpers import day_ahead, paris

from .helpers import check_a11y, field, visit

pytestmark = pytest.mark.e2e

PHONE_390 = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture(autouse=True)
def tasks_at_once(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "ENQUEUE_ON_COMMIT": False}
    }


@pytest.fixture
def forum(site, room, sophie):
    event = services.create_event(
        by=sophie,
        site=site,
        rooms=[room],
        title="Forum du télétravail",
        description="Rencontres, ateliers et témoignages.",
        start=paris(day_ahead(14), 9),
        end=paris(day_ahead(14), 17),
        capacity=40,
        registration_opens=timezone.now() - timedelta(days=1),
        questions=[
            {
                "label": "Votre situation",
                "kind": "choice",
                "choices": "Salarié·e\nIndépendant·e",
                "required": True,
            }
        ],
    )
    return services.publish(event, by=sophie)


def test_a_visitor_registers_to_the_forum_and_confirms_from_the_email(page, forum, live_server):
    visit(page, "/agenda/")
    page.get_by_role("link", name="Forum du télétravail").click()
    page.wait_for_url(f"**/evenements/{forum.pk}/")
    check_a11y(page)
    page.get_by_role("button", name="Je m’inscris").click()  # empty: the form says what is missing
    expect(page.locator(".error-summary")).to_be_visible()
    check_a11y(page)
    field(page, "Nom et prénom").fill("Véra Visiteuse")
    field(page, "Adresse e-mail").fill("vera@example.org")
    field(page, "Votre situation").select_option("Indépendant·e")
    page.get_by_role("button", name="Je m’inscris").click()
    expect(page.get_by_role("status")).to_contain_text("cliquez sur le lien envoyé à vera@example.org")
    check_a11y(page)
    assert Registration.objects.get().status == "pending"

    link = re.search(r"http\S+/confirmer/", mail.outbox[-1].body).group(0)
    visit(page, link)
    page.get_by_role("button", name="Je confirme mon inscription").click()
    expect(page.get_by_role("status")).to_contain_text("votre place est réservée")
    expect(page.get_by_role("heading", name="À présenter à l’accueil")).to_be_visible()
    check_a11y(page)
    assert Registration.objects.get().status == "confirmed"
    assert "Inscription confirmée" in mail.outbox[-1].subject


def test_staff_check_in_by_name_and_by_qr_url_on_a_phone(new_page, logged_in, forum, sophie, make_user):
    people = []
    for first, last in (("Jeanne", "Roux"), ("Paul", "Vidal"), ("Jeannot", "Fabre")):
        member = make_user(f"{first.lower()}@example.org", first_name=first, last_name=last)
        people.append(
            services.register(forum, member=member, answers={str(forum.questions.get().pk): "Salarié·e"})
        )
    page = new_page(**PHONE_390)
    logged_in(page, sophie)
    visit(page, f"/evenements/{forum.pk}/accueil/")
    expect(page.locator("#compteurs")).to_contain_text("0 arrivés sur 3 inscrits")
    field(page, "Chercher par nom ou e-mail").fill("vidal")
    page.get_by_role("button", name="Chercher", exact=True).click()
    page.wait_for_url("**/accueil/?q=vidal")
    check_a11y(page)
    expect(page.locator("#personnes li")).to_have_count(1)
    page.get_by_role("button", name="Arrivé·e — Paul Vidal").click()
    expect(page.get_by_role("status")).to_contain_text("Paul Vidal est arrivé·e")
    expect(page.locator("#compteurs")).to_contain_text("1 arrivés sur 3 inscrits")
    check_a11y(page)

    jeanne = people[0]
    visit(page, f"/evenements/qr/{jeanne.checkin_code}/")
    expect(page.get_by_text("Jeanne Roux")).to_be_visible()
    page.get_by_role("button", name="Enregistrer l’arrivée").click()
    expect(page.get_by_role("status")).to_contain_text("Jeanne Roux est enregistré·e")
    check_a11y(page)
    page.goto(f"/evenements/qr/{jeanne.checkin_code}/")
    expect(page.get_by_role("alert")).to_contain_text(re.compile(r"Déjà enregistré à \d\d:\d\d"))
    check_a11y(page)
    assert Registration.objects.filter(checked_in_at__isnull=False).count() == 2


def test_the_other_events_pages_are_accessible(page, logged_in, forum, sophie, alice):
    services.register(forum, member=alice, answers={str(forum.questions.get().pk): "Salarié·e"})
    local = timezone.localtime(forum.start)
    for url in ("/evenements/", f"/agenda/{local.year}/{local.month}/"):
        visit(page, url)
    logged_in(page, sophie)
    for url in ("/evenements/equipe/", "/evenements/equipe/nouveau/", f"/evenements/{forum.pk}/equipe/"):
        visit(page, url)
    visit(page, f"/evenements/{forum.pk}/modifier/")
    field(page, "Places").fill("0")  # refused by the form: the error summary is accessible too
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".error-summary")).to_be_visible()
    check_a11y(page)


def test_the_month_reads_as_a_list_of_busy_days_on_a_phone(new_page, forum):
    """Seven columns do not fit a phone: there the month lists its busy days, each named, and every title
    fits the screen (no word cut by its neighbour's cell)."""
    page = new_page(**PHONE_390)
    start = timezone.localtime(forum.start)
    visit(page, f"/agenda/{start.year}/{start.month}/")
    link = page.get_by_role("link", name="Forum du télétravail")
    expect(link).to_be_visible()
    box = link.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    weekday = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"][start.weekday()]
    cell = page.locator("td", has=link)
    expect(cell.locator(".weekday")).to_have_text(re.compile(rf"^{weekday}\s*$", re.I))
    assert page.locator("td.free:visible").count() == 0  # empty days are left out on a phone
