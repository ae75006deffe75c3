"""The books, as files read elsewhere: the sales journal, the FEC of a fiscal year (private mode) and the
monthly statements file for the public body's finance software (public mode).

Each file is read by a program or an accountant, not by the person who asked for it, so its words never follow
the reader's language: they are built in French (`translation.override("fr")`). Every column, sign and
rounding choice is documented in docs/billing-exports.md; change one here, change it there.

All amounts come from the issued bills (frozen: `issuing`) and are split with the rounding rule of `totals`,
so each file adds up to the cent with the bills it lists.
"""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cocotte.core.money import vat_of

from .models import Allocation, Bill, BillLine, Operator, Payment
from .totals import totals_of

ZERO = Decimal("0.00")
BOM = "\ufeff"  # spreadsheets open a semicolon-separated UTF-8 file correctly only with it
KIND_ORDER = {Bill.Kind.INVOICE: 0, Bill.Kind.CREDIT_NOTE: 1, Bill.Kind.STATEMENT: 2}


class ExportError(Exception):
    """An export that cannot be made, and why (in French: exports speak the books' language)."""


# --- Shared helpers (the commands use them too) ---------------------------------------------------------


def operator_named(value: str) -> Operator:
    """The operator a command names: by its id, its SIRET, or its SIREN when only one operator has it."""
    value = value.replace(" ", "")
    operator = None
    if value.isdigit() and len(value) == 14:
        operator = Operator.objects.filter(siret=value).first()
    elif value.isdigit() and len(value) == 9:
        matches = list(Operator.objects.filter(siret__startswith=value)[:2])
        operator = matches[0] if len(matches) == 1 else None
    elif value.isdigit():
        operator = Operator.objects.filter(pk=int(value)).first()
    if operator is None:
        raise ExportError(
            _("Aucune structure gestionnaire « %(value)s » (identifiant, SIRET ou SIREN).") % {"value": value}
        )
    return operator


def parse_period(text: str) -> tuple[str, date]:
    """`2027-01` → ("month", 2027-01-01); `2027` → ("year", 2027-01-01)."""
    try:
        if len(text) == 4 and text.isdigit():
            return "year", date(int(text), 1, 1)
        year, month = text.split("-")
        if len(year) == 4 and len(month) == 2:
            return "month", date(int(year), int(month), 1)
    except ValueError:
        pass
    raise ExportError(
        _("Période invalide « %(text)s » : AAAA-MM pour un mois, AAAA pour un exercice.") % {"text": text}
    )


def amount_fr(value) -> str:
    """12.50 → "12,50": two places, a decimal comma, no thousands separator, never "-0,00"."""
    return f"{ZERO + value:.2f}".replace(".", ",")


def number_fr(value) -> str:
    """A quantity or a rate without useless zeros: 2.000 → "2", 1.500 → "1,5", 5.50 → "5,5"."""
    text = format(value.normalize(), "f")
    return text.replace(".", ",")


def _csv(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    return BOM + buffer.getvalue()


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


# --- The sales journal ----------------------------------------------------------------------------------


def sales_journal(operator: Operator, start: date, end: date) -> str:
    """Every bill issued between `start` and `end` (included), with its bases and VAT per rate; credit notes
    negative; a last row of totals. Invoices in number order, then credit notes, then (public mode) statements,
    so that a gap in a series shows at a glance."""
    if start > end:
        raise ExportError(_("La période commence après sa fin."))
    bills = sorted(
        Bill.objects.filter(
            operator=operator, status=Bill.Status.ISSUED, issue_date__gte=start, issue_date__lte=end
        ).prefetch_related("lines"),
        key=lambda bill: (KIND_ORDER[bill.kind], bill.series, bill.sequence),
    )
    groups = {bill.pk: {g.rate: g for g in totals_of(bill.lines.all()).groups} for bill in bills}
    rates = sorted({rate for per_rate in groups.values() for rate in per_rate})
    with translation.override("fr"):
        header = [_("Date"), _("Numéro"), _("Type"), _("Client"), _("SIREN du client")]
        for rate in rates:
            header += [
                _("HT %(rate)s %%") % {"rate": number_fr(rate)},
                _("TVA %(rate)s %%") % {"rate": number_fr(rate)},
            ]
        header += [_("Total HT"), _("Total TVA"), _("Total TTC")]
        rows, sums = [header], [ZERO] * (2 * len(rates) + 3)
        for bill in bills:
            sign = -1 if bill.kind == Bill.Kind.CREDIT_NOTE else 1
            amounts = []
            for rate in rates:
                group = groups[bill.pk].get(rate)
                amounts += [group.base, group.vat] if group else [ZERO, ZERO]
            amounts += [bill.total_excl_vat, bill.total_vat, bill.total_incl_vat]
            amounts = [sign * amount for amount in amounts]
            sums = [total + amount for total, amount in zip(sums, amounts, strict=True)]
            rows.append(
                [
                    _day(bill.issue_date),
                    bill.reference,
                    bill.get_kind_display(),
                    bill.buyer_name,
                    bill.buyer_siren,
                ]
                + [amount_fr(amount) for amount in amounts]
            )
        rows.append(["", _("Total"), "", "", ""] + [amount_fr(total) for total in sums])
    return _csv(rows)


# --- The FEC --------------------------------------------------------------------------------------------

FEC_COLUMNS = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
# A47 A-1 of the LPF allows ASCII, ISO 8859-15 or EBCDIC: the file is written in ISO 8859-15 (French
# letters and €), so its text is kept to what that charset holds.
FEC_ENCODING = "iso-8859-15"
_TYPOGRAPHY = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...",
                             "\u202f": " ", "\u00a0": " ", "\t": " ", "\r": " ", "\n": " "})  # fmt: skip
