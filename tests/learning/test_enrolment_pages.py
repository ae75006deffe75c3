"""The pages, through real URLs: applying, the team's session page, the contract, an offer, withdrawing."""

import pytest
from django.test import Client
from django.urls import reverse

from cocotte.bookings.models import Booking
from cocotte.learning import services
from cocotte.learning.models import Enrolment, Installment, Session, Sitting
from tests.helpers import day_ahead

pytestmark = pytest.mark.django_db
S = Enrolment.Status


def logged(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_visitor_is_asked_to_log_in_or_sign_up(client, sittings, session):
    text = client.get(reverse("learning:apply", args=[session.pk])).content.decode()
    assert reverse("account_login") in text and reverse("account_signup") in text
    assert client.post(reverse("learning:apply", args=[session.pk]), {"project": "x"}).status_code == 200
    assert not Enrolment.objects.exists()


def test_a_member_applies_from_the_page(sittings, session, alice):
    response = logged(alice).post(
        reverse("learning:apply", args=[session.pk]),
        {"project": "Reprendre la boulangerie.", "prerequisites_met": "on", "funding": "self"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("learning:mine")
    assert Enrolment.objects.get(trainee=alice).status == S.APPLIED
    page = logged(alice).get(reverse("learning:mine")).content.decode()
    assert "Candidature reçue" in page


def test_the_form_says_what_is_missing_and_writes_nothing(sittings, session, alice):
    response = logged(alice).post(
        reverse("learning:apply", args=[session.pk]), {"project": "", "funding": "self"}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "error-summary" in text
    assert not Enrolment.objects.exists()


def test_staff_accept_refuse_and_move_from_the_session_page(
    sittings, session, autumn, sophie, make_application, make_member
):
    first, second, third = (make_application(session, make_member(n)) for n in range(3))
    staff = logged(sophie)
    assert staff.post(reverse("learning:staff_decide", args=[first.pk, "accepter"])).status_code == 302
    missing_reason = staff.post(
        reverse("learning:staff_decide", args=[second.pk, "refuser"]), {f"r{second.pk}-reason": ""}
    )
    assert missing_reason.status_code == 400
    assert Enrolment.objects.get(pk=second.pk).status == S.APPLIED
    staff.post(
        reverse("learning:staff_decide", args=[second.pk, "refuser"]),
        {f"r{second.pk}-reason": "Hors public."},
    )
    staff.post(
        reverse("learning:staff_decide", args=[third.pk, "transferer"]), {f"m{third.pk}-session": autumn.pk}
    )
    assert Enrolment.objects.get(pk=first.pk).status == S.ACCEPTED
    assert Enrolment.objects.get(pk=second.pk).reason == "Hors public."
    assert Enrolment.objects.get(pk=third.pk).status == S.MOVED
    assert Enrolment.objects.get(session=autumn).status == S.ACCEPTED
    again = staff.post(reverse("learning:staff_decide", args=[first.pk, "accepter"]), follow=True)
    assert "déjà été traitée" in again.content.decode()


def test_the_session_page_shows_the_waiting_list_in_order(
    sittings, session, sophie, make_application, make_member
):
    for n in range(3):
        services.accept(make_application(session, make_member(n)), by=sophie)
    make_application(session, make_member(7))
    make_application(session, make_member(8))
    text = logged(sophie).get(reverse("learning:staff_session", args=[session.pk])).content.decode()
    assert "Liste d’attente (2)" in text
    assert text.index("Stagiaire7") < text.index("Stagiaire8")


def test_a_conflicting_sitting_is_shown_on_the_form(sittings, session, sophie, trainer, room, alice, book):
    day = day_ahead(15)
    from tests.helpers import paris

    book(alice, room, paris(day, 10), paris(day, 11))
    response = logged(sophie).post(
        reverse("learning:staff_add_sitting", args=[session.pk]),
        {
            "new-day": day.isoformat(),
            "new-start": "09:00",
            "new-end": "12:00",
            "new-trainer": trainer.pk,
            "new-room": room.pk,
        },
    )
    assert response.status_code == 400
    assert "error-summary" in response.content.decode()
    assert Sitting.objects.count() == 3


def test_staff_add_move_and_remove_a_sitting_from_the_page(sittings, session, sophie, trainer, room):
    day = day_ahead(16)
    staff = logged(sophie)
    response = staff.post(
        reverse("learning:staff_add_sitting", args=[session.pk]),
        {
            "new-day": day.isoformat(),
            "new-start": "14:00",
            "new-end": "17:00",
            "new-trainer": trainer.pk,
            "new-room": room.pk,
        },
    )
    assert response.status_code == 302
    sitting = Sitting.objects.order_by("-pk").first()
    assert sitting.booking.status == Booking.Status.CONFIRMED
    response = staff.post(
        reverse("learning:staff_edit_sitting", args=[sitting.pk]),
        {"day": day.isoformat(), "start": "14:30", "end": "17:30", "trainer": trainer.pk, "room": room.pk},
    )
    assert response.status_code == 302
    sitting.refresh_from_db()
    assert sitting.booking.start == sitting.start
    assert staff.post(reverse("learning:staff_remove_sitting", args=[sitting.pk])).status_code == 302
    assert not Sitting.objects.filter(pk=sitting.pk).exists()


def test_signing_the_contract_from_the_page(sittings, session, alice, sophie, make_application):
    enrolment = services.accept(make_application(session, alice, funding="self"), by=sophie)
    client = logged(alice)
    page = client.get(reverse("learning:contract", args=[enrolment.pk]))
    assert "CONTRAT DE FORMATION" in page.content.decode()
    digest = page.context["form"].initial["text_hash"]
    refused = client.post(
        reverse("learning:contract", args=[enrolment.pk]), {"name": "Alice Martin", "text_hash": digest}
    )
    assert refused.status_code == 400
    response = client.post(
        reverse("learning:contract", args=[enrolment.pk]),
        {"name": "Alice Martin", "agreed": "on", "text_hash": digest},
    )
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.contract_text_hash == digest
    assert Installment.objects.filter(enrolment=enrolment).exists()
    signed = client.get(reverse("learning:contract", args=[enrolment.pk])).content.decode()
    assert "Mes échéances" in signed


def test_confirming_an_offered_place_from_the_page(sittings, session, sophie, make_application, make_member):
    placed = [services.accept(make_application(session, make_member(n)), by=sophie) for n in range(3)]
    waiting = make_application(session, make_member(9))
    response = logged(placed[0].trainee).post(reverse("learning:withdraw", args=[placed[0].pk]))
    assert response.status_code == 302
    client = logged(waiting.trainee)
    assert "Je confirme ma place" in client.get(reverse("learning:offer", args=[waiting.pk])).content.decode()
    assert client.post(reverse("learning:offer", args=[waiting.pk]), {"answer": "confirm"}).status_code == 302
    assert Enrolment.objects.get(pk=waiting.pk).status == S.ACCEPTED


def test_staff_raise_the_capacity_and_cancel_from_the_page(
    sittings, session, sophie, make_application, make_member
):
    for n in range(3):
        services.accept(make_application(session, make_member(n)), by=sophie)
    waiting = make_application(session, make_member(9))
    staff = logged(sophie)
    closes = (session.enrolment_closes).astimezone().strftime("%Y-%m-%dT%H:%M")
    opens = (session.enrolment_opens).astimezone().strftime("%Y-%m-%dT%H:%M")
    response = staff.post(
        reverse("learning:staff_settings", args=[session.pk]),
        {
            "s-label": "Printemps",
            "s-status": "open",
            "s-capacity": 4,
            "s-enrolment_opens": opens,
            "s-enrolment_closes": closes,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Enrolment.objects.get(pk=waiting.pk).status == S.OFFERED
    assert (
        staff.post(reverse("learning:staff_cancel", args=[session.pk]), {"c-reason": ""}).status_code == 400
    )
    response = staff.post(reverse("learning:staff_cancel", args=[session.pk]), {"c-reason": "Salle inondée."})
    assert response.status_code == 302
    assert Session.objects.get(pk=session.pk).status == Session.Status.CANCELLED


def test_the_trainees_space_lists_what_to_do(sittings, session, alice, sophie, make_application):
    enrolment = services.accept(make_application(session, alice, funding="self"), by=sophie)
    text = logged(alice).get(reverse("learning:mine")).content.decode()
    assert "Contrat à signer" in text
    assert reverse("learning:contract", args=[enrolment.pk]) in text
    assert reverse("learning:withdraw", args=[enrolment.pk]) in text
    assert "Prochaines séances" in text


def test_the_session_page_reads_a_constant_number_of_queries(
    sittings, session, sophie, make_application, make_member
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff = logged(sophie)
    url = reverse("learning:staff_session", args=[session.pk])

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert staff.get(url).status_code == 200
        return len(queries)

    make_application(session, make_member(0))
    before = count()
    for n in range(1, 7):
        make_application(session, make_member(n))
    assert count() == before


def test_the_trainees_space_reads_a_constant_number_of_queries(
    sittings, session, autumn, alice, make_application
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = logged(alice)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("learning:mine")).status_code == 200
        return len(queries)

    make_application(session, alice)
    before = count()
    make_application(autumn, alice)
    assert count() == before


def test_a_waiting_person_sees_their_place_in_the_queue(
    sittings, session, sophie, make_application, make_member
):
    for n in range(3):
        services.accept(make_application(session, make_member(n)), by=sophie)
    first = make_application(session, make_member(7))
    second = make_application(session, make_member(8))
    assert (
        "la première personne sur la liste"
        in logged(first.trainee).get(reverse("learning:mine")).content.decode()
    )
    assert "n° 2 sur la liste" in logged(second.trainee).get(reverse("learning:mine")).content.decode()


def test_a_paid_programme_cannot_be_declared_free(sittings, session, alice, make_application):
    from cocotte.core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        make_application(session, alice, funding="free")
    assert refused.value.code == "invalid_funding"
    session.programme.price_excl_vat = 0
    session.programme.save()
    assert make_application(session, alice, funding="self").funding == "free"
    form = logged(alice).get(reverse("learning:apply", args=[session.pk])).context["form"]
    assert "funding" not in form.fields
