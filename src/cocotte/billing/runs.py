"""A month's billing run for an operator: drafts per debtor, reviewed by staff, then issued with their PDFs.

1. `prepare(operator, month)` hands the month's recurring lines over as charges — each subscription and
   lease for the days of the month it runs (prorated by days when it starts or ends inside the month), and
   each card or day pass sold in the month —, then gathers every open charge into one draft per debtor
   (member or organisation): an invoice in private mode, a liquidation statement in public mode. Charges
   of bookings and of the other apps join when their service is rendered (dated before today and not after
   the month); rent and subscriptions join for the month they are for, so a run made on the 1st bills the
   month's rent ahead. The debtor's aids add their own lines (`aids.aid_lines`).
   Running a month again adds what came since to the same drafts: a charge belongs to one draft, a
   month's rent is one charge (its source names the holding and the month), and each debtor's drafting
   takes the run's row lock, so two runs at once never make two drafts for one debtor.
2. Staff review the drafts: change a line, add one, delete one (its charge is then void: it will not be
   billed), or discard a draft (its charges go back to be billed by a later run).
3. `issue_run(run)` issues the drafts one by one in a stable order (numbers come from the series' lock in
   `issuing.issue`, so a second process issuing the same run at the same time skips what the first did),
   then renders their PDF/A-3 in worker processes, both cores by default.

Progress (`BillingRun.total` and `done`) is written as it goes, for the staff page and the command.
"""

import logging
import multiprocessing
from calendar import monthrange
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from cocotte.accounts.models import Organisation
from cocotte.core.models import audit
from cocotte.core.money import cents

from . import issuing, ledger, render_worker, sending
from .drafts import refresh
from .models import Aid, Bill, BillingRun, BillLine, Charge, DebtorDetails, Holding, Operator, Plan
from .totals import line_amount, totals_of

logger = logging.getLogger(__name__)

RECURRING_SOURCE = "billing.holding"  # + ":YYYY-MM": a subscription's or lease's month
SALE_SOURCE = "billing.sale"  # a card or day pass sold
Progress = Callable[[BillingRun], None]


class RunError(Exception):
    """A run that cannot go on, and why (in the reader's language)."""


def month_of(value: str | date) -> date:
    """The first day of a month given as "2027-01" (or any day of it)."""
    if isinstance(value, date):
        return value.replace(day=1)
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except ValueError as error:
        raise RunError(_("Mois attendu sous la forme AAAA-MM, par exemple 2027-01.")) from error


def month_end(month: date) -> date:
    return month.replace(day=monthrange(month.year, month.month)[1])


# --- 1. Drafts ----------------------------------------------------------------------------------------


def charge_plans(operator: Operator, month: date) -> int:
    """Hand over the month's rent and subscriptions and its plan sales as charges; returns how many exist."""
    first, last = month, month_end(month)
    holdings = (
        Holding.objects.filter(plan__operator=operator, starts_on__lte=last)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=first))
        .select_related("plan", "member", "organisation", "resource")
    )
    count = 0
    with translation.override("fr"):  # a bill's wording is the operator's, in French
        for holding in holdings:
            plan = holding.plan
            if plan.kind in (Plan.Kind.SUBSCRIPTION, Plan.Kind.LEASE):
                _charge_month(operator, holding, first, last)
            elif first <= holding.starts_on <= last and holding.price_excl_vat > 0:
                ledger.hand_over(
                    operator,
                    holding.debtor,
                    source=SALE_SOURCE,
                    source_id=holding.pk,
                    revenue_type=plan.revenue_type,
                    label=_("%(plan)s, à partir du %(day)s")
                    % {"plan": plan.name, "day": holding.starts_on.strftime("%d/%m/%Y")},
                    service_date=holding.starts_on,
                    quantity=Decimal("1"),
                    unit="forfait",
                    unit_price_excl_vat=holding.price_excl_vat,
                    vat_rate=plan.vat_rate,
                )
            else:
                continue
            count += 1
    return count


