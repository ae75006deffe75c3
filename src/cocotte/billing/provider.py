"""Online payment: a hosted checkout at a provider, and the provider's notification when it is done.

Every provider has the same shape (`Provider`): `start_checkout(bill, return_url)` opens a session for what
the bill still asks and gives the page to send the payer to; `verify(headers, body)` turns the provider's
notification into a `Notification` — or raises `NotificationError` when it cannot be trusted. Only the
provider's network boundary (the HTTP call that opens a session, or asks for a result) is a function the
provider is given, so that tests fake exactly that and nothing else.

- `SignedProvider`: a card provider that signs its notifications with HMAC-SHA256 over a shared secret, in
  a `Cocotte-Signature: t=<unix time>,v1=<hex>` header covering `<t>.<body>`. The signature is compared in
  constant time, and a notification signed more than five minutes away from now is refused, so that a
  captured one cannot be replayed later. The secret: the setting `COCOTTE_PAYMENT_SECRET` (from the
  environment), required once a real checkout URL is set; without one, a development secret (`DEV_SECRET`).
- `PayFiP`: the DGFiP's online payment for public bodies (public mode). It does not sign its notifications:
  it posts an operation id (`idop`) to our URL, and the truth is what its web service
  (`recupererDetailPaiementSecurise`, over TLS) answers for that id — an id it does not know is refused.

`start_online_payment` records the pending `Payment` (method online, the provider's reference); `settle`
applies a verified notification once: the payment's row is locked and a payment already received is left
alone, so a notification delivered twice allocates once.
"""

import hashlib
import hmac
import json
import logging
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cocotte.core.models import audit
from cocotte.core.money import cents

from . import payments
from .models import Bill, Operator, Payment

logger = logging.getLogger(__name__)

# For `make demo` and tests only: anyone who reads this file could sign notifications with it.
DEV_SECRET = "cocotte-dev-only-payment-secret"  # noqa: S105
SIGNATURE_HEADER = "Cocotte-Signature"
TOLERANCE_SECONDS = 5 * 60
TIMEOUT_SECONDS = 10


class ProviderError(Exception):
    """The provider could not open a checkout (network, refusal): the payer tries again later."""


class NotificationError(Exception):
    """A notification that cannot be trusted or understood: nothing is written for it."""


@dataclass(frozen=True)
class Checkout:
    url: str  # the provider's page the payer is sent to
    reference: str  # the provider's id of the session, which its notification names
    amount: Decimal


@dataclass(frozen=True)
class Notification:
    reference: str
    status: str  # a Payment.Status: received, failed, or pending (nothing to do yet)
    amount: Decimal


class Provider(Protocol):
    name: str

    def start_checkout(self, bill: Bill, return_url: str) -> Checkout: ...

    def verify(self, headers: Mapping[str, str], body: bytes) -> Notification: ...


def notify_url(name: str) -> str:
    return settings.COCOTTE_PUBLIC_URL + reverse("billing:payment_webhook", args=[name])


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), "")


def _post(url: str, body: bytes, headers: dict[str, str]) -> bytes:
    """The network boundary: POST to a provider over HTTPS, its answer's body."""
    if urlsplit(url).scheme != "https":
        raise ProviderError(_("Le prestataire de paiement se joint en HTTPS."))
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 — https only
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310 — https only
            return answer.read()
    except (urllib.error.URLError, TimeoutError) as error:
        raise ProviderError(_("Le prestataire de paiement ne répond pas.")) from error


# ---------------------------------------------------------------------------------------------------------
# A provider that signs with HMAC-SHA256
# ---------------------------------------------------------------------------------------------------------


def configured_secret() -> str:
    # settings refuse a real checkout URL without its secret, so the development one signs only for no provider.
    return settings.COCOTTE_PAYMENT_SECRET or DEV_SECRET


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header's value for a body at a time (what the provider computes, and we check)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _post_json(url: str, body: bytes, headers: dict[str, str]) -> dict:
    try:
        return json.loads(_post(url, body, headers))
    except ValueError as error:
        raise ProviderError(_("Réponse illisible du prestataire de paiement.")) from error


