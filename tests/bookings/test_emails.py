"""The booking engine's e-mails: one per change, to the member, in their language, with Paris times.

The engine sends after its transaction commits (`transaction.on_commit`). Normal `db` tests run inside a
transaction that never commits: `committed()` runs the on-commit callbacks as a commit would. Tests marked
`transaction=True` commit for real.
"""

import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from cocotte.bookings import emails, events, services, tasks
from cocotte.bookings.errors import Conflict
from cocotte.bookings.models import Booking, BookingEvent
from cocotte.core import formats
from tests.helpers import PARIS, day_ahead, paris

pytestmark = pytest.mark.django_db

JOURS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
MOIS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def jour(day: date) -> str:
    """A date as French people write it, worked out here without Django: « mardi 8 décembre 2026 »."""
    return f"{JOURS[day.weekday()]} {'1er' if day.day == 1 else day.day} {MOIS[day.month - 1]} {day.year}"


@pytest.fixture
def fail_loudly(caplog):
    """The engine's callbacks are robust (a failure is logged, not raised): a logged failure fails the test."""
    yield
    errors = [
        r
        for r in caplog.get_records("call")
        if r.levelname == "ERROR" and ("on_commit" in r.getMessage() or "subscriber" in r.getMessage())
    ]
    assert not errors, errors[0].exc_text


@pytest.fixture(autouse=True)
def _no_silent_failure(fail_loudly):
    pass


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def calendars(message) -> list[tuple[str, str, str]]:
    return [(name, content, mimetype) for name, content, mimetype in message.attachments]


def only_message(outbox, to):
    assert len(outbox) == 1, [m.subject for m in outbox]
    [message] = outbox
    assert message.to == [to]
    assert message.subject and message.body and html_of(message)
    return message


def assert_ics(message, method: str) -> str:
    [(name, content, mimetype)] = calendars(message)
    assert name.endswith(".ics")
    assert mimetype.split(";")[0] == "text/calendar"
    assert f"method={method}" in mimetype
    assert f"METHOD:{method}" in content
    message.message()  # the whole MIME message builds
    return content


class TestDates:
    """How dates and times read: Paris wall-clock, French words, whatever the season."""

    def test_a_winter_morning(self):
        with translation.override("fr"), timezone.override(PARIS):
            when = formats.describe_period(paris(date(2026, 12, 8), 10), paris(date(2026, 12, 8), 11, 30))
        assert when == "mardi 8 décembre 2026, de 10 h 00 à 11 h 30"

    def test_a_summer_afternoon_is_in_paris_time_not_utc(self):
        with translation.override("fr"), timezone.override(PARIS):
            when = formats.describe_period(paris(date(2027, 7, 6), 14), paris(date(2027, 7, 6), 17))
        assert when == "mardi 6 juillet 2027, de 14 h 00 à 17 h 00"

    def test_the_first_of_the_month_is_1er(self):
        with translation.override("fr"), timezone.override(PARIS):
            assert formats.format_day(date(2026, 12, 1)) == "mardi 1er décembre 2026"

    def test_a_month_of_office(self):
        with translation.override("fr"), timezone.override(PARIS):
            when = formats.describe_period(paris(date(2026, 12, 1), 0), paris(date(2027, 1, 1), 0))
        assert when == "du mardi 1er décembre 2026 au jeudi 31 décembre 2026 inclus"

    def test_in_english_the_names_are_english(self):
        with translation.override("en"), timezone.override(PARIS):
            day = formats.format_day(date(2026, 12, 1))
        assert "Tuesday" in day and "December" in day and "1er" not in day


