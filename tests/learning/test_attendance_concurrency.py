"""Attendance under real concurrency, on SQLite and on PostgreSQL: a mark is signed once, and a sheet closed while
its trainees sign is locked with exactly the signatures that got in before it, its hash matching its rows.

Threads, each with its own connection (as concurrent requests have), are released together by a barrier. The
signing service's checks are slowed down on purpose (`_check_open` sleeps after deciding) so that the window
between "this mark may be signed" and "it is written" is wide; the sheet row's lock (`SELECT … FOR UPDATE`;
SQLite's IMMEDIATE transactions) closes it. The control (PostgreSQL) shows the race does happen without it.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from cocotte.core.errors import DomainError
from cocotte.learning import attendance, certificates
from cocotte.learning.models import Certificate, Mark, Sheet
from tests.helpers import day_ahead, paris
from tests.learning.test_enrolment_concurrency import race  # threads released together by a barrier

pytestmark = pytest.mark.django_db(transaction=True)
RACE_WINDOW = 0.05
TRAINEES = 6


@pytest.fixture(params=[pytest.param("any"), pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request):
    """Each test runs on the database at hand, and once more marked `postgres` (run with DATABASE_URL)."""
    return request.param


@pytest.fixture
def slow_checks(monkeypatch):
    original = attendance._check_open

    def check_open(sheet, now):
        original(sheet, now)
        time.sleep(RACE_WINDOW)

    monkeypatch.setattr(attendance, "_check_open", check_open)


def make_trainees(count: int) -> list:
    User = get_user_model()
    User.objects.bulk_create(
        User(
            email=f"trainee-{i}@example.org",
            first_name=f"T{i}",
            last_name="Race",
            password=make_password(None),
        )
        for i in range(count)
    )
    return list(User.objects.filter(email__startswith="trainee-").order_by("email"))


def unexpected(outcomes, *allowed):
    return [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, allowed)]


@pytest.fixture
def sheet_with(session, make_sitting, enrol):
    """sheet_with(trainees, start=…, end=…): a sheet with those trainees accepted, their marks made."""

    def make(trainees, start, end):
        enrolments = [enrol(session, user) for user in trainees]
        with transaction.atomic():  # plan_sheets locks the sitting's sheets: it runs in a transaction
            sheet = make_sitting(session, start, end).sheets.get()
        attendance.ensure_marks(sheet)
        return sheet, enrolments

    return make


def test_two_signings_of_the_same_mark_at_once_record_one_signature(backend, sheet_with, alice, slow_checks):
    """On her phone and on the trainer's screen at the same instant: one signature, one clear refusal."""
    sheet, (enrolment,) = sheet_with([alice], paris(day_ahead(3), 9), paris(day_ahead(3), 12))
    mark = Mark.objects.get(sheet=sheet, enrolment=enrolment)
    at = sheet.start + timedelta(minutes=10)

    def on_phone():
        return attendance.sign(mark, signer=alice, method="typed", typed_name="Alice Martin", now=at)

    def on_screen():
        return attendance.sign(
            mark,
            signer=alice,
            method="drawn",
            drawing="M1 1L20 20L40 5",
            password="a-long-password-1",
            now=at,
        )

    outcomes = race([on_phone, on_screen, on_phone, on_screen])

    assert not unexpected(outcomes, DomainError), outcomes
    signed = [o for o in outcomes if isinstance(o, Mark)]
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(signed) == 1 and len(refused) == 3
    assert {e.code for e in refused} == {"already_signed"}
    mark.refresh_from_db()
    assert (mark.state, mark.method, mark.signed_at, mark.signed_by) == (
        "present",
        signed[0].method,
        at,
        alice,
    )
    assert (mark.signature, mark.signed_name) == (signed[0].signature, signed[0].signed_name)