def _charge_month(operator: Operator, holding: Holding, first: date, last: date) -> None:
    start, end = max(holding.starts_on, first), min(holding.ends_on or last, last)
    share = Fraction((end - start).days + 1, (last - first).days + 1)
    label = f"{holding.plan.name} — {formats.date_format(first, 'F Y')}"
    if holding.resource_id:
        label += f" — {holding.resource.name}"
    if share < 1:
        label += " " + _("(du %(start)s au %(end)s, %(days)s jours sur %(month)s)") % {
            "start": start.strftime("%d/%m"),
            "end": end.strftime("%d/%m"),
            "days": (end - start).days + 1,
            "month": (last - first).days + 1,
        }
    ledger.hand_over(
        operator,
        holding.debtor,
        source=f"{RECURRING_SOURCE}:{first:%Y-%m}",
        source_id=holding.pk,
        revenue_type=holding.plan.revenue_type,
        label=label,
        service_date=start,
        quantity=Decimal("1"),
        unit="mois",
        unit_price_excl_vat=cents(Decimal(holding.price_excl_vat) * share.numerator / share.denominator),
        vat_rate=holding.plan.vat_rate,
    )


def billable(operator: Operator, month: date, today: date) -> "Q":
    """The open charges a run of `month` takes: rendered services up to the month's end, the month's rent."""
    last = month_end(month)
    rendered = Q(service_date__lte=min(last, today - timedelta(days=1)))
    recurring = Q(source__startswith=RECURRING_SOURCE, service_date__lte=last) | Q(
        source=SALE_SOURCE, service_date__lte=last
    )
    return Q(operator=operator, status=Charge.Status.OPEN, bill__isnull=True) & (rendered | recurring)


def prepare(
    operator: Operator,
    month: date,
    *,
    by=None,
    today: date | None = None,
    progress: Progress | None = None,
) -> BillingRun:
    """Drafts for every debtor with something to bill in `month` (see the module's notes)."""
    month = month_of(month)
    today = today or timezone.localdate()
    run, _created = BillingRun.objects.get_or_create(
        operator=operator, month=month, defaults={"started_by": by if _is_person(by) else None}
    )
    BillingRun.objects.filter(pk=run.pk).update(status=BillingRun.Status.RUNNING, done=0, error="")
    try:
        charge_plans(operator, month)
        debtors = list(
            Charge.objects.filter(billable(operator, month, today))
            .values_list("member_id", "organisation_id")
            .distinct()
            .order_by("organisation_id", "member_id")
        )
        BillingRun.objects.filter(pk=run.pk).update(total=len(debtors))
        for start in range(0, len(debtors), DRAFT_CHUNK):
            chunk = debtors[start : start + DRAFT_CHUNK]
            _drafts_for(run, chunk, today)
            BillingRun.objects.filter(pk=run.pk).update(done=F("done") + len(chunk))
            if progress:
                run.refresh_from_db()
                progress(run)
    except Exception as error:
        BillingRun.objects.filter(pk=run.pk).update(status=BillingRun.Status.FAILED, error=str(error))
        raise
    BillingRun.objects.filter(pk=run.pk).update(status=BillingRun.Status.DRAFTED, finished_at=timezone.now())
    audit(by, "billing.run.prepare", run, month=f"{month:%Y-%m}")
    run.refresh_from_db()
    return run


DRAFT_CHUNK = 50  # debtors drafted in one transaction


