"""Closing a session: hours attended from the sheets, two certificates per trainee, the qualification, the hot
survey; the PDFs; who downloads them."""

from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from cocotte.learning import attendance, certificates, qualifications
from cocotte.learning.models import Certificate, Mark, Session
from tests.helpers import paris


@pytest.fixture
def finished(session, programme, qualification, make_sitting, enrol, alice, bob):
    """A session whose sittings are past (a full day and a morning); alice signed 3 half-days, bob 1."""
    from django.utils import timezone

    programme.grants = qualification
    programme.save()
    a, b = enrol(session, alice), enrol(session, bob)
    today = timezone.localdate()
    day1 = make_sitting(session, paris(today - timedelta(days=9), 9), paris(today - timedelta(days=9), 17))
    day2 = make_sitting(
        session, paris(today - timedelta(days=8), 9), paris(today - timedelta(days=8), 12, 30)
    )
    sheets = [*day1.sheets.order_by("start"), *day2.sheets.all()]
    for sheet in sheets:
        attendance.ensure_marks(sheet)
        at = sheet.start + timedelta(minutes=5)
        attendance.sign(
            Mark.objects.get(sheet=sheet, enrolment=a),
            signer=alice,
            method="typed",
            typed_name="Alice Martin",
            now=at,
        )
    attendance.sign(
        Mark.objects.get(sheet=sheets[2], enrolment=b),
        signer=bob,
        method="typed",
        typed_name="Bob",
        now=sheets[2].start,
    )
    return {"session": session, "alice": a, "bob": b, "sheets": sheets}


def test_hours_attended_are_the_sum_of_the_half_days_signed(finished):
    hours = [s.hours for s in finished["sheets"]]
    assert certificates.hours_attended(finished["alice"]) == sum(hours) == Decimal("11.50")
    assert certificates.hours_attended(finished["bob"]) == hours[2] == Decimal("3.50")


def test_closing_issues_both_certificates_with_the_hours_and_grants_the_qualification(
    finished, sophie, qualification, alice, bob, immediate_tasks, django_capture_on_commit_callbacks
):
    outcomes = {
        finished["alice"].pk: (True, "Projet présenté au jury : validé."),
        finished["bob"].pk: (False, ""),
    }
    with django_capture_on_commit_callbacks(execute=True):
        issued = certificates.close_session(finished["session"], by=sophie, outcomes=outcomes)
    assert len(issued) == 4
    delivery = Certificate.objects.get(enrolment=finished["alice"], kind="delivery")
    assert delivery.hours_attended == certificates.hours_attended(finished["alice"]) == Decimal("11.50")
    assert delivery.content["provider"]["declaration"] == "84150000015" and certificates.verify(delivery)
    completion = Certificate.objects.get(enrolment=finished["bob"], kind="completion")
    assert completion.content["completed"] is False and completion.hours_attended == Decimal("3.50")
    finished["session"].refresh_from_db()
    assert finished["session"].status == Session.Status.COMPLETED
    assert all(
        sheet.locked_at
        for sheet in type(finished["sheets"][0]).objects.filter(sitting__session=finished["session"])
    )
    assert qualifications.holds(alice, qualification) and not qualifications.holds(bob, qualification)
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]  # the hot survey, to who completed
    assert "/questionnaire/" in mail.outbox[0].body


def test_who_left_during_the_session_gets_the_certificate_of_the_hours_attended(finished, sophie):
    bob = finished["bob"]
    bob.status = bob.Status.WITHDRAWN  # left after his one half-day
    bob.save(update_fields=["status"])
    certificates.close_session(
        finished["session"], by=sophie, outcomes={finished["alice"].pk: (True, "Validé.")}
    )
    [delivery] = Certificate.objects.filter(enrolment=bob)
    assert delivery.kind == "delivery" and delivery.hours_attended == Decimal("3.50")
    assert certificates.verify(delivery)


def test_closing_is_refused_before_the_end_without_an_outcome_or_twice(
    finished, sophie, trainer, make_sitting
):
    session = finished["session"]
    with pytest.raises(certificates.Forbidden):
        certificates.close_session(session, by=trainer, outcomes={})
    with pytest.raises(certificates.CloseError):
        certificates.close_session(session, by=sophie, outcomes={finished["alice"].pk: (True, "")})
    assert not Certificate.objects.exists()
    full = {finished["alice"].pk: (True, ""), finished["bob"].pk: (True, "")}
    certificates.close_session(session, by=sophie, outcomes=full)
    with pytest.raises(certificates.Conflict):
        certificates.close_session(session, by=sophie, outcomes=full)