@pytest.mark.postgres
def test_control_without_the_sheet_lock_both_signings_get_through(sheet_with, alice, monkeypatch):
    """The control: the same race with the sheet read unlocked and both checks decided before either writes."""
    sheet, (enrolment,) = sheet_with([alice], paris(day_ahead(3), 9), paris(day_ahead(3), 12))
    mark = Mark.objects.get(sheet=sheet, enrolment=enrolment)
    at = sheet.start + timedelta(minutes=10)
    decided = threading.Barrier(2, timeout=30)
    original = attendance._check_open

    def check_open(sheet, now):
        original(sheet, now)
        decided.wait()

    monkeypatch.setattr(attendance, "_check_open", check_open)
    monkeypatch.setattr(
        attendance,
        "_locked_sheet",
        lambda sheet: Sheet.objects.select_related("sitting__session").get(pk=sheet.pk),
    )

    def sign():
        return attendance.sign(mark, signer=alice, method="typed", typed_name="Alice Martin", now=at)

    outcomes = race([sign, sign])

    assert all(isinstance(o, Mark) for o in outcomes), outcomes  # the race is real: the lock is what stops it


def test_closing_a_sheet_while_its_trainees_sign_leaves_it_consistent_and_correctly_hashed(
    backend, sheet_with, trainer, slow_checks
):
    trainees = make_trainees(TRAINEES)
    sheet, enrolments = sheet_with(trainees, paris(day_ahead(3), 9), paris(day_ahead(3), 12))
    marks = {e.trainee_id: Mark.objects.get(sheet=sheet, enrolment=e) for e in enrolments}
    at = sheet.start + timedelta(minutes=30)

    def signing(user):
        return lambda: attendance.sign(
            marks[user.pk], signer=user, method="typed", typed_name=user.first_name, now=at
        )

    def closing():
        return attendance.close(sheet, by=trainer, now=at + timedelta(seconds=1))

    actions = [signing(user) for user in trainees]
    actions.insert(TRAINEES // 2, closing)
    outcomes = race(actions)

    assert not unexpected(outcomes, attendance.SheetLocked), outcomes
    signed = {o.signed_by_id for o in outcomes if isinstance(o, Mark)}
    late = [o for o in outcomes if isinstance(o, attendance.SheetLocked)]
    assert len(signed) + len(late) == TRAINEES
    sheet.refresh_from_db()
    assert sheet.locked_at is not None and attendance.verify(sheet)
    states = dict(Mark.objects.filter(sheet=sheet).values_list("enrolment__trainee_id", "state"))
    assert {pk for pk, state in states.items() if state == "present"} == signed
    assert {pk for pk, state in states.items() if state != "present"} == {u.pk for u in trainees} - signed
    assert set(states.values()) <= {"present", "absent"}  # nothing left expected on a locked sheet


def test_closing_the_session_while_the_last_half_day_is_signed_counts_what_got_in(
    backend, session, sheet_with, sophie, slow_checks
):
    """The session's closing (its row locked) and signatures of its last sheet (the sheet's row locked) at
    once: no deadlock, and each certificate's hours are those of the marks as the locked sheet holds them."""
    trainees = make_trainees(TRAINEES)
    day = timezone.localdate() - timedelta(days=1)
    sheet, enrolments = sheet_with(trainees, paris(day, 9), paris(day, 12))
    marks = {e.trainee_id: Mark.objects.get(sheet=sheet, enrolment=e) for e in enrolments}
    during = sheet.start + timedelta(minutes=30)

    def signing(user):
        return lambda: attendance.sign(
            marks[user.pk], signer=user, method="typed", typed_name=user.first_name, now=during
        )

    def closing():
        return certificates.close_session(session, by=sophie, outcomes={e.pk: (True, "") for e in enrolments})

    actions = [signing(user) for user in trainees]
    actions.insert(TRAINEES // 2, closing)
    outcomes = race(actions)

    assert not unexpected(outcomes, attendance.SheetLocked), outcomes
    signed = {o.signed_by_id for o in outcomes if isinstance(o, Mark)}
    sheet.refresh_from_db()
    assert sheet.locked_at is not None and attendance.verify(sheet)
    hours = dict(
        Certificate.objects.filter(kind="delivery").values_list("enrolment__trainee_id", "hours_attended")
    )
    assert set(hours) == {u.pk for u in trainees}
    assert {pk for pk, h in hours.items() if h == sheet.hours} == signed
    assert {pk for pk, h in hours.items() if h == 0} == {u.pk for u in trainees} - signed
