"""Sending issued bills: a member's bill by e-mail with its PDF, in their language; a company's invoice deposited
on the e-invoicing platform, whose lifecycle statuses are recorded in order and each once; a rejection flagged
and told to staff once; a platform down retried later with nothing half-written; no platform configured, the
e-mail instead, and the transmission says so. Each bill is sent once, however often it is dispatched and
however many workers run.

Only the platform's HTTP boundary (`einvoicing.http_request`) is faked; the task worker, the mail outbox
(locmem), the PDF and the database are real."""

import base64
import io
import json
import re
import smtplib
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, transaction
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader

from cocotte.accounts.models import Organisation
from cocotte.billing import einvoicing, facturx, issuing, sending
from cocotte.billing.models import Bill, Lifecycle, LifecycleEvent, Transmission
from cocotte.core import scheduler
from cocotte.core.formats import format_day

URL = "https://api.plateforme-agreee.example/v1"
TOKEN = "a-test-token-of-the-platform"
DELIVER = "cocotte.billing.sending.deliver"


class FakePlatform:
    """The approved platform's API at its HTTP boundary: it keeps each deposit once per idempotency key and
    answers an invoice's lifecycle as the test makes it happen (newest first, as some platforms do)."""

    def __init__(self):
        self.deposits = {}  # platform id → (JSON body, headers)
        self.by_key = {}  # Idempotency-Key → platform id
        self.events = {}  # platform id → [{"status", "at", "reason"}]
        self.calls = []
        self.down = None  # "network" (no answer at all) or "503"
        self.refuse = ""  # a reason: deposits are refused

    def __call__(self, method, url, headers, body):
        self.calls.append((method, url))
        if self.down == "network":
            raise einvoicing.PlatformUnavailable("connection refused")  # what the real boundary raises
        if self.down == "503":
            return 503, b"<html>Service Unavailable</html>"
        assert url.startswith(URL + "/") and headers["Authorization"] == f"Bearer {TOKEN}"
        path = url[len(URL) :]
        if method == "POST" and path == "/invoices":
            if self.refuse:
                return 422, json.dumps({"detail": self.refuse}).encode()
            key = headers["Idempotency-Key"]
            if key not in self.by_key:
                platform_id = f"pa-{len(self.by_key) + 1}"
                self.by_key[key] = platform_id
                self.deposits[platform_id] = (json.loads(body), headers)
                self.events[platform_id] = []
                self.happen(platform_id, Lifecycle.DEPOSITED)
            return 201, json.dumps({"id": self.by_key[key], "status": "200"}).encode()
        found = re.fullmatch(r"/invoices/([^/]+)/lifecycle", path)
        if method == "GET" and found and unquote(found[1]) in self.events:
            events = sorted(self.events[unquote(found[1])], key=lambda e: e["at"], reverse=True)
            return 200, json.dumps({"id": unquote(found[1]), "events": events}).encode()
        return 404, json.dumps({"detail": "not found"}).encode()

    def happen(self, platform_id, status, *, at=None, reason=""):
        at = at or datetime.now(UTC)
        self.events[platform_id].append({"status": str(status), "at": at.isoformat(), "reason": reason})
        return at

    def lifecycle_calls(self):
        return [call for call in self.calls if call[0] == "GET"]


@pytest.fixture
def platform(settings, monkeypatch):
    settings.COCOTTE_EINVOICING_URL = URL
    settings.COCOTTE_EINVOICING_TOKEN = TOKEN
    fake = FakePlatform()
    monkeypatch.setattr(einvoicing, "http_request", fake)
    return fake


@pytest.fixture
def no_platform(settings):
    settings.COCOTTE_EINVOICING_URL = ""
    settings.COCOTTE_EINVOICING_TOKEN = ""


def run_worker():
    """The task worker (`cocotte db_worker`) until the queue holds nothing it may run now: its own claim and
    `run_task`, without its loop's housekeeping of connections, which would end the test's transaction."""
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    while True:
        with transaction.atomic():
            task_result = DBTaskResult.objects.ready().filter(backend_name="default").get_locked()
            if task_result is None:
                return
            task_result.claim(worker.worker_id)
        worker.run_task(task_result)


