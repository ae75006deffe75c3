"""iCalendar feeds and the e-mail attachment: parsed back and expanded as a calendar app does, then compared
with the database's live bookings."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import recurring_ical_events
from django.db.models import F
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from cocotte.bookings import ical, services
from cocotte.bookings.models import Block, Booking, BookingSeries
from tests.helpers import PARIS, day_ahead, paris

pytestmark = pytest.mark.django_db

FAR_PAST, FAR_FUTURE = datetime(2000, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)
EVENT_PROPERTIES = ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "LOCATION", "DESCRIPTION", "SEQUENCE")


# ---------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------


def member_url(user) -> str:
    user.profile.refresh_from_db()
    return reverse("calendar:member", kwargs={"key": user.profile.calendar_key})


def resource_url(resource) -> str:
    return reverse(
        "calendar:resource", kwargs={"site_slug": resource.site.slug, "resource_slug": resource.slug}
    )


def fetch(client, url) -> Calendar:
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def expanded(cal: Calendar) -> list[tuple[datetime, datetime, str]]:
    """What a calendar app shows: every instance, series expanded, exceptions applied."""
    return sorted(
        (e["DTSTART"].dt.astimezone(UTC), e["DTEND"].dt.astimezone(UTC), str(e["STATUS"]))
        for e in recurring_ical_events.of(cal).between(FAR_PAST, FAR_FUTURE)
    )


def live_in_db(**filters) -> list[tuple[datetime, datetime, str]]:
    return sorted(
        (b.start, b.end, ical.ICAL_STATUS[b.status]) for b in Booking.objects.live().filter(**filters)
    )


def vevents(cal: Calendar):
    return list(cal.walk("VEVENT"))


def masters(cal: Calendar):
    return [e for e in vevents(cal) if "RRULE" in e]


def overrides(cal: Calendar):
    return [e for e in vevents(cal) if "RECURRENCE-ID" in e]


def exdates(event) -> list[datetime]:
    values = event.get("EXDATE", [])
    values = values if isinstance(values, list) else [values]
    return sorted(d.dt.astimezone(UTC) for v in values for d in v.dts)


def backdate(*bookings, hours=1):
    """Pretend these rows (and their series) were written an hour ago: SEQUENCE counts seconds."""
    ids = [b.pk for b in bookings]
    delta = timedelta(hours=hours)
    Booking.objects.filter(pk__in=ids).update(
        created_at=F("created_at") - delta, updated_at=F("updated_at") - delta
    )
    series_ids = Booking.objects.filter(pk__in=ids).values("series_id")
    BookingSeries.objects.filter(pk__in=series_ids).update(created_at=F("created_at") - delta)


def last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


@pytest.fixture
def clock_change() -> date:
    """The next change of clocks in Paris at least two weeks ahead."""
    today = timezone.localdate()
    candidates = [last_sunday(y, m) for y in (today.year, today.year + 1) for m in (3, 10)]
    return min(d for d in candidates if d - timedelta(days=14) > today)


@pytest.fixture
def studio(site, make_resource):
    """A meeting room bookable far enough ahead to reach the next change of clocks."""
    return make_resource(site, "studio", name="Studio", max_advance_days=800)


@pytest.fixture
def approval_room(site, make_resource):
    return make_resource(site, "salle-validee", name="Salle validée", requires_approval=True)


def weekly_series(member, resource, first_day: date, count=6, hour=9, **kwargs):
    return services.book_series(
        resource=resource,
        member=member,
        start=paris(first_day, hour),
        end=paris(first_day, hour + 1),
        rrule=f"FREQ=WEEKLY;COUNT={count}",
        **kwargs,
    )


@pytest.fixture
def alices_world(alice, bob, studio, approval_room, clock_change, book):
    """Alice: a weekly 09:00 series across the change of clocks, one occurrence cancelled, one moved; a pending
    request elsewhere. Bob: a booking and a series of his own on the same room."""
    first_day = clock_change - timedelta(days=13)  # a Monday, 13 days before the change
    series = weekly_series(alice, studio, first_day)
    occurrences = series.bookings
    services.cancel(occurrences[1], by=alice)
    moved_to = first_day + timedelta(weeks=4, days=1)
    moved = services.move(occurrences[4], by=alice, start=paris(moved_to, 14), end=paris(moved_to, 15, 30))
    pending = book(alice, approval_room, paris(first_day, 11), paris(first_day, 12), note="Prévoir le café")
    bobs = book(bob, studio, paris(first_day, 15), paris(first_day, 16), note="Entretien avec Bob")
    bobs_series = weekly_series(bob, studio, first_day + timedelta(days=1), count=3)
    return SimpleNamespace(
        first_day=first_day,
        series=series.series,
        occurrences=occurrences,
        moved=moved,
        pending=pending,
        bobs=bobs,
        bobs_series=bobs_series.series,
    )


# ---------------------------------------------------------------------------------------------------------
# The member's feed
# ---------------------------------------------------------------------------------------------------------


def test_the_member_feed_expands_to_exactly_the_live_bookings(client, alice, alices_world):
    cal = fetch(client, member_url(alice))
    assert expanded(cal) == live_in_db(member=alice)
    statuses = {start: status for start, _end, status in expanded(cal)}
    assert statuses[alices_world.pending.start] == "TENTATIVE"
    assert statuses[alices_world.occurrences[0].start] == "CONFIRMED"


def test_a_series_is_one_master_with_an_exdate_and_an_override(client, alice, alices_world):
    cal = fetch(client, member_url(alice))
    world = alices_world
    (master,) = masters(cal)
    assert master["DTSTART"].params["TZID"] == "Europe/Paris"
    assert master["DTSTART"].dt.astimezone(UTC) == world.occurrences[0].start
    assert master["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=6"
    assert exdates(master) == [world.occurrences[1].start]  # the cancelled one
    (moved,) = overrides(cal)
    assert moved["UID"] == master["UID"]
    assert moved["RECURRENCE-ID"].dt.astimezone(UTC) == world.occurrences[4].start  # where it was
    assert moved["DTSTART"].dt.astimezone(UTC) == world.moved.start  # where it is
    assert moved["DTEND"].dt.astimezone(UTC) == world.moved.end
    # The pending request is a standalone event; nothing else.
    assert len(vevents(cal)) == 3


def test_the_series_stays_at_nine_across_the_change_of_clocks(client, alice, alices_world, clock_change):
    cal = fetch(client, member_url(alice))
    series_ids = {b.pk for b in alices_world.occurrences} - {alices_world.moved.pk}
    in_place = Booking.objects.live().filter(pk__in=series_ids)
    instances = [
        e
        for e in recurring_ical_events.of(cal).between(FAR_PAST, FAR_FUTURE)
        if e["DTSTART"].dt.astimezone(UTC) in {b.start for b in in_place}
    ]
    assert len(instances) == in_place.count() == 4
    local = [e["DTSTART"].dt.astimezone(PARIS) for e in instances]
    assert {(d.hour, d.minute) for d in local} == {(9, 0)}
    assert {d.utcoffset() for d in local} == {timedelta(hours=1), timedelta(hours=2)}  # both sides of it
    assert any(d.date() < clock_change for d in local)
    assert any(d.date() > clock_change for d in local)


def test_the_member_feed_is_valid_rfc_5545(client, alice, alices_world):
    response = client.get(member_url(alice))
    body = response.content
    assert body.startswith(b"BEGIN:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))  # folded lines
    cal = Calendar.from_ical(body)
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == ical.PRODID
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["X-WR-CALNAME"]) == "Mes réservations Cocotte"
    assert "METHOD" not in cal
    assert cal.get_missing_tzids() == set()  # a VTIMEZONE for every TZID used
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    host = ical._host()
    for event in vevents(cal):
        assert all(name in event for name in EVENT_PROPERTIES), event
        assert str(event["UID"]).endswith(f"@{host}")
        assert event["DTSTAMP"].dt.tzinfo is not None
        assert str(event["STATUS"]) in {"CONFIRMED", "TENTATIVE"}
    (master,) = masters(cal)
    assert str(master["UID"]) == f"series-{alices_world.series.pk}@{host}"
    assert str(master["SUMMARY"]) == "Studio — Murat"
    assert str(master["LOCATION"]) == "1 place de l’Église, 15300 Murat"
    pending = next(e for e in vevents(cal) if str(e["UID"]) == f"booking-{alices_world.pending.pk}@{host}")
    assert "Prévoir le café" in str(pending["DESCRIPTION"])
    assert "en attente de validation" in str(pending["DESCRIPTION"])
    uids = [(str(e["UID"]), e.get("RECURRENCE-ID") and e["RECURRENCE-ID"].to_ical()) for e in vevents(cal)]
    assert len(uids) == len(set(uids))


def test_the_member_feed_never_shows_someone_elses_bookings(client, alice, bob, alices_world):
    body = client.get(member_url(alice)).content
    for word in (b"bob", b"Bob", b"Durand", b"Entretien"):
        assert word not in body
    cal = Calendar.from_ical(body)
    assert not {b.start for b in Booking.objects.filter(member=bob)} & {s for s, _e, _st in expanded(cal)}
    bobs = fetch(client, member_url(bob))
    assert expanded(bobs) == live_in_db(member=bob)
    assert "Prévoir".encode() not in client.get(member_url(bob)).content


def test_bookings_booked_by_the_staff_for_the_member_are_in_her_feed(client, alice, sophie, studio, book):
    day = day_ahead(5)
    booking = book(alice, studio, paris(day, 10), paris(day, 11), by=sophie)
    cal = fetch(client, member_url(alice))
    assert expanded(cal) == [(booking.start, booking.end, "CONFIRMED")]
    assert expanded(fetch(client, member_url(sophie))) == []


def test_the_member_feed_goes_back_about_ninety_days(client, alice, studio):
    today = timezone.localdate()

    def past(days):
        day = today - timedelta(days=days)
        return Booking(resource=studio, member=alice, start=paris(day, 9), end=paris(day, 10))

    services.load_history([past(200), past(91), past(30), past(1)])
    shown = expanded(fetch(client, member_url(alice)))
    assert [s.astimezone(PARIS).date() for s, _e, _st in shown] == [
        today - timedelta(days=30),
        today - timedelta(days=1),
    ]


def test_sequence_and_dtstamp_follow_changes_and_uids_stay(client, alice, studio, clock_change):
    result = weekly_series(alice, studio, day_ahead(3), count=3)
    backdate(*result.bookings)
    before = fetch(client, member_url(alice))
    (master_before,) = masters(before)
    assert master_before["SEQUENCE"] == 0
    services.cancel(result.bookings[1], by=alice)
    after = fetch(client, member_url(alice))
    (master_after,) = masters(after)
    assert master_after["UID"] == master_before["UID"]
    assert master_after["SEQUENCE"] >= 3500
    assert master_after["DTSTAMP"].dt > master_before["DTSTAMP"].dt
    assert exdates(master_after) == [result.bookings[1].start]


def test_an_unchanged_feed_reads_the_same_and_answers_304(client, alice, alices_world):
    url = member_url(alice)
    first, second = client.get(url), client.get(url)
    assert first.content == second.content
    assert first["ETag"] == second["ETag"]
    again = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    assert "no-store" in again["Cache-Control"]


def test_the_member_feed_is_private_and_never_cached(client, alice):
    response = client.get(member_url(alice))
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control
    assert "public" not in cache_control
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_a_renewed_key_revokes_the_old_address(client, alice):
    old = member_url(alice)
    assert client.get(old).status_code == 200
    alice.profile.renew_calendar_key()
    assert client.get(old).status_code == 404
    assert client.get(member_url(alice)).status_code == 200


def test_unknown_keys_and_inactive_members_get_404(client, alice):
    assert client.get(reverse("calendar:member", kwargs={"key": "x" * 43})).status_code == 404
    url = member_url(alice)
    alice.is_active = False
    alice.save()
    assert client.get(url).status_code == 404


def test_feeds_answer_get_only(client, alice, studio):
    assert client.post(member_url(alice)).status_code == 405
    assert client.post(resource_url(studio)).status_code == 405


# ---------------------------------------------------------------------------------------------------------
# Series that the master cannot say simply
# ---------------------------------------------------------------------------------------------------------


def test_an_occurrence_moved_to_another_room_leaves_its_series_there(
    client, alice, studio, room, clock_change
):
    result = weekly_series(alice, studio, day_ahead(3), count=4)
    moved = services.move(
        result.bookings[2],
        by=alice,
        start=result.bookings[2].start,
        end=result.bookings[2].end,
        resource=room,
    )
    mine = fetch(client, member_url(alice))
    assert expanded(mine) == live_in_db(member=alice)
    (override,) = overrides(mine)
    assert str(override["SUMMARY"]) == f"{room.name} — Murat"
    studio_feed = fetch(client, resource_url(studio))
    assert expanded(studio_feed) == live_in_db(resource=studio)
    assert exdates(masters(studio_feed)[0]) == [moved.start]
    room_feed = fetch(client, resource_url(room))
    assert expanded(room_feed) == live_in_db(resource=room) == [(moved.start, moved.end, "CONFIRMED")]
    assert masters(room_feed) == []


def test_a_moved_occurrence_keeps_its_origin_when_an_earlier_one_was_never_booked(
    client, alice, bob, studio, book
):
    """Week 2 was taken when the series was booked; week 3 then moves. Pairing rows by their order could not
    tell whether it came from week 2 or 3; its original start says week 3: an override, week 2 excluded."""
    day = day_ahead(3)
    book(bob, studio, paris(day + timedelta(weeks=1), 9), paris(day + timedelta(weeks=1), 10))
    result = weekly_series(alice, studio, day, count=5, skip_conflicts=True)
    assert len(result.bookings) == 4
    third = result.bookings[1]
    moved_day = day + timedelta(weeks=2, days=1)
    services.move(third, by=alice, start=paris(moved_day, 16), end=paris(moved_day, 17))
    third.refresh_from_db()
    assert third.original_start == paris(day + timedelta(weeks=2), 9)
    cal = fetch(client, member_url(alice))
    assert expanded(cal) == live_in_db(member=alice)
    (master,) = masters(cal)
    assert exdates(master) == [paris(day + timedelta(weeks=1), 9)]
    [override] = overrides(cal)
    assert override["RECURRENCE-ID"].dt.astimezone(UTC) == paris(day + timedelta(weeks=2), 9)
    assert override["DTSTART"].dt.astimezone(UTC) == paris(moved_day, 16)


def test_an_occurrence_with_another_status_is_an_override(client, alice, sophie, approval_room):
    result = weekly_series(alice, approval_room, day_ahead(3), count=4)
    services.approve(result.bookings[0], by=sophie)
    services.approve(result.bookings[2], by=sophie)
    services.refuse(result.bookings[3], by=sophie, reason="Salle prise par une formation")
    cal = fetch(client, member_url(alice))
    assert expanded(cal) == live_in_db(member=alice)
    assert [s for _start, _end, s in expanded(cal)] == ["CONFIRMED", "TENTATIVE", "CONFIRMED"]
    (master,) = masters(cal)
    assert str(master["STATUS"]) == "CONFIRMED"
    assert [o["RECURRENCE-ID"].dt.astimezone(UTC) for o in overrides(cal)] == [result.bookings[1].start]
    assert exdates(master) == [result.bookings[3].start]


def test_a_rule_with_until_and_weekdays_is_written_so_that_apps_agree(client, alice, studio):
    """A Tuesday start with BYDAY=MO,WE: the engine's first occurrence is the Wednesday, and so is the
    master's DTSTART; UNTIL, local in the rule, is written in UTC as RFC 5545 wants with a TZID."""
    today = timezone.localdate()
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
    until = (tuesday + timedelta(weeks=3)).strftime("%Y%m%dT235959")
    result = services.book_series(
        resource=studio,
        member=alice,
        start=paris(tuesday, 9),
        end=paris(tuesday, 10),
        rrule=f"FREQ=WEEKLY;BYDAY=MO,WE;UNTIL={until}",
    )
    assert result.bookings[0].start == paris(tuesday + timedelta(days=1), 9)
    cal = fetch(client, member_url(alice))
    (master,) = masters(cal)
    assert master["DTSTART"].dt.astimezone(UTC) == result.bookings[0].start
    assert b"UNTIL=" in master["RRULE"].to_ical()
    assert master["RRULE"]["UNTIL"][0].utcoffset() == timedelta(0)
    assert expanded(cal) == live_in_db(member=alice)
    assert len(expanded(cal)) == 6