def _drafts_for(run: BillingRun, debtors: list[tuple[int | None, int | None]], today: date) -> None:
    """The drafts of a chunk of debtors, each with its new charges, its aid lines and totals, in one
    transaction and a few queries for all of them. The run's row lock makes a second run at the same time
    wait, then find the charges taken: no debtor gets two drafts."""
    member_ids = {member for member, _organisation in debtors if member}
    organisation_ids = {organisation for _member, organisation in debtors if organisation}
    whose = Q(member_id__in=member_ids) | Q(organisation_id__in=organisation_ids)
    with transaction.atomic():
        BillingRun.objects.select_for_update().get(pk=run.pk)
        charges: dict[tuple, list[Charge]] = defaultdict(list)
        for charge in (
            Charge.objects.select_for_update()
            .filter(billable(run.operator, run.month, today))
            .filter(whose)
            .order_by("service_date", "pk")
        ):
            charges[(charge.member_id, charge.organisation_id)].append(charge)
        if not charges:
            return  # another run took them meanwhile
        drafts: dict[tuple, Bill] = {}
        for bill in Bill.objects.filter(run=run, status=Bill.Status.DRAFT).filter(whose).order_by("-pk"):
            drafts[(bill.member_id, bill.organisation_id)] = bill  # the oldest wins
        grown = list(drafts.values())  # drafts that had lines already: refreshed whole
        people = get_user_model().objects.select_related("profile").in_bulk(member_ids)
        companies = Organisation.objects.select_related("billing_details").in_bulk(organisation_ids)
        new = [
            Bill(
                operator=run.operator,
                kind=Bill.Kind.STATEMENT if run.operator.is_public else Bill.Kind.INVOICE,
                run=run,
                member_id=member_id,
                organisation_id=organisation_id,
                period_start=run.month,
                period_end=month_end(run.month),
                **buyer_fields(companies[organisation_id] if organisation_id else people[member_id]),
            )
            for member_id, organisation_id in charges
            if (member_id, organisation_id) not in drafts
        ]
        Bill.objects.bulk_create(new)
        drafts.update({(bill.member_id, bill.organisation_id): bill for bill in new})
        last = dict(
            BillLine.objects.filter(bill__in=grown, kind=BillLine.Kind.SERVICE)
            .values("bill")
            .annotate(last=Max("position"))
            .values_list("bill", "last")
        )
        lines_of: dict[int, list[BillLine]] = defaultdict(list)
        for key, taken in charges.items():
            bill = drafts[key]
            for offset, charge in enumerate(taken, start=last.get(bill.pk, 0) + 1):
                charge.bill = bill
                lines_of[bill.pk].append(_line_of(bill, offset, charge))
        BillLine.objects.bulk_create(line for lines in lines_of.values() for line in lines)
        Charge.objects.bulk_update([c for taken in charges.values() for c in taken], ["bill"])
        aided = set(
            Aid.objects.filter(
                operator=run.operator,
                organisation_id__in=organisation_ids,
                starts_on__lte=month_end(run.month),
                ends_on__gte=run.month,
            ).values_list("organisation_id", flat=True)
        )
        plain = []
        for bill in drafts.values():
            if bill in grown or bill.organisation_id in aided:
                refresh(bill)  # aid lines to compute, or lines from before to add up
            else:
                totals = totals_of(lines_of[bill.pk])
                bill.total_excl_vat, bill.total_vat, bill.total_incl_vat = (
                    totals.excl_vat,
                    totals.vat,
                    totals.incl_vat,
                )
                plain.append(bill)
        Bill.objects.bulk_update(plain, ["total_excl_vat", "total_vat", "total_incl_vat"])


def _line_of(bill: Bill, position: int, charge: Charge) -> BillLine:
    return BillLine(
        bill=bill,
        position=position,
        label=charge.label,
        revenue_type=charge.revenue_type,
        service_start=charge.service_date,
        service_end=charge.service_date,
        quantity=charge.quantity,
        unit=charge.unit,
        unit_price_excl_vat=charge.unit_price_excl_vat,
        vat_rate=charge.vat_rate,
        amount_excl_vat=charge.amount_excl_vat,
        charge=charge,
    )


def attach(bill: Bill, charges: list[Charge]) -> Bill:
    """Charges as the draft's next service lines (each charge in one draft), then its aids and totals."""
    position = bill.lines.filter(kind=BillLine.Kind.SERVICE).aggregate(last=Max("position"))["last"] or 0
    BillLine.objects.bulk_create(
        _line_of(bill, position + offset, charge) for offset, charge in enumerate(charges, start=1)
    )
    Charge.objects.filter(pk__in=[c.pk for c in charges]).update(bill=bill)
    return refresh(bill)


def buyer_fields(debtor) -> dict:
    """The buyer as the bill names it (kept on the bill: it never follows later changes of the debtor)."""
    if isinstance(debtor, Organisation):
        try:
            details = debtor.billing_details
        except DebtorDetails.DoesNotExist:
            details = DebtorDetails()
        return {
            "buyer_name": debtor.name,
            "buyer_address": debtor.address,
            "buyer_email": details.email,
            "buyer_siren": debtor.siren,
            "buyer_vat_number": details.vat_number,
            "buyer_is_business": bool(debtor.siren),
            "buyer_is_public": details.is_public_body,
            "commitment_reference": details.commitment_reference,
        }
    profile = getattr(debtor, "profile", None)
    address = getattr(profile, "billing_address", "") or getattr(profile, "commune", "")
    return {"buyer_name": str(debtor), "buyer_address": address, "buyer_email": debtor.email}