class SignedProvider:
    """A hosted checkout whose requests and notifications are signed with HMAC-SHA256 (see the module)."""

    name = "signed"
    STATUSES = {"paid": Payment.Status.RECEIVED, "failed": Payment.Status.FAILED}

    def __init__(
        self,
        *,
        secret: str | None = None,
        endpoint: str | None = None,
        create_session: Callable[[str, bytes, dict], dict] = _post_json,
        clock: Callable[[], float] = time.time,
    ):
        self._secret = secret
        self.endpoint = (
            endpoint
            or settings.COCOTTE_PAYMENT_CHECKOUT_URL
            or "https://paiement.invalid/v1/checkout/sessions"
        )
        self.create_session = create_session
        self.clock = clock

    @property
    def secret(self) -> str:
        return self._secret or configured_secret()

    def start_checkout(self, bill: Bill, return_url: str) -> Checkout:
        amount = payments.remaining(bill)
        body = json.dumps(
            {
                "amount": str(amount),
                "currency": "EUR",
                "order": bill.reference,
                "description": f"{bill.get_kind_display()} {bill.reference} — {bill.operator.name}",
                "customer_email": bill.buyer_email or getattr(bill.member, "email", ""),
                "return_url": return_url,
                "notify_url": notify_url(self.name),
            },
            sort_keys=True,
        ).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, body, int(self.clock())),
        }
        answer = self.create_session(self.endpoint, body, headers)
        try:
            return Checkout(url=str(answer["url"]), reference=str(answer["id"]), amount=amount)
        except (KeyError, TypeError) as error:
            raise ProviderError(_("Réponse incomplète du prestataire de paiement.")) from error

    def verify(self, headers: Mapping[str, str], body: bytes) -> Notification:
        timestamp, signatures = self._parse(_header(headers, SIGNATURE_HEADER))
        if abs(self.clock() - timestamp) > TOLERANCE_SECONDS:
            raise NotificationError("stale or future timestamp")
        expected = sign(self.secret, body, timestamp).split("v1=", 1)[1]
        if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            raise NotificationError("bad signature")
        try:
            data = json.loads(body)
            status = self.STATUSES[data["status"]]
            amount = Decimal(str(data["amount"]))
            reference = str(data["id"])
        except (ValueError, KeyError, TypeError, InvalidOperation) as error:
            raise NotificationError("unreadable notification") from error
        return Notification(reference=reference, status=status, amount=amount)

    @staticmethod
    def _parse(header: str) -> tuple[int, list[str]]:
        timestamp, signatures = None, []
        for part in header.split(","):
            key, _sep, value = part.strip().partition("=")
            if key == "t" and value.isdigit():
                timestamp = int(value)
            elif key == "v1" and value:
                signatures.append(value)
        if timestamp is None or not signatures:
            raise NotificationError("missing signature")
        return timestamp, signatures


# ---------------------------------------------------------------------------------------------------------
# PayFiP (public mode)
# ---------------------------------------------------------------------------------------------------------

PAYFIP_SERVICE = "https://www.payfip.gouv.fr/tpa/services/securite"
PAYFIP_PAGE = "https://www.payfip.gouv.fr/tpa/paiementws.web?idop="
PAYFIP_NS = (
    "http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/"
    "contrat_paiement_securise/PaiementSecuriseService"
)


def payfip_call(operation: str, fields: dict[str, str]) -> dict[str, str]:
    """The network boundary of PayFiP: one SOAP operation of its web service, the fields of its answer."""
    arguments = ElementTree.Element("arg0")
    for name, value in fields.items():
        ElementTree.SubElement(arguments, name).text = value
    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:pai="{PAYFIP_NS}"><soapenv:Header/><soapenv:Body><pai:{operation}>'
        + ElementTree.tostring(arguments, encoding="unicode")
        + f"</pai:{operation}></soapenv:Body></soapenv:Envelope>"
    ).encode()
    answer = _post(PAYFIP_SERVICE, envelope, {"Content-Type": "text/xml; charset=utf-8"})
    try:
        root = ElementTree.fromstring(answer)  # noqa: S314 — the DGFiP's answer, over TLS
    except ElementTree.ParseError as error:
        raise ProviderError(_("Réponse illisible de PayFiP.")) from error
    result = root.find(".//return")
    if result is None:
        code = root.find(".//code")
        raise ProviderError(
            _("PayFiP refuse l’opération (%(code)s).") % {"code": code.text if code is not None else "?"}
        )
    return {child.tag: (child.text or "") for child in result}


class PayFiP:
    """PayFiP: the session is an operation id (`idop`); its notification is checked with the web service."""

    name = "payfip"
    PAID = frozenset({"P", "V"})  # paid by card, paid by direct debit
    FAILED = frozenset({"R", "A"})  # refused, abandoned

    def __init__(
        self,
        *,
        client_number: str | None = None,
        mode: str | None = None,
        call: Callable[[str, dict[str, str]], dict[str, str]] = payfip_call,
    ):
        # The régie's PayFiP client number and the mode: T test, X activation, W production.
        self.client_number = client_number or settings.COCOTTE_PAYFIP_NUMCLI
        self.mode = mode or settings.COCOTTE_PAYFIP_MODE
        self.call = call

    def start_checkout(self, bill: Bill, return_url: str) -> Checkout:
        if not self.client_number:
            raise ProviderError(_("Le numéro de client PayFiP de la régie n’est pas configuré."))
        amount = payments.remaining(bill)
        answer = self.call(
            "creerPaiementSecurise",
            {
                "exer": str(bill.issue_date.year),
                "mel": bill.buyer_email or getattr(bill.member, "email", ""),
                "montant": str(int(amount * 100)),  # in cents
                "numcli": self.client_number,
                "objet": re.sub(r"[^A-Za-z0-9 ]", " ", f"{bill.get_kind_display()} {bill.reference}")[:100],
                "refdet": re.sub(r"[^A-Za-z0-9]", "", bill.reference)[:30],
                "saisie": self.mode,
                "urlnotif": notify_url(self.name),
                "urlredirect": return_url,
            },
        )
        idop = answer.get("idOp", "")
        if not idop:
            raise ProviderError(_("PayFiP n’a pas ouvert de paiement."))
        return Checkout(url=PAYFIP_PAGE + idop, reference=idop, amount=amount)

    def verify(self, headers: Mapping[str, str], body: bytes) -> Notification:
        fields = parse_qs(body.decode("utf-8", "replace"))
        idop = (fields.get("idop") or fields.get("idOp") or [""])[0]
        if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", idop):
            raise NotificationError("no operation id")
        try:
            detail = self.call("recupererDetailPaiementSecurise", {"idOp": idop})
        except ProviderError as error:
            raise NotificationError("unknown operation") from error
        if detail.get("idOp", idop) != idop or detail.get("numcli", self.client_number) != self.client_number:
            raise NotificationError("another operation")
        result = detail.get("resultrans", "")
        status = (
            Payment.Status.RECEIVED
            if result in self.PAID
            else Payment.Status.FAILED
            if result in self.FAILED
            else Payment.Status.PENDING
        )
        try:
            amount = Decimal(detail.get("montant") or "0") / 100
        except InvalidOperation as error:
            raise NotificationError("unreadable amount") from error
        return Notification(reference=idop, status=status, amount=amount)