def test_pairing_follows_each_occurrences_original_start():
    slots = [datetime(2027, 1, d, 9, tzinfo=UTC) for d in (4, 11, 18, 25)]

    def row(pk, day, hour=9, original=None):
        start = datetime(2027, 1, day, hour, tzinfo=UTC)
        return SimpleNamespace(pk=pk, start=start, original_start=original or start)

    # The third moved to the 19th: it still pairs with the third slot, whatever the order of the rows.
    rows = [row(4, 25), row(3, 19, 14, original=slots[2]), row(1, 4), row(2, 11)]
    links, unpaired = ical.pair_occurrences(slots, rows)
    assert {slot: r.pk for slot, r in links.items()} == {0: 1, 1: 2, 2: 3, 3: 4}
    assert unpaired == []
    # A row moved onto another occurrence's time keeps its own occurrence; one off the rule stands apart.
    rows = [
        row(1, 4),
        row(2, 25, original=slots[1]),
        row(3, 20, original=datetime(2027, 1, 20, 9, tzinfo=UTC)),
    ]
    links, unpaired = ical.pair_occurrences(slots, rows)
    assert {slot: r.pk for slot, r in links.items()} == {0: 1, 1: 2}
    assert [r.pk for r in unpaired] == [3]


# ---------------------------------------------------------------------------------------------------------
# The resource's public feed
# ---------------------------------------------------------------------------------------------------------