@pytest.fixture
def dispatch(django_capture_on_commit_callbacks):
    """dispatch(bill) as a caller does it, then its transaction commits (the task is enqueued)."""

    def run(bill):
        with django_capture_on_commit_callbacks(execute=True):
            return sending.dispatch(bill)

    return run


@pytest.fixture
def invoice(private_operator, alice, make_bill):
    """alice's invoice: 3 days at 15 € HT, 54 € incl. VAT."""
    return issuing.issue(make_bill(private_operator, alice, [("Journée de coworking", 3, "15.00", "20")]))


@pytest.fixture
def company_invoice(private_operator, company, make_bill):
    """An invoice to a company with its SIREN: 200 € HT, 240 € incl. VAT."""
    return issuing.issue(make_bill(private_operator, company, [("Mois de bureau", 1, "200.00", "20")]))


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def stored_pdf(bill) -> bytes:
    return bytes(Bill.objects.get(pk=bill.pk).pdf)


# --- by e-mail ---------------------------------------------------------------------------------------------


def test_a_members_invoice_is_emailed_by_the_worker_with_its_pdf(private_operator, invoice, dispatch):
    dispatch(invoice)
    assert mail.outbox == []  # the caller only queued it: the worker sends

    run_worker()

    (message,) = mail.outbox
    assert message.to == ["alice@example.org"] and message.reply_to == [private_operator.email]
    assert message.subject == f"Facture {invoice.number} — {private_operator.name}"
    with translation.override("fr"):
        due = format_day(invoice.due_date)
    assert private_operator.name in message.body and invoice.number in message.body
    assert "Montant total : 54,00\u00a0€" in message.body and f"Échéance : {due}" in message.body
    assert "Pour régler :" in message.body and private_operator.iban in message.body
    html = message.alternatives[0][0]
    assert 'lang="fr"' in html and invoice.number in html and "54,00" in html and due in html

    (filename, content, mimetype) = message.attachments[0]
    assert (filename, mimetype) == (f"{invoice.number}.pdf", "application/pdf")
    assert content == stored_pdf(invoice)  # the document as issued and kept
    assert invoice.number in pdf_text(content) and "54,00 €" in pdf_text(content)
    assert PdfReader(io.BytesIO(content)).attachments["factur-x.xml"] == [facturx.cii_xml(invoice)]

    transmission = Transmission.objects.get(bill=invoice)
    invoice.refresh_from_db()
    assert (transmission.channel, transmission.status, transmission.fallback) == ("email", "sent", False)
    assert invoice.sent_at == transmission.sent_at is not None
    assert invoice.platform_status == "" and not transmission.history.exists()


def test_the_email_speaks_the_members_language(private_operator, alice, bob, make_bill, dispatch):
    alice.profile.language = "en"
    alice.profile.save(update_fields=["language"])
    english = issuing.issue(make_bill(private_operator, alice, [("Coworking day", 1, "15.00", "20")]))
    french = issuing.issue(make_bill(private_operator, bob, [("Journée", 1, "15.00", "20")]))
    dispatch(english)
    dispatch(french)

    run_worker()

    by_reader = {message.to[0]: message for message in mail.outbox}
    to_alice, to_bob = by_reader["alice@example.org"], by_reader["bob@example.org"]
    with translation.override("en"):
        due = format_day(english.due_date)
    assert "Hello," in to_alice.body and "To pay:" in to_alice.body
    assert f"Due date: {due}" in to_alice.body and "Total amount: 18,00\u00a0€" in to_alice.body
    assert 'lang="en"' in to_alice.alternatives[0][0]
    assert "Bonjour," in to_bob.body and "Pour régler :" in to_bob.body
    assert 'lang="fr"' in to_bob.alternatives[0][0]
    # The document itself is always in French: it is kept as it was sent.
    assert to_alice.attachments[0][1] == stored_pdf(english)


def test_dispatched_twice_and_run_by_two_workers_it_is_sent_once(invoice, dispatch):
    first = dispatch(invoice)
    second = dispatch(invoice)
    queued = DBTaskResult.objects.filter(task_path=DELIVER).first()
    DBTaskResult.objects.create(
        id=DBTaskResult._meta.pk.default(),
        args_kwargs=queued.args_kwargs,
        task_path=queued.task_path,
        queue_name=queued.queue_name,
        backend_name=queued.backend_name,
        priority=queued.priority,
        run_after=queued.run_after,
    )  # another worker's copy of the same task

    run_worker()
    dispatch(invoice)  # once sent, dispatching again does nothing
    run_worker()

    assert first == second and Transmission.objects.count() == 1
    assert len(mail.outbox) == 1
    results = sorted(DBTaskResult.objects.filter(task_path=DELIVER).values_list("return_value", flat=True))
    assert results == ["", "", "sent"]


