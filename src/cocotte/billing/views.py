"""Members' bills: « Mes factures » (their own and their organisations'), one bill, its PDF, their receipts,
and paying a bill online.

Thin: who may see what is `access`'s, what a bill still asks and where it stands is `payments`'s, the PDF is
the one `issuing` keeps from the issue. The list reads a fixed number of queries whatever its length (a test
pins it): per section (the member, then each organisation they manage) the balance, one page of bills with
what each still asks (`payments.with_remaining`, in the same query), one page of received payments.

Paying online opens the provider's checkout and shows a link to it rather than redirecting: the pages'
Content Security Policy (`form-action 'self'`) stops a form's redirect to another site.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import access, issuing, payments, provider, shop
from .forms import TakePlanForm
from .models import Allocation, Bill, Holding, Payment

PAGE_SIZE = 20


class Pager:
    """One page of a list, without counting it (previous and next, no total), its links keeping the other
    lists' pages: each section of the page turns its own pages."""

    def __init__(self, request, rows, param: str, size: int = PAGE_SIZE):
        try:
            self.number = max(1, min(int(request.GET.get(param) or 1), 10_000))
        except ValueError:
            self.number = 1
        offset = (self.number - 1) * size
        found = list(rows[offset : offset + size + 1])
        self.object_list = found[:size]
        self.has_next = len(found) > size
        self.has_previous = self.number > 1
        self.previous_url = self._url(request, param, self.number - 1) if self.has_previous else ""
        self.next_url = self._url(request, param, self.number + 1) if self.has_next else ""

    @staticmethod
    def _url(request, param: str, number: int) -> str:
        query = request.GET.copy()
        if number > 1:
            query[param] = str(number)
        else:
            query.pop(param, None)
        return "?" + query.urlencode() if query else "?"

    def __iter__(self):
        return iter(self.object_list)

    def __bool__(self):
        return bool(self.object_list) or self.has_previous

    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


@dataclass
class Section:
    """What the page shows of one debtor: the member, or an organisation they manage."""

    key: str
    title: str
    balance: Decimal
    bills: Pager
    receipts: Pager

    @property
    def credit(self) -> Decimal:
        """What the debtor has paid beyond what they owe (a negative balance), as a positive amount."""
        return -self.balance if self.balance < 0 else Decimal("0.00")


def _section(request, debtor, key: str, title: str, today) -> Section:
    suffix = f"-{key}" if key else ""
    bills = Pager(
        request,
        payments.with_remaining(access.issued_bills_of(debtor)).select_related("operator"),
        "factures" + suffix,
    )
    for bill in bills:
        _describe(bill, today)
    return Section(
        key=key,
        title=title,
        balance=payments.balance(debtor),
        bills=bills,
        receipts=Pager(request, access.receipts_of(debtor).select_related("operator"), "recus" + suffix),
    )


def _describe(bill: Bill, today) -> None:
    """What a bill annotated by `payments.with_remaining` still asks and where it stands, for the template."""
    bill.left = payments.left_to_pay(bill)
    bill.settlement = payments.settlement_of(bill, today)
    bill.settlement_label = payments.Settlement(bill.settlement).label if bill.settlement else ""


@login_required
@require_GET
def mine(request):
    today = timezone.localdate()
    sections = [_section(request, request.user, "", _("À mon nom"), today)]
    sections += [
        _section(request, organisation, f"o{organisation.pk}", organisation.name, today)
        for organisation in access.managed_organisations(request.user)
    ]
    return render(request, "billing/mine.html", {"sections": sections})


def _bill(request, pk: int, bills=None) -> Bill:
    try:
        return access.get_bill_for(request.user, pk, bills)
    except access.BillNotFound as error:
        raise Http404(error.message) from error


