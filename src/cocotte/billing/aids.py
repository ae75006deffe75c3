"""Aids to companies, and their de minimis ledger (DOMAIN.md, "Public aid").

An aid (a rent coverage won in the contest, a reduced rate voted by the board, free office months) takes a
percentage or a monthly amount off given lines of a company's bills over a period (`aid_lines`, called by the
billing run when it drafts a bill). Granting it (`grant`) enters its gross grant equivalent in the ledger of
the company's SIREN, beside the aid the company declares from other funders (`declare`).

Regulation (EU) 2023/2831 caps the de minimis aid of a single undertaking at 300,000 € over **any period of
three years**. Cocotte checks that every such period holding the new aid stays at or under the ceiling
before it grants, under a lock on the company's row so that two grants at once cannot both pass.
"""

import csv
import io
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from stdnum.fr import siren as siren_number

from cocotte.accounts.models import Organisation
from cocotte.core.models import audit
from cocotte.core.money import cents

from .documents import euros
from .exports import BOM, amount_fr
from .models import Aid, AidLedgerEntry, BillLine, RevenueType
from .pdf import pdf_from_template

CEILING = Decimal("300000.00")
LEGAL_BASIS = Aid._meta.get_field("legal_basis").default
REGULATION = (
    "Règlement (UE) 2023/2831 de la Commission du 13 décembre 2023 relatif à l’application des articles 107 "
    "et 108 du traité sur le fonctionnement de l’Union européenne aux aides de minimis"
)
ZERO = Decimal("0.00")


class DeMinimisExceeded(ValidationError):
    """A grant that would take a company's de minimis aid over the ceiling in some three-year period."""

    def __init__(self, siren: str, window_total: Decimal, amount: Decimal):
        self.siren, self.window_total, self.amount, self.ceiling = siren, window_total, amount, CEILING
        super().__init__(
            _(
                "Aide refusée : elle dépasserait le plafond de minimis de %(ceiling)s sur trois ans pour le "
                "SIREN %(siren)s. Aides déjà reçues sur la période : %(total)s ; cette aide : %(amount)s ; "
                "ensemble : %(sum)s, soit %(over)s de trop."
            )
            % {
                "ceiling": euros(CEILING),
                "siren": siren,
                "total": euros(window_total),
                "amount": euros(amount),
                "sum": euros(window_total + amount),
                "over": euros(window_total + amount - CEILING),
            },
            code="de_minimis_exceeded",
        )


# --- The three-year window ----------------------------------------------------------------------------


def window_after(on: date) -> date:
    """The day after which an aid counts in the three years ending on `on` (that day itself no longer does).

    The period of three years ending on `on` starts the day after the same date three years earlier: on
    15 March 2027 it holds the aid granted from 16 March 2024. Where that date does not exist (three years
    before a 29 February), it is 28 February: the three years ending on 29 February 2028 start on
    1 March 2025."""
    year = on.year - 3
    return date(year, on.month, min(on.day, monthrange(year, on.month)[1]))


def window_total(siren: str, on: date) -> Decimal:
    """The de minimis aid of a SIREN granted in (`window_after(on)`, `on`], declared aid included."""
    total = AidLedgerEntry.objects.filter(
        siren=siren, granted_on__gt=window_after(on), granted_on__lte=on
    ).aggregate(total=Sum("amount"))["total"]
    return cents(total or ZERO)


def _worst_window(siren: str, granted_on: date) -> Decimal:
    """The largest total of the three-year periods that would hold an aid granted on `granted_on`.

    The one ending that day, and those ending on a later grant still within three years (a grant dated in
    the past must not push a later period over): a window's total only grows at a grant's date."""
    later = AidLedgerEntry.objects.filter(siren=siren, granted_on__gt=granted_on).values_list(
        "granted_on", flat=True
    )
    ends = {granted_on} | {day for day in later if window_after(day) < granted_on}
    return max(window_total(siren, day) for day in ends)


# --- The gross grant equivalent -----------------------------------------------------------------------


def months_of(start: date, end: date) -> Fraction:
    """The months from `start` to `end` (both included), each calendar month by the share of its days
    covered: 1 January–30 June is 6, 15 January–14 July is 17/31 + 5 + 14/31 = 6 too."""
    months, day = Fraction(0), start
    while day <= end:
        last = date(day.year, day.month, monthrange(day.year, day.month)[1])
        stop = min(last, end)
        months += Fraction((stop - day).days + 1, last.day)
        day = stop + timedelta(days=1)
    return months