def test_a_rolled_back_issue_sends_nothing(private_operator, alice, make_bill, dispatch):
    draft = make_bill(private_operator, alice, [("Journée", 1, "15.00", "20")])
    with pytest.raises(RuntimeError), transaction.atomic():
        dispatch(issuing.issue(draft))
        raise RuntimeError("the billing run failed further on")

    run_worker()

    assert not Transmission.objects.exists() and mail.outbox == []
    assert not DBTaskResult.objects.filter(task_path=DELIVER).exists()


def test_a_draft_is_not_dispatched(private_operator, alice, make_bill):
    draft = make_bill(private_operator, alice, [("Journée", 1, "15.00", "20")])
    with pytest.raises(sending.SendingError):
        sending.dispatch(draft)


def test_a_public_operators_statement_is_emailed_even_to_a_company(
    public_operator, company, make_bill, platform, dispatch
):
    statement = make_bill(
        public_operator, company, [("Demi-journée", 2, "6.00", "20")], kind=Bill.Kind.STATEMENT
    )
    statement = issuing.issue(statement)
    dispatch(statement)

    run_worker()

    (message,) = mail.outbox
    assert platform.calls == []
    assert message.to == ["compta@volcans.example"]
    assert statement.reference in message.subject and "relevé" in message.body
    assert "régie de recettes" in message.body and "PayFiP" in message.body
    assert message.attachments[0][1] == stored_pdf(statement)
    assert Transmission.objects.get().channel == "email"


# --- through the platform ----------------------------------------------------------------------------------


def test_a_companys_invoice_is_deposited_on_the_platform(company_invoice, platform, dispatch):
    dispatch(company_invoice)

    run_worker()

    assert mail.outbox == []
    (platform_id,) = platform.deposits
    sent, headers = platform.deposits[platform_id]
    assert base64.b64decode(sent["document"]) == stored_pdf(company_invoice)  # its Factur-X, as issued
    assert (sent["number"], sent["type_code"], sent["buyer_siren"]) == (
        company_invoice.number,
        "380",
        "732829320",
    )
    assert sent["seller_siren"] == "812345676" and sent["total_incl_vat"] == "240.00"
    assert headers["Idempotency-Key"] == f"812345676-{company_invoice.number}"
    transmission = Transmission.objects.get(bill=company_invoice)
    company_invoice.refresh_from_db()
    assert (transmission.channel, transmission.status, transmission.external_id) == (
        "platform",
        "sent",
        platform_id,
    )
    assert transmission.lifecycle == company_invoice.platform_status == Lifecycle.DEPOSITED
    assert company_invoice.sent_at is not None


def test_a_credit_note_to_a_company_goes_to_the_platform_too(company_invoice, platform, dispatch):
    note = issuing.issue(issuing.credit_note_for(company_invoice))

    dispatch(note)
    run_worker()

    ((sent, _headers),) = platform.deposits.values()
    assert (sent["number"], sent["type_code"]) == (note.number, "381")


def test_lifecycle_statuses_are_recorded_in_order_and_each_once(company_invoice, platform, dispatch):
    dispatch(company_invoice)
    run_worker()
    (platform_id,) = platform.deposits
    start = datetime.now(UTC)

    assert einvoicing.poll() == 1  # Déposée, at the platform's date
    platform.happen(platform_id, Lifecycle.RECEIVED, at=start + timedelta(minutes=1))
    platform.happen(platform_id, Lifecycle.APPROVED, at=start + timedelta(days=2), reason="Bon pour paiement")
    assert einvoicing.poll() == 2
    assert einvoicing.poll() == 0  # asked again: nothing new, nothing twice
    platform.happen(platform_id, Lifecycle.PAYMENT_SENT, at=start + timedelta(days=20))
    platform.happen(platform_id, Lifecycle.COLLECTED, at=start + timedelta(days=21))
    assert einvoicing.poll() == 2

    transmission = Transmission.objects.get(bill=company_invoice)
    history = list(transmission.history.values_list("status", "reason"))
    assert history == [
        (Lifecycle.DEPOSITED, ""),
        (Lifecycle.RECEIVED, ""),
        (Lifecycle.APPROVED, "Bon pour paiement"),
        (Lifecycle.PAYMENT_SENT, ""),
        (Lifecycle.COLLECTED, ""),
    ]
    assert transmission.history.last().occurred_at == start + timedelta(days=21)
    company_invoice.refresh_from_db()
    assert transmission.lifecycle == company_invoice.platform_status == Lifecycle.COLLECTED
    # Encaissée is final: the platform is not asked again.
    asked = len(platform.lifecycle_calls())
    einvoicing.poll()
    assert len(platform.lifecycle_calls()) == asked
    assert not transmission.needs_attention and mail.outbox == []