# --- 2. Review ----------------------------------------------------------------------------------------


def _line_rate(bill: Bill, quantity: Decimal, unit_price: Decimal, vat_rate: Decimal) -> Decimal:
    """What a typed line may be (refused otherwise, field by field), and the VAT rate it takes: none under
    the franchise."""
    errors = {}
    if quantity <= 0:
        errors["quantity"] = _("La quantité est positive.")
    if unit_price < 0:
        errors["unit_price"] = _(
            "Un prix est positif ou nul : une remise s’accorde par un avoir ou une aide."
        )
    if not Decimal("0") <= vat_rate <= Decimal("100"):
        errors["vat_rate"] = _("Un taux de TVA est entre 0 et 100 %.")
    if errors:
        raise ValidationError(errors)
    return Decimal("0") if bill.operator.vat_franchise else vat_rate


def change_line(
    line: BillLine, *, by, label: str, quantity: Decimal, unit_price: Decimal, vat_rate: Decimal
) -> BillLine:
    """A draft's service line as staff corrected it; the charge it came from keeps what was handed over."""
    vat_rate = _line_rate(line.bill, quantity, unit_price, vat_rate)
    with transaction.atomic():
        before = {
            "label": line.label,
            "quantity": str(line.quantity),
            "unit_price": str(line.unit_price_excl_vat),
        }
        line.label, line.quantity, line.unit_price_excl_vat = label, quantity, unit_price
        line.vat_rate = vat_rate
        line.amount_excl_vat = line_amount(quantity, unit_price)
        line.save()
        refresh(line.bill)
        audit(by, "billing.draft.change_line", line.bill, line=line.position, before=before)
    return line


def add_line(
    bill: Bill,
    *,
    by,
    label: str,
    revenue_type: str,
    quantity: Decimal,
    unit: str,
    unit_price: Decimal,
    vat_rate: Decimal,
) -> BillLine:
    """A line staff type on a draft (a service not recorded anywhere else)."""
    vat_rate = _line_rate(bill, quantity, unit_price, vat_rate)
    with transaction.atomic():
        bill = Bill.objects.select_for_update().get(pk=bill.pk)
        if bill.is_issued:
            raise issuing.IssueError(_("Une pièce émise ne change plus : établissez un avoir."))
        last = bill.lines.aggregate(last=Max("position"))["last"] or 0
        line = BillLine.objects.create(
            bill=bill,
            position=last + 1,
            label=label,
            revenue_type=revenue_type,
            service_start=bill.period_start,
            service_end=bill.period_end,
            quantity=quantity,
            unit=unit,
            unit_price_excl_vat=unit_price,
            vat_rate=vat_rate,
            amount_excl_vat=line_amount(quantity, unit_price),
        )
        refresh(bill)
        audit(by, "billing.draft.add_line", bill, line=line.position, label=label)
    return line


def delete_line(line: BillLine, *, by) -> None:
    """A service line taken off a draft: its charge is void (not billed, now or later)."""
    with transaction.atomic():
        bill = line.bill
        if line.charge_id:
            Charge.objects.filter(pk=line.charge_id).update(status=Charge.Status.VOID, bill=None)
        label = line.label
        line.delete()
        refresh(bill)
        audit(by, "billing.draft.delete_line", bill, label=label)


def discard(bill: Bill, *, by) -> None:
    """A draft given up: its charges go back to be billed by a later run."""
    with transaction.atomic():
        if bill.is_issued:
            raise issuing.IssueError(_("Une pièce émise ne se supprime pas : établissez un avoir."))
        Charge.objects.filter(bill=bill).update(bill=None)
        audit(by, "billing.draft.discard", bill, buyer=bill.buyer_name, total=str(bill.total_incl_vat))
        bill.delete()


# --- 3. Issue -----------------------------------------------------------------------------------------


