"""Reminders of overdue bills: an e-mail at 15 and at 30 days past the due date, each once ever, never for a
paid bill, naming the bill, what is still due, the due date and how to pay."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import translation

from cocotte.billing import issuing, payments, reminders
from cocotte.billing.models import Bill, Payment, Reminder
from cocotte.core import scheduler
from cocotte.core.formats import format_day


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("the server went away")


@pytest.fixture
def invoice(private_operator, alice, make_bill):
    """alice's invoice: 3 days at 15 € HT, 54 € incl. VAT, due 30 days after its issue."""
    return issuing.issue(make_bill(private_operator, alice, [("Journée de coworking", 3, "15.00", "20")]))


def days_after_due(bill, days):
    return bill.due_date + timedelta(days=days)


def test_reminders_go_at_15_and_30_days_and_each_once(invoice):
    assert reminders.send_due_reminders(days_after_due(invoice, 14)) == 0
    assert reminders.send_due_reminders(days_after_due(invoice, 15)) == 1
    assert reminders.send_due_reminders(days_after_due(invoice, 15)) == 0  # run twice the same day
    assert reminders.send_due_reminders(days_after_due(invoice, 22)) == 0
    assert reminders.send_due_reminders(days_after_due(invoice, 30)) == 1
    assert reminders.send_due_reminders(days_after_due(invoice, 31)) == 0
    assert reminders.send_due_reminders(days_after_due(invoice, 90)) == 0

    assert len(mail.outbox) == 2
    assert sorted(Reminder.objects.values_list("days_overdue", flat=True)) == [15, 30]
    first, second = mail.outbox
    assert first.to == ["alice@example.org"]
    assert first.subject == f"Relance : facture {invoice.number} en attente de règlement"
    assert second.subject.startswith("Deuxième relance")


def test_the_reminder_names_the_bill_what_is_due_when_and_how_to_pay(private_operator, alice, invoice):
    payments.record(private_operator, alice, "20.00", Payment.Method.CHEQUE, invoice.issue_date)

    reminders.send_due_reminders(days_after_due(invoice, 15))

    (message,) = mail.outbox
    body = message.body
    assert invoice.number in body
    assert "34,00\u00a0€" in body and "54,00\u00a0€" in body  # still due, of the total
    with translation.override("fr"):
        assert f"Échéance : {format_day(invoice.due_date)}" in body
    assert private_operator.iban in body and "virement" in body
    assert message.reply_to == [private_operator.email]
    html = message.alternatives[0][0]
    assert invoice.number in html and "34,00" in html and 'lang="fr"' in html


def test_no_reminder_for_a_paid_bill(private_operator, alice, invoice):
    payments.record(private_operator, alice, "54.00", Payment.Method.TRANSFER, invoice.issue_date)

    assert reminders.send_due_reminders(days_after_due(invoice, 15)) == 0
    assert reminders.send_due_reminders(days_after_due(invoice, 30)) == 0
    assert not mail.outbox and not Reminder.objects.exists()


def test_no_reminder_for_an_invoice_cancelled_by_a_credit_note(invoice):
    issuing.issue(issuing.credit_note_for(invoice))

    assert reminders.send_due_reminders(days_after_due(invoice, 30)) == 0


def test_a_bill_first_seen_late_gets_the_30_day_reminder_alone_and_never_the_15_day_one(invoice):
    assert reminders.send_due_reminders(days_after_due(invoice, 40)) == 1
    assert reminders.send_due_reminders(days_after_due(invoice, 41)) == 0

    assert list(Reminder.objects.values_list("days_overdue", flat=True)) == [30]
    assert mail.outbox[0].subject.startswith("Deuxième relance")


def test_a_business_is_reminded_at_its_billing_address_with_the_late_penalties(
    private_operator, company, make_bill
):
    bill = issuing.issue(make_bill(private_operator, company, [("Mois de bureau", 1, "200.00", "20")]))

    reminders.send_due_reminders(days_after_due(bill, 30))

    (message,) = mail.outbox
    assert message.to == ["compta@volcans.example"]
    assert "40 €" in message.body and "BCE" in message.body


def test_a_statement_says_how_to_pay_a_public_body(public_operator, alice, make_bill):
    bill = make_bill(public_operator, alice, [("Demi-journée", 2, "6.00", "20")], kind=Bill.Kind.STATEMENT)
    bill = issuing.issue(bill)

    reminders.send_due_reminders(days_after_due(bill, 15))

    (message,) = mail.outbox
    assert bill.reference in message.subject and "relevé" in message.body
    assert "régie de recettes" in message.body and "PayFiP" in message.body
    assert "14,40" in message.body


def test_a_refused_sending_is_tried_again_the_next_day(settings, invoice):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    assert reminders.send_due_reminders(days_after_due(invoice, 15)) == 0
    assert not Reminder.objects.exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert reminders.send_due_reminders(days_after_due(invoice, 16)) == 1
    assert Reminder.objects.get().days_overdue == 15


def test_reminders_run_daily_from_the_scheduler():
    job = scheduler.jobs()["billing.reminders"]
    assert job.every == timedelta(days=1) and job.func is reminders.send_due_reminders