def test_the_resource_feed_shows_busy_times_without_names(client, alice, bob, sophie, studio, alices_world):
    world = alices_world
    block_day = world.first_day + timedelta(days=2)
    services.block(
        studio, by=sophie, start=paris(block_day, 8), end=paris(block_day, 12), reason="Visite de Mme Leroy"
    )
    response = client.get(resource_url(studio))
    assert response.status_code == 200
    assert "public" in response["Cache-Control"]
    body = response.content
    for word in (b"alice", b"Alice", b"Martin", b"bob", b"Bob", b"Durand", b"@example.org", b"Entretien"):
        assert word not in body
    for word in (b"Leroy", b"caf", b"Visite"):
        assert word not in body
    cal = Calendar.from_ical(body)
    assert str(cal["X-WR-CALNAME"]) == "Studio — Murat"
    blocks = [(b.start, b.end, "CONFIRMED") for b in Block.objects.filter(resource=studio)]
    assert expanded(cal) == sorted(live_in_db(resource=studio) + blocks)
    summaries = {str(e["SUMMARY"]) for e in vevents(cal)}
    assert summaries == {"Occupé", "Indisponible"}
    assert len(masters(cal)) == 2  # Alice's series and Bob's
    assert all(not str(e["UID"]).startswith(("booking-", "series-")) for e in vevents(cal))
    assert "ATTENDEE" not in body.decode() and "ORGANIZER" not in body.decode()