def gross_grant_equivalent(
    *, months, percent=None, monthly_amount=None, monthly_rent=None, market_monthly_rent=None
) -> Decimal:
    """What an aid is worth over `months` (a number, or `months_of` a period), to the cent.

    `monthly_rent` is what the company would be charged a month without the aid (the rent, or the expected
    gross of the aided lines); the aid takes `percent` of it, or `monthly_amount` (at most all of it).

    - **A rent** (a reference `market_monthly_rent` is known): GGE = (market rent − rent charged after the
      aid) × months, the rent charged after the aid being monthly_rent × (1 − percent / 100) or
      monthly_rent − monthly_amount, and monthly_rent the market rent where not given. Free months (100 %)
      thus count the full market rent, whatever the listed rent; a rent above the market gives 0.
    - **Lines** (no market rent): GGE = percent / 100 × monthly_rent × months, or monthly_amount × months
      (capped at monthly_rent where given)."""
    if (percent is None) == (monthly_amount is None):
        raise ValidationError(_("Une aide est soit une part en pourcentage, soit un montant mensuel."))
    months = Fraction(months)
    market = None if market_monthly_rent is None else Fraction(market_monthly_rent)
    gross = market if monthly_rent is None else Fraction(monthly_rent)
    if gross is None:
        if percent is not None:
            raise ValidationError(
                _("Indiquez le loyer de marché ou le montant mensuel des prestations aidées.")
            )
        taken = Fraction(monthly_amount)
    elif percent is not None:
        taken = gross * Fraction(percent) / 100
    else:
        taken = min(Fraction(monthly_amount), gross)
    per_month = taken if market is None else max(market - (gross - taken), Fraction(0))
    return _cents(per_month * months)


def _cents(value: Fraction) -> Decimal:
    return cents(Decimal(value.numerator) / Decimal(value.denominator))


# --- Granting and declaring ---------------------------------------------------------------------------


def _locked_company(organisation: Organisation) -> Organisation:
    """The company's row, locked until the transaction ends: the ledger of its SIREN changes one grant at a
    time (on SQLite, the IMMEDIATE transaction already serialises writers)."""
    company = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if not company.siren or not siren_number.is_valid(company.siren):
        raise ValidationError(
            _(
                "L’entreprise « %(name)s » n’a pas de SIREN valide : une aide de minimis s’inscrit au registre "
                "de son SIREN."
            )
            % {"name": company.name},
            code="no_siren",
        )
    return company


def grant(
    operator,
    organisation: Organisation,
    *,
    kind: str,
    funder: str,
    starts_on: date,
    ends_on: date,
    percent=None,
    monthly_amount=None,
    revenue_types=(),
    market_monthly_rent=None,
    monthly_rent=None,
    legal_basis: str = LEGAL_BASIS,
    granted_on: date | None = None,
    by=None,
    source: str = "",
    source_id: int | None = None,
) -> Aid:
    """Grant an aid and enter it in the company's ledger, or refuse it (`DeMinimisExceeded`, or a
    `ValidationError` for a company without a SIREN or an ill-formed aid) with nothing written.

    `monthly_rent` and `market_monthly_rent` give the gross grant equivalent (`gross_grant_equivalent`,
    over `months_of(starts_on, ends_on)`); free months without a percent are 100 %; `source`/`source_id` name
    what asked for it (e.g. the contest)."""
    granted_on = granted_on or timezone.localdate()
    revenue_types = list(revenue_types)
    if kind == Aid.Kind.FREE_MONTHS and percent is None and monthly_amount is None:
        percent = Decimal("100")  # free months: the whole rent
    if ends_on < starts_on:
        raise ValidationError(_("L’aide finit avant de commencer."))
    if unknown := sorted(set(revenue_types) - set(RevenueType.values)):
        raise ValidationError(_("Types de recettes inconnus : %(types)s.") % {"types": ", ".join(unknown)})
    if percent is not None and not Decimal("0") < Decimal(percent) <= Decimal("100"):
        raise ValidationError(_("La part prise en charge est comprise entre 0 et 100 %."))
    if monthly_amount is not None and Decimal(monthly_amount) <= 0:
        raise ValidationError(_("Le montant mensuel d’une aide est positif."))
    amount = gross_grant_equivalent(
        months=months_of(starts_on, ends_on),
        percent=percent,
        monthly_amount=monthly_amount,
        monthly_rent=monthly_rent,
        market_monthly_rent=market_monthly_rent,
    )
    with transaction.atomic():
        company = _locked_company(organisation)
        total = _worst_window(company.siren, granted_on)
        if total + amount > CEILING:
            raise DeMinimisExceeded(company.siren, total, amount)
        aid = Aid(
            operator=operator,
            organisation=company,
            kind=kind,
            funder=funder,
            legal_basis=legal_basis,
            percent=percent,
            monthly_amount=monthly_amount,
            revenue_types=revenue_types,
            starts_on=starts_on,
            ends_on=ends_on,
            market_monthly_rent=market_monthly_rent,
            gross_grant_equivalent=amount,
            granted_on=granted_on,
            granted_by=by if getattr(by, "is_authenticated", False) else None,
            source=source,
            source_id=source_id,
        )
        aid.full_clean()
        aid.save()
        with translation.override("fr"):
            aid_type = str(aid.get_kind_display())
        AidLedgerEntry.objects.create(
            siren=company.siren,
            organisation=company,
            aid=aid,
            granted_on=granted_on,
            amount=amount,
            aid_type=aid_type,
            legal_basis=legal_basis,
            funder=funder,
        )
        audit(
            by,
            "billing.aid.granted",
            aid,
            siren=company.siren,
            gross_grant_equivalent=str(amount),
            window_total=str(total + amount),
        )
    return aid


