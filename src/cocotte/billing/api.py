"""API: bills — invoices, credit notes and statements — with what they still ask, their lines and their PDF.

Who sees what is `access`'s, as on the member pages: a member their own issued bills and those of the
organisations they manage; the staff of a site every bill of its operator, drafts included. Someone else's
bill does not exist (404). Thin: parse, find what the caller may see, answer.
"""

import re
from datetime import date
from enum import StrEnum
from typing import Annotated

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import BeforeValidator

from cocotte.accounts.auth import member_auth
from cocotte.bookings.api import Pagination
from cocotte.core.errors import Conflict
from cocotte.core.money import cents
from cocotte.core.schemas import error_responses

from . import access, issuing, payments
from .models import Bill, BillLine, Payment, RevenueType
from .views import pdf_response

router = Router(tags=["invoices"], auth=member_auth)

# Named apart from the models' « Kind » and « Status » (one OpenAPI schema per name, see cocotte.api).
InvoiceKind = StrEnum("InvoiceKind", [(choice.name, choice.value) for choice in Bill.Kind])
InvoiceStatus = StrEnum("InvoiceStatus", [(choice.name, choice.value) for choice in Bill.Status])
PaymentStatus = StrEnum("PaymentStatus", [(choice.name, choice.value) for choice in payments.Settlement])
LineKind = StrEnum("LineKind", [(choice.name, choice.value) for choice in BillLine.Kind])
LineRevenueType = StrEnum("LineRevenueType", [(choice.name, choice.value) for choice in RevenueType])

# A bill's id, as GET /invoices gives it (`id`): positive; one that names nothing the caller sees is a 404.
InvoiceId = Annotated[int, Field(json_schema_extra={"minimum": 1, "examples": [1]})]

ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value):
    """A day written AAAA-MM-JJ, nothing else: pydantic alone also read « 0 » as 1970-01-01 (a timestamp)."""
    if isinstance(value, str) and not ISO_DAY.fullmatch(value):
        raise ValueError(_("Une date AAAA-MM-JJ est attendue."))
    return value


Day = Annotated[date, BeforeValidator(_iso_day), Field(json_schema_extra={"examples": ["2027-01-31"]})]

# Amounts are decimal strings, euros to the cent, as in a booking's `price`.
Amount = Annotated[str, Field(json_schema_extra={"pattern": r"^-?\d+\.\d{2}$", "examples": ["36.00"]})]

PDF_DESCRIPTION = (
    "Le PDF de la pièce émise, tel qu’il a été émis et conservé : PDF/A-3 avec sa facture électronique "
    "Factur-X (XML CII, EN 16931) pour une facture ou un avoir ; PDF/A-3 sans XML pour un relevé de liquidation."
)


def _amount(value) -> str:
    return str(cents(value))