def test_a_pooled_space_shows_places_taken(client, alice, bob, open_space, book):
    day = day_ahead(4)
    book(alice, open_space, paris(day, 8), paris(day, 13))
    book(bob, open_space, paris(day, 8), paris(day, 13))
    cal = fetch(client, resource_url(open_space))
    assert expanded(cal) == live_in_db(resource=open_space)
    assert {str(e["SUMMARY"]) for e in vevents(cal)} == {"Place réservée"}


@pytest.mark.parametrize("what", ["unknown", "inactive_resource", "inactive_site", "other_site"])
def test_resources_that_are_not_public_get_404(client, studio, other_site, what):
    url = resource_url(studio)
    if what == "unknown":
        url = reverse("calendar:resource", kwargs={"site_slug": "murat", "resource_slug": "nulle-part"})
    elif what == "inactive_resource":
        studio.is_active = False
        studio.save()
    elif what == "inactive_site":
        studio.site.is_active = False
        studio.site.save()
    else:
        url = reverse(
            "calendar:resource", kwargs={"site_slug": other_site.slug, "resource_slug": studio.slug}
        )
    assert client.get(url).status_code == 404


# ---------------------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------------------


def _fill(alice, bob, studio, days: int):
    for offset in range(days):
        day = day_ahead(2 + offset)
        services.book(resource=studio, member=alice, start=paris(day, 8), end=paris(day, 9))
        services.book(resource=studio, member=bob, start=paris(day, 10), end=paris(day, 11))
    weekly_series(alice, studio, day_ahead(2), count=2 + days // 2, hour=12)
    weekly_series(bob, studio, day_ahead(2), count=2 + days // 2, hour=14)
    Block.objects.create(
        resource=studio, start=paris(day_ahead(2), 18), end=paris(day_ahead(2), 19), reason="x"
    )


@pytest.mark.parametrize("days", [1, 25])
def test_a_feed_runs_a_bounded_number_of_queries(
    client, alice, bob, studio, days, django_assert_max_num_queries
):
    _fill(alice, bob, studio, days)
    member, resource = member_url(alice), resource_url(studio)
    with django_assert_max_num_queries(2):  # the key's profile, then bookings with their series
        cal = fetch(client, member)
    assert len(expanded(cal)) == days + 2 + days // 2
    with django_assert_max_num_queries(3):  # the resource, its bookings with their series, its blocks
        cal = fetch(client, resource)
    assert len(expanded(cal)) == 2 * (days + 2 + days // 2) + 1


# ---------------------------------------------------------------------------------------------------------
# E-mail attachment and the address helper
# ---------------------------------------------------------------------------------------------------------


def test_booking_ics_is_a_request_then_a_cancellation_of_the_same_event(alice, studio, book):
    day = day_ahead(6)
    booking = book(alice, studio, paris(day, 10), paris(day, 11), note="Atelier")
    backdate(booking)
    booking.refresh_from_db()
    request = Calendar.from_ical(ical.booking_ics(booking))
    assert str(request["METHOD"]) == "REQUEST" == ical.booking_ics_method(booking)
    (event,) = vevents(request)
    assert str(event["UID"]) == f"booking-{booking.pk}@{ical._host()}"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["DTSTART"].dt.astimezone(UTC) == booking.start
    assert event["DTEND"].dt.astimezone(UTC) == booking.end
    assert str(event["SUMMARY"]) == "Studio — Murat"
    assert str(event["ATTENDEE"]) == "mailto:alice@example.org"
    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert all(name in event for name in EVENT_PROPERTIES)
    assert request.get_missing_tzids() == set()

    cancelled = services.cancel(booking, by=alice)
    cancel = Calendar.from_ical(ical.booking_ics(cancelled))
    assert str(cancel["METHOD"]) == "CANCEL"
    (gone,) = vevents(cancel)
    assert str(gone["UID"]) == str(event["UID"])
    assert str(gone["STATUS"]) == "CANCELLED"
    assert gone["SEQUENCE"] > event["SEQUENCE"]


def test_booking_ics_marks_a_pending_request_tentative(alice, approval_room, book):
    day = day_ahead(6)
    booking = book(alice, approval_room, paris(day, 10), paris(day, 11))
    (event,) = vevents(Calendar.from_ical(ical.booking_ics(booking)))
    assert str(event["STATUS"]) == "TENTATIVE"


def test_booking_ics_of_a_refused_request_cancels_it(alice, sophie, approval_room, book):
    day = day_ahead(6)
    booking = services.refuse(
        book(alice, approval_room, paris(day, 10), paris(day, 11)), by=sophie, reason="Complet"
    )
    cal = Calendar.from_ical(ical.booking_ics(booking))
    assert str(cal["METHOD"]) == "CANCEL"
    assert str(vevents(cal)[0]["STATUS"]) == "CANCELLED"


def test_calendar_url_is_absolute_with_or_without_a_request(alice, settings):
    settings.ALLOWED_HOSTS = ["cocotte.example.fr"]
    path = member_url(alice)
    request = RequestFactory().get("/profil/", secure=True, headers={"host": "cocotte.example.fr"})
    assert ical.calendar_url(request, alice) == f"https://cocotte.example.fr{path}"
    settings.COCOTTE_PUBLIC_URL = "https://reservations.hautesterres.fr"
    assert ical.calendar_url(None, alice) == f"https://reservations.hautesterres.fr{path}"
    assert path == f"/calendrier/membre/{alice.profile.calendar_key}.ics"
