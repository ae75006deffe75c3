"""A newcomer signs up, confirms their address from the e-mail, and is logged in."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from cocotte.accounts.models import Consent, Profile

from .helpers import check_a11y, field, visit

pytestmark = pytest.mark.e2e

LINK = re.compile(r"https?://\S+/comptes/confirm-email/\S+/")


def test_sign_up_confirm_the_email_and_be_logged_in(page, mailoutbox):
    visit(page, "/")
    page.get_by_role("link", name="Créer un compte").click()
    page.wait_for_url("**/comptes/signup/")
    check_a11y(page)

    field(page, "Courriel").fill("claire@example.org")
    field(page, "Prénom").fill("Claire")
    field(page, "Nom").fill("Vidal")
    field(page, "Vous êtes").select_option(label="porteur de projet")
    field(page, "Commune de résidence").fill("Allanche")
    field(page, "Mot de passe").fill("une-cocotte-bien-rurale")
    field(page, "Mot de passe (confirmation)").fill("une-cocotte-bien-rurale")
    field(page, "J’accepte les conditions d’utilisation").check()
    page.get_by_label("J’ai lu la politique de confidentialité").check()
    page.get_by_role("button", name="Création de compte").click()

    page.wait_for_url("**/comptes/confirm-email/")
    check_a11y(page)
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["claire@example.org"]
    link = LINK.search(message.body)
    assert link, message.body

    visit(page, link.group(0))
    page.get_by_role("button", name="Confirmer", exact=True).click()
    page.wait_for_url("**/mes-reservations/")
    check_a11y(page)
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Claire Vidal")

    user = get_user_model().objects.get(email="claire@example.org")
    assert (user.first_name, user.last_name) == ("Claire", "Vidal")
    assert user.profile.status == Profile.Status.PROJECT_HOLDER
    assert user.profile.commune == "Allanche"
    assert user.emailaddress_set.get().verified
    assert set(Consent.objects.filter(user=user).values_list("document", flat=True)) == {
        Consent.Document.TERMS,
        Consent.Document.PRIVACY,
    }