def test_a_rejected_invoice_is_flagged_and_its_operators_staff_told_once(
    private_operator, company_invoice, platform, dispatch, sophie, carol
):
    dispatch(company_invoice)
    run_worker()
    (platform_id,) = platform.deposits
    platform.happen(platform_id, Lifecycle.REJECTED, reason="Destinataire inconnu de l’annuaire")

    einvoicing.poll()
    einvoicing.poll()

    transmission = Transmission.objects.get(bill=company_invoice)
    assert list(Transmission.objects.needing_attention().of_operator(private_operator)) == [transmission]
    assert transmission.needs_attention and transmission.staff_notified_at is not None
    company_invoice.refresh_from_db()
    assert company_invoice.platform_status == Lifecycle.REJECTED
    (message,) = mail.outbox  # sophie runs the operator's site; carol another one's
    assert message.to == ["sophie@example.org"]
    assert company_invoice.number in message.subject and "Rejetée" in message.subject
    assert "Destinataire inconnu de l’annuaire" in message.body and "Volcans Numériques" in message.body
    assert "Destinataire inconnu" in message.alternatives[0][0]
    # Rejected is final: not asked again.
    asked = len(platform.lifecycle_calls())
    einvoicing.poll()
    assert len(platform.lifecycle_calls()) == asked and len(mail.outbox) == 1


def test_a_document_the_platform_refuses_at_deposit_is_a_rejection(
    company_invoice, platform, dispatch, sophie
):
    platform.refuse = "BR-FR-10 : SIREN du vendeur absent"
    dispatch(company_invoice)

    run_worker()
    run_worker()

    transmission = Transmission.objects.get(bill=company_invoice)
    company_invoice.refresh_from_db()
    assert (transmission.status, transmission.lifecycle) == ("failed", Lifecycle.REJECTED)
    assert list(transmission.history.values_list("status", "reason")) == [
        (Lifecycle.REJECTED, "BR-FR-10 : SIREN du vendeur absent")
    ]
    assert company_invoice.sent_at is None and company_invoice.platform_status == Lifecycle.REJECTED
    (message,) = mail.outbox
    assert message.to == ["sophie@example.org"] and "BR-FR-10" in message.body
    assert not DBTaskResult.objects.filter(task_path=DELIVER, status="READY").exists()  # never retried


@pytest.mark.parametrize("down", ["network", "503"])
def test_a_platform_down_is_retried_later_with_nothing_half_written(
    company_invoice, platform, dispatch, down
):
    platform.down = down
    dispatch(company_invoice)

    run_worker()

    transmission = Transmission.objects.get(bill=company_invoice)
    company_invoice.refresh_from_db()
    assert (transmission.status, transmission.attempts) == ("queued", 1)
    assert transmission.external_id == transmission.lifecycle == "" and transmission.sent_at is None
    assert transmission.claimed_at is None and transmission.retry_after > timezone.now()
    assert company_invoice.sent_at is None and company_invoice.platform_status == ""
    assert not LifecycleEvent.objects.exists() and platform.deposits == {} and mail.outbox == []
    retry = DBTaskResult.objects.get(task_path=DELIVER, status="READY")  # the worker's retry, deferred
    assert retry.run_after == transmission.retry_after

    run_worker()  # not due yet: nothing tried
    assert Transmission.objects.get().attempts == 1

    platform.down = None
    Transmission.objects.update(retry_after=timezone.now() - timedelta(seconds=1))
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now() - timedelta(seconds=1))
    run_worker()

    transmission.refresh_from_db()
    assert transmission.status == "sent" and transmission.external_id == "pa-1"
    assert len(platform.deposits) == 1 and mail.outbox == []


