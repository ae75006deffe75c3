"""Who sees which bills and receipts: the one place the member pages and the API ask.

- A **member** sees the bills issued to them, and those issued to the organisations they *manage* (the role
  `organisation_manager` over ("accounts", organisation id)): issued ones only, a draft being the team's work
  in progress. They pay them, and download their receipts.
- The **staff of a site** see every bill of the operator that runs it (Site → SiteOperator → Operator),
  drafts included, and its payments; an **admin** sees them all. Seeing is not paying: only the debtor pays
  online.
- Anyone else's bill or payment does not exist: `get_bill_for` and `get_payment_for` raise `NotFound`
  (a 404, never a 403, so that ids tell nothing).

Every answer is read afresh from the roles (`accounts.permissions`, cached for the request): a manager who
loses the role loses the organisation's bills at their next request.
"""

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from cocotte.accounts import permissions
from cocotte.accounts.models import Organisation, Role
from cocotte.core import errors

from . import payments
from .models import Bill, Operator, Payment, SiteOperator

ORGANISATION_SCOPE = "accounts"  # the app whose objects scope an organisation's roles


class BillNotFound(errors.NotFound):
    """No such bill, or not one this person may see: the same answer."""


class PaymentNotFound(errors.NotFound):
    """No such received payment, or not one this person may see."""


def managed_organisation_ids(user) -> frozenset[int]:
    """Ids of the organisations this user manages (no query beyond the request's roles)."""
    return permissions.scope_ids(user, [Role.Name.ORGANISATION_MANAGER], ORGANISATION_SCOPE)


def managed_organisations(user) -> list[Organisation]:
    """The organisations this user manages, by name: one query, none when they manage none."""
    ids = managed_organisation_ids(user)
    return list(Organisation.objects.filter(pk__in=ids).order_by("name", "pk")) if ids else []


def _staffed_operators(user):
    """The operators of the sites this user staffs, as a subquery (no query of its own)."""
    return SiteOperator.objects.filter(site_id__in=permissions.staffed_site_ids(user)).values("operator_id")


def staff_operators(user) -> QuerySet:
    """The operators whose billing this user runs (runs, drafts, credit notes): those of the sites they
    staff; an admin, every one."""
    operators = Operator.objects.order_by("name")
    return operators if permissions.is_admin(user) else operators.filter(pk__in=_staffed_operators(user))


def _visible(user, issued: Q) -> Q | None:
    """Who may see what, as one condition; None: everything (an admin); Q(pk__in=[]): nothing."""
    if not permissions.is_member(user):
        return Q(pk__in=[])
    if permissions.is_admin(user):
        return None
    own = Q(member=user)
    managed = managed_organisation_ids(user)
    if managed:
        own |= Q(organisation_id__in=managed)
    condition = own & issued
    if permissions.staffed_site_ids(user):
        condition |= Q(operator_id__in=_staffed_operators(user))
    return condition


def visible_bills(user, bills: QuerySet | None = None) -> QuerySet:
    """The bills (of `bills`, all by default) this user may see (see the module): their own and their
    organisations' issued bills, and for site staff every bill of their operators, drafts included."""
    bills = Bill.objects.all() if bills is None else bills
    condition = _visible(user, Q(status=Bill.Status.ISSUED))
    return bills if condition is None else bills.filter(condition)


def get_bill_for(user, pk: int, bills: QuerySet | None = None) -> Bill:
    """The bill if this user may see it; `BillNotFound` otherwise (someone else's bill does not exist).
    `bills` says how it is read (select_related, `payments.with_remaining`)."""
    bill = visible_bills(user, bills).filter(pk=pk).first()
    if bill is None:
        raise BillNotFound(_("Pièce introuvable."))
    return bill


def visible_payments(user) -> QuerySet:
    """The received payments this user may see: their own and their organisations', and for site staff
    those received by their operators. A pending or failed online payment has no receipt."""
    condition = _visible(user, Q())
    payments = Payment.objects.filter(status=Payment.Status.RECEIVED)
    return payments if condition is None else payments.filter(condition)


def get_payment_for(user, pk: int) -> Payment:
    payment = visible_payments(user).select_related("operator", "member", "organisation", "recorded_by")
    payment = payment.filter(pk=pk).first()
    if payment is None:
        raise PaymentNotFound(_("Paiement introuvable."))
    return payment


def is_debtor(user, bill: Bill) -> bool:
    """Whether the bill is this user's to pay: theirs, or an organisation's they manage. Staff who see a
    member's bill do not pay it for them."""
    if not permissions.is_member(user):
        return False
    if bill.member_id is not None:
        return bill.member_id == user.pk
    return bill.organisation_id in managed_organisation_ids(user)


def issued_bills_of(debtor) -> QuerySet:
    """A debtor's issued bills (invoices, credit notes, statements), newest first: what their own space
    lists. The stored PDF is left unread (`defer`): a list never needs it."""
    return (
        Bill.objects.filter(status=Bill.Status.ISSUED, **payments.debtor_filter(debtor))
        .defer("pdf")
        .order_by("-issue_date", "-issued_at", "-pk")
    )


def receipts_of(debtor) -> QuerySet:
    """A debtor's received payments, newest first: each has its receipt (a numbered one from a régie)."""
    return Payment.objects.filter(status=Payment.Status.RECEIVED, **payments.debtor_filter(debtor)).order_by(
        "-received_on", "-pk"
    )