@login_required
@require_GET
def bill(request, pk: int):
    found = _bill(
        request,
        pk,
        payments.with_remaining(Bill.objects.defer("pdf").select_related("operator", "credited_bill")),
    )
    _describe(found, timezone.localdate())
    allocations = (
        Allocation.objects.filter(bill=found, payment__status=Payment.Status.RECEIVED)
        .select_related("payment")
        .order_by("payment__received_on", "pk")
    )
    context = {
        "bill": found,
        "lines": found.lines.order_by("position"),
        "allocations": allocations,
        "credit_notes": found.credit_notes.filter(status=Bill.Status.ISSUED).defer("pdf").order_by("pk"),
        "seller": found.seller or {"name": found.operator.legal_name},
        "can_pay": found.left > 0
        and provider.is_offered(found.operator)
        and access.is_debtor(request.user, found),
    }
    return render(request, "billing/bill.html", context)


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    """A PDF to download (the pages' and the API's), kept by no shared cache: it is a person's."""
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_GET
def bill_pdf(request, pk: int):
    found = _bill(request, pk, Bill.objects.select_related("operator"))
    if not found.is_issued:
        raise Http404(_("Un brouillon n’a pas encore de PDF."))
    return pdf_response(issuing.render_pdf(found), f"{found.reference}.pdf")


@login_required
@require_GET
def receipt_pdf(request, pk: int):
    try:
        payment = access.get_payment_for(request.user, pk)
    except access.PaymentNotFound as error:
        raise Http404(error.message) from error
    name = payment.receipt_number or f"recu-{payment.received_on:%Y%m%d}-{payment.pk}"
    return pdf_response(payments.receipt_pdf(payment), f"{name}.pdf")


@login_required
@require_POST
def pay(request, pk: int):
    """Open the provider's checkout for what the bill still asks (the debtor only), and link to it."""
    found = _bill(request, pk, Bill.objects.defer("pdf").select_related("operator", "member"))
    if not access.is_debtor(request.user, found):
        raise PermissionDenied(_("Seul le débiteur paie sa pièce en ligne."))
    if not provider.is_offered(found.operator):
        messages.error(request, _("Le paiement en ligne n’est pas proposé pour cette pièce."))
        return redirect("billing:bill", pk=found.pk)
    back = settings.COCOTTE_PUBLIC_URL + reverse("billing:bill", args=[found.pk])
    try:
        checkout = provider.start_online_payment(found, back, by=request.user)
    except payments.PaymentError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("billing:bill", pk=found.pk)
    except provider.ProviderError as error:
        messages.error(request, str(error))
        return redirect("billing:bill", pk=found.pk)
    return render(request, "billing/pay.html", {"bill": found, "checkout": checkout})


# --- Plans a member takes ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def plans(request):
    organisations = access.managed_organisations(request.user)
    form = TakePlanForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            debtor = shop.debtor_for(request.user, data["for_organisation"])
            holding = shop.take(data["plan"], debtor, by=request.user, starts_on=data["starts_on"])
        except shop.ShopError as error:
            form.add_error(None, error)
        else:
            sale = shop.sale_bill(holding)
            if sale is not None:
                messages.success(
                    request, _("C’est pris. Sa pièce est émise : réglez-la en ligne ou à l’accueil.")
                )
                return redirect("billing:bill", sale.pk)
            messages.success(
                request, _("Abonnement pris : il est facturé chaque mois, jusqu’à sa résiliation.")
            )
            return redirect("billing:plans")
    sections = [(_("Pour moi"), shop.holdings_of(request.user))] + [
        (organisation.name, shop.holdings_of(organisation)) for organisation in organisations
    ]
    context = {"form": form, "plans": shop.plans_on_sale(), "sections": sections}
    return render(request, "billing/plans.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def cancel_plan(request, pk: int):
    holding = Holding.objects.select_related("plan").filter(pk=pk).first()
    mine = holding is not None and (
        holding.member_id == request.user.pk
        or (
            holding.organisation_id
            and holding.organisation_id in access.managed_organisation_ids(request.user)
        )
    )
    if not mine:
        raise Http404
    try:
        shop.cancel(holding, by=request.user)
    except shop.ShopError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request,
            _("Abonnement résilié : il court jusqu’au %(day)s inclus.")
            % {"day": holding.ends_on.strftime("%d/%m/%Y")},
        )
    return redirect("billing:plans")