class TestBooked:
    def test_a_confirmed_booking_is_mailed_to_the_member_with_its_ics(self, alice, room, book, committed):
        day = day_ahead(9)
        with committed():
            booking = book(alice, room, paris(day, 10), paris(day, 11, 30))
        message = only_message(mail.outbox, "alice@example.org")
        when = f"{jour(day)}, de 10 h 00 à 11 h 30"
        assert message.subject == f"Réservation confirmée : Salle-Reunion, {jour(day)}"
        assert "Bonjour Alice," in message.body
        assert "\n-- \n" in message.body  # the signature delimiter keeps its space
        assert "Votre réservation est confirmée" in message.body
        assert when in message.body and when in html_of(message)
        assert "Murat, 1 place de l’Église, 15300 Murat" in message.body
        assert "&" not in message.body  # plain text is not HTML-escaped
        assert '<html lang="fr">' in html_of(message)
        ics = assert_ics(message, "REQUEST")
        assert f"booking-{booking.pk}@" in ics
        assert message.extra_headers["Auto-Submitted"] == "auto-generated"

    def test_its_links_and_calendar_name_the_public_address(self, alice, room, book, committed, settings):
        # One setting for every link in e-mails, the allauth ones too (tests/accounts/test_emails.py).
        settings.COCOTTE_PUBLIC_URL = "https://cocotte.example.org"
        day = day_ahead(9)
        with committed():
            booking = book(alice, room, paris(day, 10), paris(day, 11))
        message = only_message(mail.outbox, "alice@example.org")
        for text in (message.body, html_of(message)):
            found = re.findall(r"https?://[^\s\"<]+", text)
            assert "https://cocotte.example.org/mes-reservations/" in found
            assert all(link.startswith("https://cocotte.example.org/") for link in found), found
        assert f"booking-{booking.pk}@cocotte.example.org" in assert_ics(message, "REQUEST")

    def test_reply_to_is_the_sites_address_when_it_has_one(self, alice, site, room, book, committed):
        day = day_ahead(9)
        with committed():
            book(alice, room, paris(day, 10), paris(day, 11))
        assert mail.outbox[0].reply_to == []
        site.email = "murat@example.org"
        site.save()
        with committed():
            book(alice, room, paris(day, 14), paris(day, 15))
        assert mail.outbox[1].reply_to == ["murat@example.org"]
        assert "Répondez simplement à ce message" in mail.outbox[1].body

    def test_staff_booking_for_a_member_mails_the_member(self, alice, sophie, room, book, committed):
        day = day_ahead(9)
        with committed():
            book(alice, room, paris(day, 10), paris(day, 11), by=sophie)
        message = only_message(mail.outbox, "alice@example.org")
        assert "L’équipe de Murat a fait cette réservation pour vous" in message.body

    def test_a_request_is_acknowledged_without_ics(self, alice, approval_room, book, committed):
        day = day_ahead(9)
        with committed():
            booking = book(alice, approval_room, paris(day, 10), paris(day, 11))
        assert booking.status == Booking.Status.PENDING
        message = only_message(mail.outbox, "alice@example.org")
        assert message.subject == f"Demande reçue : Salle du conseil, {jour(day)}"
        assert "le créneau vous est gardé" in message.body
        assert "en attente de validation" in message.body
        assert calendars(message) == []

    def test_a_refused_booking_sends_nothing(self, alice, bob, room, book, committed):
        day = day_ahead(9)
        book(alice, room, paris(day, 10), paris(day, 11))  # not committed: sends nothing either
        with committed(), pytest.raises(Conflict):
            book(bob, room, paris(day, 10), paris(day, 11))
        assert mail.outbox == []

    def test_a_rolled_back_booking_sends_nothing(self, alice, room, book, committed):
        day = day_ahead(9)
        with committed(), pytest.raises(RuntimeError), transaction.atomic():
            book(alice, room, paris(day, 10), paris(day, 11))
            raise RuntimeError("the caller's own transaction fails after the booking")
        assert mail.outbox == []
        assert not Booking.objects.exists()


class TestMailServerDown:
    @pytest.fixture
    def fail_loudly(self, caplog):
        """Here a failure is expected: it must be logged."""
        yield
        assert any(
            r.levelname == "ERROR" and ("on_commit" in r.getMessage() or "subscriber" in r.getMessage())
            for r in caplog.get_records("call")
        )

    def test_a_failing_mail_server_does_not_undo_the_booking(self, alice, room, book, committed, monkeypatch):
        def refuse(*args, **kwargs):
            raise OSError("connection refused")

        monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
        day = day_ahead(9)
        with committed():
            booking = book(alice, room, paris(day, 10), paris(day, 11))
        assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
        assert reminder_tasks().count() == 1  # the next callback still ran