JOURNALS = {"VE": 0, "BQ": 1, "CA": 2}  # on one day: the sales first, then what settles them
JOURNAL_NAMES = {"VE": gettext_lazy("Ventes"), "BQ": gettext_lazy("Banque"), "CA": gettext_lazy("Caisse")}


@dataclass
class _Entry:
    """One balanced accounting entry: a bill (journal VE) or a payment (BQ, CA)."""

    journal: str
    day: date
    piece: str
    label: str
    node: tuple  # ("bill", pk) or ("payment", pk): what lettering links
    order: tuple
    lines: list = field(default_factory=list)  # (account, account label, aux, signed amount: + debit)
    number: str = ""


def _fec_text(value) -> str:
    text = str(value).translate(_TYPOGRAPHY)
    return text.encode(FEC_ENCODING, errors="replace").decode(FEC_ENCODING)


def _aux(member_id, organisation_id) -> str:
    return f"CM{member_id:06d}" if member_id else f"CO{organisation_id:06d}"


def _lettering_code(index: int) -> str:
    """AAA, AAB, … ZZZ, then BAAA: one code per lettered group."""
    letters = []
    while True:
        index, rest = divmod(index, 26)
        letters.append(chr(65 + rest))
        if index == 0 and len(letters) >= 3:
            return "".join(reversed(letters))


def fec(operator: Operator, year: int) -> tuple[str, str]:
    """The FEC of a calendar fiscal year of a private operator: (file name, content). See
    docs/billing-exports.md for the entries each bill and payment makes."""
    if operator.is_public:
        raise ExportError(
            _("Une collectivité en régie tient sa comptabilité publique hors de Cocotte : pas de FEC.")
        )
    start, end = date(year, 1, 1), date(year, 12, 31)
    with translation.override("fr"):
        bills = list(
            Bill.objects.filter(
                operator=operator,
                status=Bill.Status.ISSUED,
                kind__in=[Bill.Kind.INVOICE, Bill.Kind.CREDIT_NOTE],
                issue_date__gte=start,
                issue_date__lte=end,
            )
            .prefetch_related("lines")
            .order_by("issue_date", "issued_at", "pk")  # the latest name given wins as the account's label
        )
        payments = list(
            Payment.objects.filter(
                operator=operator,
                status=Payment.Status.RECEIVED,
                received_on__gte=start,
                received_on__lte=end,
            ).select_related("member", "organisation")
        )
        aux_labels: dict[str, str] = {}
        entries = [_bill_entry(operator, bill, aux_labels) for bill in bills]
        entries += [_payment_entry(operator, payment, aux_labels) for payment in payments]
        entries.sort(key=lambda entry: (entry.day, JOURNALS[entry.journal], entry.order))
        counters = defaultdict(int)
        for entry in entries:
            counters[entry.journal] += 1
            entry.number = f"{entry.journal}{counters[entry.journal]:06d}"
        letters = _lettering(operator, entries, bills, payments)
        rows = ["\t".join(FEC_COLUMNS)]
        for entry in entries:
            if sum(amount for *_rest, amount in entry.lines) != 0:
                raise ExportError(
                    _("L’écriture de %(piece)s ne s’équilibre pas : lancez verify_invoices.")
                    % {"piece": entry.piece}
                )
            for account, account_label, aux, amount in entry.lines:
                if amount == 0:
                    continue
                code, lettered_on = letters.get(entry.node, ("", None)) if aux else ("", None)
                row = [
                    entry.journal,
                    str(JOURNAL_NAMES[entry.journal]),
                    entry.number,
                    f"{entry.day:%Y%m%d}",
                    account,
                    account_label,
                    aux,
                    aux_labels.get(aux, ""),
                    entry.piece,
                    f"{entry.day:%Y%m%d}",
                    entry.label,
                    amount_fr(amount if amount > 0 else ZERO),
                    amount_fr(-amount if amount < 0 else ZERO),
                    code,
                    f"{lettered_on:%Y%m%d}" if lettered_on else "",
                    f"{entry.day:%Y%m%d}",
                    "",
                    "",
                ]
                rows.append("\t".join(_fec_text(value) for value in row))
    return f"{operator.siren}FEC{end:%Y%m%d}.txt", "\r\n".join(rows) + "\r\n"


