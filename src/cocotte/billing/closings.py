"""Closing a month or a fiscal year: the period's documents archived with a checksum manifest, and nothing
issued in it any more (`issuing.issue` refuses a date on or before the last closed day).

What a closing refuses, and why:
- a period not over yet (closing it would stop the rest of the period's issuing);
- a period already closed, or a month inside a closed fiscal year;
- a period before a later closing of the same kind: months close in order, and so do years;
- drafts whose period starts in it (they belong to the period: issue or delete them first);
- bills issued before the period outside any closing: an earlier period with documents is still open, and
  this closing would freeze it without archiving it.

The archive (a ZIP, built in memory, deterministic: fixed dates and order) holds every issued bill's PDF of the
period as it was sent (`pieces/<number>.pdf`), the period's sales journal, the head of each numbering series
at the period's end (`EMPREINTES.csv`: the last bill of each series, its footprint) and `MANIFEST.sha256` (the
`sha256sum` format, one line per other file). The closing stores the manifest, the archive, its SHA-256 and,
as `last_footprint`, the footprint of the last bill issued on or before the period's end.

`verify_closing` recomputes all of it, and checks that each series' head still has the footprint it had at
closing: a chain rewritten afterwards, even consistently, no longer matches.
"""

import calendar
import csv
import hashlib
import io
import zipfile
import zlib
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cocotte.core.models import audit

from .exports import KIND_ORDER, sales_journal
from .issuing import render_pdf
from .models import Bill, Closing, Operator, Sequence

MANIFEST = "MANIFEST.sha256"
HEADS = "EMPREINTES.csv"
JOURNAL = "journal-des-ventes.csv"
HEADS_COLUMNS = ("serie", "rang", "numero", "date_emission", "empreinte")
SHOWN_DRAFTS = 10
# What reading a damaged ZIP may raise: a bad CRC or header, a broken stream, a flipped "encrypted" or
# compression-method bit, a name that no longer decodes.
UNREADABLE = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)


class ClosingError(Exception):
    """A period that cannot be closed, and why."""


def bounds(period: str, starts_on: date) -> tuple[date, date]:
    """The first and last day of a month (starting on the 1st) or a fiscal year (1 January to 31 December)."""
    if period == Closing.Period.MONTH and starts_on.day == 1:
        last = calendar.monthrange(starts_on.year, starts_on.month)[1]
        return starts_on, starts_on.replace(day=last)
    if period == Closing.Period.YEAR and (starts_on.month, starts_on.day) == (1, 1):
        return starts_on, date(starts_on.year, 12, 31)
    raise ClosingError(_("Un mois se clôture à partir du 1er, un exercice à partir du 1er janvier."))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check(operator: Operator, period: str, starts_on: date, ends_on: date) -> None:
    if ends_on >= timezone.localdate():
        raise ClosingError(
            _("La période n’est pas terminée : elle se clôture à partir du %(day)s.")
            % {"day": date.fromordinal(ends_on.toordinal() + 1).strftime("%d/%m/%Y")}
        )
    closings = Closing.objects.filter(operator=operator)
    if closings.filter(period=period, starts_on=starts_on).exists():
        raise ClosingError(_("Cette période est déjà clôturée."))
    if (
        period == Closing.Period.MONTH
        and closings.filter(
            period=Closing.Period.YEAR, starts_on__lte=starts_on, ends_on__gte=starts_on
        ).exists()
    ):
        raise ClosingError(_("Ce mois appartient à un exercice déjà clôturé."))
    later = closings.filter(period=period, ends_on__gt=ends_on).order_by("-ends_on").first()
    if later:
        raise ClosingError(
            _(
                "Une période postérieure est déjà clôturée (jusqu’au %(day)s) : les clôtures se font dans l’ordre."
            )
            % {"day": later.ends_on.strftime("%d/%m/%Y")}
        )
    drafts = list(
        Bill.objects.filter(
            operator=operator,
            status=Bill.Status.DRAFT,
            period_start__gte=starts_on,
            period_start__lte=ends_on,
        ).order_by("pk")
    )
    if drafts:
        shown = ", ".join(draft.reference for draft in drafts[:SHOWN_DRAFTS])
        if len(drafts) > SHOWN_DRAFTS:
            shown += _(" et %(n)s autres") % {"n": len(drafts) - SHOWN_DRAFTS}
        raise ClosingError(
            _("Des brouillons restent dans la période : %(drafts)s. Émettez-les ou supprimez-les d’abord.")
            % {"drafts": shown}
        )
    covered = Closing.objects.filter(
        operator=operator, starts_on__lte=OuterRef("issue_date"), ends_on__gte=OuterRef("issue_date")
    )
    open_before = (
        Bill.objects.filter(operator=operator, status=Bill.Status.ISSUED, issue_date__lt=starts_on)
        .exclude(Exists(covered))
        .order_by("issue_date")
        .first()
    )
    if open_before:
        raise ClosingError(
            _(
                "La pièce %(ref)s du %(day)s appartient à une période antérieure non clôturée : "
                "clôturez-la d’abord."
            )
            % {"ref": open_before.reference, "day": open_before.issue_date.strftime("%d/%m/%Y")}
        )


def _heads(operator: Operator, ends_on: date) -> list[Bill]:
    """The last bill of each series issued on or before `ends_on`: the chains' heads at the period's end."""
    last = (
        Bill.objects.filter(operator=operator, status=Bill.Status.ISSUED, issue_date__lte=ends_on)
        .values("series")
        .annotate(last=Max("sequence"))
    )
    wanted = Q(pk__in=[])
    for row in last:
        wanted |= Q(series=row["series"], sequence=row["last"])
    return list(Bill.objects.filter(wanted, operator=operator).defer("pdf").order_by("series"))


