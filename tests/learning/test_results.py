"""The public results of a programme: satisfaction, completion, businesses created; constant queries."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cocotte.learning.models import Session, SurveyResponse
from tests.helpers import paris


def test_results_are_published_whatever_the_number(
    client, programme, session, make_sitting, enrol, make_user
):
    past = timezone.localdate() - timedelta(days=30)
    make_sitting(session, paris(past, 9), paris(past, 12))
    Session.objects.filter(pk=session.pk).update(status=Session.Status.COMPLETED)
    people = [make_user(f"t{i}@example.org") for i in range(4)]
    enrolments = [
        enrol(session, p, completed=i < 3, business_created=True if i == 0 else None)
        for i, p in enumerate(people)
    ]
    for enrolment, overall in zip(enrolments[:3], (5, 4, 2), strict=True):
        SurveyResponse.objects.create(enrolment=enrolment, kind="hot", overall=overall)
    url = reverse("learning:results", args=[programme.slug])
    with CaptureQueriesContext(connection) as few:
        page = client.get(url).content.decode()
    assert "3,7 sur 5" in page or "3.7 sur 5" in page
    assert "67 %" in page and "3 réponses" in page
    assert "75 %" in page and "3 stagiaires sur 4" in page
    assert "1 entreprises créées" in page or "1 entreprise" in page
    for i in range(4, 10):
        enrol(session, make_user(f"t{i}@example.org"), completed=True)
    with CaptureQueriesContext(connection) as more:
        client.get(url)
    assert len(more) == len(few)


def test_a_programme_without_a_closed_session_says_so(client, programme):
    assert "seront publiés" in client.get(reverse("learning:results", args=[programme.slug])).content.decode()