def test_a_session_with_a_sitting_ahead_does_not_close(finished, sophie, make_sitting):
    from tests.helpers import day_ahead

    make_sitting(finished["session"], paris(day_ahead(3), 9), paris(day_ahead(3), 12))
    with pytest.raises(certificates.CloseError):
        certificates.close_session(
            finished["session"],
            by=sophie,
            outcomes={finished["alice"].pk: (True, ""), finished["bob"].pk: (True, "")},
        )


def test_the_pdfs_print_the_mentions_and_only_their_trainee_downloads_them(
    client, finished, sophie, alice, bob, carol
):
    certificates.close_session(
        finished["session"],
        by=sophie,
        outcomes={finished["alice"].pk: (True, "Validé"), finished["bob"].pk: (True, "")},
    )
    delivery = Certificate.objects.get(enrolment=finished["alice"], kind="delivery")
    completion = Certificate.objects.get(enrolment=finished["alice"], kind="completion")
    client.force_login(alice)
    text = " ".join(
        PdfReader(BytesIO(client.get(reverse("learning:certificate_pdf", args=[delivery.pk])).content))
        .pages[0]
        .extract_text()
        .split()
    )
    for expected in (
        "Certificat de réalisation",
        "Alice Martin",
        "Cycle création",
        "11,50",
        "84150000015",
        "Hautes Terres Communauté",
        "action de formation",
    ):
        assert expected in text
    text = " ".join(
        PdfReader(BytesIO(client.get(reverse("learning:certificate_pdf", args=[completion.pk])).content))
        .pages[0]
        .extract_text()
        .split()
    )
    assert "Attestation de fin de formation" in text and "Validé" in text and "Construire et valider" in text
    client.force_login(bob)
    assert client.get(reverse("learning:certificate_pdf", args=[delivery.pk])).status_code == 404
    client.force_login(carol)
    assert client.get(reverse("learning:certificate_pdf", args=[delivery.pk])).status_code == 404
    client.force_login(sophie)
    assert client.get(reverse("learning:certificate_pdf", args=[delivery.pk])).status_code == 200


def test_the_close_page_takes_outcomes_and_shows_the_certificates(client, finished, sophie):
    client.force_login(sophie)
    url = reverse("learning:session_close", args=[finished["session"].pk])
    page = client.get(url)
    assert page.status_code == 200 and "11.50" in page.content.decode().replace(",", ".")
    answer = client.post(
        url,
        {
            f"completed_{finished['alice'].pk}": "on",
            f"result_{finished['alice'].pk}": "Bien",
            f"result_{finished['bob'].pk}": "",
        },
    )
    assert answer.status_code == 302
    assert Certificate.objects.filter(enrolment__session=finished["session"]).count() == 4
    finished["bob"].refresh_from_db()
    assert finished["bob"].completed is False
    listing = client.get(
        reverse("learning:session_certificates", args=[finished["session"].pk])
    ).content.decode()
    assert "Certificat de réalisation" in listing


def test_gdpr_exports_the_evidence_and_erasure_keeps_it(finished, sophie, alice):
    from cocotte.accounts import gdpr

    certificates.close_session(
        finished["session"],
        by=sophie,
        outcomes={finished["alice"].pk: (True, ""), finished["bob"].pk: (True, "")},
    )
    part = gdpr.export(alice)["learning_evidence"]
    assert len(part["attendance"]) == 3 and all(row["signed_at"] for row in part["attendance"])
    assert {c["kind"] for c in part["certificates"]} == {"delivery", "completion"}
    assert part["qualifications"][0]["by_training"] is True
    gdpr.erase(alice)
    delivery = Certificate.objects.get(enrolment=finished["alice"], kind="delivery")
    assert delivery.content["trainee"]["name"] == "Alice Martin" and certificates.verify(delivery)
    assert Mark.objects.filter(enrolment=finished["alice"], state="present").count() == 3