class TestLanguage:
    def test_an_english_member_gets_the_message_rendered_in_english(
        self, alice, room, book, committed, monkeypatch
    ):
        alice.profile.language = "en"
        alice.profile.save()
        seen = []
        render = emails.render_to_string

        def spy(template, context):
            seen.append((template, translation.get_language(), timezone.get_current_timezone_name()))
            return render(template, context)

        monkeypatch.setattr(emails, "render_to_string", spy)
        day = day_ahead(9)
        with committed():
            book(alice, room, paris(day, 10), paris(day, 11))
        message = only_message(mail.outbox, "alice@example.org")
        assert '<html lang="en">' in html_of(message)
        assert {language for _template, language, _tz in seen} == {"en"}
        assert {tz for _template, _language, tz in seen} == {"Europe/Paris"}
        assert JOURS[day.weekday()] not in message.subject  # English day names…
        assert "10:00" in message.body  # …and English times, from the catalogue's format string
        assert translation.get_language() == "fr"  # restored afterwards

    def test_a_member_without_profile_gets_french(self, alice, room, book, committed):
        alice.profile.delete()
        alice.refresh_from_db()
        day = day_ahead(9)
        with committed():
            book(alice, room, paris(day, 10), paris(day, 11))
        assert '<html lang="fr">' in html_of(only_message(mail.outbox, "alice@example.org"))


class TestChanges:
    def test_approved_with_the_teams_message_and_ics(self, alice, sophie, approval_room, book, committed):
        day = day_ahead(9)
        booking = book(alice, approval_room, paris(day, 10), paris(day, 11))
        with committed():
            services.approve(booking, by=sophie, reason="La clé est à l’accueil.")
        message = only_message(mail.outbox, "alice@example.org")
        assert message.subject == f"Demande acceptée : Salle du conseil, {jour(day)}"
        assert "La clé est à l’accueil." in message.body
        assert "La clé est à l’accueil." in html_of(message)
        assert_ics(message, "REQUEST")

    def test_refused_with_the_reason_and_no_ics(self, alice, sophie, approval_room, book, committed):
        day = day_ahead(9)
        booking = book(alice, approval_room, paris(day, 10), paris(day, 11))
        with committed():
            services.refuse(booking, by=sophie, reason="Salle réservée pour le conseil municipal.")
        message = only_message(mail.outbox, "alice@example.org")
        assert message.subject == f"Demande refusée : Salle du conseil, {jour(day)}"
        assert "Salle réservée pour le conseil municipal." in message.body
        assert calendars(message) == []

    def test_moved_with_before_after_and_an_updated_ics(self, alice, room, book, committed):
        day, later = day_ahead(9), day_ahead(10)
        booking = book(alice, room, paris(day, 10), paris(day, 11))
        with committed():
            services.move(booking, by=alice, start=paris(later, 14), end=paris(later, 15, 30))
        message = only_message(mail.outbox, "alice@example.org")
        assert message.subject == f"Réservation déplacée : Salle-Reunion, {jour(later)}"
        assert f"Avant : {jour(day)}, de 10 h 00 à 11 h 00" in message.body
        assert f"{jour(later)}, de 14 h 00 à 15 h 30" in message.body
        assert_ics(message, "REQUEST")

    def test_cancelled_by_the_member(self, alice, room, book, committed):
        day = day_ahead(9)
        booking = book(alice, room, paris(day, 10), paris(day, 11))
        with committed():
            services.cancel(booking, by=alice)
        message = only_message(mail.outbox, "alice@example.org")
        assert message.subject == f"Réservation annulée : Salle-Reunion, {jour(day)}"
        assert "comme vous l’avez demandé" in message.body
        assert "STATUS:CANCELLED" in assert_ics(message, "CANCEL")

    def test_cancelled_by_the_team_with_its_reason(self, alice, sophie, room, book, committed):
        day = day_ahead(9)
        booking = book(alice, room, paris(day, 10), paris(day, 11))
        with committed():
            services.cancel(booking, by=sophie, reason="Dégât des eaux <salle 2>.")
        message = only_message(mail.outbox, "alice@example.org")
        assert "L’équipe de Murat a dû annuler votre réservation" in message.body
        assert "Dégât des eaux <salle 2>." in message.body  # plain text as written…
        assert "Dégât des eaux &lt;salle 2&gt;." in html_of(message)  # …HTML escaped
        assert_ics(message, "CANCEL")

    def test_a_block_mails_each_member_it_cancels(self, alice, bob, sophie, room, book, committed):
        day = day_ahead(9)
        book(alice, room, paris(day, 10), paris(day, 11))
        book(bob, room, paris(day, 14), paris(day, 15))
        with committed():
            services.block(
                room,
                by=sophie,
                start=paris(day, 8),
                end=paris(day, 20),
                reason="Chaudière en panne",
                cancel_conflicting=True,
            )
        assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.org", "bob@example.org"]
        for message in mail.outbox:
            assert "Chaudière en panne" in message.body
            assert_ics(message, "CANCEL")


