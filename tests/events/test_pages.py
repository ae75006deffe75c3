"""The events' pages through real URLs: registering from the event's page (member, visitor), one's
registration page from the e-mailed links, the team's pages, and the permission matrix."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from cocotte.bookings.models import Booking
from cocotte.events import services
from cocotte.events.models import Event, Registration
from tests.helpers import day_ahead


def test_a_member_registers_from_the_page_and_answers(client, forum, alice, sent):
    [question] = forum.questions.all()
    client.force_login(alice)
    with sent():
        response = client.post(reverse("events:detail", args=[forum.pk]), {f"q{question.pk}": "Graphiste"})
    registration = Registration.objects.get(event=forum, member=alice)
    assert response.status_code == 302 and response.url == reverse(
        "events:registration", args=[registration.token]
    )
    assert registration.answers == {str(question.pk): "Graphiste"}
    page = client.get(response.url)
    assert "<svg" in page.text and "Annuler mon inscription" in page.text
    assert len(mail.outbox) == 1


def test_a_visitor_registers_then_confirms_from_the_link(client, forum, sent):
    with sent():
        response = client.post(
            reverse("events:detail", args=[forum.pk]), {"name": "Véra Visiteuse", "email": "vera@example.org"}
        )
    assert response.status_code == 302
    link = re.search(r"http://\S+/confirmer/", mail.outbox[0].body).group(0)
    path = link.split("8000", 1)[-1] if "8000" in link else link
    assert client.get(path).status_code == 200  # a GET changes nothing: mail scanners open links
    assert Registration.objects.get().status == "pending"
    with sent():
        done = client.post(path)
    assert done.status_code == 302
    assert Registration.objects.get().status == "confirmed"
    assert "Inscription confirmée" in mail.outbox[-1].subject
    again = client.post(path, follow=True)
    assert "déjà confirmée" in again.text


def test_bad_input_is_a_form_error_and_nothing_is_written(client, make_event, alice):
    event = make_event(capacity=1, waiting_list=False)
    services.register(event, member=alice)
    response = client.post(
        reverse("events:detail", args=[event.pk]), {"name": "Véra", "email": "vera@example.org"}
    )
    # The page says it is full and offers no form; a forced POST is refused with the reason.
    assert response.status_code == 409 and "complet" in response.text
    assert Registration.objects.filter(event=event).count() == 1
    response = client.post(
        reverse("events:detail", args=[event.pk]), {"name": "", "email": "pas-une-adresse"}
    )
    assert response.status_code == 400


def test_a_priced_event_tells_visitors_to_sign_in(client, workshop):
    page = client.get(reverse("events:detail", args=[workshop.pk]))
    assert "créez votre compte" in page.text
    refused = client.post(
        reverse("events:detail", args=[workshop.pk]), {"name": "Véra", "email": "v@example.org"}
    )
    assert refused.status_code in (400, 409) and "compte" in refused.text
    assert not Registration.objects.exists()


def test_an_unknown_token_is_404(client, db):
    assert client.get(reverse("events:registration", args=["inconnu"])).status_code == 404
    assert client.post(reverse("events:cancel", args=["inconnu"])).status_code == 404


def test_staff_create_an_event_with_rooms_from_the_staff_page(client, site, room, sophie):
    client.force_login(sophie)
    day = day_ahead(20).isoformat()
    response = client.post(
        reverse("events:create"),
        {
            "site": site.pk,
            "title": "Rencontre des télétravailleurs",
            "description": "Un café, des idées.",
            "rooms": [room.pk],
            "start": f"{day}T18:00",
            "end": f"{day}T19:30",
            "audience": "members",
            "capacity": 15,
            "waiting_list": "on",
            "offer_hours": 24,
            "price_excl_vat": "0",
            "vat_rate": "20",
            "cancellation_hours": 48,
            "questions": "* Votre activité ?\nDéjeunerez-vous ? | Oui | Non",
        },
    )
    event = Event.objects.get()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert event.status == "draft" and event.questions.count() == 2
    assert Booking.objects.live().filter(held_for=f"events.event:{event.pk}", resource=room).exists()
    client.post(reverse("events:publish", args=[event.pk]))
    event.refresh_from_db()
    assert event.status == "published"


def test_the_staff_form_shows_the_engines_conflict(client, site, room, sophie, alice, book):
    from tests.helpers import paris

    start = paris(day_ahead(20), 18)
    book(alice, room, start, start + timedelta(hours=1))
    client.force_login(sophie)
    day = day_ahead(20).isoformat()
    response = client.post(
        reverse("events:create"),
        {
            "site": site.pk,
            "title": "Rencontre",
            "description": "…",
            "rooms": [room.pk],
            "start": f"{day}T18:00",
            "end": f"{day}T19:30",
            "audience": "public",
            "capacity": 15,
            "offer_hours": 24,
            "price_excl_vat": "0",
            "vat_rate": "20",
            "cancellation_hours": 48,
        },
    )
    assert response.status_code == 400 and "error-summary" in response.text
    assert not Event.objects.exists()


def _event_form(site, rooms, day, start="18:00", end="19:30"):
    return {
        "site": site.pk,
        "title": "Rencontre",
        "description": "…",
        "rooms": [r.pk for r in rooms],
        "start": f"{day}T{start}",
        "end": f"{day}T{end}",
        "audience": "public",
        "capacity": 15,
        "offer_hours": 24,
        "price_excl_vat": "0",
        "vat_rate": "20",
        "cancellation_hours": 48,
    }


def _errors_of(page, field: str) -> str:
    """The error list Django shows under one field (the shared form template: `id_<field>_error`)."""
    found = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', page, re.S)
    return found.group(1) if found else ""


def test_a_conflict_on_one_of_several_rooms_names_that_room_next_to_the_rooms(
    client, site, room, make_resource, sophie, alice, book
):
    """A forum books several rooms: « this slot is taken » must say which one, next to the rooms' field."""
    from tests.helpers import paris

    other = make_resource(site, "salle-visio", seats=6, name="Salle de visio Puy Mary")
    start = paris(day_ahead(20), 18)
    book(alice, other, start, start + timedelta(hours=1))
    client.force_login(sophie)
    response = client.post(
        reverse("events:create"), _event_form(site, [room, other], day_ahead(20).isoformat())
    )
    assert response.status_code == 400
    errors = _errors_of(response.text, "rooms")
    assert "Salle de visio Puy Mary" in errors and "réservé" in errors, errors
    assert not Event.objects.exists() and not Booking.objects.filter(held_for__startswith="events.").exists()


