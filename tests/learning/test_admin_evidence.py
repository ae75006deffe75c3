"""The evidence in the admin: each site's team reads its own sheets, certificates, surveys, complaints and grants
(another site's do not exist for them), and nobody deletes or rewrites them there."""

import pytest
from django.urls import reverse

from cocotte.learning.models import Complaint, Qualification


@pytest.fixture
def evidence(now_sheet, programme):
    complaint = Complaint.objects.create(
        programme=programme,
        author_name="Alice",
        author_email="alice@example.org",
        subject="Salle froide",
        description="Il faisait froid.",
    )
    return {"sheet": now_sheet, "complaint": complaint}


def _get(client, user, url):
    client.force_login(user)
    return client.get(url).status_code


def test_each_team_reads_its_own_sheets_and_complaints(client, evidence, sophie, carol, root):
    for model, row in (("sheet", evidence["sheet"]), ("complaint", evidence["complaint"])):
        url = reverse(f"admin:learning_{model}_change", args=[row.pk])
        assert _get(client, sophie, url) == 200, model
        assert _get(client, root, url) == 200, model
        assert _get(client, carol, url) == 404, model
        listing = reverse(f"admin:learning_{model}_changelist")
        client.force_login(carol)
        assert str(row) not in client.get(listing).content.decode()


def test_the_team_reads_qualifications_but_only_admins_define_them(client, sophie, root, qualification):
    url = reverse("admin:learning_qualification_change", args=[qualification.pk])
    assert _get(client, sophie, url) == 200
    client.force_login(sophie)
    client.post(url, {"name": "Renommée", "slug": qualification.slug})
    assert Qualification.objects.get(pk=qualification.pk).name == qualification.name
    assert _get(client, sophie, reverse("admin:learning_qualification_add")) == 403
    assert _get(client, root, reverse("admin:learning_qualification_add")) == 200


def test_nobody_deletes_a_complaint_or_a_sheet(client, evidence, root):
    for model, row in (("sheet", evidence["sheet"]), ("complaint", evidence["complaint"])):
        assert _get(client, root, reverse(f"admin:learning_{model}_delete", args=[row.pk])) == 403, model
    assert Complaint.objects.filter(pk=evidence["complaint"].pk).exists()