def test_the_sweep_sends_a_lost_dispatch_and_takes_back_a_dead_workers_claim(
    invoice, company_invoice, platform
):
    sending.dispatch(invoice)  # its transaction never committed here: no task, as if the task were lost
    sending.dispatch(company_invoice)
    Transmission.objects.filter(bill=company_invoice).update(
        status="sending",
        claimed_at=timezone.now() - timedelta(minutes=20),  # a worker died mid-sending
    )
    assert not DBTaskResult.objects.filter(task_path=DELIVER).exists()

    assert sending.retry_due() == 0  # a dispatch of a minute ago is left to the worker
    assert sending.retry_due(timezone.now() + timedelta(minutes=2)) == 2

    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    assert set(Transmission.objects.values_list("status", flat=True)) == {"sent"}
    assert len(platform.deposits) == 1


def test_with_no_platform_configured_a_companys_invoice_is_emailed_and_the_transmission_says_so(
    company_invoice, no_platform, dispatch
):
    dispatch(company_invoice)

    run_worker()

    (message,) = mail.outbox
    assert message.to == ["compta@volcans.example"]
    assert message.attachments[0][1] == stored_pdf(company_invoice)
    transmission = Transmission.objects.get(bill=company_invoice)
    company_invoice.refresh_from_db()
    assert (transmission.channel, transmission.status, transmission.fallback) == ("email", "sent", True)
    assert "non configurée" in transmission.message
    assert company_invoice.sent_at is not None and company_invoice.platform_status == ""
    assert list(Transmission.objects.filter(fallback=True)) == [transmission]  # to deposit once configured


class RefusingBackend(EmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("the server went away")


def test_a_mail_server_away_is_retried_and_staff_are_told_once_it_gives_up(settings, invoice, sophie):
    sending.dispatch(invoice)
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"

    outcomes = []
    for _attempt in range(sending.MAX_ATTEMPTS):
        Transmission.objects.update(retry_after=None)  # its time has come
        outcomes.append(sending.send(invoice.pk))

    assert outcomes[-1] == "failed" and set(outcomes[:-1]) == {"retry"}
    transmission = Transmission.objects.get()
    assert (transmission.status, transmission.attempts) == ("failed", sending.MAX_ATTEMPTS)
    assert "the server went away" in transmission.message and transmission.sent_at is None
    assert list(Transmission.objects.needing_attention()) == [transmission]
    assert transmission.staff_notified_at is None  # the same mail server could not tell staff either

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert einvoicing.notify_problems() == 1
    assert einvoicing.notify_problems() == 0
    (message,) = mail.outbox
    assert message.to == ["sophie@example.org"] and invoice.number in message.subject
    assert "Non envoyée" in message.subject and "12 tentatives" in message.body

    again = sending.retry(transmission, by=sophie)
    assert (again.status, again.attempts, again.staff_notified_at) == ("queued", 0, None)
    assert sending.send(invoice.pk) == "sent"


def test_a_bill_with_no_address_waits_and_says_why(private_operator, make_bill):
    nobody = Organisation.objects.create(name="Association sans adresse")
    bill = issuing.issue(make_bill(private_operator, nobody, [("Salle", 2, "10.00", "20")]))
    sending.dispatch(bill)

    assert sending.send(bill.pk) == "retry"

    transmission = Transmission.objects.get()
    assert transmission.status == "queued" and "Aucune adresse" in transmission.message
    assert mail.outbox == []


def test_the_jobs_are_registered_with_the_scheduler():
    jobs = scheduler.jobs()
    assert jobs["billing.sending"].func is sending.retry_due
    assert jobs["billing.einvoicing"].func is einvoicing.poll
    assert jobs["billing.einvoicing"].every == timedelta(minutes=15)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_once(invoice):
    sending.dispatch(invoice)
    start = threading.Barrier(2)
    outcomes = []

    def worker():
        try:
            start.wait()
            outcomes.append(sending.send(invoice.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["", "sent"]
    assert len(mail.outbox) == 1
