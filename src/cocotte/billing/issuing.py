"""Issuing a bill: the moment it gets its number, its frozen content and its place in the chain.

`issue` runs in one short transaction under the lock of its series' `Sequence` row: the next number (gapless,
chronological: a bill is never issued on a date before the series' last), the seller's details as they are
today, the totals (`totals`), and the **footprint** — SHA-256 of the previous footprint of the series and of
the bill's canonical content. The PDF/A-3 (with its Factur-X for invoices and credit notes) is rendered from
that frozen content afterwards, outside the lock, so that two processes issuing at once only queue for the
number (`render_pdf`; a failed rendering is done again from the same content, never changing it).

`verify` recomputes every chain: a byte changed behind the application's back breaks the footprint of that
bill (and only the chain's link says which one was first).
"""

import hashlib
import json
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cocotte.core.models import AuditEntry, audit

from .models import Bill, BillLine, Charge, Closing, Operator, Sequence
from .totals import totals_of


class IssueError(Exception):
    """A bill that cannot be issued, and why (in the reader's language)."""

    bill_name = ""  # whom the draft was for, when `issue_many` reports it


class AlreadyIssued(IssueError):
    """Issued already: by another process at the same moment, or twice asked."""


def series_of(operator: Operator, kind: str, year: int) -> str:
    prefix = {
        Bill.Kind.INVOICE: operator.invoice_prefix,
        Bill.Kind.CREDIT_NOTE: operator.credit_note_prefix,
        Bill.Kind.STATEMENT: "LIQ",
    }[kind]
    return f"{prefix}{year}"


def number_of(series: str, sequence: int) -> str:
    return f"{series}-{sequence:06d}"


def seller_of(operator: Operator) -> dict:
    """The seller's details printed on a bill, as they are on the day it is issued."""
    return {
        "name": operator.legal_name,
        "trading_name": operator.name,
        "legal_form": operator.legal_form,
        "street": operator.street,
        "postal_code": operator.postal_code,
        "city": operator.city,
        "country": "FR",
        "siret": operator.siret,
        "siren": operator.siren,
        "rcs": operator.rcs,
        "share_capital": operator.share_capital,
        "vat_number": operator.vat_number,
        "vat_franchise": operator.vat_franchise,
        "vat_on_debits": operator.vat_on_debits,
        "email": operator.email,
        "iban": operator.iban,
        "bic": operator.bic,
        "mode": operator.mode,
    }


