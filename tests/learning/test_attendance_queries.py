"""The evidence pages run as many SQL queries with two trainees as with a dozen (and more sittings, half-days,
certificates and answers): the sheet page (the team's and the trainee's), the session's evidence partial, the
public results and the trainee's evidence partial. Each is measured at two sizes and the counts compared."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.template import engines
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cocotte.learning import attendance
from cocotte.learning.models import Certificate, Enrolment, Grant, Mark, Session, SurveyResponse
from tests.helpers import paris


def queries(action) -> int:
    with CaptureQueriesContext(connection) as context:
        action()
    return len(context.captured_queries)


def get(client, url) -> int:
    def fetch():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    client.get(url)  # a first visit makes the marks of newcomers: measured is the page as it is read
    return queries(fetch)


@pytest.fixture
def trainees(make_user):
    made = iter(range(1000))

    def make(count):
        return [
            make_user(f"t{n}@example.org", first_name=f"Prénom{n}", last_name=f"Nom{n}")
            for n in (next(made) for _ in range(count))
        ]

    return make


@pytest.fixture
def open_sheet(session, make_sitting):
    """The sheet of the half-day happening now."""
    now = timezone.now()
    sitting = make_sitting(session, now - timedelta(hours=1), now + timedelta(hours=2))
    return sitting.sheets.filter(start__lte=now, end__gt=now).get()


def sign_some(sheet, users):
    for user in users:
        attendance.ensure_marks(sheet)
        mark = Mark.objects.get(sheet=sheet, enrolment__trainee=user)
        attendance.sign(mark, signer=user, method="drawn", drawing="M1 1L30 30L60 10")


def test_the_sheet_page_runs_the_same_queries_whatever_the_number_of_trainees(
    client, session, open_sheet, enrol, trainees, trainer, alice
):
    url = reverse("learning:sheet", args=[open_sheet.pk])
    enrol(session, alice)
    few = trainees(2)
    for user in few:
        enrol(session, user)
    sign_some(open_sheet, few[:1])
    client.force_login(trainer)
    team_small = get(client, url)
    client.force_login(alice)
    trainee_small = get(client, url)

    many = trainees(10)
    for user in many:
        enrol(session, user)
    sign_some(open_sheet, many[:6])
    client.force_login(trainer)
    assert get(client, url) == team_small
    client.force_login(alice)
    assert get(client, url) == trainee_small


def test_a_locked_sheet_page_runs_the_same_queries_whatever_the_number_of_trainees(
    client, session, open_sheet, enrol, trainees, sophie
):
    url = reverse("learning:sheet", args=[open_sheet.pk])
    few = trainees(2)
    for user in few:
        enrol(session, user)
    many = trainees(10)
    for user in many:
        enrol(session, user)
    sign_some(open_sheet, [*few, *many[:5]])
    attendance.close(open_sheet, by=sophie)
    client.force_login(sophie)
    big = get(client, url)
    assert big <= 25, big

    # The same page for a sheet of two trainees only, on another session of the same site.
    small_session = Session.objects.create(
        programme=session.programme,
        site=session.site,
        label="Petite",
        status=Session.Status.OPEN,
        capacity=3,
        enrolment_closes=session.enrolment_closes,
    )
    from cocotte.learning import halfdays
    from cocotte.learning.models import Sitting

    sitting = Sitting.objects.create(
        session=small_session, start=open_sheet.start, end=open_sheet.end, trainer=open_sheet.sitting.trainer
    )
    (small,) = halfdays.plan_sheets(sitting)
    pair = trainees(2)
    for user in pair:
        enrol(small_session, user)
    sign_some(small, pair)
    attendance.close(small, by=sophie)
    assert get(client, reverse("learning:sheet", args=[small.pk])) == big


def render_session_partial(session) -> int:
    session = Session.objects.select_related("programme").get(pk=session.pk)
    partial = engines["django"].get_template("learning/_evidence_for_session.html")
    return queries(lambda: partial.render({"session": session}))


def test_the_sessions_evidence_partial_runs_the_same_queries_whatever_the_numbers(
    session, make_sitting, enrol, trainees
):
    day = timezone.localdate() + timedelta(days=20)
    make_sitting(session, paris(day, 9), paris(day, 17))
    for user in trainees(2):
        enrol(session, user)
    small = render_session_partial(session)
    for offset in (1, 2, 3):
        make_sitting(session, paris(day + timedelta(days=offset), 9), paris(day + timedelta(days=offset), 17))
    for user in trainees(10):
        enrol(session, user)
    assert render_session_partial(session) == small == 1


def closed_session_with(programme, site, users, *, label):
    session = Session.objects.create(
        programme=programme,
        site=site,
        label=label,
        status=Session.Status.COMPLETED,
        capacity=len(users) or 1,
        enrolment_closes=timezone.now() - timedelta(days=60),
    )
    for n, user in enumerate(users):
        enrolment = Enrolment.objects.create(
            session=session,
            trainee=user,
            status=Enrolment.Status.ACCEPTED,
            project="Un projet.",
            completed=n % 3 != 0,
            business_created=n % 2 == 0,
        )
        SurveyResponse.objects.create(enrolment=enrolment, kind="hot", overall=1 + n % 5)
    return session


def test_the_results_page_runs_the_same_queries_whatever_the_number_of_trainees(
    client, programme, site, trainees
):
    url = reverse("learning:results", args=[programme.slug])
    closed_session_with(programme, site, trainees(2), label="A")
    small = get(client, url)
    closed_session_with(programme, site, trainees(12), label="B")
    closed_session_with(programme, site, trainees(5), label="C")
    assert get(client, url) == small


def render_trainee_partials(user) -> int:
    enrolments = list(
        Enrolment.objects.filter(trainee=user).select_related("session__programme").order_by("pk")
    )
    page = engines["django"].from_string(
        '{% for e in enrolments %}{% include "learning/_evidence_for_enrolment.html" with enrolment=e %}'
        "{% endfor %}"
    )
    request = RequestFactory().get("/formations/mes-formations/")
    request.user = user
    return queries(lambda: page.render({"enrolments": enrolments}, request))


def evidence_for(enrolment, sheets, qualification, trainer):
    for sheet in sheets:
        Mark.objects.create(sheet=sheet, enrolment=enrolment, state="present")
    for kind in ("delivery", "completion"):
        Certificate.objects.create(
            enrolment=enrolment,
            kind=kind,
            number=f"{kind}-{enrolment.pk}",
            hours_attended=Decimal("3.50"),
            content={},
            content_hash="0" * 64,
        )
    Grant.objects.create(
        qualification=qualification,
        holder=enrolment.trainee,
        enrolment=enrolment,
        granted_by=trainer,
        site=enrolment.session.site,
        granted_on=timezone.localdate(),
    )


def test_the_trainees_evidence_partial_runs_the_same_queries_whatever_the_numbers(
    session, programme, site, make_sitting, enrol, alice, qualification, trainer
):
    day = timezone.localdate() - timedelta(days=30)
    first = enrol(session, alice)
    sitting = make_sitting(session, paris(day, 9), paris(day, 17))
    evidence_for(first, sitting.sheets.all()[:1], qualification, trainer)
    small = render_trainee_partials(alice)
    assert small <= 3, small

    sheets = list(sitting.sheets.all())
    for offset in range(1, 4):
        sheets += make_sitting(
            session, paris(day + timedelta(days=offset), 9), paris(day + timedelta(days=offset), 17)
        ).sheets.all()
    Mark.objects.filter(enrolment=first).delete()
    for sheet in sheets:
        Mark.objects.create(sheet=sheet, enrolment=first, state="present")
    for label in ("Été", "Automne"):
        other = closed_session_with(programme, site, [], label=label)
        enrolment = enrol(other, alice)
        evidence_for(enrolment, [], qualification, trainer)
    assert render_trainee_partials(alice) == small
