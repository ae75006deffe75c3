"""No sheet stays open once its half-day is over by its sitting's times: not the scheduler's, not the session's
closing, not signing. A sheet whose own times were left behind by its sitting (a change made outside the
services, an old plan) follows its sitting where nobody signed it, and is locked all the same where somebody did.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from cocotte.learning import attendance, certificates
from cocotte.learning.models import Mark, Sheet
from tests.helpers import paris


@pytest.fixture
def past_day(session, make_sitting, enrol, alice, bob):
    """A full day nine days ago (two sheets, unlocked: the scheduler has not run), alice and bob accepted."""
    a, b = enrol(session, alice), enrol(session, bob)
    day = timezone.localdate() - timedelta(days=9)
    sitting = make_sitting(session, paris(day, 9), paris(day, 17))
    morning, afternoon = sitting.sheets.order_by("start")
    for sheet in (morning, afternoon):
        attendance.ensure_marks(sheet)
    return {"sitting": sitting, "morning": morning, "afternoon": afternoon, "alice": a, "bob": b}


def left_behind(sheet):
    """The sheet's end pushed a day ahead behind the services' back, as a stale plan would leave it."""
    Sheet.objects.filter(pk=sheet.pk).update(end=timezone.now() + timedelta(days=1))
    return Sheet.objects.get(pk=sheet.pk)


def outcomes_for(*enrolments):
    return {e.pk: (True, "") for e in enrolments}


def test_closing_the_session_locks_an_unsigned_sheet_left_behind_and_puts_it_back_on_its_sitting(
    past_day, session, sophie
):
    stale = left_behind(past_day["afternoon"])
    certificates.close_session(session, by=sophie, outcomes=outcomes_for(past_day["alice"], past_day["bob"]))
    stale.refresh_from_db()
    assert stale.locked_at is not None and stale.content_hash
    assert stale.end == past_day["sitting"].end  # resized to its sitting's afternoon
    assert attendance.verify(stale)
    assert not Sheet.objects.filter(sitting__session=session, locked_at__isnull=True).exists()


def test_closing_the_session_locks_a_signed_sheet_left_behind_as_it_was_signed(
    past_day, session, sophie, alice
):
    morning = past_day["morning"]
    attendance.sign(
        Mark.objects.get(sheet=morning, enrolment=past_day["alice"]),
        signer=alice,
        method="typed",
        typed_name="Alice Martin",
        now=morning.start + timedelta(minutes=5),
    )
    stale = left_behind(morning)
    certificates.close_session(session, by=sophie, outcomes=outcomes_for(past_day["alice"], past_day["bob"]))
    stale.refresh_from_db()
    assert stale.locked_at is not None and attendance.verify(stale)
    assert stale.end > timezone.now()  # the times it was signed under are evidence: not rewritten
    assert Mark.objects.get(sheet=stale, enrolment=past_day["bob"]).state == "absent"


def test_the_scheduler_locks_a_sheet_whose_sitting_is_over_whatever_its_own_end(past_day):
    stale = left_behind(past_day["afternoon"])
    assert attendance.close_due() == 2
    stale.refresh_from_db()
    assert stale.locked_at is not None and attendance.verify(stale)


def test_nobody_signs_a_sheet_left_behind_once_its_sitting_is_over(past_day, alice):
    stale = left_behind(past_day["afternoon"])
    assert not attendance.signing_open(stale)
    with pytest.raises(attendance.NotNow):
        attendance.sign(
            Mark.objects.get(sheet=stale, enrolment=past_day["alice"]),
            signer=alice,
            method="typed",
            typed_name="Alice Martin",
        )
    assert Mark.objects.get(sheet=stale, enrolment=past_day["alice"]).state == "expected"


def test_renaming_the_programme_session_or_module_does_not_break_a_locked_sheets_seal(
    past_day, session, programme
):
    """The seal is of the sheet's rows: the team renaming what it belongs to is no tampering; a raw change
    of a signature still is."""
    from django.db import connection

    from cocotte.learning.models import Module

    module = Module.objects.filter(programme=programme).first()
    past_day["sitting"].module = module
    past_day["sitting"].save(update_fields=["module"])
    sheet = attendance.close(past_day["morning"])
    assert attendance.verify(sheet)
    programme.title = "Cycle création et reprise d’entreprise"
    programme.save()
    session.label = "Printemps (groupe A)"
    session.save()
    Module.objects.filter(pk=module.pk).update(title="Étude de marché et clientèle")
    assert attendance.verify(sheet)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE learning_mark SET state = 'present' WHERE sheet_id = %s", [sheet.pk])
    assert not attendance.verify(sheet)