class InvoiceOut(Schema):
    """A bill: an invoice or a credit note (private mode), or a liquidation statement (public mode)."""

    id: int
    kind: InvoiceKind = Field(
        ..., description="`invoice` (facture), `credit_note` (avoir), `statement` (relevé de liquidation)."
    )
    status: InvoiceStatus = Field(
        ..., description="`issued` (émise, définitive) ; `draft` (brouillon : l’équipe seulement le voit)."
    )
    number: str | None = Field(
        ...,
        description="Le numéro légal d’une facture ou d’un avoir émis ; null pour un brouillon et pour un relevé "
        "(une collectivité en régie n’émet pas de numéro de facture : le titre de recettes est le sien).",
        examples=["F2027-000123"],
    )
    reference: str = Field(
        ...,
        description="Ce qui nomme la pièce : son numéro, ou la référence d’un relevé ou d’un brouillon.",
        examples=["F2027-000123", "REL-202701-000042"],
    )
    issue_date: date | None = Field(..., description="Date d’émission ; null pour un brouillon.")
    due_date: date | None = Field(..., description="Échéance ; null pour un brouillon.")
    period_start: date
    period_end: date
    operator: int = Field(..., description="La structure qui émet la pièce.")
    operator_name: str
    buyer_name: str = Field(..., description="Le nom auquel la pièce est émise (figé à l’émission).")
    member: int | None = Field(..., description="Le membre débiteur, ou null pour une organisation.")
    organisation: int | None = Field(..., description="L’organisation débitrice, ou null pour un membre.")
    total_excl_vat: Amount
    total_vat: Amount
    total_incl_vat: Amount
    remaining: Amount = Field(
        ...,
        description="Ce qui reste à payer : le total TTC moins les paiements reçus et les avoirs émis ; "
        "0.00 pour un avoir et pour un brouillon.",
    )
    payment_status: PaymentStatus | None = Field(
        ...,
        description="`paid`, `partly_paid`, `due`, `overdue` (échéance passée, reste à payer) ; "
        "null pour un avoir et pour un brouillon.",
    )
    credited_invoice: int | None = Field(..., description="Pour un avoir : la facture qu’il corrige.")

    @staticmethod
    def resolve_number(obj: Bill) -> str | None:
        return obj.number or None

    @staticmethod
    def resolve_operator(obj: Bill) -> int:
        return obj.operator_id

    @staticmethod
    def resolve_operator_name(obj: Bill) -> str:
        return obj.operator.name

    @staticmethod
    def resolve_member(obj: Bill) -> int | None:
        return obj.member_id

    @staticmethod
    def resolve_organisation(obj: Bill) -> int | None:
        return obj.organisation_id

    @staticmethod
    def resolve_total_excl_vat(obj: Bill) -> str:
        return _amount(obj.total_excl_vat)

    @staticmethod
    def resolve_total_vat(obj: Bill) -> str:
        return _amount(obj.total_vat)

    @staticmethod
    def resolve_total_incl_vat(obj: Bill) -> str:
        return _amount(obj.total_incl_vat)

    @staticmethod
    def resolve_remaining(obj: Bill) -> str:
        return _amount(payments.left_to_pay(obj))  # annotated by payments.with_remaining: no query

    @staticmethod
    def resolve_payment_status(obj: Bill) -> str | None:
        return payments.settlement_of(obj, timezone.localdate())

    @staticmethod
    def resolve_credited_invoice(obj: Bill) -> int | None:
        return obj.credited_bill_id


class InvoiceLineOut(Schema):
    position: int
    kind: LineKind = Field(..., description="`service` (prestation) ou `aid` (aide, un montant négatif).")
    label: str
    revenue_type: LineRevenueType
    service_start: date
    service_end: date
    quantity: str = Field(..., examples=["2.000"])
    unit: str = Field(..., examples=["day"])
    unit_price_excl_vat: Amount
    vat_rate: str = Field(..., description="Taux de TVA en pourcentage.", examples=["20.00"])
    amount_excl_vat: Amount

    @staticmethod
    def resolve_quantity(obj: BillLine) -> str:
        return f"{obj.quantity:.3f}"

    @staticmethod
    def resolve_unit_price_excl_vat(obj: BillLine) -> str:
        return _amount(obj.unit_price_excl_vat)

    @staticmethod
    def resolve_vat_rate(obj: BillLine) -> str:
        return f"{obj.vat_rate:.2f}"

    @staticmethod
    def resolve_amount_excl_vat(obj: BillLine) -> str:
        return _amount(obj.amount_excl_vat)


class InvoicePaymentOut(Schema):
    """A received payment's part that settles the bill."""

    payment: int
    received_on: date
    method: str = Field(..., examples=["transfer"])
    amount: Amount
    receipt_number: str | None = Field(..., description="Le n° de quittance d’une régie de recettes.")


