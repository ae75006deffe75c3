"""Attendance per half-day: every accepted trainee on the sheet, each signs for themself only, during the
half-day; the trainer signs; absences with a reason; the lock, its hash, audited amendments."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocotte.core.models import AuditEntry
from cocotte.learning import attendance
from cocotte.learning.models import Enrolment, Mark
from tests.helpers import day_ahead, paris

PASSWORD = "a-long-password-1"
DRAWING = "M10 10L50 40L90 20L120 60"


@pytest.fixture
def day_sheets(session, make_sitting, enrol, alice, bob):
    """A full day ahead (two sheets), alice and bob accepted."""
    enrol(session, alice)
    enrol(session, bob)
    sitting = make_sitting(session, paris(day_ahead(10), 9), paris(day_ahead(10), 17))
    return list(sitting.sheets.order_by("start"))


@pytest.fixture
def morning(day_sheets):
    return day_sheets[0]


def mark_of(sheet, user):
    attendance.ensure_marks(sheet)
    return Mark.objects.get(sheet=sheet, enrolment__trainee=user)


def during(sheet, minutes=30):
    return sheet.start + timedelta(minutes=minutes)


def test_a_sheet_lists_every_accepted_trainee_and_late_acceptances(
    session, morning, make_user, enrol, alice, bob
):
    assert {m.enrolment.trainee for m in attendance.marks_of(morning)} == {alice, bob}
    late = make_user("lea@example.org", first_name="Léa", last_name="Tardive")
    enrol(session, late)
    waiting = make_user("wanda@example.org")
    enrol(session, waiting, status=Enrolment.Status.WAITLISTED)
    assert {m.enrolment.trainee for m in attendance.marks_of(morning)} == {alice, bob, late}


def test_a_trainee_signs_their_own_mark_typed_or_drawn(morning, alice, bob):
    at = during(morning)
    signed = attendance.sign(
        mark_of(morning, alice), signer=alice, method="typed", typed_name=" Alice  Martin ", now=at
    )
    assert (signed.state, signed.signed_name, signed.signed_by, signed.signed_at) == (
        "present",
        "Alice Martin",
        alice,
        at,
    )
    drawn = attendance.sign(mark_of(morning, bob), signer=bob, method="drawn", drawing=DRAWING, now=at)
    assert drawn.signature == DRAWING and drawn.method == "drawn"


def test_nobody_signs_for_someone_else(morning, alice, bob):
    with pytest.raises(attendance.NotYours):
        attendance.sign(
            mark_of(morning, bob), signer=alice, method="typed", typed_name="Bob Durand", now=during(morning)
        )
    assert mark_of(morning, bob).state == "expected"


def test_signing_opens_a_quarter_before_and_closes_with_the_half_day(morning, alice):
    mark = mark_of(morning, alice)
    with pytest.raises(attendance.NotNow):
        attendance.sign(
            mark, signer=alice, method="typed", typed_name="Alice", now=morning.start - timedelta(minutes=16)
        )
    with pytest.raises(attendance.NotNow):
        attendance.sign(mark, signer=alice, method="typed", typed_name="Alice", now=morning.end)
    attendance.sign(
        mark, signer=alice, method="typed", typed_name="Alice", now=morning.start - timedelta(minutes=15)
    )
    assert mark_of(morning, alice).state == "present"


def test_on_the_trainers_screen_the_trainee_types_their_password(morning, alice):
    mark = mark_of(morning, alice)
    with pytest.raises(attendance.WrongPassword):
        attendance.sign(
            mark, signer=alice, method="typed", typed_name="Alice", password="wrong", now=during(morning)
        )
    assert mark_of(morning, alice).state == "expected"
    attendance.sign(
        mark, signer=alice, method="typed", typed_name="Alice", password=PASSWORD, now=during(morning)
    )
    assert mark_of(morning, alice).signed_by == alice


def test_wrong_passwords_are_rate_limited_per_trainee(morning, alice, bob):
    from django.core.cache import cache

    cache.clear()
    mark = mark_of(morning, alice)
    for _ in range(attendance.PASSWORD_TRIES):
        with pytest.raises(attendance.WrongPassword):
            attendance.sign(
                mark, signer=alice, method="typed", typed_name="A", password="nope", now=during(morning)
            )
    with pytest.raises(attendance.TooManyTries):  # even the right one, for a while
        attendance.sign(
            mark, signer=alice, method="typed", typed_name="A", password=PASSWORD, now=during(morning)
        )
    attendance.sign(
        mark_of(morning, bob),
        signer=bob,
        method="typed",
        typed_name="B",
        password=PASSWORD,
        now=during(morning),
    )
    cache.clear()


@pytest.mark.parametrize(
    "drawing",
    [
        "",
        "   ",
        "M10 10",
        "M10 10L20 20",
        "L10 10L20 20L30 30",
        "M10 10L20 20L700 30",
        "M1 1L2 2L3 3<script>",
        "M1 1L2 2L3 3 Z",
        "M" + "L5 5" * 3000,
    ],
)
def test_bad_drawings_are_refused_and_nothing_is_written(morning, alice, drawing):
    with pytest.raises(attendance.BadSignature):
        attendance.sign(
            mark_of(morning, alice), signer=alice, method="drawn", drawing=drawing, now=during(morning)
        )
    assert mark_of(morning, alice).state == "expected"


def test_an_empty_typed_name_is_refused(morning, alice):
    with pytest.raises(attendance.BadSignature):
        attendance.sign(
            mark_of(morning, alice), signer=alice, method="typed", typed_name="  ", now=during(morning)
        )


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.text(max_size=300))
def test_any_text_as_a_drawing_is_refused_or_rewritten_as_numbers_only(text):
    try:
        cleaned = attendance.clean_drawing(text)
    except attendance.BadSignature:
        return
    assert set(cleaned) <= set("ML0123456789. -")
    assert attendance.clean_drawing(cleaned) == cleaned


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("ML"), st.integers(0, 600), st.integers(0, 200)), min_size=3, max_size=50
    )
)
def test_well_formed_drawings_inside_the_pad_are_kept(points):
    path = "M" + "".join(f"{c}{x} {y}" for c, x, y in points)[1:]
    assert attendance.clean_drawing(path) == path


def test_the_trainer_signs_and_marks_absences_with_a_reason(morning, trainer, alice, bob, sophie):
    attendance.sign_as_trainer(
        morning, by=trainer, method="typed", typed_name="Théo Formateur", now=during(morning)
    )
    with pytest.raises(attendance.AttendanceError):
        attendance.mark_absence(mark_of(morning, bob), by=trainer, state="excused", reason=" ")
    attendance.mark_absence(mark_of(morning, bob), by=trainer, state="excused", reason="Rendez-vous médical")
    assert (mark_of(morning, bob).state, mark_of(morning, bob).reason) == ("excused", "Rendez-vous médical")
    with pytest.raises(attendance.NotYours):  # staff take attendance but do not sign as the trainer
        attendance.sign_as_trainer(
            morning, by=sophie, method="typed", typed_name="Sophie", now=during(morning)
        )
    with pytest.raises(attendance.Forbidden):
        attendance.mark_absence(mark_of(morning, alice), by=bob, state="absent", reason="x")


def test_closing_locks_the_sheet_marks_the_unsigned_absent_and_stores_its_hash(morning, trainer, alice, bob):
    attendance.sign(
        mark_of(morning, alice), signer=alice, method="typed", typed_name="Alice", now=during(morning)
    )
    attendance.close(morning, by=trainer, now=during(morning, 200))
    morning.refresh_from_db()
    assert morning.locked_at and len(morning.content_hash) == 64
    assert mark_of(morning, bob).state == "absent"
    assert attendance.verify(morning)
    with pytest.raises(attendance.SheetLocked):
        attendance.sign(
            mark_of(morning, bob), signer=bob, method="typed", typed_name="Bob", now=during(morning, 210)
        )
    with pytest.raises(attendance.SheetLocked):
        attendance.mark_absence(mark_of(morning, bob), by=trainer, state="excused", reason="Malade")


def test_the_scheduler_closes_what_is_over_and_only_that(day_sheets):
    morning, afternoon = day_sheets
    assert attendance.close_due(now=morning.end + timedelta(minutes=1)) == 1
    morning.refresh_from_db()
    afternoon.refresh_from_db()
    assert morning.locked_at and not afternoon.locked_at
    assert attendance.close_due(now=morning.end + timedelta(minutes=20)) == 0


def test_a_later_change_needs_staff_and_a_reason_is_audited_and_rehashed(
    morning, trainer, sophie, carol, bob
):
    attendance.close(morning, now=morning.end)
    morning.refresh_from_db()
    first_hash = morning.content_hash
    mark = mark_of(morning, bob)
    with pytest.raises(attendance.Forbidden):
        attendance.amend(mark, by=trainer, state="excused", reason="Certificat médical reçu")
    with pytest.raises(attendance.Forbidden):
        attendance.amend(mark, by=carol, state="excused", reason="Certificat médical reçu")
    with pytest.raises(attendance.AttendanceError):
        attendance.amend(mark, by=sophie, state="excused", reason="")
    attendance.amend(mark, by=sophie, state="excused", reason="Certificat médical reçu")
    morning.refresh_from_db()
    assert morning.content_hash != first_hash and attendance.verify(morning)
    entry = AuditEntry.objects.get(action="learning.mark.amended")
    assert (
        entry.actor == sophie
        and entry.data["before"]["state"] == "absent"
        and entry.data["previous_hash"] == first_hash
    )


def test_a_change_behind_the_applications_back_is_detected(morning, alice):
    attendance.sign(
        mark_of(morning, alice), signer=alice, method="typed", typed_name="Alice", now=during(morning)
    )
    attendance.close(morning, now=morning.end)
    assert attendance.verify(morning)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE learning_mark SET signed_name = %s WHERE sheet_id = %s", ["Quelqu’un d’autre", morning.pk]
        )
    assert not attendance.verify(morning)


# --- through the pages ----------------------------------------------------------------------------------


def test_the_trainee_signs_on_their_phone_and_sees_only_their_line(client, now_sheet, alice, bob):
    client.force_login(alice)
    page = client.get(reverse("learning:sheet", args=[now_sheet.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Je signe" in html and "Alice" in html and "Bob Durand" not in html
    answer = client.post(
        reverse("learning:sheet_sign", args=[now_sheet.pk]),
        {"own-method": "typed", "own-typed_name": "Alice Martin"},
    )
    assert answer.status_code == 302
    assert mark_of(now_sheet, alice).signed_by == alice and mark_of(now_sheet, bob).state == "expected"


def test_a_trainee_cannot_sign_someone_elses_line_through_the_page(client, now_sheet, alice, bob):
    client.force_login(alice)
    bobs = mark_of(now_sheet, bob)
    answer = client.post(
        reverse("learning:mark_sign", args=[now_sheet.pk, bobs.pk]),
        {f"m{bobs.pk}-method": "typed", f"m{bobs.pk}-typed_name": "Bob", f"m{bobs.pk}-password": PASSWORD},
    )
    assert answer.status_code == 403
    assert mark_of(now_sheet, bob).state == "expected"


def test_on_the_trainers_screen_a_wrong_password_says_so_and_writes_nothing(
    client, now_sheet, trainer, alice
):
    from django.core.cache import cache

    cache.clear()
    client.force_login(trainer)
    mark = mark_of(now_sheet, alice)
    url = reverse("learning:mark_sign", args=[now_sheet.pk, mark.pk])
    data = {
        f"m{mark.pk}-method": "typed",
        f"m{mark.pk}-typed_name": "Alice Martin",
        f"m{mark.pk}-password": "wrong",
    }
    answer = client.post(url, data)
    assert answer.status_code == 403 and "Mot de passe incorrect" in answer.content.decode()
    assert mark_of(now_sheet, alice).state == "expected"
    data[f"m{mark.pk}-password"] = PASSWORD
    assert client.post(url, data).status_code == 302
    assert mark_of(now_sheet, alice).signed_by == alice


def test_an_oversized_drawing_through_the_page_is_a_clear_message(client, now_sheet, alice):
    client.force_login(alice)
    answer = client.post(
        reverse("learning:sheet_sign", args=[now_sheet.pk]),
        {"own-method": "drawn", "own-drawing": "M1 1" + "L5 5" * 5000},
    )
    assert answer.status_code == 422 and "trop grande" in answer.content.decode()
    assert mark_of(now_sheet, alice).state == "expected"


def test_the_trainer_closes_and_downloads_the_pdf_with_every_name(client, now_sheet, trainer, alice):
    from io import BytesIO

    from pypdf import PdfReader

    attendance.sign(mark_of(now_sheet, alice), signer=alice, method="drawn", drawing=DRAWING)
    client.force_login(trainer)
    client.post(
        reverse("learning:sheet_trainer_sign", args=[now_sheet.pk]),
        {"trainer-method": "typed", "trainer-typed_name": "Théo Formateur"},
    )
    assert client.post(reverse("learning:sheet_close", args=[now_sheet.pk])).status_code == 302
    now_sheet.refresh_from_db()
    assert now_sheet.locked_at and now_sheet.trainer_signed_name == "Théo Formateur"
    answer = client.get(reverse("learning:sheet_pdf", args=[now_sheet.pk]))
    assert answer["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(answer.content)).pages)
    for name in (
        "Alice Martin",
        "Bob Durand",
        "Théo Formateur",
        now_sheet.content_hash[:16],
        "Étude de marché" if now_sheet.sitting.module else "Cycle",
    ):
        assert name in text.replace("\n", " ") or name in text


def test_a_closed_sessions_sheet_is_not_corrected_its_certificates_came_from_it(morning, alice, sophie):
    attendance.close(morning, now=morning.end)
    session = morning.sitting.session
    session.status = session.Status.COMPLETED
    session.save(update_fields=["status"])
    with pytest.raises(attendance.AttendanceError) as refused:
        attendance.amend(mark_of(morning, alice), by=sophie, state="present", reason="Arrivée en retard")
    assert refused.value.code == "session_closed"
    assert mark_of(morning, alice).state == Mark.State.ABSENT and attendance.verify(morning)