class TestSeries:
    def test_one_message_lists_booked_and_skipped_occurrences(self, alice, bob, room, book, committed):
        first = day_ahead(8)
        book(bob, room, paris(first + timedelta(7), 10), paris(first + timedelta(7), 11))
        with committed():
            result = services.book_series(
                resource=room,
                member=alice,
                start=paris(first, 10),
                end=paris(first, 11),
                rrule="FREQ=WEEKLY;COUNT=4",
                skip_conflicts=True,
            )
        assert len(result.bookings) == 3
        message = only_message(mail.outbox, "alice@example.org")
        assert message.subject == "Série réservée : Salle-Reunion, 3 créneaux"
        assert "Créneaux réservés (3) :" in message.body
        assert "Créneau non réservé (1) :" in message.body
        for week in (0, 2, 3):
            assert f"- {jour(first + timedelta(7 * week))}, de 10 h 00 à 11 h 00\n" in message.body
        skipped = re.search(r"- (.*) — (.*)\n", message.body)
        assert skipped.group(1) == f"{jour(first + timedelta(7))}, de 10 h 00 à 11 h 00"
        assert "déjà réservé" in skipped.group(2)

    def test_a_cancelled_series_is_one_message(self, alice, room, committed):
        first = day_ahead(8)
        result = services.book_series(
            resource=room,
            member=alice,
            start=paris(first, 10),
            end=paris(first, 11),
            rrule="FREQ=DAILY;COUNT=3",
        )
        with committed():
            services.cancel_series(result.series, by=alice)
        message = only_message(mail.outbox, "alice@example.org")
        assert message.subject == "Série annulée : Salle-Reunion, 3 créneaux"
        assert message.body.count(", de 10 h 00 à 11 h 00\n") == 3


class TestMuted:
    def test_nothing_is_sent_nor_scheduled_for_changes_made_muted(self, alice, room, book, committed):
        day = day_ahead(9)
        with events.muted(), committed():
            book(alice, room, paris(day, 10), paris(day, 11))
        assert mail.outbox == []
        assert not reminder_tasks().exists()
        with committed():
            book(alice, room, paris(day, 14), paris(day, 15))
        assert len(mail.outbox) == 1


def reminder_tasks():
    return DBTaskResult.objects.filter(task_path="cocotte.bookings.tasks.send_reminder")