def _heads_csv(heads: list[Bill]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(HEADS_COLUMNS)
    for bill in heads:
        writer.writerow(
            [bill.series, bill.sequence, bill.reference, bill.issue_date.isoformat(), bill.footprint]
        )
    return buffer.getvalue().encode()


def _write(archive: zipfile.ZipFile, name: str, data: bytes, stamp: date) -> None:
    info = zipfile.ZipInfo(name, date_time=(stamp.year, stamp.month, stamp.day, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def close(operator: Operator, period: str, starts_on: date, by=None) -> Closing:
    """Close a month or a fiscal year of `operator`: check, archive, record (one transaction)."""
    starts_on, ends_on = bounds(period, starts_on)
    with transaction.atomic():
        # One closing at a time per operator; and the series' rows, which `issue` holds while it numbers: a
        # bill being issued now is committed (and archived) before the closing reads the period.
        Operator.objects.select_for_update().get(pk=operator.pk)
        list(Sequence.objects.select_for_update().filter(operator=operator))
        _check(operator, period, starts_on, ends_on)
        bills = sorted(
            Bill.objects.filter(
                operator=operator,
                status=Bill.Status.ISSUED,
                issue_date__gte=starts_on,
                issue_date__lte=ends_on,
            ),
            key=lambda bill: (KIND_ORDER[bill.kind], bill.series, bill.sequence),
        )
        heads = _heads(operator, ends_on)
        buffer, manifest = io.BytesIO(), []
        with zipfile.ZipFile(buffer, "w") as archive:

            def add(name: str, data: bytes) -> None:
                _write(archive, name, data, ends_on)
                manifest.append(f"{_sha256(data)}  {name}\n")

            for bill in bills:
                add(f"pieces/{bill.reference}.pdf", bytes(bill.pdf) if bill.pdf else render_pdf(bill))
            add(JOURNAL, sales_journal(operator, starts_on, ends_on).encode())
            add(HEADS, _heads_csv(heads))
            _write(archive, MANIFEST, "".join(manifest).encode(), ends_on)
        data = buffer.getvalue()
        last = max(heads, key=lambda bill: (bill.issue_date, bill.issued_at, bill.pk), default=None)
        try:
            with transaction.atomic():
                closing = Closing.objects.create(
                    operator=operator,
                    period=period,
                    starts_on=starts_on,
                    ends_on=ends_on,
                    manifest="".join(manifest),
                    archive=data,
                    archive_sha256=_sha256(data),
                    last_footprint=last.footprint if last else "",
                    closed_by=by if by is not None and getattr(by, "is_authenticated", False) else None,
                )
        except IntegrityError as error:  # closed at the same moment by another process
            raise ClosingError(_("Cette période est déjà clôturée.")) from error
        audit(
            by, "billing.close", closing, period=period, documents=len(bills), sha256=closing.archive_sha256
        )
    return closing


def _manifest_lines(text: str) -> list[tuple[str, str]]:
    lines = []
    for line in text.splitlines():
        digest, _sep, name = line.partition("  ")
        lines.append((digest, name))
    return lines


def verify_closing(closing: Closing) -> list[str]:
    """What no longer holds in a closing's archive, in French; empty when all of it does."""
    problems = []
    data = bytes(closing.archive)
    if _sha256(data) != closing.archive_sha256:
        problems.append(_("L’archive ne correspond plus à son empreinte SHA-256 enregistrée."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except UNREADABLE:
        return [*problems, _("L’archive n’est plus un fichier ZIP lisible.")]
    with archive:
        contents = {}
        for name in archive.namelist():
            try:
                contents[name] = archive.read(name)
            except UNREADABLE:
                problems.append(_("%(name)s est illisible dans l’archive.") % {"name": name})
    if MANIFEST in contents and contents[MANIFEST] != closing.manifest.encode():
        problems.append(_("Le manifeste de l’archive diffère de celui enregistré à la clôture."))
    listed = _manifest_lines(closing.manifest)
    for digest, name in listed:
        if name not in contents:
            if name in archive.namelist():
                continue  # already reported as unreadable
            problems.append(_("%(name)s manque dans l’archive.") % {"name": name})
        elif _sha256(contents[name]) != digest:
            problems.append(_("%(name)s a changé depuis la clôture.") % {"name": name})
    extra = set(contents) - {name for _digest, name in listed} - {MANIFEST}
    problems += [_("%(name)s n’est pas au manifeste.") % {"name": name} for name in sorted(extra)]
    if HEADS in contents:
        problems += _check_heads(closing, contents[HEADS])
    return problems


def _check_heads(closing: Closing, data: bytes) -> list[str]:
    """Each series' head at closing must still carry the footprint it had then."""
    problems = []
    try:
        rows = list(csv.DictReader(io.StringIO(data.decode()), delimiter=";"))
        heads = [(row["serie"], int(row["rang"]), row["numero"], row["empreinte"]) for row in rows]
    except (UnicodeDecodeError, KeyError, ValueError, csv.Error):
        return [_("%(name)s est illisible.") % {"name": HEADS}]
    for series, sequence, number, footprint in heads:
        current = (
            Bill.objects.filter(operator=closing.operator_id, series=series, sequence=sequence)
            .values_list("footprint", flat=True)
            .first()
        )
        if current != footprint:
            problems.append(
                _("La série %(series)s a été réécrite : %(number)s n’a plus l’empreinte de la clôture.")
                % {"series": series, "number": number}
            )
    return problems
