"""Money in the browser: a member sees the price before confirming a booking; staff bill the month, review a
draft and issue it; the member downloads the invoice. Every page is checked with axe-core."""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from cocotte.billing.models import Bill, Charge, Plan, PriceLine
from cocotte.spaces.models import Resource
from tests.helpers import day_ahead

from .helpers import PHONE, check_a11y, field, visit

pytestmark = pytest.mark.e2e


@pytest.fixture
def billed_live(settings, private_operator):
    # The task worker's work done in the request, and PDFs rendered in the server's process.
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "ENQUEUE_ON_COMMIT": False}
    }
    settings.COCOTTE_BILLING_WORKERS = 1
    PriceLine.objects.create(
        operator=private_operator,
        kind=Resource.Kind.MEETING_ROOM,
        unit=Resource.Unit.HALF_HOUR,
        amount_excl_vat=Decimal("7.50"),
        label="Demi-heure de salle de réunion",
    )
    return private_operator


def test_a_member_sees_the_price_staff_bill_the_month_and_the_member_downloads_the_invoice(
    new_page, logged_in, billed_live, site, room, alice, sophie
):
    member = logged_in(new_page(), alice)
    day = day_ahead(6)
    visit(member, f"/reserver/{site.slug}/{room.pk}/?debut={day.isoformat()}T10:00")
    field(member, "Jour").fill(day.isoformat())
    field(member, "De").fill("10:00")
    field(member, "À").fill("11:00")
    member.get_by_role("button", name="Vérifier").click()

    expect(member.get_by_role("heading", level=1)).to_have_text("Confirmer la réservation")
    check_a11y(member)
    expect(member.locator("dl")).to_contain_text("18,00 € TTC (15,00 € HT + 3,00 € de TVA)")
    member.get_by_role("button", name="Confirmer", exact=True).click()
    member.wait_for_url("**/mes-reservations/")

    # A month later: the meeting took place last month, and the team bills that month.
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    Charge.objects.update(service_date=last_month)
    staff = logged_in(new_page(), sophie)
    visit(staff, "/facturation/equipe/")
    field(staff, "Mois facturé").fill(f"{last_month:%Y-%m}")
    staff.get_by_role("button", name="Préparer le mois").click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text("Facturation de")
    check_a11y(staff)
    staff.get_by_role("link", name="Alice Martin").click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text("en brouillon — Alice Martin")
    check_a11y(staff)
    staff.get_by_role("link", name=re.compile("^Modifier ou retirer")).click()
    check_a11y(staff)
    field(staff, "Libellé").fill("Salle de réunion, comité du 1er")
    staff.get_by_role("button", name="Enregistrer").click()
    expect(staff.get_by_role("table")).to_contain_text("Salle de réunion, comité du 1er")
    staff.get_by_role("link", name=re.compile("^Retour à la facturation")).click()
    staff.get_by_label(re.compile("J’ai vérifié ce brouillon")).check()
    staff.get_by_role("button", name="Émettre le brouillon").click()
    expect(staff.get_by_role("heading", name=re.compile("1 pièce émise"))).to_be_visible()
    check_a11y(staff)
    invoice = Bill.objects.get(member=alice)
    assert invoice.is_issued and invoice.number

    visit(member, "/facturation/")
    row = member.get_by_role("row").filter(has_text=invoice.number)
    expect(row).to_contain_text("18,00")
    with member.expect_download() as download:
        row.get_by_role("link", name=re.compile("^Télécharger")).click()
    pdf = PdfReader(io.BytesIO(download.value.path().read_bytes()))
    text = pdf.pages[0].extract_text()
    assert invoice.number in text and "Salle de réunion, comité du 1er" in text
    assert "factur-x.xml" in pdf.attachments


def test_a_member_takes_a_card_from_their_space_and_lands_on_its_bill(
    new_page, logged_in, billed_live, alice
):
    Plan.objects.create(
        operator=billed_live,
        kind=Plan.Kind.CARD,
        name="Carte 10 jours",
        price_excl_vat=Decimal("90.00"),
        days=Decimal("10"),
        day_kinds=[Resource.Kind.OPEN_SPACE],
    )
    member = logged_in(new_page(**PHONE), alice)
    visit(member, "/facturation/")
    member.get_by_role("link", name=re.compile("^Mes formules")).click()
    check_a11y(member)
    member.get_by_role("button", name="Prendre : Carte 10 jours").click()

    expect(member.get_by_role("status")).to_contain_text("C’est pris")
    check_a11y(member)
    expect(member.locator("main")).to_contain_text("108,00")
    visit(member, "/facturation/formules/")
    expect(member.get_by_role("heading", name=re.compile("En cours"))).to_be_visible()
    expect(member.locator("main")).to_contain_text("Jours restants : 10")
