"""Registering, the waiting list, offers, cancelling: through the services, then the database."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from cocotte.events import errors, services
from cocotte.events.models import Registration

Status = Registration.Status


def test_a_member_registers_in_one_click_and_is_confirmed(forum, alice, sent):
    with sent():
        registration = services.register(forum, member=alice, answers={})
    assert registration.status == Status.CONFIRMED
    assert registration.email == "alice@example.org" and registration.name == "Alice Martin"
    [message] = mail.outbox
    assert message.to == ["alice@example.org"]
    assert "Inscription confirmée" in message.subject
    kinds = {part.get_content_type() for part in message.message().walk()}
    assert "text/calendar" in kinds and "image/png" in kinds  # the .ics and the inline QR code
    assert "cid:qr-accueil" in message.alternatives[0][0]


def test_full_event_puts_the_next_on_the_waiting_list(forum, make_user):
    people = [make_user(f"m{i}@example.org") for i in range(4)]
    statuses = [services.register(forum, member=p).status for p in people]
    assert statuses == [Status.CONFIRMED] * 3 + [Status.WAITLISTED]
    assert services.places_left(forum) == 0


def test_full_without_waiting_list_is_refused_and_nothing_written(make_event, make_user):
    event = make_event(capacity=1, waiting_list=False)
    services.register(event, member=make_user("a@example.org"))
    with pytest.raises(errors.Full) as refused:
        services.register(event, member=make_user("b@example.org"))
    assert refused.value.code == "full"
    assert Registration.objects.filter(event=event).count() == 1


def test_a_duplicate_is_refused(forum, alice):
    services.register(forum, member=alice)
    with pytest.raises(errors.AlreadyRegistered):
        services.register(forum, member=alice)
    assert Registration.objects.filter(event=forum).count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"registration_opens": "future"},
        {"registration_closes": "past"},
        {"start": "past"},
    ],
)
def test_closed_registration_is_refused(make_event, alice, change):
    now = timezone.now()
    fields = {}
    if "registration_opens" in change:
        fields["registration_opens"] = now + timedelta(days=2)
    if "registration_closes" in change:
        fields["registration_closes"] = now - timedelta(hours=1)
        fields["registration_opens"] = now - timedelta(days=2)
    event = make_event(**fields)
    if "start" in change:  # an event under way: moved behind the services' back, as time passes
        type(event).objects.filter(pk=event.pk).update(start=now - timedelta(hours=1))
        event.refresh_from_db()
    with pytest.raises(errors.Closed) as refused:
        services.register(event, member=alice)
    assert refused.value.code == "closed"
    assert not Registration.objects.filter(event=event).exists()


def test_a_draft_or_cancelled_event_takes_no_registration(make_event, alice, sophie):
    draft = make_event(publish=False)
    with pytest.raises(errors.Closed):
        services.register(draft, member=alice)
    event = make_event()
    services.cancel_event(event, by=sophie, reason="Intempéries")
    with pytest.raises(errors.Closed, match="annulé"):
        services.register(event, member=alice)


def test_required_answers_and_choices_are_checked(make_event, alice):
    event = make_event(
        questions=[{"label": "Déjeuner ?", "kind": "choice", "choices": "Oui\nNon", "required": True}]
    )
    [question] = event.questions.all()
    with pytest.raises(errors.InvalidEvent, match="Répondez"):
        services.register(event, member=alice, answers={})
    with pytest.raises(errors.InvalidEvent, match="Choisissez"):
        services.register(event, member=alice, answers={str(question.pk): "Peut-être"})
    registration = services.register(event, member=alice, answers={str(question.pk): "Oui"})
    assert registration.answers == {str(question.pk): "Oui"}


def test_a_visitor_holds_no_place_until_they_confirm_their_address(make_event, alice, sent):
    event = make_event(capacity=1)
    with sent():
        visitor = services.register_visitor(event, name="Véra Visiteuse", email="Vera@Example.org")
    assert visitor.status == Status.PENDING and visitor.email == "vera@example.org"
    [message] = mail.outbox
    assert f"/evenements/inscription/{visitor.token}/confirmer/" in message.body
    # Meanwhile a member takes the only place: the visitor's confirmation puts them on the waiting list.
    services.register(event, member=alice)
    confirmed = services.confirm_address(visitor.token)
    assert confirmed.status == Status.WAITLISTED


def test_registering_again_while_the_link_waits_sends_it_again_but_not_every_minute(forum, sent):
    with sent():
        first = services.register_visitor(forum, name="Véra", email="vera@example.org")
    with sent():
        again = services.register_visitor(forum, name="Véra", email="vera@example.org")
    assert again.pk == first.pk and len(mail.outbox) == 1  # sent a moment ago: not again
    Registration.objects.filter(pk=first.pk).update(expires_at=timezone.now() + timedelta(hours=23))
    with sent():
        later = services.register_visitor(forum, name="Véra", email="vera@example.org")
    assert later.pk == first.pk and len(mail.outbox) == 2
    assert later.expires_at > timezone.now() + timedelta(hours=23, minutes=59)
    assert f"/evenements/inscription/{first.token}/confirmer/" in mail.outbox[1].body
    assert Registration.objects.filter(event=forum).count() == 1


def test_a_reused_or_unknown_link_is_refused(forum):
    visitor = services.register_visitor(forum, name="Véra", email="vera@example.org")
    assert services.confirm_address(visitor.token).status == Status.CONFIRMED
    with pytest.raises(errors.StaleLink, match="déjà confirmée"):
        services.confirm_address(visitor.token)
    with pytest.raises(errors.UnknownCode):
        services.confirm_address("pas-un-jeton")


def test_an_unconfirmed_address_expires_after_a_day(forum):
    visitor = services.register_visitor(forum, name="Véra", email="vera@example.org")
    later = timezone.now() + timedelta(hours=25)
    assert services.expire_due(later)["unconfirmed"] == 1
    visitor.refresh_from_db()
    assert visitor.status == Status.EXPIRED
    with pytest.raises(errors.StaleLink):
        services.confirm_address(visitor.token)


def test_visitors_may_not_take_priced_or_members_only_places(workshop, make_event):
    with pytest.raises(errors.AccountRequired, match="compte"):
        services.register_visitor(workshop, name="Véra", email="vera@example.org")
    members = make_event(audience="members")
    with pytest.raises(errors.AccountRequired, match="membres"):
        services.register_visitor(members, name="Véra", email="vera@example.org")
    assert not Registration.objects.exists()


def test_a_freed_place_is_offered_to_the_oldest_waiting_then_the_next(forum, make_user, sent):
    people = [make_user(f"m{i}@example.org") for i in range(5)]
    regs = [services.register(forum, member=p) for p in people]
    first_waiting, second_waiting = regs[3], regs[4]
    mail.outbox.clear()
    with sent():
        result = services.cancel_registration(regs[0], by=people[0])
    assert result.promoted == [first_waiting.pk]
    first_waiting.refresh_from_db()
    assert first_waiting.status == Status.OFFERED and first_waiting.offer_expires_at
    assert {m.to[0] for m in mail.outbox} == {"m0@example.org", "m3@example.org"}
    # The offer is not taken up in time: the sweep gives it to the next one.
    with sent():
        services.expire_due(first_waiting.offer_expires_at + timedelta(seconds=1))
    first_waiting.refresh_from_db()
    second_waiting.refresh_from_db()
    assert first_waiting.status == Status.EXPIRED
    assert second_waiting.status == Status.OFFERED
    with pytest.raises(errors.StaleLink):
        services.accept_offer(first_waiting)
    assert services.accept_offer(second_waiting).status == Status.CONFIRMED
    assert Registration.objects.filter(event=forum, status__in=Registration.HOLDING).count() == 3


def test_someone_waiting_keeps_their_turn(forum, make_user):
    """A place offered is held: a newcomer goes behind the people waiting."""
    people = [make_user(f"m{i}@example.org") for i in range(4)]
    regs = [services.register(forum, member=p) for p in people]
    services.cancel_registration(regs[0], by=people[0])
    late = services.register(forum, member=make_user("late@example.org"))
    assert late.status == Status.WAITLISTED


def test_raising_the_capacity_offers_the_new_places(forum, make_user, sophie):
    regs = [services.register(forum, member=make_user(f"m{i}@example.org")) for i in range(5)]
    services.update_event(forum, by=sophie, capacity=4)
    regs[3].refresh_from_db()
    regs[4].refresh_from_db()
    assert (regs[3].status, regs[4].status) == (Status.OFFERED, Status.WAITLISTED)
    with pytest.raises(errors.InvalidEvent, match="capacité"):
        services.update_event(forum, by=sophie, capacity=2)


def test_the_cancel_link_works_without_an_account_and_once(forum, sent):
    visitor = services.register_visitor(forum, name="Véra", email="vera@example.org")
    services.confirm_address(visitor.token)
    with sent():
        services.cancel_registration(services.by_token(visitor.token))
    assert "annulée" in mail.outbox[-1].subject
    with pytest.raises(errors.StaleLink):
        services.cancel_registration(services.by_token(visitor.token))


def test_another_member_cannot_cancel_my_place(forum, alice, bob):
    registration = services.register(forum, member=alice)
    with pytest.raises(errors.Forbidden):
        services.cancel_registration(registration, by=bob)
    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED
