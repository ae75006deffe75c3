"""Each kind of e-mail renders in French and in English, with its links; free-form input never breaks a
registration (hypothesis)."""

from datetime import timedelta

import pytest
from django.core import mail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocotte.events import emails, errors, services
from cocotte.events.models import Registration


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind", emails.KINDS)
def test_every_kind_renders_with_its_links(forum, alice, kind, language):
    registration = services.register(forum, member=alice)
    Registration.objects.filter(pk=registration.pk).update(
        language=language, offer_expires_at=forum.start - timedelta(days=1)
    )
    registration = Registration.objects.select_related("event__site").get(pk=registration.pk)
    extra = {"reason": "Neige", "by_team": True, "refund": "withdrawn"}
    if kind == "changed":
        extra |= {"previous_start": forum.start.isoformat(), "previous_end": forum.end.isoformat()}
    message = emails.build(kind, registration, **extra)
    html = message.alternatives[0][0]
    assert message.subject and "Forum du télétravail" in message.subject
    assert registration.token in message.body and registration.token in html
    assert "{{" not in message.body and "{%" not in html
    assert html.startswith("<!doctype html>")


def test_the_offer_email_says_the_deadline(forum, make_user, sent):
    regs = [services.register(forum, member=make_user(f"m{i}@example.org")) for i in range(4)]
    mail.outbox.clear()
    with sent():
        services.cancel_registration(regs[0], by=regs[0].member)
    offer = next(m for m in mail.outbox if m.to == ["m3@example.org"])
    assert "Une place s’est libérée" in offer.subject and "Acceptez-la avant le" in offer.body


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=300), email=st.text(max_size=80), answer=st.text(max_size=1200))
def test_free_form_input_is_stored_clean_or_refused_clearly(forum, name, email, answer):
    [question] = forum.questions.all()
    before = Registration.objects.count()
    try:
        registration = services.register_visitor(
            forum, name=name, email=email, answers={str(question.pk): answer}
        )
    except errors.EventError as error:
        assert error.message and error.code
        assert Registration.objects.count() == before
        return
    registration.refresh_from_db()
    assert registration.name and "\x00" not in registration.name and len(registration.name) <= 200
    assert len(registration.answers.get(str(question.pk), "")) <= 1000
    Registration.objects.filter(pk=registration.pk).delete()


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=500))
def test_questions_as_staff_write_them_parse_or_are_refused(text):
    try:
        questions = services.parse_questions(text)
    except errors.InvalidEvent as error:
        assert error.message
        return
    for question in questions:
        assert question["label"] and len(question["label"]) <= 200
        assert question["kind"] in ("text", "choice")
