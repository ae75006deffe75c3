"""GET /invoices, /invoices/{id} and /invoices/{id}/pdf: the member pages' rules, as JSON.

alice owns the bills of `invoices` (tests/api/conftest.py): an invoice with a payment and a credit note, a
draft (Murat's), a statement (Allanche's, public mode). bob is another member, sophie staff of Murat, carol
staff of Allanche, root admin. Someone else's bill answers 404, as an id that names nothing."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cocotte.accounts import permissions
from cocotte.accounts.models import Role
from cocotte.billing import issuing


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_a_member_lists_their_issued_bills_newest_first_with_what_each_still_asks(api, alice, invoices):
    response = api.get("/invoices", as_=alice)

    assert ids(response) == [invoices.statement.pk, invoices.credit_note.pk, invoices.invoice.pk]
    statement, credit_note, invoice = response.json()["items"]
    assert response.json()["count"] == 3
    assert invoice == {
        "id": invoices.invoice.pk,
        "kind": "invoice",
        "status": "issued",
        "number": invoices.invoice.number,
        "reference": invoices.invoice.number,
        "issue_date": str(timezone.localdate() - timedelta(days=10)),
        "due_date": str(invoices.invoice.due_date),
        "period_start": "2027-01-01",
        "period_end": "2027-01-28",
        "operator": invoices.invoice.operator_id,
        "operator_name": "Association du Télécentre",
        "buyer_name": "Alice Martin",
        "member": alice.pk,
        "organisation": None,
        "total_excl_vat": "30.00",
        "total_vat": "6.00",
        "total_incl_vat": "36.00",
        "remaining": "8.00",  # 36 − 10 paid − 18 credited
        "payment_status": "partly_paid",
        "credited_invoice": None,
    }
    assert (credit_note["kind"], credit_note["credited_invoice"]) == ("credit_note", invoices.invoice.pk)
    assert (credit_note["remaining"], credit_note["payment_status"]) == ("0.00", None)
    assert statement["kind"] == "statement" and statement["number"] is None
    assert statement["reference"] == invoices.statement.reference and statement["reference"].startswith(
        "REL-"
    )
    assert statement["payment_status"] == "due"


def test_site_staff_list_their_operators_bills_drafts_included(api, sophie, carol, root, invoices):
    assert ids(api.get("/invoices", as_=sophie)) == [
        invoices.draft.pk,  # no issue date yet: first
        invoices.credit_note.pk,
        invoices.invoice.pk,
    ]
    draft = api.get("/invoices", as_=sophie).json()["items"][0]
    assert (draft["status"], draft["number"], draft["issue_date"], draft["remaining"]) == (
        "draft",
        None,
        None,
        "0.00",
    )
    assert ids(api.get("/invoices", as_=carol)) == [invoices.statement.pk]
    assert len(ids(api.get("/invoices", as_=root))) == 4


def test_another_member_sees_none_of_them(api, bob, invoices):
    assert ids(api.get("/invoices", as_=bob)) == []
    for bill in (invoices.invoice, invoices.statement, invoices.draft):
        for path in (f"/invoices/{bill.pk}", f"/invoices/{bill.pk}/pdf"):
            response = api.get(path, as_=bob)
            assert (response.status_code, response.json()["code"]) == (404, "not_found"), path


def test_filters_by_kind_status_and_issue_dates(api, alice, sophie, invoices):
    today = timezone.localdate()

    assert ids(api.get("/invoices", as_=alice, kind="statement")) == [invoices.statement.pk]
    assert ids(api.get("/invoices", as_=alice, kind="credit_note")) == [invoices.credit_note.pk]
    assert ids(api.get("/invoices", as_=sophie, status="draft")) == [invoices.draft.pk]
    assert ids(api.get("/invoices", as_=alice, status="draft")) == []  # a member never sees one
    after = str(today - timedelta(days=5))
    assert ids(api.get("/invoices", as_=alice, issued_after=after)) == [
        invoices.statement.pk,
        invoices.credit_note.pk,
    ]
    before = str(today - timedelta(days=5))
    assert ids(api.get("/invoices", as_=alice, issued_before=before)) == [
        invoices.credit_note.pk,
        invoices.invoice.pk,
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"kind": "receipt"}, "kind"),
        ({"status": "paid"}, "status"),
        ({"issued_after": "hier"}, "issued_after"),
        ({"limit": "1000"}, "limit"),
    ],
)
def test_a_bad_filter_is_a_422_naming_it(api, alice, invoices, query, field):
    response = api.get("/invoices", as_=alice, **query)

    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("invalid_input", field)


def test_the_list_is_paginated_like_the_other_lists(api, alice, invoices):
    first = api.get("/invoices", as_=alice, limit=2).json()
    rest = api.get("/invoices", as_=alice, limit=2, offset=2).json()

    assert first["count"] == rest["count"] == 3
    assert [i["id"] for i in first["items"] + rest["items"]] == ids(api.get("/invoices", as_=alice))


def test_one_bill_with_its_lines_payments_and_credit_notes(api, alice, invoices):
    response = api.get(f"/invoices/{invoices.invoice.pk}", as_=alice)

    assert response.status_code == 200
    body = response.json()
    assert body["remaining"] == "8.00" and body["number"] == invoices.invoice.number
    assert body["lines"] == [
        {
            "position": 1,
            "kind": "service",
            "label": "Journée de coworking",
            "revenue_type": "coworking",
            "service_start": "2027-01-01",
            "service_end": "2027-01-28",
            "quantity": "2.000",
            "unit": "day",
            "unit_price_excl_vat": "15.00",
            "vat_rate": "20.00",
            "amount_excl_vat": "30.00",
        }
    ]
    assert body["payments"] == [
        {
            "payment": invoices.payment.pk,
            "received_on": str(timezone.localdate()),
            "method": "transfer",
            "amount": "10.00",
            "receipt_number": None,
        }
    ]
    assert body["credit_notes"] == [invoices.credit_note.pk]


def test_the_pdf_is_the_issued_one_as_an_attachment(api, alice, invoices):
    response = api.get(f"/invoices/{invoices.invoice.pk}/pdf", as_=alice)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoices.invoice.number}.pdf"'
    invoices.invoice.refresh_from_db()
    assert response.content == bytes(invoices.invoice.pdf)  # kept at first rendering, served as kept
    statement = api.get(f"/invoices/{invoices.statement.pk}/pdf", as_=alice)
    assert statement["Content-Disposition"] == f'attachment; filename="{invoices.statement.reference}.pdf"'


def test_a_draft_has_no_pdf_yet(api, sophie, invoices):
    response = api.get(f"/invoices/{invoices.draft.pk}/pdf", as_=sophie)

    assert response.status_code == 409
    assert response.json()["code"] == "not_issued"


def test_a_manager_sees_the_organisations_bills_until_the_role_is_taken_back(
    api, alice, company, private_operator, make_bill
):
    bill = issuing.issue(make_bill(private_operator, company, [("Bureau", 1, "300.00", "20")]))
    permissions.grant_role(alice, Role.Name.ORGANISATION_MANAGER, company)

    assert ids(api.get("/invoices", as_=alice)) == [bill.pk]
    assert api.get(f"/invoices/{bill.pk}", as_=alice).json()["organisation"] == company.pk

    permissions.revoke_role(alice, Role.Name.ORGANISATION_MANAGER, company)

    assert ids(api.get("/invoices", as_=alice)) == []
    assert api.get(f"/invoices/{bill.pk}", as_=alice).status_code == 404


def test_the_list_reads_as_many_queries_for_one_bill_as_for_many(api, alice, private_operator, make_bill):
    def count() -> int:
        with CaptureQueriesContext(connection) as context:
            assert api.get("/invoices", as_=alice).status_code == 200
        return len(context.captured_queries)

    issuing.issue(make_bill(private_operator, alice, [("Journée", 1, "15.00", "20")]))
    api.get("/invoices", as_=alice)  # the token is made and cached
    one = count()
    for _ in range(15):
        issuing.issue(make_bill(private_operator, alice, [("Journée", 1, "15.00", "20")]))

    assert count() == one


def test_the_calls_are_documented_with_their_pdf_and_errors(api):
    document = api.get("/openapi.json").json()
    paths = document["paths"]

    pdf = paths["/api/v1/invoices/{invoice_id}/pdf"]["get"]["responses"]
    assert pdf["200"]["content"] == {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    assert set(pdf) == {"200", "401", "404", "409", "422"}
    assert set(paths["/api/v1/invoices"]["get"]["responses"]) == {"200", "401", "422"}
    invoice = document["components"]["schemas"]["InvoiceOut"]["properties"]
    assert "null" in str(invoice["number"]) and invoice["total_incl_vat"]["examples"] == ["36.00"]
