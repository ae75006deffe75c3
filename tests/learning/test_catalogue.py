"""Sittings book their rooms through the engine, all or nothing; the public catalogue and programme pages."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cocotte.accounts import permissions
from cocotte.accounts.models import Role
from cocotte.bookings.errors import BookingError
from cocotte.bookings.models import Booking
from cocotte.core.errors import DomainError
from cocotte.learning import halfdays, services
from cocotte.learning.models import Mark, Session, Sheet, Sitting
from tests.helpers import day_ahead, paris

pytestmark = pytest.mark.django_db


def test_a_sitting_books_its_room_for_the_training(session, sophie, trainer, room, sitting_times):
    start, end = sitting_times[0]
    sitting = services.add_sitting(session, by=sophie, start=start, end=end, trainer=trainer, room=room)
    booking = Booking.objects.get(pk=sitting.booking_id)
    assert (booking.resource, booking.start, booking.end) == (room, start, end)
    assert booking.held_for == f"learning.sitting:{sitting.pk}"
    assert booking.status == Booking.Status.CONFIRMED
    assert [s.half for s in Sheet.objects.filter(sitting=sitting).order_by("start")] == [
        "morning",
        "afternoon",
    ]
    session.refresh_from_db()
    assert (session.starts_at, session.ends_at) == (start, end)


def test_session_dates_follow_first_start_and_last_end(sittings, session, sitting_times, sophie):
    session.refresh_from_db()
    assert session.starts_at == sitting_times[0][0]
    assert session.ends_at == sitting_times[-1][1]
    services.remove_sitting(sittings[-1], by=sophie)
    session.refresh_from_db()
    assert session.ends_at == sitting_times[1][1]


def test_a_conflicting_sitting_leaves_nothing_half_saved(
    session, sophie, trainer, room, alice, book, sitting_times
):
    start, end = sitting_times[0]
    taken = book(alice, room, start + timedelta(hours=1), start + timedelta(hours=2))
    before = (Sitting.objects.count(), Sheet.objects.count(), Booking.objects.count())
    with pytest.raises(BookingError) as refused:
        services.add_sitting(session, by=sophie, start=start, end=end, trainer=trainer, room=room)
    assert refused.value.message  # the engine's own clear message
    assert (Sitting.objects.count(), Sheet.objects.count(), Booking.objects.count()) == before
    assert Booking.objects.get(pk=taken.pk).status == Booking.Status.CONFIRMED
    session.refresh_from_db()
    assert session.starts_at is None


def test_the_trainer_must_be_allowed_to_teach_at_the_site(session, sophie, bob, room, sitting_times):
    start, end = sitting_times[0]
    with pytest.raises(DomainError) as refused:
        services.add_sitting(session, by=sophie, start=start, end=end, trainer=bob, room=room)
    assert refused.value.code == "not_a_trainer"
    assert not Sitting.objects.exists() and not Booking.objects.exists()


def test_only_the_sites_staff_add_sittings(session, carol, trainer, alice, room, sitting_times):
    start, end = sitting_times[0]
    for outsider in (carol, trainer, alice):
        with pytest.raises(DomainError) as refused:
            services.add_sitting(session, by=outsider, start=start, end=end, trainer=trainer, room=room)
        assert refused.value.status == 403
    assert not Sitting.objects.exists()


def test_a_sitting_outside_needs_no_booking(session, sophie, trainer, sitting_times):
    start, end = sitting_times[1]
    sitting = services.add_sitting(
        session, by=sophie, start=start, end=end, trainer=trainer, outside_address="Salle des fêtes, Allanche"
    )
    assert sitting.booking is None and not Booking.objects.exists()
    with pytest.raises(DomainError):
        services.add_sitting(session, by=sophie, start=start, end=end, trainer=trainer)


def test_moving_a_sitting_moves_its_booking_and_its_sheets(sittings, sophie, room):
    sitting = sittings[1]
    day = day_ahead(20)
    moved = services.move_sitting(sitting, by=sophie, start=paris(day, 14), end=paris(day, 17))
    booking = Booking.objects.get(pk=moved.booking_id)
    assert (booking.start, booking.end, booking.status) == (paris(day, 14), paris(day, 17), "confirmed")
    assert list(Sheet.objects.filter(sitting=sitting).values_list("half", flat=True)) == ["afternoon"]
    session = Session.objects.get(pk=sitting.session_id)
    assert session.ends_at == paris(day, 17)


def test_a_move_onto_a_taken_slot_changes_nothing(sittings, sophie, alice, room, book):
    sitting = sittings[1]
    day = day_ahead(21)
    book(alice, room, paris(day, 10), paris(day, 11))
    with pytest.raises(BookingError):
        services.move_sitting(sitting, by=sophie, start=paris(day, 9), end=paris(day, 12))
    sitting.refresh_from_db()
    booking = Booking.objects.get(pk=sitting.booking_id)
    assert (sitting.start, booking.start) == (sittings[1].start, sittings[1].start)


def test_moving_outside_releases_the_room(sittings, sophie):
    sitting = sittings[2]
    booking_id = sitting.booking_id
    moved = services.move_sitting(sitting, by=sophie, room=None, outside_address="Mairie d’Allanche")
    assert moved.booking is None
    assert Booking.objects.get(pk=booking_id).status == Booking.Status.CANCELLED


def test_removing_a_sitting_releases_its_room(sittings, sophie):
    sitting = sittings[0]
    booking_id = sitting.booking_id
    services.remove_sitting(sitting, by=sophie)
    assert not Sitting.objects.filter(pk=sitting.pk).exists()
    assert not Sheet.objects.filter(sitting_id=sitting.pk).exists()
    assert Booking.objects.get(pk=booking_id).status == Booking.Status.CANCELLED


def test_a_signed_sitting_can_be_neither_removed_nor_moved(sittings, sophie, make_application, alice):
    sitting = sittings[0]
    sheet = Sheet.objects.filter(sitting=sitting).first()
    enrolment = make_application(sitting.session, alice)
    Mark.objects.create(sheet=sheet, enrolment=enrolment, state=Mark.State.PRESENT, signed_at=timezone.now())
    with pytest.raises(halfdays.SittingSigned):
        services.remove_sitting(sitting, by=sophie)
    with pytest.raises(halfdays.SittingSigned):
        services.move_sitting(sitting, by=sophie, start=sitting.start + timedelta(hours=1))
    assert Sitting.objects.filter(pk=sitting.pk).exists()
    assert Booking.objects.get(pk=sitting.booking_id).start == sitting.start


def test_a_signed_sittings_trainer_cannot_change_but_an_unsigned_ones_can(
    sittings, sophie, make_application, alice, make_user, site
):
    other = make_user("ines@example.org", first_name="Inès", last_name="Formatrice")
    permissions.grant_role(other, Role.Name.TRAINER, site)
    signed, unsigned = sittings[0], sittings[1]
    enrolment = make_application(signed.session, alice)
    Mark.objects.create(
        sheet=Sheet.objects.filter(sitting=signed).first(), enrolment=enrolment, state=Mark.State.ABSENT
    )
    with pytest.raises(halfdays.SittingSigned):
        services.move_sitting(signed, by=sophie, trainer=other)
    assert Sitting.objects.get(pk=signed.pk).trainer_id == signed.trainer_id
    assert services.move_sitting(unsigned, by=sophie, trainer=other).trainer_id == other.pk
    # Nor its module: the seal covers it too.
    other_module = signed.session.programme.modules.exclude(pk=signed.module_id).first()
    with pytest.raises(halfdays.SittingSigned):
        services.move_sitting(signed, by=sophie, module=other_module)
    assert Sitting.objects.get(pk=signed.pk).module_id == signed.module_id


# --- public pages ---------------------------------------------------------------------------------------


def test_the_catalogue_lists_upcoming_sessions_of_published_programmes(client, sittings, session, programme):
    hidden = Session.objects.create(
        programme=programme,
        site=session.site,
        label="Brouillon",
        status=Session.Status.PLANNED,
        capacity=3,
        enrolment_closes=session.enrolment_closes,
    )
    response = client.get(reverse("learning:catalogue"))
    assert response.status_code == 200
    text = response.content.decode()
    assert programme.title in text and "Printemps" in text
    assert hidden.label not in text
    assert "3 places restantes" in text


def test_an_unpublished_programme_is_not_shown(client, sittings, programme):
    programme.published = False
    programme.save()
    assert programme.title not in client.get(reverse("learning:catalogue")).content.decode()
    assert client.get(reverse("learning:programme", args=[programme.slug])).status_code == 404


def test_the_programme_page_says_what_qualiopi_asks(client, sittings, programme):
    response = client.get(reverse("learning:programme", args=[programme.slug]))
    text = response.content.decode()
    for expected in (
        programme.objectives,
        programme.prerequisites,
        programme.audience,
        "15 heures",
        "Étude de marché",
        "600,00",
        programme.accessibility,
        programme.accessibility_contact,
        programme.assessment_method,
        "Printemps",
        "3 places restantes",
    ):
        assert expected in text, expected


def test_the_programme_page_leads_to_its_public_results_and_to_the_complaints_form(client, programme):
    """Qualiopi: the results are public and a complaint can be filed; a visitor finds both from the page."""
    text = client.get(reverse("learning:programme", args=[programme.slug])).text
    results = reverse("learning:results", args=[programme.slug])
    assert f'href="{results}"' in text
    assert f'href="{reverse("learning:complaint_new")}?programme={programme.pk}"' in text
    assert client.get(results).status_code == 200


def _queries(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.content)


def test_public_pages_read_a_constant_number_of_queries_and_stay_small(
    client, sittings, session, programme, make_application, make_member
):
    urls = [reverse("learning:catalogue"), reverse("learning:programme", args=[programme.slug])]
    before = [_queries(client, url) for url in urls]
    for n in range(6):
        extra = Session.objects.create(
            programme=programme,
            site=session.site,
            label=f"Session {n}",
            status=Session.Status.OPEN,
            capacity=4,
            enrolment_closes=session.enrolment_closes,
            starts_at=session.starts_at + timedelta(days=n + 1),
            ends_at=session.ends_at + timedelta(days=n + 1),
        )
        make_application(extra, make_member(n))
    after = [_queries(client, url) for url in urls]
    assert [q for q, _size in after] == [q for q, _size in before]
    assert all(size < 100_000 for _q, size in after)


def test_trainees_are_told_when_a_sitting_moves_or_goes(
    sittings, session, sophie, alice, make_application, django_capture_on_commit_callbacks
):
    from django.core import mail

    services.accept(make_application(session, alice), by=sophie)
    day = day_ahead(25)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.move_sitting(sittings[1], by=sophie, start=paris(day, 9), end=paris(day, 12))
    [moved] = mail.outbox
    assert moved.to == [alice.email] and "Changement de planning" in moved.subject
    assert "désormais" in moved.body and moved.attachments[0][1].count("BEGIN:VEVENT") == 3
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_sitting(sittings[2], by=sophie)
    [removed] = mail.outbox
    assert "supprimée" in removed.body
    assert "METHOD:CANCEL" in removed.attachments[0][1]
    assert f"learning-sitting-{sittings[2].pk}@" in removed.attachments[0][1]


def test_a_sitting_on_the_day_clocks_change(session, sophie, trainer, room):
    """The last Sunday of March: 09:00–17:00 Paris is still two half-days split at 13:00 local."""
    from datetime import date

    year = timezone.localdate().year + 1
    day = max(date(year, 3, d) for d in range(25, 32) if date(year, 3, d).weekday() == 6)
    sitting = services.add_sitting(
        session, by=sophie, start=paris(day, 9), end=paris(day, 17), trainer=trainer, room=room
    )
    assert (sitting.end - sitting.start) == timedelta(hours=8)
    sheets = list(Sheet.objects.filter(sitting=sitting).order_by("start"))
    assert [(s.half, s.end - s.start) for s in sheets] == [
        ("morning", timedelta(hours=4)),
        ("afternoon", timedelta(hours=4)),
    ]
    assert sheets[0].end == paris(day, 13)