def declare(
    organisation: Organisation,
    *,
    granted_on: date,
    amount,
    funder: str,
    aid_type: str,
    legal_basis: str,
    by=None,
) -> AidLedgerEntry:
    """Enter in the ledger a de minimis aid the company received from another funder (declared=True). It is
    a fact, never refused, even where it passes the ceiling: later grants will be."""
    amount = cents(amount)
    if amount <= 0:
        raise ValidationError(_("Le montant d’une aide déclarée est positif."))
    with transaction.atomic():
        company = _locked_company(organisation)
        entry = AidLedgerEntry.objects.create(
            siren=company.siren,
            organisation=company,
            granted_on=granted_on,
            amount=amount,
            aid_type=aid_type,
            legal_basis=legal_basis,
            funder=funder,
            declared=True,
        )
        audit(by, "billing.aid.declared", entry, siren=company.siren, amount=str(amount), funder=funder)
    return entry


# --- Aid lines on a draft bill ------------------------------------------------------------------------


@dataclass
class _Line:
    revenue_type: str
    vat_rate: Decimal
    amount: Decimal
    start: date
    end: date
    left: Decimal  # what earlier aids have not taken yet

    def share_in(self, start: date, end: date) -> Fraction:
        """The part of the line's amount for its days between `start` and `end`."""
        days = (min(self.end, end) - max(self.start, start)).days + 1
        return Fraction(self.amount) * Fraction(max(days, 0), max((self.end - self.start).days + 1, 1))


def _get(line, name, default=None):
    return line.get(name, default) if isinstance(line, dict) else getattr(line, name, default)


def aid_lines(bill_like, service_lines) -> list[dict]:
    """The aid lines a draft bill gets, for the aids of its organisation from its operator active in its
    period (one line per aid, VAT rate and revenue type, so that the VAT per rate and the public-mode
    exports per service code stay exact).

    An aid takes from the matching lines (its revenue types, all where empty) their amount for the days it
    covers: `percent` of it, or its monthly amount prorated to the days of the bill's period it covers
    (`months_of`), taken from the lines in their order. Each line is taken to the cent, and never more than
    is left of it after the aids before (in order of start): the aid lines never exceed what they reduce."""
    if not bill_like.organisation_id:
        return []
    period_start, period_end = bill_like.period_start, bill_like.period_end
    aids = Aid.objects.filter(
        organisation_id=bill_like.organisation_id,
        operator_id=bill_like.operator_id,
        starts_on__lte=period_end,
        ends_on__gte=period_start,
    ).order_by("starts_on", "pk")
    lines = []
    for line in service_lines:
        amount = Decimal(_get(line, "amount_excl_vat"))
        if _get(line, "kind", BillLine.Kind.SERVICE) == BillLine.Kind.AID or amount <= 0:
            continue
        lines.append(
            _Line(
                revenue_type=_get(line, "revenue_type"),
                vat_rate=Decimal(_get(line, "vat_rate")).quantize(Decimal("0.01")),
                amount=amount,
                start=_get(line, "service_start") or period_start,
                end=_get(line, "service_end") or period_end,
                left=amount,
            )
        )
    result = []
    with translation.override("fr"):
        for aid in aids:
            result += _lines_of(aid, lines, max(aid.starts_on, period_start), min(aid.ends_on, period_end))
    return result