class TestReminderTask:
    def test_the_day_before_at_18_is_paris_time_across_the_change_of_clocks(self, alice, room):
        # Summer time starts on Sunday 28 March 2027: 18:00 that day is 16:00 UTC, on the Saturday 17:00.
        monday = Booking(resource=room, member=alice, start=paris(date(2027, 3, 29), 10))
        sunday = Booking(resource=room, member=alice, start=paris(date(2027, 3, 28), 10))
        assert tasks.reminder_due(monday).isoformat() == "2027-03-28T16:00:00+00:00"
        assert tasks.reminder_due(sunday).isoformat() == "2027-03-27T17:00:00+00:00"

    def test_booking_enqueues_it_for_the_day_before_at_18_paris_time(self, alice, room, book, committed):
        day = day_ahead(9)
        with committed():
            booking = book(alice, room, paris(day, 10), paris(day, 11))
        [queued] = reminder_tasks()
        assert queued.run_after == paris(day - timedelta(1), 18)
        assert queued.args_kwargs["args"] == [booking.pk, booking.start.isoformat()]

    def test_none_is_enqueued_when_the_day_before_18_00_has_passed(self, alice, room):
        start = timezone.now() + timedelta(hours=2)  # its day before 18:00 is always past
        booking = Booking.objects.create(
            resource=room, member=alice, start=start, end=start + timedelta(hours=1)
        )
        assert tasks.schedule_reminders([booking.pk]) == 0
        assert not reminder_tasks().exists()

    def test_a_move_enqueues_another(self, alice, room, book, committed):
        day = day_ahead(9)
        booking = book(alice, room, paris(day, 10), paris(day, 11))
        with committed():
            services.move(
                booking, by=alice, start=paris(day + timedelta(1), 10), end=paris(day + timedelta(1), 11)
            )
        [queued] = reminder_tasks()
        assert queued.run_after == paris(day, 18)

    def test_it_sends_once(self, alice, room, book):
        day = day_ahead(9)
        booking = book(alice, room, paris(day, 10), paris(day, 11))
        assert tasks.send_reminder.call(booking.pk, booking.start.isoformat()) is True
        assert tasks.send_reminder.call(booking.pk, booking.start.isoformat()) is False
        message = only_message(mail.outbox, "alice@example.org")
        assert message.subject == f"Rappel : Salle-Reunion, {jour(day)}, de 10 h 00 à 11 h 00"
        assert calendars(message) == []
        booking.refresh_from_db()
        assert booking.reminder_sent_at is not None

    def test_a_moved_booking_gets_no_stale_reminder_but_its_new_one(self, alice, room, book):
        day = day_ahead(9)
        booking = book(alice, room, paris(day, 10), paris(day, 11))
        old_start = booking.start.isoformat()
        moved = services.move(booking, by=alice, start=paris(day, 14), end=paris(day, 15))
        assert tasks.send_reminder.call(booking.pk, old_start) is False
        assert mail.outbox == []
        assert tasks.send_reminder.call(booking.pk, moved.start.isoformat()) is True
        assert "de 14 h 00 à 15 h 00" in only_message(mail.outbox, "alice@example.org").body

    def test_a_move_after_the_reminder_allows_a_new_one(self, alice, room, book):
        day = day_ahead(9)
        booking = book(alice, room, paris(day, 10), paris(day, 11))
        assert tasks.remind(booking.pk) is True
        moved = services.move(
            booking, by=alice, start=paris(day + timedelta(2), 10), end=paris(day + timedelta(2), 11)
        )
        assert tasks.remind(booking.pk, expected_start=moved.start) is True
        assert len(mail.outbox) == 2

    def test_cancelled_and_refused_bookings_get_none(self, alice, sophie, room, approval_room, book):
        day = day_ahead(9)
        cancelled = services.cancel(book(alice, room, paris(day, 10), paris(day, 11)), by=alice)
        refused = services.refuse(
            book(alice, approval_room, paris(day, 10), paris(day, 11)), by=sophie, reason="Complet."
        )
        for booking in (cancelled, refused):
            assert tasks.send_reminder.call(booking.pk, booking.start.isoformat()) is False
        assert tasks.send_reminder.call(999999, paris(day, 10).isoformat()) is False  # deleted
        assert mail.outbox == []

    def test_a_pending_request_is_reminded_as_pending(self, alice, approval_room, book):
        day = day_ahead(9)
        booking = book(alice, approval_room, paris(day, 10), paris(day, 11))
        assert tasks.remind(booking.pk) is True
        assert "pas encore validé" in only_message(mail.outbox, "alice@example.org").body

    def test_a_failed_sending_can_be_retried(self, alice, room, book, monkeypatch):
        day = day_ahead(9)
        booking = book(alice, room, paris(day, 10), paris(day, 11))
        monkeypatch.setattr(emails, "send_reminder", lambda booking: (_ for _ in ()).throw(OSError("down")))
        with pytest.raises(OSError):
            tasks.remind(booking.pk)
        booking.refresh_from_db()
        assert booking.reminder_sent_at is None
        monkeypatch.undo()
        assert tasks.remind(booking.pk) is True


