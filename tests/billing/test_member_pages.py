"""« Mes factures »: a member's issued bills and their organisations', each bill, its PDF, their receipts, and
paying online — through the real URLs, as alice (a member, who manages companies), bob (another member),
sophie (staff of Murat, run by the private operator), carol (staff of Allanche, run by the public one) and root.

Someone else's bill, or its PDF, does not exist (404); a draft is never shown to a member."""

import html
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cocotte.accounts import permissions
from cocotte.accounts.models import Organisation, Role
from cocotte.billing import issuing, payments, provider
from cocotte.billing.models import Bill, Payment, RevenueType

MINE = reverse("billing:mine")


def bill_url(bill, name="billing:bill"):
    return reverse(name, args=[bill.pk])


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def issued(make_bill, today):
    """issued(operator, debtor, days_ago=0, days=1, kind=…): a bill of `days` days at 15 € HT (18 € TTC),
    issued `days_ago` days ago. Issue them oldest first: a series' numbers follow its dates."""

    def make(operator, debtor, *, days_ago=0, days=1, kind=Bill.Kind.INVOICE, label="Journée de coworking"):
        bill = make_bill(operator, debtor, [(label, days, "15.00", "20")], kind=kind)
        return issuing.issue(bill, on=today - timedelta(days=days_ago))

    return make


@pytest.fixture
def manages(make_user):
    def grant(user, organisation):
        permissions.grant_role(user, Role.Name.ORGANISATION_MANAGER, organisation)

    return grant


@pytest.fixture
def farm(db):
    return Organisation.objects.create(name="Ferme du Lioran", siren="552100554", address="Le Lioran")


@pytest.fixture
def bakery(db):
    return Organisation.objects.create(name="Boulangerie Cantalienne", siren="542051180", address="Murat")


