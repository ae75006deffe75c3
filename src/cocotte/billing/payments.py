"""Payments: what a debtor paid, which bills it settles, what they still owe, and the régie's receipts.

- `record` takes a payment (transfer, cheque, card, cash) in one transaction and allocates it to the given
  bills, or else to the debtor's oldest open ones, never more than a bill's remaining amount: what is left
  over stays unallocated, a credit on the debtor's account (`balance` counts it).
- What a bill still asks (`remaining`) is its total including VAT, less what received payments allocated to
  it and the issued credit notes on it. Only received payments count: an online payment waiting for its
  provider settles nothing (`provider.settle` allocates it once the provider says it is paid).
- **Public mode**: a payment taken on site (cash, cheque, card) goes through the régie, which may collect
  only the revenue types of its founding act (`Operator.regie_revenue_types`): it gets a numbered receipt
  (`R2027-000012`), from a gapless series per year under the `Sequence` row lock, as bills are numbered; the
  month's receipts make the régie's pay-in statement (état de versement, `pay_in`).

Locks, in this order: the bills being settled (so two payments never both settle the same euros), then the
receipt series. On SQLite the transaction holds the database's write lock from its start (IMMEDIATE).
"""

import calendar
from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cocotte.accounts.models import Organisation
from cocotte.core.models import audit
from cocotte.core.money import cents

from .issuing import locked_sequence
from .models import Allocation, Bill, Operator, Payment, RevenueType
from .pdf import pdf_from_template

ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("9999999999.99")  # Payment.amount: 12 digits, 2 places
OWED_KINDS = (Bill.Kind.INVOICE, Bill.Kind.STATEMENT)
# What a régie takes at its counter; transfers go to the public accountant, online payments to PayFiP.
ON_SITE = frozenset({Payment.Method.CASH, Payment.Method.CHEQUE, Payment.Method.CARD})
_MONEY = models.DecimalField(max_digits=14, decimal_places=2)


class PaymentError(ValidationError):
    """A payment that cannot be recorded or allocated, and why (in the reader's language)."""


# ---------------------------------------------------------------------------------------------------------
# Who owes what
# ---------------------------------------------------------------------------------------------------------


def debtor_filter(debtor) -> dict:
    """The lookup naming a debtor on bills and payments: a member, or an organisation."""
    if isinstance(debtor, Organisation):
        return {"organisation": debtor}
    if isinstance(debtor, get_user_model()):
        return {"member": debtor}
    raise PaymentError(_("Un paiement vient d’un membre ou d’une organisation."))


