"""A member finds the business-creation cycle on /formations/, applies; the team accepts; the member signs the
training contract. axe-core on every page."""

import re

import pytest
from playwright.sync_api import expect

from cocotte.learning.models import Enrolment, Installment
from tests.learning.conftest import programme, session, sitting_times, sittings, trainer  # noqa: F401

from .helpers import check_a11y, field, visit

pytestmark = pytest.mark.e2e


def test_a_member_enrols_in_the_cycle(new_page, logged_in, sittings, session, alice, sophie):  # noqa: F811
    member = logged_in(new_page(), alice)

    visit(member, "/formations/")
    expect(member.get_by_role("heading", level=1)).to_have_text("Formations")
    member.get_by_role("link", name="Cycle création d’entreprise").click()
    member.wait_for_url("**/formations/programme/cycle-creation/")
    check_a11y(member)
    expect(member.get_by_role("heading", name="Accessibilité")).to_be_visible()
    member.get_by_role("link", name=re.compile(r"^Candidater")).first.click()
    member.wait_for_url(f"**/formations/session/{session.pk}/candidater/")
    check_a11y(member)

    member.get_by_role("button", name="Envoyer ma candidature").click()  # nothing filled in
    expect(member.locator(".error-summary")).to_be_visible()
    check_a11y(member)
    field(member, "Votre projet").fill("Ouvrir une épicerie vrac à Murat.")
    field(member, "Vos attentes").fill("Un prévisionnel solide.")
    member.get_by_label("Je confirme remplir les prérequis de la formation").check()
    field(member, "Financement").select_option("self")
    member.get_by_role("button", name="Envoyer ma candidature").click()
    member.wait_for_url("**/formations/mes-formations/")
    check_a11y(member)
    expect(member.get_by_role("status")).to_contain_text("Candidature reçue")
    enrolment = Enrolment.objects.get(trainee=alice, session=session)
    assert enrolment.status == Enrolment.Status.APPLIED

    team = logged_in(new_page(), sophie)
    visit(team, "/formations/equipe/")
    team.get_by_role("link", name=re.compile("Printemps")).click()
    team.wait_for_url(f"**/formations/equipe/session/{session.pk}/")
    check_a11y(team)
    team.get_by_role("button", name="Accepter Alice Martin").click()
    team.wait_for_url(f"**/formations/equipe/session/{session.pk}/")
    check_a11y(team)
    expect(team.get_by_role("status")).to_contain_text("Décision enregistrée")
    expect(team.locator(f"#inscription-{enrolment.pk}")).to_contain_text("Contrat à signer")

    visit(member, "/formations/mes-formations/")
    expect(member.locator(f"#inscription-{enrolment.pk}")).to_contain_text("Contrat à signer")
    member.get_by_role("link", name=re.compile("^Lire et signer le contrat")).click()
    member.wait_for_url(f"**/formations/inscription/{enrolment.pk}/contrat/")
    check_a11y(member)
    expect(member.locator("pre")).to_contain_text("Délai de rétractation")
    field(member, "Vos prénom et nom").fill("Alice Martin")
    member.get_by_label("J’ai lu le contrat de formation et je l’accepte").check()
    member.get_by_role("button", name="Signer le contrat").click()
    member.wait_for_url("**/formations/mes-formations/")
    check_a11y(member)
    expect(member.get_by_role("status")).to_contain_text("Contrat signé")

    enrolment.refresh_from_db()
    assert enrolment.contract_signed_name == "Alice Martin" and len(enrolment.contract_text_hash) == 64
    assert Installment.objects.filter(enrolment=enrolment).exists()


def test_on_a_phone_a_member_confirms_an_offered_place(new_page, logged_in, request, sophie, make_user):
    request.getfixturevalue("sittings")
    training = request.getfixturevalue("session")
    from cocotte.learning import services

    from .helpers import PHONE

    people = [make_user(f"t{n}@example.org", first_name=f"T{n}") for n in range(4)]
    applications = [
        services.apply(
            training, trainee=p, application=services.Application(project="Projet", prerequisites_met=True)
        )
        for p in people
    ]
    placed = [services.accept(a, by=sophie) for a in applications]
    services.withdraw(placed[0], by=sophie)
    offered = Enrolment.objects.get(pk=applications[3].pk)
    assert offered.status == Enrolment.Status.OFFERED

    phone = logged_in(new_page(**PHONE), people[3])
    visit(phone, "/formations/mes-formations/")
    phone.get_by_role("link", name=re.compile("^Confirmer ou décliner la place")).click()
    phone.wait_for_url(f"**/formations/inscription/{offered.pk}/place/")
    check_a11y(phone)
    phone.get_by_role("button", name="Je confirme ma place").click()
    phone.wait_for_url("**/formations/mes-formations/")
    check_a11y(phone)
    expect(phone.get_by_role("status")).to_contain_text("Place confirmée")
    assert Enrolment.objects.get(pk=offered.pk).status == Enrolment.Status.ACCEPTED

    team = logged_in(new_page(**PHONE), sophie)
    visit(team, f"/formations/equipe/session/{training.pk}/")
    visit(team, "/formations/")


def test_on_a_phone_the_signed_contract_fits_the_screen(new_page, logged_in, session, alice):  # noqa: F811
    """The signed text's SHA-256 is one 64-character word: it wraps instead of widening the page."""
    from django.utils import timezone

    from .helpers import PHONE

    enrolment = Enrolment.objects.create(
        session=session,
        trainee=alice,
        status=Enrolment.Status.ACCEPTED,
        project="Ouvrir une épicerie vrac à Murat.",
        contract_signed_at=timezone.now(),
        contract_signed_name="Alice Martin",
        contract_text_hash="e73f4675a4e9d2889f3b44bb4f64d4ee07fa5f3a66eaa7e2b737610b14ed20f1",
    )
    member = logged_in(new_page(**PHONE), alice)
    visit(member, f"/formations/inscription/{enrolment.pk}/contrat/")  # check_a11y also checks reflow
    expect(member.get_by_text("e73f4675a4e9d2889f3b44bb4f64d4ee", exact=False)).to_be_visible()
