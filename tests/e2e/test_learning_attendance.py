"""A trainer takes attendance at phone size: opens today's sheet, a trainee signs on the trainer's phone with a
typed name after typing her password, another is marked excused, the trainer signs and closes the sheet; the
locked sheet's PDF downloads. axe-core on every page."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cocotte.learning.models import Mark, Sheet
from tests.learning.conftest import enrol, make_sitting, programme, session, trainer  # noqa: F401 — fixtures

from .helpers import PASSWORD, check_a11y, field, log_in, visit

pytestmark = pytest.mark.e2e

PHONE_390 = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_a_trainer_takes_attendance_on_a_phone(new_page, session, make_sitting, enrol, trainer, alice, bob):  # noqa: F811
    enrol(session, alice)
    enrol(session, bob)
    now = timezone.now()
    sitting = make_sitting(session, now - timedelta(minutes=10), now + timedelta(minutes=40))
    sheet = Sheet.objects.get(sitting=sitting, start__lte=now, end__gt=now)

    page = new_page(**PHONE_390)
    log_in(page, trainer.email)
    visit(page, "/formations/emargement/")
    page.get_by_role("link", name=sheet.get_half_display(), exact=False).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Émargement")
    check_a11y(page)
    alices = Mark.objects.get(sheet=sheet, enrolment__trainee=alice)
    bobs = Mark.objects.get(sheet=sheet, enrolment__trainee=bob)

    row = page.locator(f"#ligne-{alices.pk}")
    row.get_by_text("Faire signer Alice sur cet écran").click()
    group = row.get_by_role("group", name="Signature de Alice", exact=False)
    field(group, "Mot de passe du stagiaire").fill("not-her-password")
    field(group, "Votre nom, en guise de signature").fill("Alice Martin")
    check_a11y(page)
    row.get_by_role("button", name="Signer").click()
    # Refused: the error summary takes the focus and says why; nothing is signed; her typed name stays.
    summary = page.locator(f"#ligne-{alices.pk} .error-summary")
    expect(summary).to_contain_text("Mot de passe incorrect")
    expect(summary).to_be_focused()
    check_a11y(page)
    row = page.locator(f"#ligne-{alices.pk}")
    expect(field(row, "Votre nom, en guise de signature")).to_have_value("Alice Martin")
    field(row, "Mot de passe du stagiaire").fill(PASSWORD)
    field(row, "Votre nom, en guise de signature").press("Enter")  # the keyboard signs, no drawing needed
    expect(page.get_by_text("Alice Martin a signé.")).to_be_visible()
    check_a11y(page)

    row = page.locator(f"#ligne-{bobs.pk}")
    row.get_by_text("Noter Bob absent ou excusé").click()
    field(row, "Absence").select_option(label="absence justifiée")
    field(row, "Motif").fill("Rendez-vous à la chambre de commerce")
    row.get_by_role("button", name="Enregistrer l’absence").click()
    expect(page.get_by_text("Absence enregistrée.")).to_be_visible()

    trainer_section = page.locator("section", has=page.get_by_role("heading", name="Signature du formateur"))
    field(trainer_section, "Votre nom, en guise de signature").fill("Théo Formateur")
    trainer_section.get_by_role("button", name="Je signe la feuille").click()
    expect(page.get_by_text("Vous avez signé la feuille.")).to_be_visible()
    page.get_by_role("button", name="Clore la feuille").click()
    expect(page.get_by_text("Feuille close et scellée", exact=False)).to_be_visible()
    check_a11y(page)

    alices.refresh_from_db()
    bobs.refresh_from_db()
    sheet.refresh_from_db()
    assert (alices.state, alices.signed_by, alices.method) == ("present", alice, "typed")
    assert (bobs.state, bobs.reason) == ("excused", "Rendez-vous à la chambre de commerce")
    assert sheet.locked_at and sheet.trainer_signed_name == "Théo Formateur"

    link = page.get_by_role("link", name="Télécharger la feuille d’émargement (PDF)")
    answer = page.request.get(link.get_attribute("href"))
    assert answer.ok and answer.headers["content-type"] == "application/pdf"
    assert answer.body().startswith(b"%PDF")