def with_remaining(bills: models.QuerySet) -> models.QuerySet:
    """`bills` annotated with `allocated` (by received payments) and `credited` (by issued credit notes)."""
    allocated = (
        Allocation.objects.filter(bill=OuterRef("pk"), payment__status=Payment.Status.RECEIVED)
        .values("bill")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    credited = (
        Bill.objects.filter(credited_bill=OuterRef("pk"), status=Bill.Status.ISSUED)
        .values("credited_bill")
        .annotate(total=Sum("total_incl_vat"))
        .values("total")
    )
    return bills.annotate(
        allocated=Coalesce(Subquery(allocated, output_field=_MONEY), Value(ZERO), output_field=_MONEY),
        credited=Coalesce(Subquery(credited, output_field=_MONEY), Value(ZERO), output_field=_MONEY),
    )


def left_of(bill: Bill) -> Decimal:
    """What a bill annotated by `with_remaining` still asks."""
    return cents(bill.total_incl_vat - bill.allocated - bill.credited)


def remaining(bill: Bill) -> Decimal:
    """What an issued invoice or statement still asks; nothing for a credit note or a draft."""
    if bill.kind not in OWED_KINDS or bill.status != Bill.Status.ISSUED:
        return ZERO
    return left_of(with_remaining(Bill.objects.filter(pk=bill.pk)).get())


def is_paid(bill: Bill) -> bool:
    return remaining(bill) <= 0


def left_to_pay(bill: Bill) -> Decimal:
    """What a bill annotated by `with_remaining` still asks, as `remaining` counts it: nothing for a draft
    or a credit note. For lists: no query per bill."""
    if bill.kind not in OWED_KINDS or bill.status != Bill.Status.ISSUED:
        return ZERO
    return left_of(bill)


class Settlement(models.TextChoices):
    """Where an issued invoice or statement stands for its debtor."""

    PAID = "paid", gettext_lazy("payée")
    PARTLY_PAID = "partly_paid", gettext_lazy("payée en partie")
    DUE = "due", gettext_lazy("à payer")
    OVERDUE = "overdue", gettext_lazy("en retard")


def settlement_of(bill: Bill, today: date) -> str | None:
    """The `Settlement` of a bill annotated by `with_remaining` on `today`: paid when nothing is left;
    overdue when something is left after its due date (paid on the due date is in time); partly paid when
    some of it was paid or credited; else due. None for a draft or a credit note, which ask nothing."""
    if bill.kind not in OWED_KINDS or bill.status != Bill.Status.ISSUED:
        return None
    left = left_of(bill)
    if left <= 0:
        return Settlement.PAID
    if bill.due_date is not None and bill.due_date < today:
        return Settlement.OVERDUE
    if left < bill.total_incl_vat:
        return Settlement.PARTLY_PAID
    return Settlement.DUE


def open_bills(debtor, operator: Operator | None = None) -> list[Bill]:
    """The debtor's issued invoices and statements that still ask something, oldest first, each with its
    `remaining` amount."""
    bills = Bill.objects.filter(status=Bill.Status.ISSUED, kind__in=OWED_KINDS, **debtor_filter(debtor))
    if operator is not None:
        bills = bills.filter(operator=operator)
    found = []
    for bill in with_remaining(bills).order_by("issue_date", "issued_at", "pk"):
        bill.remaining = left_of(bill)
        if bill.remaining > 0:
            found.append(bill)
    return found


def balance(debtor, operator: Operator | None = None) -> Decimal:
    """What the debtor owes (negative: a credit on their account): issued invoices and statements, less
    issued credit notes and received payments."""
    where = debtor_filter(debtor)
    if operator is not None:
        where["operator"] = operator
    issued = Bill.objects.filter(status=Bill.Status.ISSUED, **where).aggregate(
        owed=Sum("total_incl_vat", filter=Q(kind__in=OWED_KINDS), default=ZERO),
        credited=Sum("total_incl_vat", filter=Q(kind=Bill.Kind.CREDIT_NOTE), default=ZERO),
    )
    paid = Payment.objects.filter(status=Payment.Status.RECEIVED, **where).aggregate(
        total=Sum("amount", default=ZERO)
    )["total"]
    return cents(issued["owed"] - issued["credited"] - paid)


def unallocated(payment: Payment) -> Decimal:
    """What of a payment no bill took yet: a credit on the debtor's account."""
    taken = payment.allocations.aggregate(total=Sum("amount", default=ZERO))["total"]
    return cents(payment.amount - taken)


# ---------------------------------------------------------------------------------------------------------
# Recording and allocating
# ---------------------------------------------------------------------------------------------------------


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise PaymentError(_("Montant invalide.")) from None
    if not amount.is_finite() or amount <= 0:
        raise PaymentError(_("Le montant d’un paiement est positif."))
    if amount != cents(amount):
        raise PaymentError(_("Un montant se donne au centime près."))
    if amount > MAX_AMOUNT:
        raise PaymentError(_("Montant trop élevé."))
    return amount


def _check_regie(operator: Operator, method: str, revenue_type: str) -> bool:
    """Whether the payment goes through the régie (and gets a receipt); refuses what it may not collect."""
    if not (operator.is_public and method in ON_SITE):
        return False
    if not revenue_type:
        raise PaymentError(_("Un encaissement à la régie indique le type de recette qu’il paie."))
    if revenue_type not in (operator.regie_revenue_types or []):
        raise PaymentError(
            _("La régie de %(operator)s n’est pas autorisée à encaisser : %(type)s.")
            % {"operator": operator.name, "type": RevenueType(revenue_type).label}
        )
    return True


def _bills_to_settle(operator: Operator, where: dict, bills) -> list[Bill]:
    """The bills a payment settles, locked, with their `remaining` amount: the given ones in the given
    order, or else the debtor's open ones at this operator, oldest first."""
    # Locked in one order whatever the caller asked (by primary key): two payments never wait on each other.
    locked = Bill.objects.select_for_update().filter(
        operator=operator, status=Bill.Status.ISSUED, kind__in=OWED_KINDS, **where
    )
    if bills is None:
        chosen = sorted(locked.order_by("pk"), key=lambda bill: (bill.issue_date, bill.issued_at, bill.pk))
    else:
        try:
            wanted = [bill.pk if isinstance(bill, Bill) else int(bill) for bill in bills]
        except (TypeError, ValueError):
            raise PaymentError(_("Factures à régler invalides.")) from None
        by_pk = {bill.pk: bill for bill in locked.filter(pk__in=wanted).order_by("pk")}
        if len(by_pk) != len(set(wanted)):
            raise PaymentError(
                _("Un paiement règle des factures ou relevés émis du même débiteur et de la même structure.")
            )
        chosen = [by_pk[pk] for pk in dict.fromkeys(wanted)]
    # Read after the lock: what others settled before us is counted.
    left = {b.pk: left_of(b) for b in with_remaining(Bill.objects.filter(pk__in=[b.pk for b in chosen]))}
    for bill in chosen:
        bill.remaining = left[bill.pk]
    return [bill for bill in chosen if bill.remaining > 0]


def _spread(payment: Payment, bills: list[Bill], available: Decimal) -> list[Allocation]:
    """Allocate `available` over the bills in their order, each up to what it still asks."""
    allocations = []
    for bill in bills:
        if available <= 0:
            break
        part = min(available, bill.remaining)
        allocations.append(Allocation(payment=payment, bill=bill, amount=part))
        available -= part
    Allocation.objects.bulk_create(allocations)
    return allocations


def allocate(payment: Payment, bills=None, *, by=None) -> list[Allocation]:
    """Allocate a received payment's unallocated part (a credit on account) to bills: the given ones, or
    the debtor's oldest open ones. Returns the new allocations."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",)).select_related("operator").get(pk=payment.pk)
        )
        if payment.status != Payment.Status.RECEIVED:
            raise PaymentError(_("Seul un paiement reçu règle des factures."))
        where = debtor_filter(payment.member or payment.organisation)
        allocations = _spread(payment, _bills_to_settle(payment.operator, where, bills), unallocated(payment))
        if allocations:
            audit(by, "billing.allocate", payment, allocations=_described(allocations))
    return allocations


def _described(allocations) -> dict:
    return {allocation.bill.reference: str(allocation.amount) for allocation in allocations}


def record(
    operator: Operator,
    debtor,
    amount,
    method: str,
    received_on: date,
    *,
    reference: str = "",
    revenue_type: str = "",
    bills=None,
    by=None,
) -> Payment:
    """Record a payment received from a member or an organisation, and allocate it (see the module).

    In public mode a payment taken on site gets its régie receipt number here, or is refused — with
    nothing written — when it names no revenue type, or one the régie may not collect."""
    where = debtor_filter(debtor)
    amount = _amount(amount)
    if method not in Payment.Method.values:
        raise PaymentError(_("Moyen de paiement inconnu."))
    if method == Payment.Method.ONLINE:
        raise PaymentError(_("Un paiement en ligne est enregistré par son prestataire, pas à la main."))
    if revenue_type and revenue_type not in RevenueType.values:
        raise PaymentError(_("Type de recette inconnu."))
    if received_on > timezone.localdate():
        raise PaymentError(_("Un paiement se reçoit aujourd’hui ou avant, pas dans le futur."))
    through_regie = _check_regie(operator, method, revenue_type)
    with transaction.atomic():
        payment = Payment(
            operator=operator,
            **where,
            amount=amount,
            method=method,
            status=Payment.Status.RECEIVED,
            received_on=received_on,
            reference=reference.strip(),
            revenue_type=revenue_type,
            recorded_by=by if by is not None and getattr(by, "is_authenticated", False) else None,
        )
        # The bills first, the receipt series last: the series stays locked for as short a time as can be.
        to_settle = _bills_to_settle(operator, where, bills)
        if through_regie:
            _number_receipt(payment)
        payment.save()
        allocations = _spread(payment, to_settle, amount)
        audit(
            by,
            "billing.payment",
            payment,
            amount=str(amount),
            method=method,
            receipt=payment.receipt_number,
            allocations=_described(allocations),
        )
    return payment


def _number_receipt(payment: Payment) -> None:
    """The next receipt number of the payment's year: gapless, and chronological like bills."""
    sequence = locked_sequence(payment.operator, f"R{payment.received_on.year}")
    if sequence.last_issued_on and payment.received_on < sequence.last_issued_on:
        raise PaymentError(
            _("La régie a déjà une quittance du %(day)s : les quittances se suivent dans l’ordre des dates.")
            % {"day": sequence.last_issued_on.strftime("%d/%m/%Y")}
        )
    sequence.last += 1
    sequence.last_issued_on = payment.received_on
    sequence.save(update_fields=["last", "last_issued_on"])
    payment.receipt_series, payment.receipt_sequence = sequence.series, sequence.last
    payment.receipt_number = f"{sequence.series}-{sequence.last:06d}"


# ---------------------------------------------------------------------------------------------------------
# Documents: the receipt, the régie's pay-in statement
# ---------------------------------------------------------------------------------------------------------


def _day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _euros(value) -> str:
    from .documents import euros  # the documents' one way to print an amount

    return euros(value)


def _operator_lines(operator: Operator) -> list[str]:
    return [
        operator.legal_name,
        operator.street,
        f"{operator.postal_code} {operator.city}",
        _("SIRET %(siret)s") % {"siret": operator.siret},
    ]


def receipt_context(payment: Payment) -> dict:
    allocations = list(payment.allocations.select_related("bill").order_by("pk"))
    is_regie = bool(payment.receipt_number)
    title = (
        _("Quittance n° %(number)s") % {"number": payment.receipt_number}
        if is_regie
        else _("Reçu de paiement")
    )
    return {
        "title": title,
        "payment": payment,
        "is_regie": is_regie,
        "operator": payment.operator,
        "operator_lines": _operator_lines(payment.operator),
        "debtor": str(payment.member or payment.organisation),
        "day": _day(payment.received_on),
        "amount": _euros(payment.amount),
        "method": payment.get_method_display(),
        "revenue_type": payment.get_revenue_type_display() if payment.revenue_type else "",
        "allocations": [(a.bill.reference, _day(a.bill.issue_date), _euros(a.amount)) for a in allocations],
        "credit": _euros(payment.amount - sum((a.amount for a in allocations), ZERO)),
        "has_credit": sum((a.amount for a in allocations), ZERO) < payment.amount,
        "recorded_by": (payment.recorded_by.get_full_name() or payment.recorded_by.email)
        if payment.recorded_by
        else "",
    }


def receipt_pdf(payment: Payment) -> bytes:
    """The receipt of a received payment as a PDF/A-3b: the régie's numbered receipt in public mode."""
    if payment.status != Payment.Status.RECEIVED:
        raise PaymentError(_("Seul un paiement reçu a un reçu."))
    with translation.override("fr"):  # kept as it was handed over, like the bills
        return pdf_from_template("billing/pdf/receipt.html", receipt_context(payment))


def pay_in(operator: Operator, year: int, month: int) -> dict:
    """The régie's pay-in statement of a month: its receipts in number order, the totals per revenue type,
    per method, and per revenue type and method, and the receipts' first and last numbers."""
    if not operator.is_public:
        raise PaymentError(_("Seule une collectivité en régie a un état de versement."))
    start = date(year, month, 1)
    end = date(year, month, calendar.monthrange(year, month)[1])
    receipts = list(
        Payment.objects.filter(
            operator=operator,
            status=Payment.Status.RECEIVED,
            received_on__gte=start,
            received_on__lte=end,
        )
        .exclude(receipt_number="")
        .select_related("member", "organisation")
        .order_by("receipt_series", "receipt_sequence")
    )
    types, methods = dict(RevenueType.choices), dict(Payment.Method.choices)
    by_type: dict[str, Decimal] = {}
    by_method: dict[str, Decimal] = {}
    by_both: dict[tuple[str, str], Decimal] = {}
    for receipt in receipts:
        by_type[receipt.revenue_type] = by_type.get(receipt.revenue_type, ZERO) + receipt.amount
        by_method[receipt.method] = by_method.get(receipt.method, ZERO) + receipt.amount
        key = (receipt.revenue_type, receipt.method)
        by_both[key] = by_both.get(key, ZERO) + receipt.amount
    sequences = [r.receipt_sequence for r in receipts]
    return {
        "operator": operator,
        "start": start,
        "end": end,
        "receipts": receipts,
        "count": len(receipts),
        "total": cents(sum((r.amount for r in receipts), ZERO)),
        "first_number": receipts[0].receipt_number if receipts else "",
        "last_number": receipts[-1].receipt_number if receipts else "",
        # Gapless by construction; said on the statement so that the accountant need not count.
        "continuous": sequences == list(range(sequences[0], sequences[0] + len(sequences)))
        if receipts
        else True,
        "by_revenue_type": [(code, types[code], cents(total)) for code, total in sorted(by_type.items())],
        "by_method": [(code, methods[code], cents(total)) for code, total in sorted(by_method.items())],
        "by_revenue_type_and_method": {key: cents(total) for key, total in sorted(by_both.items())},
    }


def pay_in_pdf(operator: Operator, year: int, month: int) -> bytes:
    """The pay-in statement as a PDF/A-3b, to hand to the public accountant with the month's takings."""
    with translation.override("fr"):
        statement = pay_in(operator, year, month)
        types, methods = dict(RevenueType.choices), dict(Payment.Method.choices)
        context = {
            **statement,
            "title": _("État de versement de la régie de recettes"),
            "operator_lines": _operator_lines(operator),
            "period": _("du %(start)s au %(end)s")
            % {"start": _day(statement["start"]), "end": _day(statement["end"])},
            "day": _day(timezone.localdate()),
            "total": _euros(statement["total"]),
            "rows": [
                {
                    "number": r.receipt_number,
                    "day": _day(r.received_on),
                    "debtor": str(r.member or r.organisation),
                    "revenue_type": types.get(r.revenue_type, r.revenue_type),
                    "method": methods[r.method],
                    "reference": r.reference,
                    "amount": _euros(r.amount),
                }
                for r in statement["receipts"]
            ],
            "by_revenue_type": [
                (label, _euros(total)) for _code, label, total in statement["by_revenue_type"]
            ],
            "by_method": [(label, _euros(total)) for _code, label, total in statement["by_method"]],
            "cross": [
                (types.get(rt, rt), methods[m], _euros(total))
                for (rt, m), total in statement["by_revenue_type_and_method"].items()
            ],
        }
        return pdf_from_template("billing/pdf/pay_in.html", context)
