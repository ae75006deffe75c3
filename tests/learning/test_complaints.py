"""The complaints register: filed by anyone, acknowledged, the site's staff told; answered, closed, exported."""

import pytest
from django.core import mail
from django.urls import reverse

from cocotte.learning import complaints
from cocotte.learning.models import Complaint


def test_a_visitor_files_a_complaint_acknowledged_and_the_staff_told(
    client, programme, sophie, carol, immediate_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            reverse("learning:complaint_new"),
            {
                "author_name": "Marc Visiteur",
                "author_email": "marc@example.org",
                "programme": programme.pk,
                "subject": "Salle trop froide",
                "description": "Le chauffage ne marchait pas.",
            },
        )
    assert answer.status_code == 200 and "Réclamation envoyée" in answer.content.decode()
    complaint = Complaint.objects.get()
    assert complaint.author is None and complaint.programme == programme
    assert sorted(m.to[0] for m in mail.outbox) == ["marc@example.org", "sophie@example.org"]


def test_bad_input_is_refused_with_nothing_written(client, db):
    answer = client.post(
        reverse("learning:complaint_new"),
        {"author_name": "", "author_email": "pas-une-adresse", "subject": "", "description": ""},
    )
    assert answer.status_code == 400 and not Complaint.objects.exists()


def test_staff_answer_close_filter_and_export(client, programme, sophie, carol):
    complaint = complaints.file_complaint(
        name="Marc", email="marc@example.org", subject="=cmd|calc", description="Retard", programme=programme
    )
    client.force_login(carol)
    assert client.get(reverse("learning:complaint", args=[complaint.pk])).status_code == 404
    client.force_login(sophie)
    url = reverse("learning:complaint", args=[complaint.pk])
    assert (
        client.post(
            url,
            {
                "response": "Nous avons changé de salle.",
                "action_taken": "Vérifier le chauffage la veille",
                "close": "on",
            },
        ).status_code
        == 302
    )
    complaint.refresh_from_db()
    assert complaint.status == "closed" and complaint.answered_by == sophie
    with pytest.raises(complaints.Conflict):
        complaints.answer(complaint, by=sophie, response="encore")
    register = client.get(reverse("learning:complaints"), {"status": "closed"}).content.decode()
    assert "=cmd|calc" in register
    assert (
        "=cmd"
        not in client.get(reverse("learning:complaints"), {"status": "open"})
        .content.decode()
        .split("<main")[1]
    )
    csv = client.get(reverse("learning:complaints_export")).content.decode("utf-8-sig")
    assert "'=cmd|calc" in csv and "Vérifier le chauffage" in csv