def rows(page: str, caption: str) -> list[str]:
    """The text of each body row of the table whose caption starts with `caption`, spaces squeezed."""
    table = re.search(rf"<caption[^>]*>{re.escape(caption)}.*?</caption>(.*?)</table>", page, re.S)
    assert table, f"no table « {caption} »"
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(1), re.S).group(1)
    return [
        " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split())
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def page(client, user, url=MINE, status=200):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, response.status_code
    return response.content.decode()


# --- the list ------------------------------------------------------------------------------------------------


def test_my_bills_are_my_issued_ones_newest_first_each_labelled_by_its_kind(
    client, alice, bob, private_operator, public_operator, make_bill, issued
):
    first = issued(private_operator, alice, days_ago=10)
    second = issued(private_operator, alice, days_ago=5, days=2)
    credit = issuing.issue(issuing.credit_note_for(second), on=timezone.localdate() - timedelta(days=4))
    statement = issued(public_operator, alice, days_ago=3, kind=Bill.Kind.STATEMENT)
    draft = make_bill(private_operator, alice, [("Pas encore émise", 1, "99.00", "20")])
    issued(private_operator, bob)

    listed = rows(page(client, alice), "Pièces émises")

    assert [row.split(" ")[0:2] for row in listed] == [
        ["Relevé", "de"],
        ["Avoir", credit.number],
        ["Facture", second.number],
        ["Facture", first.number],
    ]
    assert statement.number == "" and statement.reference.startswith("REL-")
    assert statement.reference in listed[0]  # a statement has no legal number: its reference names it
    assert "Hautes Terres Communauté" in listed[0] and "Association du Télécentre" in listed[2]
    assert "36,00 €" in listed[2]
    assert draft.reference not in page(client, alice)  # never a draft


def test_each_bill_says_what_is_left_to_pay_and_where_it_stands(
    client, alice, private_operator, issued, today
):
    overdue = issued(private_operator, alice, days_ago=45)  # due 30 days after issue: 15 days late
    partly = issued(private_operator, alice, days_ago=3)
    paid = issued(private_operator, alice, days_ago=2)
    due = issued(private_operator, alice, days_ago=1)
    payments.record(private_operator, alice, "10.00", Payment.Method.TRANSFER, today, bills=[partly])
    payments.record(private_operator, alice, "18.00", Payment.Method.CHEQUE, today, bills=[paid])

    listed = rows(page(client, alice), "Pièces émises")

    assert [row.split(" ")[1] for row in listed] == [due.number, paid.number, partly.number, overdue.number]
    assert "18,00 € 18,00 € À payer" in listed[0]
    assert "18,00 € 0,00 € Payée" in listed[1]
    assert "18,00 € 8,00 € Payée en partie" in listed[2]
    assert "18,00 € 18,00 € En retard" in listed[3]


def test_the_balance_counts_bills_credit_notes_and_payments(client, alice, private_operator, issued, today):
    html = page(client, alice)
    assert "Solde : rien à payer." in html

    issued(private_operator, alice, days_ago=2)
    issued(private_operator, alice, days_ago=1)
    payments.record(private_operator, alice, "20.00", Payment.Method.TRANSFER, today)
    assert "Solde : <strong>16,00\u00a0€</strong> à payer." in page(client, alice)

    payments.record(private_operator, alice, "30.00", Payment.Method.TRANSFER, today)
    assert "un crédit de <strong>14,00\u00a0€</strong> en votre faveur" in page(client, alice)


def test_my_receipts_are_listed_and_downloaded_as_pdf(
    client, alice, bob, private_operator, public_operator, issued, today
):
    issued(public_operator, alice, days_ago=1, kind=Bill.Kind.STATEMENT)
    regie = payments.record(
        public_operator, alice, "18.00", Payment.Method.CASH, today, revenue_type=RevenueType.COWORKING
    )
    transfer = payments.record(private_operator, alice, "5.00", Payment.Method.TRANSFER, today)

    listed = rows(page(client, alice), "Paiements reçus")

    assert len(listed) == 2
    assert f"Quittance n° {regie.receipt_number}" in listed[0] + listed[1]
    assert any(row.startswith("Reçu de paiement") and "Virement" in row for row in listed)
    response = client.get(reverse("billing:receipt_pdf", args=[regie.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == f'attachment; filename="{regie.receipt_number}.pdf"'
    client.force_login(bob)
    assert client.get(reverse("billing:receipt_pdf", args=[transfer.pk])).status_code == 404


def test_a_pending_online_payment_is_no_receipt(client, alice, private_operator):
    pending = Payment.objects.create(
        operator=private_operator,
        member=alice,
        amount=Decimal("18.00"),
        method=Payment.Method.ONLINE,
        status=Payment.Status.PENDING,
        received_on=timezone.localdate(),
        provider_reference="cs_pending",
    )

    assert "Aucun paiement reçu pour l’instant." in page(client, alice)
    assert client.get(reverse("billing:receipt_pdf", args=[pending.pk])).status_code == 404


def test_the_list_turns_its_pages_twenty_bills_at_a_time(client, alice, private_operator, issued):
    bills = [issued(private_operator, alice, days_ago=30 - n) for n in range(23)]

    first = page(client, alice)
    second = page(client, alice, MINE + "?factures=2")

    assert len(rows(first, "Pièces émises")) == 20 and len(rows(second, "Pièces émises")) == 3
    assert 'href="?factures=2"' in first and "Plus récentes" not in first.split("Paiements et reçus")[0]
    assert bills[0].number in second and bills[0].number not in first
    assert len(rows(page(client, alice, MINE + "?factures=abc"), "Pièces émises")) == 20  # read as page 1


# --- organisations ---------------------------------------------------------------------------------------------


def test_a_manager_of_two_organisations_sees_both_but_not_a_third(
    client, alice, company, farm, bakery, private_operator, issued, manages
):
    manages(alice, company)
    manages(alice, farm)
    ours = issued(private_operator, company, days_ago=3)
    farms = issued(private_operator, farm, days_ago=2)
    theirs = issued(private_operator, bakery, days_ago=1)

    html = page(client, alice)

    assert re.findall(r"<h2 id=\"compte[^\"]*\">(.*?)</h2>", html) == [
        "À mon nom",
        "Ferme du Lioran",
        "Volcans Numériques SAS",
    ]
    assert rows(html, "Pièces émises — Volcans Numériques SAS")[0].split(" ")[1] == ours.number
    assert rows(html, "Pièces émises — Ferme du Lioran")[0].split(" ")[1] == farms.number
    assert theirs.number not in html and "Boulangerie" not in html
    for bill in (ours, farms):
        assert client.get(bill_url(bill)).status_code == 200
        assert client.get(bill_url(bill, "billing:bill_pdf")).status_code == 200
    assert client.get(bill_url(theirs)).status_code == 404
    assert client.get(bill_url(theirs, "billing:bill_pdf")).status_code == 404


def test_a_manager_who_loses_the_role_loses_the_organisations_bills(
    client, alice, company, private_operator, issued, manages, today
):
    manages(alice, company)
    bill = issued(private_operator, company)
    receipt = payments.record(private_operator, company, "18.00", Payment.Method.TRANSFER, today)
    assert "Volcans Numériques SAS" in page(client, alice)

    permissions.revoke_role(alice, Role.Name.ORGANISATION_MANAGER, company)

    assert "Volcans Numériques SAS" not in page(client, alice)
    assert client.get(bill_url(bill)).status_code == 404
    assert client.get(bill_url(bill, "billing:bill_pdf")).status_code == 404
    assert client.get(reverse("billing:receipt_pdf", args=[receipt.pk])).status_code == 404


def test_belonging_to_an_organisation_without_managing_it_shows_nothing_of_it(
    client, alice, company, private_operator, issued
):
    alice.profile.organisation = company
    alice.profile.save()
    bill = issued(private_operator, company)

    assert bill.number not in page(client, alice)
    assert client.get(bill_url(bill)).status_code == 404


# --- one bill and its PDF --------------------------------------------------------------------------------------


def test_a_bill_shows_its_lines_totals_payments_and_credit_notes(
    client, alice, private_operator, make_bill, today
):
    invoice = issuing.issue(
        make_bill(
            private_operator,
            alice,
            [("Journée de coworking", 2, "15.00", "20"), ("Salle de réunion", 1, "40.00", "20")],
        ),
        on=today - timedelta(days=3),
    )
    payment = payments.record(private_operator, alice, "30.00", Payment.Method.CHEQUE, today, bills=[invoice])
    credit = issuing.issue(
        issuing.credit_note_for(invoice, lines=[invoice.lines.get(position=2)]), on=today - timedelta(days=1)
    )

    html = page(client, alice, bill_url(invoice))

    lines = rows(html, "Lignes de")
    assert lines[0].startswith("Journée de coworking") and "2 15,00 € 20 % 30,00 €" in lines[0]
    assert lines[1].startswith("Salle de réunion") and "40,00 €" in lines[1]
    assert "84,00\u00a0€" in html  # total incl. VAT: (30 + 40) × 1.2
    assert "Reste à payer</dt><dd><strong>6,00\u00a0€</strong>" in html  # 84 − 30 paid − 48 credited
    assert "Payée en partie" in html
    assert "30,00\u00a0€ le" in html and reverse("billing:receipt_pdf", args=[payment.pk]) in html
    assert f'href="{bill_url(credit)}">Avoir {credit.number}</a>' in html
    credit_page = page(client, alice, bill_url(credit))
    assert f'href="{bill_url(invoice)}">{invoice.number}</a>' in credit_page  # the invoice it corrects


def test_the_pdf_is_the_stored_one_as_an_attachment_named_after_the_reference(
    client, alice, private_operator, issued
):
    bill = issued(private_operator, alice)

    assert client.get(bill_url(bill, "billing:bill_pdf")).status_code == 302  # logged out: to the login page
    client.force_login(alice)
    response = client.get(bill_url(bill, "billing:bill_pdf"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{bill.number}.pdf"'
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    bill.refresh_from_db()
    assert bytes(bill.pdf) == response.content  # rendered once, kept, and served as kept
    assert client.get(bill_url(bill, "billing:bill_pdf")).content == response.content


def test_another_members_bill_and_its_pdf_do_not_exist(client, alice, bob, private_operator, issued):
    bill = issued(private_operator, alice)
    client.force_login(bob)

    assert client.get(bill_url(bill)).status_code == 404
    assert client.get(bill_url(bill, "billing:bill_pdf")).status_code == 404
    assert client.get(reverse("billing:bill", args=[bill.pk + 1000])).status_code == 404  # the same answer


def test_a_draft_is_never_shown_to_its_member(client, alice, private_operator, make_bill):
    draft = make_bill(private_operator, alice, [("Journée de coworking", 1, "15.00", "20")])
    client.force_login(alice)

    assert client.get(bill_url(draft)).status_code == 404
    assert client.get(bill_url(draft, "billing:bill_pdf")).status_code == 404


def test_site_staff_see_every_bill_of_their_operator_drafts_included_but_no_other(
    client, alice, sophie, carol, root, private_operator, public_operator, make_bill, issued
):
    murat = issued(private_operator, alice)
    allanche = issued(public_operator, alice, kind=Bill.Kind.STATEMENT)
    draft = make_bill(private_operator, alice, [("Journée de coworking", 1, "15.00", "20")])

    assert "Brouillon" in page(client, sophie, bill_url(draft))
    assert page(client, sophie, bill_url(murat))
    assert client.get(bill_url(murat, "billing:bill_pdf")).status_code == 200
    assert client.get(bill_url(draft, "billing:bill_pdf")).status_code == 404  # no PDF before the issue
    assert client.get(bill_url(allanche)).status_code == 404
    assert page(client, carol, bill_url(allanche))
    assert client.get(bill_url(murat)).status_code == 404
    for bill in (murat, allanche, draft):
        assert page(client, root, bill_url(bill))
    # Seeing is not owning: the staff's own list shows their own bills only.
    assert murat.number not in page(client, sophie)


# --- paying online ---------------------------------------------------------------------------------------------


class FakeSessions:
    """The provider's session endpoint (its network boundary): answers a session id and its page."""

    def __init__(self):
        self.sent = []

    def __call__(self, url, body, headers):
        self.sent.append(json.loads(body))
        return {"id": f"cs_{len(self.sent)}", "url": f"https://pay.example/checkout/cs_{len(self.sent)}"}


@pytest.fixture
def card_provider(settings, monkeypatch):
    settings.COCOTTE_PAYMENT_CHECKOUT_URL = "https://pay.example/v1/checkout/sessions"
    settings.COCOTTE_PAYMENT_SECRET = "a-test-secret"
    sessions = FakeSessions()
    monkeypatch.setitem(
        provider.PROVIDERS, "signed", lambda: provider.SignedProvider(create_session=sessions)
    )
    return sessions


def test_without_a_provider_there_is_no_pay_button(client, alice, private_operator, issued):
    bill = issued(private_operator, alice)

    assert "Payer en ligne" not in page(client, alice, bill_url(bill))
    response = client.post(reverse("billing:pay", args=[bill.pk]))
    assert response.status_code == 302 and response.url == bill_url(bill)
    assert not Payment.objects.exists()


def test_paying_online_opens_the_checkout_and_links_to_it(
    client, alice, private_operator, issued, card_provider
):
    bill = issued(private_operator, alice)
    html = page(client, alice, bill_url(bill))
    assert "Payer en ligne 18,00\u00a0€" in html

    response = client.post(reverse("billing:pay", args=[bill.pk]))

    assert response.status_code == 200
    assert 'href="https://pay.example/checkout/cs_1"' in response.content.decode()
    assert card_provider.sent[0]["amount"] == "18.00" and card_provider.sent[0]["order"] == bill.number
    assert card_provider.sent[0]["return_url"].endswith(bill_url(bill))
    pending = Payment.objects.get()
    assert (pending.status, pending.amount, pending.recorded_by) == ("pending", Decimal("18.00"), alice)


def test_only_the_debtor_pays_and_only_what_is_left(
    client, alice, sophie, private_operator, issued, card_provider, today
):
    bill = issued(private_operator, alice)
    client.force_login(sophie)  # staff of the site: sees the bill, does not pay it
    assert "Payer en ligne" not in page(client, sophie, bill_url(bill))
    assert client.post(reverse("billing:pay", args=[bill.pk])).status_code == 403

    payments.record(private_operator, alice, "18.00", Payment.Method.TRANSFER, today)
    assert "Payer en ligne" not in page(client, alice, bill_url(bill))
    response = client.post(reverse("billing:pay", args=[bill.pk]), follow=True)
    assert "est déjà réglée" in response.content.decode()
    assert not card_provider.sent


def test_paying_a_public_bodys_statement_needs_its_payfip_number(
    client, alice, public_operator, issued, settings
):
    bill = issued(public_operator, alice, kind=Bill.Kind.STATEMENT)
    settings.COCOTTE_PAYMENT_CHECKOUT_URL = "https://pay.example/v1/checkout/sessions"
    assert "Payer en ligne" not in page(client, alice, bill_url(bill))  # the card provider is not the régie's

    settings.COCOTTE_PAYFIP_NUMCLI = "012345"
    assert "Payer en ligne" in page(client, alice, bill_url(bill))


# --- the menu and the queries ----------------------------------------------------------------------------------


def test_the_menu_leads_members_to_their_bills(client, alice):
    html = page(client, alice, reverse("home"))

    assert f'<a href="{MINE}">Mes factures</a>' in html
    client.logout()
    assert f'href="{MINE}"' not in client.get(reverse("home")).content.decode()


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


# The session, the user, the roles; the organisations managed; then per section (alice, her company): the
# balance (2), a page of bills with what they still ask (1), a page of receipts (1).
LIST_QUERIES = 12


def test_the_list_reads_as_many_queries_with_one_bill_as_with_twenty(
    client, alice, company, private_operator, issued, manages, today
):
    manages(alice, company)

    def add(n: int, start: int):
        for day in range(start, start + n):
            issued(private_operator, alice, days_ago=40 - day)
            issued(private_operator, company, days_ago=40 - day)
            payments.record(private_operator, alice, "5.00", Payment.Method.TRANSFER, today)
            payments.record(private_operator, company, "5.00", Payment.Method.CHEQUE, today)

    add(1, 0)
    client.force_login(alice)
    one = count_queries(client, MINE)
    add(19, 1)
    twenty = count_queries(client, MINE)

    assert len(rows(client.get(MINE).content.decode(), "Pièces émises — À mon nom")) == 20
    assert one == twenty == LIST_QUERIES