def test_an_end_before_the_start_is_said_in_french_next_to_the_end(client, site, room, sophie):
    client.force_login(sophie)
    response = client.post(
        reverse("events:create"), _event_form(site, [room], day_ahead(20).isoformat(), "18:00", "17:00")
    )
    assert response.status_code == 400
    assert "La fin doit suivre le début." in _errors_of(response.text, "end")
    assert "events_event_end_after_start" not in response.text
    assert not Event.objects.exists()


# --- the permission matrix ---------------------------------------------------------------------------------

PEOPLE = ["visitor", "member", "registrant", "other member", "staff", "other staff", "admin"]


@pytest.fixture
def people(alice, bob, sophie, carol, root, make_user):
    return {
        "visitor": None,
        "member": bob,
        "registrant": alice,
        "other member": make_user("other@example.org"),
        "staff": sophie,
        "other staff": carol,
        "admin": root,
    }


@pytest.fixture
def setting(forum, alice, make_event):
    registration = services.register(forum, member=alice)
    members_only = make_event(title="Rencontre membres", audience="members")
    draft = make_event(title="Brouillon", publish=False)
    return {"forum": forum, "registration": registration, "members_only": members_only, "draft": draft}


def _pages(setting):
    forum, registration = setting["forum"], setting["registration"]
    return {
        # name: (method, url, {who: expected status})
        "list": ("get", reverse("events:list"), dict.fromkeys(PEOPLE, 200)),
        "agenda": ("get", reverse("events:agenda"), dict.fromkeys(PEOPLE, 200)),
        "public event": ("get", reverse("events:detail", args=[forum.pk]), dict.fromkeys(PEOPLE, 200)),
        "members-only event": (
            "get",
            reverse("events:detail", args=[setting["members_only"].pk]),
            {**dict.fromkeys(PEOPLE, 200), "visitor": 404},
        ),
        "draft": (
            "get",
            reverse("events:detail", args=[setting["draft"].pk]),
            {**dict.fromkeys(PEOPLE, 404), "staff": 200, "admin": 200},
        ),
        "staff list": (
            "get",
            reverse("events:staff"),
            {**dict.fromkeys(PEOPLE, 403), "visitor": 302, "staff": 200, "other staff": 200, "admin": 200},
        ),
        "staff event": ("get", reverse("events:staff_event", args=[forum.pk]), _staff_only()),
        "edit": ("get", reverse("events:edit", args=[forum.pk]), _staff_only()),
        "door": ("get", reverse("events:door", args=[forum.pk]), _staff_only()),
        "export": ("get", reverse("events:export", args=[forum.pk]), _staff_only()),
        "scan": ("get", reverse("events:scan", args=[registration.checkin_code]), _staff_only()),
        "create": (
            "get",
            reverse("events:create"),
            {**dict.fromkeys(PEOPLE, 403), "visitor": 302, "staff": 200, "other staff": 200, "admin": 200},
        ),
        "registration page (token)": (
            "get",
            reverse("events:registration", args=[registration.token]),
            dict.fromkeys(PEOPLE, 200),  # the link is the key: whoever holds it
        ),
    }