class InvoiceDetailOut(InvoiceOut):
    lines: list[InvoiceLineOut]
    payments: list[InvoicePaymentOut] = Field(..., description="Les paiements reçus qui la règlent.")
    credit_notes: list[int] = Field(..., description="Les avoirs émis qui la corrigent.")

    @staticmethod
    def resolve_lines(obj: Bill):
        return obj.lines.order_by("position")

    @staticmethod
    def resolve_payments(obj: Bill) -> list[dict]:
        allocations = (
            obj.allocations.filter(payment__status=Payment.Status.RECEIVED)
            .select_related("payment")
            .order_by("payment__received_on", "pk")
        )
        return [
            {
                "payment": allocation.payment_id,
                "received_on": allocation.payment.received_on,
                "method": allocation.payment.method,
                "amount": _amount(allocation.amount),
                "receipt_number": allocation.payment.receipt_number or None,
            }
            for allocation in allocations
        ]

    @staticmethod
    def resolve_credit_notes(obj: Bill) -> list[int]:
        return list(
            obj.credit_notes.filter(status=Bill.Status.ISSUED).order_by("pk").values_list("pk", flat=True)
        )


class InvoiceFilters(Schema):
    kind: InvoiceKind | None = None
    status: InvoiceStatus | None = Field(
        None, description="`draft` ne trouve que pour l’équipe des sites : un membre ne voit que les émises."
    )
    issued_after: Day | None = Field(None, description="Émises ce jour ou après.")
    issued_before: Day | None = Field(None, description="Émises ce jour ou avant.")


def _bills():
    """How bills are read here: their operator, what they still ask, never their stored PDF."""
    return payments.with_remaining(Bill.objects.select_related("operator").defer("pdf"))


@router.get(
    "/invoices",
    response={200: list[InvoiceOut], **error_responses(401, 422)},
    summary="Mes factures, avoirs et relevés (et ceux des organisations que je gère ; l’équipe : ceux de ses sites)",
)
@paginate(Pagination)
def list_invoices(request, filters: Query[InvoiceFilters]):
    """Newest first (drafts, which have no date yet, before). A member sees the bills issued to them and to
    the organisations they manage; the staff of a site also every bill of its operator, drafts included."""
    bills = access.visible_bills(request.auth, _bills())
    if filters.kind:
        bills = bills.filter(kind=filters.kind)
    if filters.status:
        bills = bills.filter(status=filters.status)
    if filters.issued_after:
        bills = bills.filter(issue_date__gte=filters.issued_after)
    if filters.issued_before:
        bills = bills.filter(issue_date__lte=filters.issued_before)
    return bills.order_by(F("issue_date").desc(nulls_first=True), "-pk")


@router.get(
    "/invoices/{invoice_id}",
    response={200: InvoiceDetailOut, **error_responses(401, 404, 422)},
    summary="Une facture, un avoir ou un relevé, avec ses lignes, ses paiements et ses avoirs",
)
def get_invoice(request, invoice_id: InvoiceId):
    return access.get_bill_for(request.auth, invoice_id, _bills())


class NotIssued(Conflict):
    """A draft asked for its PDF: it has none until it is issued."""

    code = "not_issued"


@router.get(
    "/invoices/{invoice_id}/pdf",
    response={200: None, **error_responses(401, 404, 409, 422)},
    summary="Le PDF d’une pièce émise (PDF/A-3, Factur-X pour une facture ou un avoir)",
    openapi_extra={
        "responses": {
            200: {
                "description": PDF_DESCRIPTION,
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def get_invoice_pdf(request, invoice_id: InvoiceId):
    """The stored PDF, as an attachment named after the reference. A draft has none yet: 409 `not_issued`."""
    bill = access.get_bill_for(request.auth, invoice_id, Bill.objects.select_related("operator"))
    if not bill.is_issued:
        raise NotIssued(_("Un brouillon n’a pas encore de PDF : il s’obtient à l’émission."))
    return pdf_response(issuing.render_pdf(bill), f"{bill.reference}.pdf")
