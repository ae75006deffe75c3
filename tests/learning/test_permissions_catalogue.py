"""Who may open which trainings page and call which API route: visitor, member, trainee, other member, trainer,
staff of the site, staff of another site, admin."""

import pytest
from django.test import Client
from django.urls import reverse

from cocotte.learning import services
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

PERSONAS = ["visitor", "member", "trainee", "other_member", "trainer", "staff", "other_staff", "admin"]
LOGIN = "login"  # redirected to log in


@pytest.fixture
def cast(alice, bob, make_user, trainer, sophie, carol, root):
    return {
        "visitor": None,
        "member": bob,
        "trainee": alice,
        "other_member": make_user("dora@example.org", first_name="Dora"),
        "trainer": trainer,
        "staff": sophie,
        "other_staff": carol,
        "admin": root,
    }


@pytest.fixture
def enrolment(session, sittings, alice, sophie, make_application):
    return services.accept(make_application(session, alice, funding="self"), by=sophie)


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _status(response) -> object:
    if response.status_code == 302 and response["Location"].startswith(reverse("account_login")):
        return LOGIN
    return response.status_code


PAGES = {
    # name: (url builder, expected per persona in PERSONAS order)
    "catalogue": (lambda e: reverse("learning:catalogue"), [200] * 8),
    "programme": (lambda e: reverse("learning:programme", args=[e.session.programme.slug]), [200] * 8),
    "apply": (lambda e: reverse("learning:apply", args=[e.session_id]), [200] * 8),
    "mine": (lambda e: reverse("learning:mine"), [LOGIN, 200, 200, 200, 200, 200, 200, 200]),
    "contract": (
        lambda e: reverse("learning:contract", args=[e.pk]),
        [LOGIN, 404, 200, 404, 404, 404, 404, 404],
    ),
    "offer": (lambda e: reverse("learning:offer", args=[e.pk]), [LOGIN, 404, 200, 404, 404, 404, 404, 404]),
    "withdraw": (
        lambda e: reverse("learning:withdraw", args=[e.pk]),
        [LOGIN, 404, 200, 404, 404, 404, 404, 404],
    ),
    "staff_index": (lambda e: reverse("learning:staff_index"), [LOGIN, 403, 403, 403, 403, 200, 200, 200]),
    "staff_session": (
        lambda e: reverse("learning:staff_session", args=[e.session_id]),
        [LOGIN, 403, 403, 403, 403, 200, 404, 200],
    ),
    "staff_sitting": (
        lambda e: reverse("learning:staff_edit_sitting", args=[e.session.sittings.first().pk]),
        [LOGIN, 403, 403, 403, 403, 200, 404, 200],
    ),
}


@pytest.mark.parametrize("page", list(PAGES))
def test_pages(page, cast, enrolment):
    url_of, expected = PAGES[page]
    url = url_of(enrolment)
    got = [_status(_client(cast[p]).get(url)) for p in PERSONAS]
    assert dict(zip(PERSONAS, got, strict=True)) == dict(zip(PERSONAS, expected, strict=True))


def test_the_staff_page_shows_a_contract_to_sign(cast, enrolment):
    text = (
        _client(cast["staff"])
        .get(reverse("learning:staff_session", args=[enrolment.session_id]))
        .content.decode()
    )
    assert "Contrat à signer" in text and "Alice Martin" in text


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("visitor", LOGIN),
        ("member", 403),
        ("trainee", 403),
        ("trainer", 403),
        ("other_staff", 404),
        ("staff", 302),
        ("admin", 302),
    ],
)
def test_decisions_are_the_sites_staffs(
    persona, expected, cast, session, sittings, make_application, make_member
):
    application = make_application(session, make_member(1))
    response = _client(cast[persona]).post(
        reverse("learning:staff_decide", args=[application.pk, "accepter"])
    )
    assert _status(response) == expected
    application.refresh_from_db()
    assert application.status == ("accepted" if expected == 302 else "applied")


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("visitor", LOGIN),
        ("member", 403),
        ("trainer", 403),
        ("other_staff", 404),
        ("staff", 400),
        ("admin", 400),
    ],
)
def test_sitting_forms_are_the_sites_staffs(persona, expected, cast, session, sittings):
    # An empty form: staff get it back with its errors (400), others never reach it.
    response = _client(cast[persona]).post(reverse("learning:staff_add_sitting", args=[session.pk]), {})
    assert _status(response) == expected


@pytest.mark.parametrize(
    ("persona", "list_", "apply", "mine"),
    [
        ("visitor", 200, 401, 401),
        ("member", 200, 201, 404),
        ("trainee", 200, 409, 200),
        ("other_member", 200, 201, 404),
        ("trainer", 200, 201, 404),
        ("staff", 200, 201, 404),
        ("other_staff", 200, 201, 404),
        ("admin", 200, 201, 404),
    ],
)
def test_api(persona, list_, apply, mine, cast, enrolment):
    api = ApiClient()
    user = cast[persona]
    session = enrolment.session
    assert api.get("/trainings/sessions", as_=user).status_code == list_
    assert api.get(f"/trainings/sessions/{session.pk}", as_=user).status_code == list_
    body = {"project": "Mon projet", "prerequisites_met": True}
    assert api.post(f"/trainings/sessions/{session.pk}/enrolments", body, as_=user).status_code == apply
    assert api.get(f"/trainings/sessions/{session.pk}/enrolments/mine", as_=user).status_code in (
        {mine, 200} if apply == 201 else {mine}
    )


# --- the admin: programmes and sessions of the sites one staffs -------------------------------------------


def test_the_admin_shows_each_team_its_own_programmes(cast, enrolment, programme):
    url = reverse("admin:learning_programme_change", args=[programme.pk])
    assert _client(cast["staff"]).get(url).status_code == 200
    assert _client(cast["admin"]).get(url).status_code == 200
    assert _client(cast["other_staff"]).get(url).status_code == 404
    listing = _client(cast["other_staff"]).get(reverse("admin:learning_programme_changelist"))
    assert listing.status_code == 200 and programme.title not in listing.content.decode()
    assert _status(_client(cast["member"]).get(url)) in (302, LOGIN)


def test_raising_the_capacity_in_the_admin_offers_the_places(
    cast, session, sittings, make_application, make_member
):
    sophie = cast["staff"]
    for n in range(3):
        services.accept(make_application(session, make_member(n)), by=sophie)
    waiting = make_application(session, make_member(9))
    url = reverse("admin:learning_session_change", args=[session.pk])
    form = _client(sophie).get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data.update(
        {
            "capacity": 4,
            "enrolment_opens_0": session.enrolment_opens.astimezone().strftime("%d/%m/%Y"),
            "enrolment_opens_1": session.enrolment_opens.astimezone().strftime("%H:%M:%S"),
            "enrolment_closes_0": session.enrolment_closes.astimezone().strftime("%d/%m/%Y"),
            "enrolment_closes_1": session.enrolment_closes.astimezone().strftime("%H:%M:%S"),
        }
    )
    data = {
        k: v for k, v in data.items() if v is not None and k not in ("enrolment_opens", "enrolment_closes")
    }
    response = _client(sophie).post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    waiting.refresh_from_db()
    assert waiting.status == "offered"
    data["capacity"] = 2
    refused = _client(sophie).post(url, data)
    assert refused.status_code == 200 and "déjà prises" in refused.content.decode()
