"""What a visitor can make the platform send is limited per connection: a script cannot turn the complaint form
or the visitors' registration into a mailer."""

from django.core import mail
from django.urls import reverse

from cocotte.learning.models import Complaint


def test_the_eleventh_complaint_of_an_hour_from_one_connection_is_refused_and_not_recorded(client, db):
    url = reverse("learning:complaint_new")
    data = {
        "author_name": "Robot",
        "author_email": "cible@example.org",
        "subject": "Objet",
        "description": "Texte",
    }
    statuses = [client.post(url, data).status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    assert Complaint.objects.count() == 10
    refused = client.post(url, data)
    assert "réessayez dans une heure" in refused.content.decode()
    assert len([m for m in mail.outbox if "cible@example.org" in m.to]) <= 10