def _staff_only():
    return {**dict.fromkeys(PEOPLE, 403), "visitor": 302, "staff": 200, "admin": 200}


def test_permission_matrix(client, people, setting):
    failures = []
    for name, (method, url, expected) in _pages(setting).items():
        for who in PEOPLE:
            client.logout()
            if people[who] is not None:
                client.force_login(people[who])
            status = getattr(client, method)(url).status_code
            if status != expected[who]:
                failures.append(f"{name}, {who}: {status} (expected {expected[who]})")
    assert not failures, "\n".join(failures)


def test_writes_are_refused_to_whoever_may_not(client, people, setting):
    forum, registration = setting["forum"], setting["registration"]
    writes = [  # each posted with what it would need; the site's team only
        reverse("events:publish", args=[setting["draft"].pk]),
        reverse("events:cancel_event", args=[forum.pk]),
        reverse("events:remove_registration", args=[forum.pk, registration.pk]),
        reverse("events:door", args=[forum.pk]),
        reverse("events:scan", args=[registration.checkin_code]),
        reverse("events:edit", args=[forum.pk]),
        reverse("events:create"),
    ]
    for who in ("member", "registrant", "other member", "other staff"):
        client.force_login(people[who])
        for url in writes:
            data = {
                "site": forum.site_id,
                "title": "Intrus",
                "reason": "x",
                "registration": registration.pk,
                "action": "walk_in",
                "name": "Intrus",
            }
            status = client.post(url, data).status_code
            # 400: a form refused (another site's staff may create events, for their own site only)
            assert status in (400, 403, 404), (who, url, status)
    registration.refresh_from_db()
    forum.refresh_from_db()
    assert registration.status == "confirmed" and registration.checked_in_at is None
    assert forum.status == "published"
    assert Event.objects.get(pk=setting["draft"].pk).status == "draft"
    assert not Registration.objects.filter(name="Intrus").exists()
    assert not Event.objects.filter(title="Intrus").exists()


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (1200, 800), (200, 120, 40)).save(out, "PNG")
    return out.getvalue()


def test_an_event_image_is_checked_resized_and_needs_its_alternative_text(
    client, site, sophie, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    client.force_login(sophie)
    day = day_ahead(20).isoformat()
    fields = {
        "site": site.pk,
        "title": "Portes ouvertes",
        "description": "Visite des lieux.",
        "outside_address": "Place du Balat, Murat",
        "start": f"{day}T14:00",
        "end": f"{day}T17:00",
        "audience": "public",
        "capacity": 30,
        "offer_hours": 24,
        "price_excl_vat": "0",
        "vat_rate": "20",
        "cancellation_hours": 48,
    }
    upload = SimpleUploadedFile("affiche.png", _png(), content_type="image/png")
    refused = client.post(reverse("events:create"), {**fields, "image": upload})
    assert refused.status_code == 400 and "texte alternatif" in refused.text
    not_a_photo = SimpleUploadedFile("affiche.png", b"GIF89a not really", content_type="image/png")
    assert (
        client.post(reverse("events:create"), {**fields, "image": not_a_photo, "image_alt": "x"}).status_code
        == 400
    )
    upload = SimpleUploadedFile("affiche.png", _png(), content_type="image/png")
    done = client.post(reverse("events:create"), {**fields, "image": upload, "image_alt": "L’affiche orange"})
    assert done.status_code == 302
    event = Event.objects.get()
    assert event.image.name.endswith(".jpg") and event.image.width <= 1600
    page = client.get(reverse("events:detail", args=[event.pk]))
    assert 'alt="L’affiche orange"' in page.text


def test_the_sweep_is_a_registered_periodic_job(db):
    from cocotte.core import scheduler

    assert "events.expire" in scheduler.jobs()


def test_an_event_page_offers_its_calendar_file_to_whoever_sees_the_page(client, forum, make_event, alice):
    import icalendar

    page = client.get(reverse("events:detail", args=[forum.pk])).content.decode()
    url = reverse("events:ics_file", args=[forum.pk])
    assert url in page
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    [vevent] = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == forum.title and vevent.decoded("DTSTART") == forum.start
    members_only = make_event(audience="members")
    assert client.get(reverse("events:ics_file", args=[members_only.pk])).status_code == 404
    client.force_login(alice)
    assert client.get(reverse("events:ics_file", args=[members_only.pk])).status_code == 200
