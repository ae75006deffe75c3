"""The team's billing pages: run a month, follow its progress, review and correct drafts, issue them.

Only the staff of a site reach the runs and drafts of the operator that runs it (an admin: all of them);
someone else's run or draft answers 404, as if it did not exist. The work itself is the task worker's
(`billing.tasks`): the pages start it and show where it is.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from cocotte.accounts import permissions

from . import issuing, runs, sending, tasks
from .access import staff_operators
from .forms import LineForm, NewLineForm, RunForm
from .issuing import IssueError
from .models import Bill, BillingRun, BillLine, Transmission

WORKING = (BillingRun.Status.RUNNING, BillingRun.Status.ISSUING)


def _operators_or_403(request):
    """The user's operators; refused to anyone who is not the team of a site (or an admin)."""
    if not permissions.is_any_site_staff(request.user):
        raise PermissionDenied(_("La facturation est réservée à l’équipe des lieux."))
    return list(staff_operators(request.user))


def _run(request, run_id: int) -> BillingRun:
    return get_object_or_404(
        BillingRun.objects.select_related("operator"), pk=run_id, operator__in=staff_operators(request.user)
    )


def _draft(request, bill_id: int) -> Bill:
    bill = get_object_or_404(
        Bill.objects.select_related("operator", "run"), pk=bill_id, operator__in=staff_operators(request.user)
    )
    if bill.is_issued:
        raise Http404  # an issued bill is no longer a draft to review
    return bill


@login_required
@require_http_methods(["GET", "POST"])
def index(request):
    operators = _operators_or_403(request)
    form = RunForm(request.POST or None, operators=staff_operators(request.user))
    if request.method == "POST" and form.is_valid():
        operator, month = form.cleaned_data["operator"], form.cleaned_data["month"]
        run, created = BillingRun.objects.get_or_create(operator=operator, month=month)
        if not created and run.status in WORKING:
            messages.info(request, _("Ce mois est déjà en cours de traitement."))
        else:
            BillingRun.objects.filter(pk=run.pk).update(status=BillingRun.Status.RUNNING, done=0, total=0)
            tasks.prepare_run.enqueue(run.pk, request.user.pk)
            messages.success(request, _("Préparation lancée : la page se met à jour toute seule."))
        return redirect("billing:run", run.pk)
    recent = (
        BillingRun.objects.filter(operator__in=operators)
        .select_related("operator")
        .annotate(
            drafts=Count("bills", filter=Q(bills__status=Bill.Status.DRAFT)),
            issued=Count("bills", filter=Q(bills__status=Bill.Status.ISSUED)),
        )
        .order_by("-month", "operator__name")[:24]
    )
    problems = (
        Transmission.objects.needing_attention()
        .filter(bill__operator__in=operators)
        .select_related("bill__operator")[:50]
    )
    status = 400 if form.errors else 200
    context = {"form": form, "runs": recent, "problems": problems}
    return render(request, "billing/staff/index.html", context, status=status)


@login_required
@require_POST
def send_again(request, transmission_id: int):
    transmission = get_object_or_404(
        Transmission, pk=transmission_id, bill__operator__in=staff_operators(request.user)
    )
    try:
        sending.retry(transmission, by=request.user)
    except sending.SendingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Envoi relancé : le travailleur de tâches s’en charge."))
    return redirect("billing:staff")


@login_required
@require_http_methods(["GET"])
def run(request, run_id: int):
    run = _run(request, run_id)
    bills = list(
        run.bills.defer("pdf").annotate(line_count=Count("lines")).order_by("status", "buyer_name", "pk")
    )
    drafts = [bill for bill in bills if not bill.is_issued]
    context = {
        "run": run,
        "drafts": drafts,
        "issued": [bill for bill in bills if bill.is_issued],
        "working": run.status in WORKING,
        "draft_total": sum((bill.total_incl_vat for bill in drafts), start=0),
    }
    return render(request, "billing/staff/run.html", context)


@login_required
@require_POST
def issue(request, run_id: int):
    run = _run(request, run_id)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Cochez la case de confirmation : une pièce émise ne se modifie plus."))
        return redirect("billing:run", run.pk)
    if run.status in WORKING:
        messages.info(request, _("Ce mois est déjà en cours de traitement."))
        return redirect("billing:run", run.pk)
    count = run.bills.filter(status=Bill.Status.DRAFT).count()
    BillingRun.objects.filter(pk=run.pk).update(status=BillingRun.Status.ISSUING, done=0, total=count)
    tasks.issue_run.enqueue(run.pk, request.user.pk)
    messages.success(
        request,
        ngettext("Émission de %(n)s pièce lancée.", "Émission de %(n)s pièces lancée.", count) % {"n": count},
    )
    return redirect("billing:run", run.pk)


@login_required
@require_http_methods(["GET", "POST"])
def draft(request, bill_id: int):
    bill = _draft(request, bill_id)
    form = NewLineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            runs.add_line(bill, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Ligne ajoutée."))
            return redirect("billing:draft", bill.pk)
    context = {"bill": bill, "lines": bill.lines.order_by("position"), "form": form}
    return render(request, "billing/staff/draft.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def line(request, line_id: int):
    line = get_object_or_404(BillLine.objects.select_related("bill"), pk=line_id, kind=BillLine.Kind.SERVICE)
    bill = _draft(request, line.bill_id)
    initial = {
        "label": line.label,
        "quantity": line.quantity,
        "unit_price": line.unit_price_excl_vat,
        "vat_rate": line.vat_rate,
    }
    form = LineForm(request.POST or None, initial=initial)
    if request.method == "POST" and request.POST.get("delete"):
        runs.delete_line(line, by=request.user)
        messages.success(request, _("Ligne retirée : elle ne sera pas facturée."))
        return redirect("billing:draft", bill.pk)
    if request.method == "POST" and form.is_valid():
        try:
            runs.change_line(line, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Ligne modifiée."))
            return redirect("billing:draft", bill.pk)
    context = {"bill": bill, "line": line, "form": form}
    return render(request, "billing/staff/line.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def issue_draft(request, bill_id: int):
    bill = _draft(request, bill_id)
    try:
        bill = runs.issue_one(bill, by=request.user)
    except IssueError as error:
        messages.error(request, str(error))
        return redirect("billing:draft", bill.pk)
    messages.success(request, _("%(ref)s émise.") % {"ref": bill.reference})
    return redirect("billing:run", bill.run_id) if bill.run_id else redirect("billing:staff")


@login_required
@require_POST
def credit_note(request, bill_id: int):
    invoice = get_object_or_404(
        Bill,
        pk=bill_id,
        kind=Bill.Kind.INVOICE,
        status=Bill.Status.ISSUED,
        operator__in=staff_operators(request.user),
    )
    try:
        draft = issuing.credit_note_for(invoice, by=request.user)
    except IssueError as error:
        messages.error(request, str(error))
        return redirect("billing:staff")
    messages.success(request, _("Avoir préparé : vérifiez ses lignes, puis émettez-le."))
    return redirect("billing:draft", draft.pk)


@login_required
@require_POST
def discard(request, bill_id: int):
    bill = _draft(request, bill_id)
    run_id = bill.run_id
    runs.discard(bill, by=request.user)
    messages.success(request, _("Brouillon abandonné : ses lignes iront à une prochaine facturation."))
    return redirect("billing:run", run_id) if run_id else redirect("billing:staff")