def issue_run(
    run: BillingRun,
    *,
    by=None,
    on: date | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    bills=None,
    send: bool = True,
) -> list[Bill]:
    """Issue the run's drafts (or the given ones of it) and render their PDFs; returns the bills issued here.

    A draft another process issued meanwhile is skipped; one that cannot be issued (no line, negative) is
    reported in the run's error and left as a draft, the others go on. `send=False` (demo data) sends
    nothing: nobody is told of invented bills."""
    drafts = Bill.objects.filter(run=run, status=Bill.Status.DRAFT)
    if bills is not None:
        drafts = drafts.filter(pk__in=[getattr(b, "pk", b) for b in bills])
    ids = list(drafts.order_by("organisation_id", "member_id", "pk").values_list("pk", flat=True))
    BillingRun.objects.filter(pk=run.pk).update(
        status=BillingRun.Status.ISSUING, total=len(ids), done=0, error=""
    )
    issued, problems = [], []
    # Numbers a chunk at a time (one lock of the series for a hundred bills), each chunk's PDFs rendered by
    # the workers while the next chunk is numbered.
    with Renderers(workers) as render:
        for start in range(0, len(ids), ISSUE_CHUNK):
            chunk = ids[start : start + ISSUE_CHUNK]
            done = []
            for result in issuing.issue_many(chunk, by=by, on=on):
                if isinstance(result, issuing.AlreadyIssued):
                    continue  # by another process meanwhile
                if isinstance(result, issuing.IssueError):
                    problems.append(f"{result.bill_name} : {result}")
                else:
                    done.append(result)
            issued += done
            render([bill.pk for bill in done])
            BillingRun.objects.filter(pk=run.pk).update(done=F("done") + len(chunk))
            if progress:
                run.refresh_from_db()
                progress(run)
    if send:
        _dispatch(issued)
    left = Bill.objects.filter(run=run, status=Bill.Status.DRAFT).exists()
    BillingRun.objects.filter(pk=run.pk).update(
        status=BillingRun.Status.DRAFTED if left else BillingRun.Status.ISSUED,
        error="\n".join(problems),
        finished_at=timezone.now(),
    )
    audit(by, "billing.run.issue", run, issued=len(issued), refused=len(problems))
    run.refresh_from_db()
    return issued


def issue_one(bill: Bill, *, by=None, on: date | None = None, send: bool = True) -> Bill:
    """Issue one draft (of a run, or a credit note), render its PDF and send it."""
    bill = issuing.issue(bill, by=by, on=on)
    render_pdfs([bill.pk], workers=1)
    if send:
        _dispatch([bill])
    return bill


def _dispatch(bills: list[Bill]) -> None:
    """Send each issued bill: by e-mail, or through the e-invoicing platform (see `sending`)."""
    sending.dispatch_many(bills)


ISSUE_CHUNK = 100  # drafts numbered in one transaction


def render_pdfs(bill_ids: list[int], *, workers: int | None = None) -> None:
    """Render and keep the PDF/A-3 of issued bills (see `Renderers`)."""
    with Renderers(workers) as render:
        render(bill_ids)


class Renderers:
    """Where PDFs are rendered: with `workers` > 1 (the setting COCOTTE_BILLING_WORKERS by default), that many
    processes — WeasyPrint is CPU-bound and single-threaded, one process per core — each started afresh
    (spawned, not forked: no database connection is shared with this one) on this process's database.
    Inside a transaction, or for one bill, in this process: children could not see what it has not committed.

    `with Renderers() as render: render(ids)` hands ids over and returns at once; leaving the block waits for
    every PDF and raises the first failure."""

    def __init__(self, workers: int | None = None):
        self.workers = settings.COCOTTE_BILLING_WORKERS if workers is None else workers
        self.pool, self.futures = None, []

    def __enter__(self):
        return self

    def __call__(self, bill_ids: list[int]) -> None:
        if not bill_ids:
            return
        if self.workers <= 1 or connection.in_atomic_block or (self.pool is None and len(bill_ids) < 2):
            render_worker.render_here(bill_ids)
            return
        if self.pool is None:
            self.pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=render_worker.start,
                initargs=(connection.settings_dict["NAME"],),
            )
        size = max(1, -(-len(bill_ids) // self.workers))  # a share for each worker
        for start in range(0, len(bill_ids), size):
            self.futures.append(self.pool.submit(render_worker.render, bill_ids[start : start + size]))

    def __exit__(self, *exc):
        if self.pool is None:
            return False
        try:
            failures = [failure for future in self.futures if (failure := future.result())]
        finally:
            self.pool.shutdown()
        if failures and exc[0] is None:
            raise RunError(failures[0])
        return False


def _is_person(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)