# ---------------------------------------------------------------------------------------------------------
# Paying a bill online
# ---------------------------------------------------------------------------------------------------------

PROVIDERS: dict[str, Callable[[], Provider]] = {SignedProvider.name: SignedProvider, PayFiP.name: PayFiP}


def provider_named(name: str) -> Provider | None:
    factory = PROVIDERS.get(name)
    return factory() if factory else None


def provider_for(operator: Operator) -> Provider:
    """PayFiP for a public body's régie, the card provider for the others."""
    return PROVIDERS[PayFiP.name if operator.is_public else SignedProvider.name]()


def is_offered(operator: Operator) -> bool:
    """Whether the operator's bills can be paid online: its provider is configured (the régie's PayFiP
    client number for a public body, the card provider's checkout URL for the others)."""
    if operator.is_public:
        return bool(settings.COCOTTE_PAYFIP_NUMCLI)
    return bool(settings.COCOTTE_PAYMENT_CHECKOUT_URL)


def start_online_payment(
    bill: Bill, return_url: str, *, provider: Provider | None = None, by=None
) -> Checkout:
    """Open a checkout for what an issued bill still asks, and record the pending payment it will settle.

    The provider is called before the transaction: no lock is held while the network answers."""
    if bill.status != Bill.Status.ISSUED or bill.kind not in payments.OWED_KINDS:
        raise payments.PaymentError(_("Seuls une facture ou un relevé émis se paient en ligne."))
    if payments.remaining(bill) <= 0:
        raise payments.PaymentError(_("%(bill)s est déjà réglée.") % {"bill": bill.reference})
    provider = provider or provider_for(bill.operator)
    checkout = provider.start_checkout(bill, return_url)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                operator=bill.operator,
                member=bill.member,
                organisation=bill.organisation,
                amount=checkout.amount,
                method=Payment.Method.ONLINE,
                status=Payment.Status.PENDING,
                received_on=timezone.localdate(),
                # What it pays, so that the notification can settle that bill (see `settle`).
                reference=bill.reference,
                provider_reference=checkout.reference,
                recorded_by=by if by is not None and getattr(by, "is_authenticated", False) else None,
            )
            audit(by, "billing.online_payment", payment, bill=bill.reference, provider=provider.name)
    except IntegrityError as error:
        raise ProviderError(_("Le prestataire a donné une référence déjà connue.")) from error
    return checkout


def settle(notification: Notification) -> Payment | None:
    """Apply a verified notification to its payment, once; None when no payment has that reference.

    Received: the payment is marked received today and allocated to the bill it was started for (then, if
    anything is left, it stays a credit on account). Failed: marked failed. A payment already received is
    left as it is, whatever comes next: a notification delivered twice allocates once."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("operator", "member", "organisation")
            .filter(provider_reference=notification.reference, method=Payment.Method.ONLINE)
            .first()
        )
        if payment is None:
            return None
        if payment.status == Payment.Status.RECEIVED or notification.status == Payment.Status.PENDING:
            return payment
        if notification.status == Payment.Status.FAILED:
            if payment.status == Payment.Status.PENDING:
                payment.status = Payment.Status.FAILED
                payment.save(update_fields=["status"])
                audit(None, "billing.online_payment_failed", payment)
            return payment
        if cents(notification.amount) != payment.amount:
            raise NotificationError("amount differs from the checkout's")
        payment.status = Payment.Status.RECEIVED
        payment.received_on = timezone.localdate()
        payment.save(update_fields=["status", "received_on"])
        debtor = payment.member or payment.organisation
        bills = [b for b in payments.open_bills(debtor, payment.operator) if b.reference == payment.reference]
        allocations = payments.allocate(payment, bills) if bills else []
        audit(
            None,
            "billing.online_payment_received",
            payment,
            allocations={a.bill.reference: str(a.amount) for a in allocations},
        )
    return payment