def _money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def canonical_content(bill: Bill, lines) -> bytes:
    """Everything the bill says, in one stable byte string: what its footprint is made of."""
    content = {
        "operator": bill.operator_id,
        "kind": bill.kind,
        "series": bill.series,
        "sequence": bill.sequence,
        "number": bill.number,
        "issue_date": bill.issue_date.isoformat() if bill.issue_date else None,
        "due_date": bill.due_date.isoformat() if bill.due_date else None,
        "period": [bill.period_start.isoformat(), bill.period_end.isoformat()],
        "member": bill.member_id,
        "organisation": bill.organisation_id,
        "buyer": [
            bill.buyer_name,
            bill.buyer_address,
            bill.buyer_email,
            bill.buyer_siren,
            bill.buyer_vat_number,
            bill.buyer_is_business,
            bill.buyer_is_public,
            bill.commitment_reference,
            bill.purchase_order,
        ],
        "seller": bill.seller,
        "credited_bill": bill.credited_bill_id,
        "note": bill.note,
        "totals": [_money(bill.total_excl_vat), _money(bill.total_vat), _money(bill.total_incl_vat)],
        "lines": [
            [
                line.position,
                line.kind,
                line.label,
                line.revenue_type,
                line.service_start.isoformat(),
                line.service_end.isoformat(),
                str(Decimal(line.quantity).quantize(Decimal("0.001"))),
                line.unit,
                _money(line.unit_price_excl_vat),
                _money(line.vat_rate),
                _money(line.amount_excl_vat),
                line.aid_id,
            ]
            for line in sorted(lines, key=lambda line: line.position)
        ],
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def footprint_of(previous: str, content: bytes) -> str:
    return hashlib.sha256(previous.encode() + b"\n" + content).hexdigest()


def locked_sequence(operator: Operator, series: str) -> Sequence:
    """The series' row, locked until the transaction ends (created on first use)."""
    try:
        with transaction.atomic():
            Sequence.objects.get_or_create(operator=operator, series=series)
    except IntegrityError:
        pass  # created at the same moment by another process: it exists now
    return Sequence.objects.select_for_update().get(operator=operator, series=series)


def closed_until(operator: Operator) -> date | None:
    """The last day of the operator's last closed period: nothing is issued on or before it."""
    return (
        Closing.objects.filter(operator=operator)
        .order_by("-ends_on")
        .values_list("ends_on", flat=True)
        .first()
    )


def issue(bill: Bill, *, by=None, on: date | None = None) -> Bill:
    """Number, freeze and chain a draft bill. `on` is the issue date (today by default)."""
    [issued] = issue_many([bill], by=by, on=on)
    if isinstance(issued, IssueError):
        raise issued
    return issued


def issue_many(bills, *, by=None, on: date | None = None) -> list["Bill | IssueError"]:
    """Number, freeze and chain drafts (bills or their ids) in one transaction, in the order given: each result
    is the issued bill, or the `IssueError` that kept it a draft (the others are issued all the same).

    The series' row is locked once for all of them (a billing run issues a thousand bills without a
    thousand round trips); numbers and the chain are exactly those of issuing them one by one."""
    on = on or timezone.localdate()
    ids = [getattr(bill, "pk", bill) for bill in bills]
    if not ids:
        return []
    with transaction.atomic():
        rows = (
            Bill.objects.select_for_update(of=("self",))
            .select_related("operator", "credited_bill")
            .in_bulk(ids)
        )
        lines_of: dict[int, list[BillLine]] = {pk: [] for pk in ids}
        for line in BillLine.objects.filter(bill_id__in=ids).order_by("bill_id", "position"):
            lines_of[line.bill_id].append(line)
        sequences: dict[str, Sequence] = {}
        results, issued = [], []
        for pk in ids:
            bill = rows.get(pk)
            try:
                if bill is None:
                    raise IssueError(_("Pièce introuvable."))
                _issue_one(bill, lines_of[pk], sequences, by=by, on=on)
            except IssueError as error:
                error.bill_name = bill.buyer_name if bill else ""
                results.append(error)
                continue
            results.append(bill)
            issued.append(bill)
        for sequence in sequences.values():
            sequence.save(update_fields=["last", "last_footprint", "last_issued_on"])
        if issued:
            Charge.objects.filter(bill__in=issued).update(status=Charge.Status.BILLED)
            actor = by if by is not None and getattr(by, "is_authenticated", False) else None
            kind = ContentType.objects.get_for_model(Bill)
            AuditEntry.objects.bulk_create(
                AuditEntry(
                    actor=actor,
                    action="billing.issue",
                    content_type=kind,
                    object_id=bill.pk,
                    data={"number": bill.number or bill.reference, "total": str(bill.total_incl_vat)},
                )
                for bill in issued
            )
    return results


def _issue_one(bill: Bill, lines: list[BillLine], sequences: dict, *, by, on: date) -> None:
    """Check, number, freeze and chain one locked draft; its series' row is locked on first use."""
    if bill.is_issued:
        raise AlreadyIssued(_("%(bill)s est déjà émise.") % {"bill": bill.reference})
    if not lines:
        raise IssueError(_("Une pièce sans ligne ne s’émet pas."))
    operator = bill.operator
    if bill.kind != Bill.Kind.STATEMENT and operator.is_public:
        raise IssueError(_("Une collectivité en régie n’émet pas de facture : elle établit des relevés."))
    if bill.kind == Bill.Kind.STATEMENT and not operator.is_public:
        raise IssueError(_("Une structure privée émet des factures, pas des relevés de liquidation."))
    totals = totals_of(lines)
    if bill.kind == Bill.Kind.CREDIT_NOTE:
        _check_credit_note(bill, totals.incl_vat)
    elif totals.incl_vat < 0:
        raise IssueError(_("Le total est négatif : c’est un avoir qu’il faut établir."))

    series = series_of(operator, bill.kind, on.year)
    if series not in sequences:
        sequences[series] = locked_sequence(operator, series)
        # Read under the series' lock, which a closing takes too: no bill slips into a period being closed.
        if (closed := closed_until(operator)) and on <= closed:
            del sequences[series]
            raise IssueError(
                _("La période jusqu’au %(day)s est clôturée.") % {"day": closed.strftime("%d/%m/%Y")}
            )
    sequence = sequences[series]
    if sequence.last_issued_on and on < sequence.last_issued_on:
        raise IssueError(
            _("La série %(series)s a déjà une pièce du %(day)s : la numérotation suit les dates.")
            % {"series": sequence.series, "day": sequence.last_issued_on.strftime("%d/%m/%Y")}
        )
    sequence.last += 1
    bill.series, bill.sequence = sequence.series, sequence.last
    bill.number = "" if bill.kind == Bill.Kind.STATEMENT else number_of(sequence.series, sequence.last)
    bill.issue_date = on
    bill.due_date = on + timedelta(days=operator.payment_days)
    bill.seller = seller_of(operator)
    bill.total_excl_vat, bill.total_vat, bill.total_incl_vat = totals.excl_vat, totals.vat, totals.incl_vat
    bill.status = Bill.Status.ISSUED
    bill.issued_at = timezone.now()
    bill.issued_by = by if by is not None and getattr(by, "is_authenticated", False) else None
    bill.previous_footprint = sequence.last_footprint
    bill.footprint = footprint_of(bill.previous_footprint, canonical_content(bill, lines))
    bill._issuing = True
    bill.save()
    bill._issuing = False
    sequence.last_footprint, sequence.last_issued_on = bill.footprint, on


def _check_credit_note(bill: Bill, total: Decimal) -> None:
    original = bill.credited_bill
    if original is None or not original.is_issued or original.kind != Bill.Kind.INVOICE:
        raise IssueError(_("Un avoir corrige une facture émise."))
    credited = sum(
        original.credit_notes.filter(status=Bill.Status.ISSUED).values_list("total_incl_vat", flat=True),
        Decimal("0"),
    )
    if total <= 0 or credited + total > original.total_incl_vat:
        raise IssueError(
            _("L’avoir dépasse ce qui reste de la facture %(number)s (%(left)s €).")
            % {"number": original.number, "left": original.total_incl_vat - credited}
        )


def credit_note_for(invoice: Bill, *, by=None, lines=None, note: str = "") -> Bill:
    """A draft credit note for an issued invoice: all of it, or the given lines (BillLine-like objects)."""
    if invoice.kind != Bill.Kind.INVOICE or not invoice.is_issued:
        raise IssueError(_("Un avoir corrige une facture émise."))
    with transaction.atomic():
        note = note or _("Avoir sur la facture %(number)s du %(day)s.") % {
            "number": invoice.number,
            "day": invoice.issue_date.strftime("%d/%m/%Y"),
        }
        credit = Bill.objects.create(
            operator=invoice.operator,
            kind=Bill.Kind.CREDIT_NOTE,
            member=invoice.member,
            organisation=invoice.organisation,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            buyer_name=invoice.buyer_name,
            buyer_address=invoice.buyer_address,
            buyer_email=invoice.buyer_email,
            buyer_siren=invoice.buyer_siren,
            buyer_vat_number=invoice.buyer_vat_number,
            buyer_is_business=invoice.buyer_is_business,
            buyer_is_public=invoice.buyer_is_public,
            commitment_reference=invoice.commitment_reference,
            purchase_order=invoice.purchase_order,
            credited_bill=invoice,
            note=note,
        )
        BillLine.objects.bulk_create(
            BillLine(
                bill=credit,
                position=position,
                kind=line.kind,
                label=line.label,
                revenue_type=line.revenue_type,
                service_start=line.service_start,
                service_end=line.service_end,
                quantity=line.quantity,
                unit=line.unit,
                unit_price_excl_vat=line.unit_price_excl_vat,
                vat_rate=line.vat_rate,
                amount_excl_vat=line.amount_excl_vat,
                aid_id=line.aid_id,
            )
            for position, line in enumerate(lines or invoice.lines.all(), start=1)
        )
        audit(by, "billing.credit_note", credit, invoice=invoice.number)
    return credit


def render_pdf(bill: Bill) -> bytes:
    """The issued bill's PDF/A-3 (with its Factur-X), rendered once and kept as it was sent."""
    from . import documents  # WeasyPrint is heavy: loaded when the first bill is rendered

    if not bill.is_issued:
        raise IssueError(_("Seule une pièce émise a un PDF définitif."))
    if bill.pdf:
        return bytes(bill.pdf)
    pdf = documents.render(bill)
    Bill.objects.filter(pk=bill.pk, pdf__isnull=True).update(pdf=pdf)
    bill.pdf = pdf
    return pdf


def verify(operator: Operator | None = None) -> list[tuple[Bill, str]]:
    """Every issued bill whose footprint or chain does not hold, with what is wrong, in chain order."""
    problems = []
    bills = (
        Bill.objects.filter(status=Bill.Status.ISSUED)
        .prefetch_related("lines")
        .order_by("operator_id", "series", "sequence")
    )
    if operator is not None:
        bills = bills.filter(operator=operator)
    previous_key, previous_footprint, expected = None, "", 1
    for bill in bills.iterator(chunk_size=500):
        key = (bill.operator_id, bill.series)
        if key != previous_key:
            previous_key, previous_footprint, expected = key, "", 1
        if bill.sequence != expected:
            problems.append((bill, _("numéro attendu : %(n)s") % {"n": expected}))
        if bill.previous_footprint != previous_footprint:
            problems.append((bill, _("chaîne rompue : l’empreinte précédente ne correspond pas")))
        if footprint_of(bill.previous_footprint, canonical_content(bill, bill.lines.all())) != bill.footprint:
            problems.append((bill, _("contenu modifié depuis l’émission")))
        previous_footprint, expected = bill.footprint, (bill.sequence or 0) + 1
    return problems