def _lines_of(aid: Aid, lines: list[_Line], start: date, end: date) -> list[dict]:
    """One aid's lines over the days it covers in the bill's period; takes what it uses from `lines`."""
    budget = (
        None if aid.monthly_amount is None else _cents(Fraction(aid.monthly_amount) * months_of(start, end))
    )
    taken: dict[tuple[Decimal, str], Decimal] = {}
    for line in lines:
        if aid.revenue_types and line.revenue_type not in aid.revenue_types:
            continue
        share = line.share_in(aid.starts_on, aid.ends_on)
        if aid.percent is not None:
            take = min(_cents(share * Fraction(aid.percent) / 100), line.left)
        else:
            take = min(budget, _cents(share), line.left)
            budget -= take
        if take > 0:
            line.left -= take
            key = (line.vat_rate, line.revenue_type)
            taken[key] = taken.get(key, ZERO) + take
    label = _("Aide : %(kind)s — %(funder)s") % {"kind": aid.get_kind_display(), "funder": aid.funder}
    return [
        {
            "kind": BillLine.Kind.AID.value,
            "aid_id": aid.pk,
            "label": label,
            "revenue_type": revenue_type,
            "vat_rate": rate,
            "quantity": Decimal("1"),
            "unit": "forfait",
            "unit_price_excl_vat": -amount,
            "amount_excl_vat": -amount,
            "service_start": start,
            "service_end": end,
        }
        for (rate, revenue_type), amount in sorted(taken.items())
    ]


# --- The statement and the export ---------------------------------------------------------------------


def statement_pdf(organisation: Organisation, on: date | None = None) -> bytes:
    """The company's de minimis statement on `on` (today by default), a PDF/A-3b in French: every aid of the
    three years ending that day, their total, the ceiling and what remains under it."""
    on = on or timezone.localdate()
    if not organisation.siren:
        raise ValidationError(_("L’entreprise « %(name)s » n’a pas de SIREN.") % {"name": organisation.name})
    after = window_after(on)
    entries = list(
        AidLedgerEntry.objects.filter(siren=organisation.siren, granted_on__gt=after, granted_on__lte=on)
    )
    total = cents(sum((entry.amount for entry in entries), ZERO))
    with translation.override("fr"):
        context = {
            "title": _("Relevé des aides de minimis"),
            "company": organisation,
            "address": [line.strip() for line in organisation.address.splitlines() if line.strip()],
            "day": on.strftime("%d/%m/%Y"),
            "window_start": (after + timedelta(days=1)).strftime("%d/%m/%Y"),
            "entries": [
                {
                    "day": entry.granted_on.strftime("%d/%m/%Y"),
                    "funder": entry.funder,
                    "aid_type": entry.aid_type,
                    "legal_basis": entry.legal_basis,
                    "amount": euros(entry.amount),
                    "declared": entry.declared,
                }
                for entry in entries
            ],
            "total": euros(total),
            "ceiling": euros(CEILING),
            "remaining": euros(max(CEILING - total, ZERO)),
            "exceeded": total > CEILING,
            "regulation": REGULATION,
        }
        return pdf_from_template("billing/pdf/de_minimis.html", context)


LEDGER_HEADER = ["siren", "entreprise", "date", "financeur", "type", "base légale", "montant", "déclarée"]


def ledger_csv(siren: str | None = None) -> str:
    """The ledger (one SIREN's, or every one), for a spreadsheet: UTF-8 with a BOM, semicolon-separated,
    CRLF line ends, one aid a row by SIREN then date.

    Columns (`LEDGER_HEADER`, fixed French names: a program may read them): siren; entreprise (empty for a
    SIREN with no organisation left); date (DD/MM/YYYY, the date of grant); financeur; type; base légale;
    montant (the gross grant equivalent, two decimals with a decimal comma and no thousands separator, as
    the other exports: French spreadsheets read it as a number); déclarée ("oui" for aid the company
    declared from another funder, "non" for aid granted here)."""
    entries = AidLedgerEntry.objects.select_related("organisation").order_by("siren", "granted_on", "pk")
    if siren is not None:
        entries = entries.filter(siren=siren)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(LEDGER_HEADER)
    for entry in entries:
        writer.writerow(
            [
                entry.siren,
                entry.organisation.name if entry.organisation else "",
                entry.granted_on.strftime("%d/%m/%Y"),
                entry.funder,
                entry.aid_type,
                entry.legal_basis,
                amount_fr(entry.amount),
                "oui" if entry.declared else "non",
            ]
        )
    return BOM + buffer.getvalue()