def _bill_entry(operator: Operator, bill: Bill, aux_labels: dict) -> _Entry:
    """Debit the customer the total incl. VAT and the aids' account what the aids took off; credit sales the
    gross services and VAT collected the VAT of each rate. A credit note books the mirror."""
    sign = 1 if bill.kind == Bill.Kind.INVOICE else -1
    aux = _aux(bill.member_id, bill.organisation_id)
    aux_labels[aux] = bill.buyer_name
    lines = list(bill.lines.all())
    services, aids = defaultdict(lambda: ZERO), ZERO
    for line in lines:
        if line.kind == BillLine.Kind.AID:
            aids += line.amount_excl_vat
        else:
            services[line.vat_rate] += line.amount_excl_vat
    label = f"{bill.get_kind_display().capitalize()} {bill.number} {bill.buyer_name}"
    entry = _Entry("VE", bill.issue_date, bill.number, label, ("bill", bill.pk), (bill.issued_at, bill.pk))
    entry.lines.append((operator.account_customers, _("Clients"), aux, sign * bill.total_incl_vat))
    entry.lines.append((operator.account_aids, _("Aides à recevoir"), "", sign * -aids))
    for rate in sorted(services):
        entry.lines.append((operator.account_sales, _("Prestations de services"), "", -sign * services[rate]))
    for group in totals_of(lines).groups:
        entry.lines.append((operator.account_vat, _("TVA collectée"), "", -sign * group.vat))
    return entry


def _payment_entry(operator: Operator, payment: Payment, aux_labels: dict) -> _Entry:
    """Debit the bank (or the till, for cash) and credit the customer."""
    cash = payment.method == Payment.Method.CASH
    aux = _aux(payment.member_id, payment.organisation_id)
    aux_labels.setdefault(aux, str(payment.member or payment.organisation))
    piece = payment.receipt_number or payment.reference or f"REG{payment.pk:06d}"
    label = _("Règlement %(method)s %(name)s") % {
        "method": payment.get_method_display(),
        "name": aux_labels[aux],
    }
    entry = _Entry(
        "CA" if cash else "BQ", payment.received_on, piece, label, ("payment", payment.pk), (payment.pk,)
    )
    treasury = (operator.account_cash, _("Caisse")) if cash else (operator.account_bank, _("Banque"))
    entry.lines.append((*treasury, "", payment.amount))
    entry.lines.append((operator.account_customers, _("Clients"), aux, -payment.amount))
    return entry


