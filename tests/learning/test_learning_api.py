"""The trainings' API: sessions for anyone, applying and withdrawing for members; errors as {detail, code}."""

import pytest

from cocotte.learning import services
from cocotte.learning.models import Enrolment, Session
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db
S = Enrolment.Status
BODY = {"project": "Créer une ferme-auberge.", "prerequisites_met": True, "funding": "self"}


@pytest.fixture
def api(db):
    return ApiClient()


def test_anyone_lists_upcoming_sessions(api, sittings, session):
    response = api.get("/trainings/sessions")
    assert response.status_code == 200
    [row] = response.json()
    assert row["id"] == session.pk and row["programme"] == session.programme.title
    assert (row["capacity"], row["places_left"], row["status"]) == (3, 3, "open")
    assert row["site"] == session.site.slug and row["open_for_enrolment"] is True
    assert row["starts_at"] and row["ends_at"]


def test_planned_sessions_and_unpublished_programmes_are_not_listed(api, sittings, session, programme):
    Session.objects.filter(pk=session.pk).update(status=Session.Status.PLANNED)
    assert api.get("/trainings/sessions").json() == []
    assert api.get(f"/trainings/sessions/{session.pk}").status_code == 404


def test_one_session(api, sittings, session):
    response = api.get(f"/trainings/sessions/{session.pk}")
    assert response.status_code == 200 and response.json()["places_left"] == 3
    missing = api.get("/trainings/sessions/999999")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_a_member_applies(api, sittings, session, alice):
    response = api.post(f"/trainings/sessions/{session.pk}/enrolments", BODY, as_=alice)
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "applied"
    assert Enrolment.objects.get(trainee=alice).project == BODY["project"]


def test_a_full_session_waitlists(api, sittings, session, sophie, make_application, make_member, alice):
    for n in range(3):
        services.accept(make_application(session, make_member(n)), by=sophie)
    response = api.post(f"/trainings/sessions/{session.pk}/enrolments", BODY, as_=alice)
    assert response.status_code == 201 and response.json()["status"] == "waitlisted"


def test_visitors_must_authenticate(api, sittings, session):
    response = api.post(f"/trainings/sessions/{session.pk}/enrolments", BODY)
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
    assert not Enrolment.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({**BODY, "prerequisites_met": False}, 422, "prerequisites_not_met"),
        ({**BODY, "project": ""}, 422, "invalid_input"),
        ({**BODY, "funding": "lottery"}, 422, "invalid_input"),
        ({"project": "x"}, 422, "invalid_input"),
    ],
)
def test_bad_input_is_refused_with_a_clear_code(api, sittings, session, alice, body, status, code):
    response = api.post(f"/trainings/sessions/{session.pk}/enrolments", body, as_=alice)
    assert response.status_code == status
    assert response.json()["code"] == code and response.json()["detail"]
    assert not Enrolment.objects.exists()


def test_duplicates_and_closed_sessions(api, sittings, session, alice, bob):
    assert api.post(f"/trainings/sessions/{session.pk}/enrolments", BODY, as_=alice).status_code == 201
    again = api.post(f"/trainings/sessions/{session.pk}/enrolments", BODY, as_=alice)
    assert again.status_code == 409 and again.json()["code"] == "already_enrolled"
    Session.objects.filter(pk=session.pk).update(enrolment_closes=session.created_at)
    closed = api.post(f"/trainings/sessions/{session.pk}/enrolments", BODY, as_=bob)
    assert closed.status_code == 422 and closed.json()["code"] == "closed"
    assert Enrolment.objects.count() == 1


def test_withdrawing_frees_the_place_for_the_next(
    api, sittings, session, sophie, make_application, make_member
):
    placed = [services.accept(make_application(session, make_member(n)), by=sophie) for n in range(3)]
    waiting = make_application(session, make_member(9))
    mine = api.get(f"/trainings/sessions/{session.pk}/enrolments/mine", as_=placed[0].trainee)
    assert mine.status_code == 200 and mine.json()["status"] == "accepted"
    response = api.delete(f"/trainings/sessions/{session.pk}/enrolments/mine", as_=placed[0].trainee)
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert Enrolment.objects.get(pk=waiting.pk).status == S.OFFERED
    again = api.delete(f"/trainings/sessions/{session.pk}/enrolments/mine", as_=placed[0].trainee)
    assert again.status_code == 409 and again.json()["code"] == "not_live"


def test_withdrawing_without_an_enrolment_is_a_404(api, sittings, session, bob):
    response = api.delete(f"/trainings/sessions/{session.pk}/enrolments/mine", as_=bob)
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_the_routes_are_in_the_openapi_document(api):
    paths = api.get("/openapi.json").json()["paths"]
    assert "/api/v1/trainings/sessions" in paths
    assert {"post"} <= set(paths["/api/v1/trainings/sessions/{session_id}/enrolments"])
    assert {"get", "delete"} <= set(paths["/api/v1/trainings/sessions/{session_id}/enrolments/mine"])
