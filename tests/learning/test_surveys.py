"""Surveys: hot at the end, cold three months later (sent once), once per kind; the businesses created."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from cocotte.learning import surveys
from cocotte.learning.models import Session, SurveyResponse
from tests.helpers import paris


@pytest.fixture
def closed(session, make_sitting, enrol, alice, bob):
    a = enrol(session, alice, completed=True)
    enrol(session, bob, completed=True)
    past = timezone.localdate() - timedelta(days=100)
    make_sitting(session, paris(past, 9), paris(past, 12))
    Session.objects.filter(pk=session.pk).update(status=Session.Status.COMPLETED)
    return a


def test_the_hot_survey_is_answered_once_by_its_trainee(client, closed, alice, bob):
    url = reverse("learning:survey", args=[closed.pk, "chaud"])
    client.force_login(bob)
    assert client.get(url).status_code == 404
    client.force_login(alice)
    assert client.post(url, {"overall": "9"}).status_code == 400
    assert (
        client.post(
            url, {"overall": "5", "content": "4", "would_recommend": "yes", "comments": "Très utile"}
        ).status_code
        == 302
    )
    response = SurveyResponse.objects.get(enrolment=closed)
    assert (response.overall, response.content, response.would_recommend) == (5, 4, True)
    with pytest.raises(surveys.Conflict):
        surveys.submit(closed, "hot", by=alice, answers={"overall": 3})
    assert "Vous avez répondu" in client.get(url).content.decode()


def test_the_cold_survey_is_emailed_once_three_months_after_and_records_the_business(client, closed, alice):
    assert surveys.send_cold_surveys() == 2
    assert surveys.send_cold_surveys() == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.org", "bob@example.org"]
    client.force_login(alice)
    day = timezone.localdate() - timedelta(days=10)
    answer = client.post(
        reverse("learning:survey", args=[closed.pk, "froid"]),
        {"overall": "4", "business_created": "yes", "business_created_on": day.isoformat()},
    )
    assert answer.status_code == 302
    closed.refresh_from_db()
    assert closed.business_created is True and closed.business_created_on == day


def test_the_cold_survey_waits_three_months(session, make_sitting, enrol, alice):
    enrolment = enrol(session, alice, completed=True)
    recent = timezone.localdate() - timedelta(days=20)
    make_sitting(session, paris(recent, 9), paris(recent, 12))
    Session.objects.filter(pk=session.pk).update(status=Session.Status.COMPLETED)
    assert surveys.send_cold_surveys() == 0
    with pytest.raises(surveys.SurveyError):
        surveys.submit(enrolment, "cold", by=alice, answers={"overall": 4})


def test_staff_record_the_business(closed, sophie, carol):
    with pytest.raises(surveys.Forbidden):
        surveys.record_business(closed, by=carol, created=True)
    surveys.record_business(closed, by=sophie, created=True, created_on=timezone.localdate())
    closed.refresh_from_db()
    assert closed.business_created


def test_the_database_holds_the_scale_whatever_writes(enrol, session, alice):
    from django.db import IntegrityError, transaction

    from cocotte.learning.models import SurveyResponse

    enrolment = enrol(session, alice)
    for wrong in ({"overall": 0}, {"overall": 6}, {"overall": 4, "usefulness": 9}):
        with pytest.raises(IntegrityError), transaction.atomic():
            SurveyResponse.objects.create(enrolment=enrolment, kind="hot", **wrong)
    assert not SurveyResponse.objects.exists()