def _lettering(operator, entries, bills, payments) -> dict:
    """Letter the customer lines of each group of bills and payments linked by allocations and credit notes
    when the whole group is in this file, on one customer account, and nets to zero: a settled debt."""
    nodes = {entry.node: entry for entry in entries}
    parent = {node: node for node in nodes}
    incomplete = set()

    def root(node):
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def link(a, b):
        if a in nodes and b in nodes:
            parent[root(a)] = root(b)
        else:
            incomplete.update(n for n in (a, b) if n in nodes)

    allocations = Allocation.objects.filter(
        Q(bill_id__in=[bill.pk for bill in bills]) | Q(payment_id__in=[payment.pk for payment in payments])
    ).values_list("payment_id", "bill_id")
    for payment_id, bill_id in allocations:
        link(("payment", payment_id), ("bill", bill_id))
    for bill in bills:
        if bill.credited_bill_id:
            link(("bill", bill.pk), ("bill", bill.credited_bill_id))
    groups = defaultdict(list)
    for node in nodes:
        groups[root(node)].append(nodes[node])
    settled = []
    for members in groups.values():
        customer_lines = [(aux, amount) for e in members for _a, _l, aux, amount in e.lines if aux]
        if (
            not incomplete.intersection(e.node for e in members)
            and len({aux for aux, _amount in customer_lines}) == 1
            and sum(amount for _aux, amount in customer_lines) == 0
        ):
            settled.append(members)
    settled.sort(key=lambda members: (max(e.day for e in members), min(e.number for e in members)))
    letters = {}
    for index, members in enumerate(settled):
        code, day = _lettering_code(index), max(e.day for e in members)
        letters.update({e.node: (code, day) for e in members})
    return letters


# --- The public-mode statements file --------------------------------------------------------------------

STATEMENT_COLUMNS = (
    "reference_releve",
    "date_emission",
    "periode",
    "debiteur",
    "siret_siren",
    "debiteur_public",
    "reference_engagement",
    "code_service",
    "nature_recette",
    "libelle",
    "debut_prestation",
    "fin_prestation",
    "quantite",
    "unite",
    "prix_unitaire_ht",
    "taux_tva",
    "montant_ht",
    "montant_tva",
    "montant_ttc",
)


def line_vats(lines) -> dict[int, Decimal]:
    """Each line's share of its bill's VAT: the bill's VAT is rounded once per rate (`totals`), so each line
    but the last of its rate gets its own rounded VAT and the last the rest: the shares add up exactly."""
    per_rate = {group.rate: group.vat for group in totals_of(lines).groups}
    by_rate = defaultdict(list)
    for line in sorted(lines, key=lambda line: line.position):
        by_rate[line.vat_rate.quantize(ZERO)].append(line)
    shares = {}
    for rate, rate_lines in by_rate.items():
        for line in rate_lines[:-1]:
            shares[line.pk] = vat_of(line.amount_excl_vat, rate)
        shares[rate_lines[-1].pk] = per_rate[rate] - sum((shares[line.pk] for line in rate_lines[:-1]), ZERO)
    return shares


def statements_csv(operator: Operator, year: int, month: int) -> str:
    """The month's issued liquidation statements for the finance software: one row per debtor and line, with
    the debtor's identifiers, the commitment reference and service code of public debtors, and each line's
    VAT (`line_vats`) so that the rows add up to the statements' totals to the cent. No totals row."""
    if not operator.is_public:
        raise ExportError(
            _("Une structure privée émet des factures : l’export des relevés est celui du mode public.")
        )
    first = date(year, month, 1)
    statements = (
        Bill.objects.filter(
            operator=operator,
            kind=Bill.Kind.STATEMENT,
            status=Bill.Status.ISSUED,
            period_start__year=year,
            period_start__month=month,
        )
        .select_related("organisation__billing_details")
        .prefetch_related("lines")
        .order_by("buyer_name", "series", "sequence")
    )
    rows = [STATEMENT_COLUMNS]
    with translation.override("fr"):
        for bill in statements:
            lines = list(bill.lines.all())
            shares = line_vats(lines)
            if sum(shares.values(), ZERO) != bill.total_vat:
                raise ExportError(
                    _("Le relevé %(ref)s ne s’équilibre pas : lancez verify_invoices.")
                    % {"ref": bill.reference}
                )
            details = getattr(bill.organisation, "billing_details", None) if bill.organisation else None
            for line in sorted(lines, key=lambda line: line.position):
                vat = shares[line.pk]
                rows.append(
                    [
                        bill.reference,
                        _day(bill.issue_date),
                        f"{first:%m/%Y}",
                        bill.buyer_name,
                        bill.buyer_siren,
                        _("oui") if bill.buyer_is_public else _("non"),
                        bill.commitment_reference,
                        details.service_code if details else "",
                        line.revenue_type,
                        line.label,
                        _day(line.service_start),
                        _day(line.service_end),
                        number_fr(line.quantity),
                        line.unit,
                        amount_fr(line.unit_price_excl_vat),
                        amount_fr(line.vat_rate),
                        amount_fr(line.amount_excl_vat),
                        amount_fr(vat),
                        amount_fr(line.amount_excl_vat + vat),
                    ]
                )
    return _csv(rows)
