"""Applying, staff decisions, the waiting list and its offers, withdrawals, cancelled sessions, e-mails."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from cocotte.bookings.models import Booking
from cocotte.core.errors import DomainError
from cocotte.learning import services
from cocotte.learning.models import Enrolment, Session

pytestmark = pytest.mark.django_db
S = Enrolment.Status


def _accepted(session, sophie, make_application, members):
    applications = [make_application(session, member) for member in members]
    return [services.accept(application, by=sophie) for application in applications]


def test_a_member_applies_and_staff_accept(session, sittings, alice, sophie, make_application):
    enrolment = make_application(session, alice, expectations="Un prévisionnel solide.", funding="public")
    assert enrolment.status == S.APPLIED
    accepted = services.accept(enrolment, by=sophie)
    assert accepted.status == S.ACCEPTED and accepted.decided_by == sophie
    assert not services.needs_contract(accepted)  # publicly funded: no contract to sign here


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda s: Session.objects.filter(pk=s.pk).update(enrolment_closes=timezone.now()), "closed"),
        (lambda s: Session.objects.filter(pk=s.pk).update(status=Session.Status.PLANNED), "closed"),
        (lambda s: Session.objects.filter(pk=s.pk).update(status=Session.Status.CANCELLED), "cancelled"),
        (
            lambda s: Session.objects.filter(pk=s.pk).update(starts_at=timezone.now() - timedelta(hours=1)),
            "past",
        ),
    ],
)
def test_bad_applications_are_refused_and_write_nothing(
    session, sittings, alice, make_application, change, code
):
    change(session)
    with pytest.raises(DomainError) as refused:
        make_application(session, alice)
    assert refused.value.code == code and refused.value.message
    assert not Enrolment.objects.exists()


def test_prerequisites_must_be_confirmed(session, sittings, alice, make_application):
    with pytest.raises(DomainError) as refused:
        make_application(session, alice, prerequisites_met=False)
    assert refused.value.code == "prerequisites_not_met"
    assert not Enrolment.objects.exists()


def test_a_duplicate_application_is_refused(session, sittings, alice, make_application):
    make_application(session, alice)
    with pytest.raises(DomainError) as refused:
        make_application(session, alice)
    assert refused.value.code == "already_enrolled"
    assert Enrolment.objects.count() == 1


def test_deciding_twice_is_refused(session, sittings, alice, sophie, make_application):
    enrolment = make_application(session, alice)
    services.accept(enrolment, by=sophie)
    with pytest.raises(DomainError) as refused:
        services.accept(enrolment, by=sophie)
    assert refused.value.code == "already_decided"
    with pytest.raises(DomainError):
        services.refuse(enrolment, by=sophie, reason="Trop tard")
    assert Enrolment.objects.get(pk=enrolment.pk).status == S.ACCEPTED


def test_only_the_sites_staff_decide(session, sittings, alice, carol, trainer, bob, make_application):
    enrolment = make_application(session, alice)
    for outsider in (carol, trainer, bob, alice):
        with pytest.raises(DomainError) as refused:
            services.accept(enrolment, by=outsider)
        assert refused.value.status == 403
    assert Enrolment.objects.get(pk=enrolment.pk).status == S.APPLIED


def test_refusal_needs_a_reason_told_to_the_person(
    session, sittings, alice, sophie, make_application, django_capture_on_commit_callbacks
):
    enrolment = make_application(session, alice)
    with pytest.raises(DomainError):
        services.refuse(enrolment, by=sophie, reason="  ")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.refuse(enrolment, by=sophie, reason="Le projet relève d’un autre dispositif.")
    [message] = mail.outbox
    assert message.to == [alice.email]
    assert "Le projet relève d’un autre dispositif." in message.body


def test_accepting_when_full_puts_the_person_on_the_waiting_list(
    session, sittings, sophie, make_application, make_member
):
    members = [make_member(n) for n in range(4)]
    enrolments = _accepted(session, sophie, make_application, members)
    assert [e.status for e in enrolments] == [S.ACCEPTED] * 3 + [S.WAITLISTED]
    assert services.places_left(session) == 0


def test_applying_to_a_full_session_waitlists_straight_away(
    session, sittings, sophie, make_application, make_member
):
    _accepted(session, sophie, make_application, [make_member(n) for n in range(3)])
    late = make_application(session, make_member(9))
    assert late.status == S.WAITLISTED and late.waitlisted_at is not None


def test_a_freed_place_is_offered_to_the_oldest_waiting(
    session, sittings, sophie, make_application, make_member, django_capture_on_commit_callbacks
):
    placed = _accepted(session, sophie, make_application, [make_member(n) for n in range(3)])
    first = make_application(session, make_member(10))
    second = make_application(session, make_member(11))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw(placed[0], by=placed[0].trainee)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == S.OFFERED and second.status == S.WAITLISTED
    hours = session.programme.offer_hours
    assert abs(first.offer_expires_at - (timezone.now() + timedelta(hours=hours))) < timedelta(minutes=1)
    [offer] = [m for m in mail.outbox if first.trainee.email in m.to]
    assert f"/formations/inscription/{first.pk}/place/" in offer.body
    assert offer.attachments and offer.attachments[0][0].endswith(".ics")


def test_confirming_an_offer_takes_the_place(session, sittings, sophie, make_application, make_member):
    placed = _accepted(session, sophie, make_application, [make_member(n) for n in range(3)])
    waiting = make_application(session, make_member(10))
    services.withdraw(placed[1], by=sophie)
    waiting.refresh_from_db()
    confirmed = services.confirm_offer(waiting, by=waiting.trainee)
    assert confirmed.status == S.ACCEPTED and confirmed.offer_expires_at is None
    with pytest.raises(DomainError):
        services.confirm_offer(waiting, by=waiting.trainee)


def test_nobody_confirms_for_somebody_else(session, sittings, sophie, make_application, make_member, alice):
    placed = _accepted(session, sophie, make_application, [make_member(n) for n in range(3)])
    waiting = make_application(session, make_member(10))
    services.withdraw(placed[0], by=sophie)
    waiting.refresh_from_db()
    for other in (alice, sophie):
        with pytest.raises(DomainError):
            services.confirm_offer(waiting, by=other)
    assert Enrolment.objects.get(pk=waiting.pk).status == S.OFFERED


def test_a_declined_offer_goes_to_the_next(session, sittings, sophie, make_application, make_member):
    placed = _accepted(session, sophie, make_application, [make_member(n) for n in range(3)])
    first = make_application(session, make_member(10))
    second = make_application(session, make_member(11))
    services.withdraw(placed[0], by=sophie)
    first.refresh_from_db()
    services.decline_offer(first, by=first.trainee)
    second.refresh_from_db()
    assert Enrolment.objects.get(pk=first.pk).status == S.WITHDRAWN
    assert second.status == S.OFFERED


def test_an_expired_offer_lapses_and_goes_to_the_next(
    session, sittings, sophie, make_application, make_member, django_capture_on_commit_callbacks
):
    placed = _accepted(session, sophie, make_application, [make_member(n) for n in range(3)])
    first = make_application(session, make_member(10))
    second = make_application(session, make_member(11))
    services.withdraw(placed[0], by=sophie)
    first.refresh_from_db()
    assert services.expire_offers() == 0  # not yet
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_offers(now=first.offer_expires_at + timedelta(seconds=1)) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == S.WITHDRAWN and second.status == S.OFFERED
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert "non confirmée" in subjects[first.trainee.email]
    assert "proposée" in subjects[second.trainee.email]
    Enrolment.objects.filter(pk=second.pk).update(offer_expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(DomainError) as refused:
        services.confirm_offer(second, by=second.trainee)
    assert refused.value.code == "offer_expired"


def test_refusing_an_offered_person_offers_the_next(session, sittings, sophie, make_application, make_member):
    placed = _accepted(session, sophie, make_application, [make_member(n) for n in range(3)])
    first = make_application(session, make_member(10))
    second = make_application(session, make_member(11))
    services.withdraw(placed[0], by=sophie)
    services.refuse(Enrolment.objects.get(pk=first.pk), by=sophie, reason="Place réservée à un autre public.")
    assert Enrolment.objects.get(pk=second.pk).status == S.OFFERED


def test_raising_the_capacity_offers_the_new_places(session, sittings, sophie, make_application, make_member):
    _accepted(session, sophie, make_application, [make_member(n) for n in range(3)])
    waiting = [make_application(session, make_member(10 + n)) for n in range(3)]
    services.update_session(session, by=sophie, capacity=5)
    assert [Enrolment.objects.get(pk=e.pk).status for e in waiting] == [S.OFFERED, S.OFFERED, S.WAITLISTED]
    with pytest.raises(DomainError) as refused:
        services.update_session(session, by=sophie, capacity=4)
    assert refused.value.code == "capacity_below_held"


def test_moving_to_another_session_frees_the_place(
    session, sittings, autumn, sophie, make_application, make_member
):
    placed = _accepted(session, sophie, make_application, [make_member(n) for n in range(3)])
    waiting = make_application(session, make_member(10))
    moved = services.move(placed[0], by=sophie, to=autumn)
    assert moved.session == autumn and moved.status == S.ACCEPTED
    old = Enrolment.objects.get(pk=placed[0].pk)
    assert old.status == S.MOVED and old.moved_to_id == moved.pk
    assert Enrolment.objects.get(pk=waiting.pk).status == S.OFFERED


def test_a_move_to_another_programme_is_refused(session, sittings, sophie, make_application, alice, site):
    from cocotte.learning.models import Programme

    other_programme = Programme.objects.get(pk=session.programme_id)
    other_programme.pk = None
    other_programme.slug = "autre"
    other_programme.save()
    elsewhere = Session.objects.create(
        programme=other_programme,
        site=site,
        label="Ailleurs",
        status=Session.Status.OPEN,
        capacity=2,
        enrolment_closes=session.enrolment_closes,
    )
    enrolment = make_application(session, alice)
    with pytest.raises(DomainError):
        services.move(enrolment, by=sophie, to=elsewhere)
    assert Enrolment.objects.get(pk=enrolment.pk).status == S.APPLIED


def test_staff_cancel_a_session_by_hand(
    session, sittings, sophie, make_application, make_member, django_capture_on_commit_callbacks
):
    placed = _accepted(session, sophie, make_application, [make_member(n) for n in range(2)])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_session(session, by=sophie, reason="Formatrice indisponible.")
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED and session.cancel_reason == "Formatrice indisponible."
    assert {Enrolment.objects.get(pk=e.pk).status for e in placed} == {S.CANCELLED}
    assert set(
        Booking.objects.filter(held_for__startswith="learning.sitting:").values_list("status", flat=True)
    ) == {"cancelled"}
    to = sorted(m.to[0] for m in mail.outbox)
    assert to == sorted([*(e.trainee.email for e in placed), sophie.email])
    trainee_mail = next(m for m in mail.outbox if m.to[0] == placed[0].trainee.email)
    assert "Formatrice indisponible." in trainee_mail.body
    assert "METHOD:CANCEL" in trainee_mail.attachments[0][1]


def test_an_underfilled_session_is_cancelled_at_its_deadline(
    session, sittings, sophie, make_application, alice
):
    services.accept(make_application(session, alice), by=sophie)  # 1 of the programme's minimum of 2
    session.refresh_from_db()
    early = session.starts_at - timedelta(days=8)
    assert services.cancel_underfilled(now=early) == []
    late = session.starts_at - timedelta(days=6)
    assert services.cancel_underfilled(now=late) == [session.pk]
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED
    assert not Booking.objects.filter(status="confirmed").exists()


def test_a_session_with_enough_trainees_is_kept(session, sittings, sophie, make_application, alice, bob):
    services.accept(make_application(session, alice), by=sophie)
    services.accept(make_application(session, bob), by=sophie)
    session.refresh_from_db()
    assert services.cancel_underfilled(now=session.starts_at - timedelta(days=6)) == []


def test_a_session_filled_after_the_jobs_look_is_kept(
    session, sittings, sophie, make_application, alice, bob
):
    services.accept(make_application(session, alice), by=sophie)
    late = make_application(session, bob)
    session.refresh_from_db()
    original = services.cancel_session

    def accepted_meanwhile(*args, **kwargs):
        services.accept(late, by=sophie)  # commits between the job's count and its lock
        return original(*args, **kwargs)

    services.cancel_session = accepted_meanwhile
    try:
        assert services.cancel_underfilled(now=session.starts_at - timedelta(days=6)) == []
    finally:
        services.cancel_session = original
    session.refresh_from_db()
    assert session.status == Session.Status.OPEN


def test_the_application_is_told_to_the_person_and_the_team(
    session, sittings, alice, sophie, carol, make_application, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        make_application(session, alice, needs_adaptation="Accès en fauteuil.")
    by_reader = {m.to[0]: m for m in mail.outbox}
    assert set(by_reader) == {alice.email, sophie.email}
    assert "Accès en fauteuil." in by_reader[sophie.email].body
    assert "Candidature reçue" in by_reader[alice.email].subject


def test_nothing_is_sent_for_a_refused_change(
    session, sittings, alice, make_application, django_capture_on_commit_callbacks
):
    make_application(session, alice)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DomainError):
        make_application(session, alice)
    assert mail.outbox == []


def test_the_accepted_mail_of_a_self_funded_person_links_the_contract(
    session, sittings, alice, sophie, make_application, django_capture_on_commit_callbacks
):
    enrolment = make_application(session, alice, funding="self")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.accept(enrolment, by=sophie)
    [message] = mail.outbox
    assert f"/formations/inscription/{enrolment.pk}/contrat/" in message.body
    assert "BEGIN:VEVENT" in message.attachments[0][1]
    assert message.attachments[0][1].count("BEGIN:VEVENT") == 3


def test_gdpr_export_lists_enrolments_and_erasure_keeps_them(session, sittings, alice, make_application):
    from cocotte.accounts import gdpr

    enrolment = make_application(session, alice)
    exported = gdpr.export(alice)["learning"]
    assert exported[0]["id"] == enrolment.pk and exported[0]["project"] == enrolment.project
    gdpr.erase(alice)
    kept = Enrolment.objects.get(pk=enrolment.pk)
    assert (kept.status, kept.project) == (enrolment.status, enrolment.project)


def test_the_e_mails_go_through_the_task_worker_with_the_change(
    settings, session, sittings, alice, sophie, make_application
):
    from django_tasks_db.models import DBTaskResult

    from cocotte.learning import emails

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    services.accept(make_application(session, alice), by=sophie)
    # Enqueued in the change's own transaction, sent by the worker: nothing waits for the mail server.
    assert mail.outbox == []
    queued = DBTaskResult.objects.filter(task_path=emails.send_later.module_path)
    kinds = [
        args[1][0]
        for args in queued.values_list("args_kwargs__args", flat=True)
        if args[0] == "send_enrolment_mail"
    ]
    assert kinds == ["application_received", "accepted"]
    for result in queued.order_by("pk"):
        name, args = result.args_kwargs["args"]
        emails.send_later.call(name, args)
    assert "alice@example.org" in {m.to[0] for m in mail.outbox}