class TestSendRemindersCommand:
    def test_sends_tomorrows_reminders_once(self, alice, bob, sophie, room, desk, approval_room, book):
        tomorrow, later = day_ahead(1), day_ahead(2)
        due = book(alice, room, paris(tomorrow, 10), paris(tomorrow, 11))
        book(bob, room, paris(later, 10), paris(later, 11))  # the day after: not yet
        services.cancel(book(bob, desk, paris(tomorrow, 8), paris(tomorrow, 13)), by=sophie)  # none
        call_command("send_reminders", stdout=open("/dev/null", "w"))  # noqa: SIM115
        message = only_message(mail.outbox, "alice@example.org")
        assert message.subject.startswith("Rappel : Salle-Reunion, ")
        due.refresh_from_db()
        assert due.reminder_sent_at is not None
        call_command("send_reminders", stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert len(mail.outbox) == 1
        assert tasks.send_reminder.call(due.pk, due.start.isoformat()) is False  # nor by the worker


def run_worker():
    """The task worker (`cocotte db_worker`), until the queue holds nothing it may run now."""
    from django_tasks_db.management.commands.db_worker import Worker

    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    ).run()


@pytest.mark.django_db(transaction=True)
class TestRealCommits:
    """Without the test's wrapping transaction: the engine's events are enqueued on real commits, and the
    task worker delivers them."""

    def test_a_committed_booking_is_mailed_and_a_rolled_back_one_is_not(self, alice, bob, room, book):
        day = day_ahead(9)
        book(alice, room, paris(day, 10), paris(day, 11))
        assert mail.outbox == []  # the request only recorded it: the worker sends
        run_worker()
        assert [m.to for m in mail.outbox] == [["alice@example.org"]]
        with pytest.raises(RuntimeError), transaction.atomic():
            book(bob, room, paris(day, 14), paris(day, 15))
            raise RuntimeError("rolled back")
        run_worker()
        assert len(mail.outbox) == 1
        assert not BookingEvent.objects.filter(delivered_at__isnull=True).exists()

    def test_the_worker_sends_the_reminder_once(self, alice, room, book):
        day = day_ahead(9)
        booking = book(alice, room, paris(day, 10), paris(day, 11))
        run_worker()  # delivers the event: the confirmation goes, the reminder is scheduled
        reminder_tasks().update(run_after=timezone.now() - timedelta(seconds=1))  # as if the day before
        queued = reminder_tasks().get()
        copy = DBTaskResult.objects.create(
            id=DBTaskResult._meta.pk.default(),
            args_kwargs=queued.args_kwargs,
            task_path=queued.task_path,
            queue_name=queued.queue_name,
            backend_name=queued.backend_name,
            priority=queued.priority,
            run_after=queued.run_after,
        )  # the same reminder enqueued twice
        run_worker()
        reminders = [m for m in mail.outbox if m.subject.startswith("Rappel")]
        assert len(reminders) == 1
        results = {r.pk: r.return_value for r in DBTaskResult.objects.filter(pk__in=[queued.pk, copy.pk])}
        assert sorted(results.values()) == [False, True]
        booking.refresh_from_db()
        assert booking.reminder_sent_at is not None
