"""Booking through the API, as a client program sees it: statuses, bodies, error codes, and what is written.

The meeting room is booked by the half-hour, 08:00–20:00 every day; the visio room allows two hours at most.
"""

from datetime import timedelta
from datetime import timezone as dt_timezone

import pytest

from cocotte.bookings import services
from cocotte.bookings.errors import DatabaseBusy
from cocotte.bookings.models import Booking, BookingSeries
from tests.helpers import day_ahead, paris

from .conftest import bookings_state, instant, slot


@pytest.fixture
def visio(site, make_resource):
    return make_resource(site, "visio", max_units=4)


def test_it_books_a_free_slot_and_returns_the_booking(api, alice, room):
    day = day_ahead(7)

    response = api.post("/bookings", slot(room, paris(day, 9), paris(day, 10), note="Réunion CA"), as_=alice)

    assert response.status_code == 201
    body = response.json()
    booking = Booking.objects.get()
    assert body["id"] == booking.pk
    assert (body["resource"], body["resource_name"], body["site"]) == (room.pk, room.name, "murat")
    assert (instant(body["start"]), instant(body["end"])) == (paris(day, 9), paris(day, 10))
    assert (body["status"], body["member"], body["booked_by"], body["series"]) == (
        "confirmed",
        alice.pk,
        alice.pk,
        None,
    )
    assert body["note"] == "Réunion CA"
    assert body["occurrences"] == []
    assert api.get(f"/bookings/{booking.pk}", as_=alice).json()["id"] == booking.pk


def test_the_same_slot_again_is_a_409_conflict_and_nothing_is_written(api, alice, bob, room):
    day = day_ahead(7)
    assert api.post("/bookings", slot(room, paris(day, 9), paris(day, 10)), as_=alice).status_code == 201
    before = bookings_state()

    response = api.post("/bookings", slot(room, paris(day, 9, 30), paris(day, 10, 30)), as_=bob)

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert response.json()["detail"]
    assert bookings_state() == before


def refused(what: str, body, status: int, code: str, field: str):
    return pytest.param(body, status, code, field, id=what)


DAY, PAST = day_ahead(7), day_ahead(-2)

# fmt: off
REFUSED = [
    refused("naive datetime", lambda room, visio: {"resource": room.pk, "start": f"{DAY}T09:00:00", "end": f"{DAY}T10:00:00"}, 422, "naive_datetime", "start"),
    refused("end before start", lambda room, visio: slot(room, paris(DAY, 10), paris(DAY, 9)), 422, "invalid_period", "end"),
    refused("outside opening hours", lambda room, visio: slot(room, paris(DAY, 6), paris(DAY, 7)), 422, "outside_opening_hours", "start"),
    refused("unknown resource", lambda room, visio: {**slot(room, paris(DAY, 9), paris(DAY, 10)), "resource": 999_999}, 404, "not_found", "resource"),
    refused("past slot", lambda room, visio: slot(room, paris(PAST, 9), paris(PAST, 10)), 422, "in_past", "start"),
    refused("too long", lambda room, visio: slot(visio, paris(DAY, 9), paris(DAY, 12)), 422, "too_long", "end"),
    refused("not on a half-hour", lambda room, visio: slot(room, paris(DAY, 9, 10), paris(DAY, 10)), 422, "not_on_unit", "start"),
    refused("year out of range", lambda room, visio: {"resource": room.pk, "start": "1999-06-01T09:00:00+02:00", "end": f"{DAY}T10:00:00+01:00"}, 422, "out_of_range", "start"),
    refused("invalid rule", lambda room, visio: slot(room, paris(DAY, 9), paris(DAY, 10), rrule="FREQ=SECONDLY;COUNT=2"), 422, "invalid_rrule", "rrule"),
    refused("NUL character in the note", lambda room, visio: slot(room, paris(DAY, 9), paris(DAY, 10), note="a\x00b"), 422, "invalid_input", "note"),
]
# fmt: on


@pytest.mark.parametrize(("body", "status", "code", "field"), REFUSED)
def test_a_refused_booking_says_why_with_a_code_and_writes_nothing(
    api, alice, room, visio, body, status, code, field
):
    before = bookings_state()

    response = api.post("/bookings", body(room, visio), as_=alice)

    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert response.json()["field"] == field
    assert response.json()["detail"]
    assert bookings_state() == before


def test_a_body_that_is_not_json_is_a_400_invalid_json(api, alice):
    response = api.client.post(
        "/api/v1/bookings", "{not json", content_type="application/json", headers=api.headers(alice)
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


@pytest.mark.parametrize("path", ["/bookings", "/bookings/preview"])
@pytest.mark.parametrize("rule", ["FREQ=WEEKLY;COUNT=0", "FREQ=DAILY;COUNT=0"])
def test_a_rule_of_no_occurrence_is_a_422_empty_rrule_and_books_nothing(api, alice, room, path, rule):
    # Regression: WEEKLY;COUNT=0 with skip_conflicts booked 57 occurrences; DAILY;COUNT=0 was too_many_occurrences.
    day = day_ahead(7)
    before = bookings_state()

    response = api.post(
        path, slot(room, paris(day, 9), paris(day, 10), rrule=rule, skip_conflicts=True), as_=alice
    )

    assert response.status_code == 422, response.content
    body = response.json()
    assert (body["code"], body["field"]) == ("empty_rrule", "rrule")
    assert body["detail"] == "Cette règle ne donne aucune occurrence."
    assert bookings_state() == before


@pytest.fixture
def third_week_taken_by_bob(bob, room, book):
    day = day_ahead(7)
    return book(bob, room, paris(day + timedelta(14), 9), paris(day + timedelta(14), 10))


def weekly(room, **extra):
    day = day_ahead(7)
    return slot(room, paris(day, 9), paris(day, 10), rrule="FREQ=WEEKLY;COUNT=4", **extra)


def test_a_series_with_one_week_taken_is_refused_whole_with_each_conflict(
    api, alice, room, third_week_taken_by_bob
):
    before = bookings_state()

    response = api.post("/bookings", weekly(room), as_=alice)

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "series_conflict"
    (conflict,) = body["conflicts"]
    assert instant(conflict["start"]) == third_week_taken_by_bob.start
    assert conflict["code"] == "conflict"
    assert conflict["detail"]
    assert bookings_state() == before


def test_a_series_with_skip_conflicts_books_the_free_weeks_and_says_which_was_skipped(
    api, alice, room, third_week_taken_by_bob
):
    response = api.post("/bookings", weekly(room, skip_conflicts=True), as_=alice)

    assert response.status_code == 201
    body = response.json()
    series = BookingSeries.objects.get(member=alice)
    booked = list(series.bookings.order_by("start"))
    assert len(booked) == 3
    assert body["id"] == booked[0].pk and body["series"] == series.pk
    occurrences = body["occurrences"]
    assert [o["free"] for o in occurrences] == [True, True, False, True]
    assert [o["booking"] for o in occurrences if o["free"]] == [b.pk for b in booked]
    skipped = occurrences[2]
    assert (instant(skipped["start"]), skipped["code"], skipped["booking"]) == (
        third_week_taken_by_bob.start,
        "conflict",
        None,
    )


def test_the_preview_lists_the_conflicting_occurrence_and_books_nothing(
    api, alice, room, third_week_taken_by_bob
):
    before = bookings_state()

    response = api.post("/bookings/preview", weekly(room), as_=alice)

    assert response.status_code == 200
    occurrences = response.json()
    assert len(occurrences) == 4
    assert [(o["free"], o["code"]) for o in occurrences] == [
        (True, None),
        (True, None),
        (False, "conflict"),
        (True, None),
    ]
    assert instant(occurrences[2]["start"]) == third_week_taken_by_bob.start
    assert bookings_state() == before


@pytest.fixture
def alices_booking(alice, room, book):
    day = day_ahead(7)
    return book(alice, room, paris(day, 9), paris(day, 10))


def test_patch_moves_the_booking_and_frees_the_old_slot(api, alice, bob, room, alices_booking):
    day = day_ahead(7)

    response = api.patch(
        f"/bookings/{alices_booking.pk}",
        {"start": paris(day, 14).isoformat(), "end": paris(day, 15, 30).isoformat()},
        as_=alice,
    )

    assert response.status_code == 200
    assert (instant(response.json()["start"]), instant(response.json()["end"])) == (
        paris(day, 14),
        paris(day, 15, 30),
    )
    alices_booking.refresh_from_db()
    assert (alices_booking.start, alices_booking.end) == (paris(day, 14), paris(day, 15, 30))
    assert api.post("/bookings", slot(room, paris(day, 9), paris(day, 10)), as_=bob).status_code == 201


def test_patch_onto_a_taken_slot_is_a_409_and_the_booking_stays(api, alice, bob, room, alices_booking, book):
    day = day_ahead(7)
    book(bob, room, paris(day, 14), paris(day, 15))
    before = bookings_state()

    response = api.patch(
        f"/bookings/{alices_booking.pk}",
        {"start": paris(day, 14).isoformat(), "end": paris(day, 15).isoformat()},
        as_=alice,
    )

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert bookings_state() == before


def test_delete_cancels_the_booking_and_frees_the_slot(api, alice, bob, room, alices_booking):
    response = api.delete(f"/bookings/{alices_booking.pk}", as_=alice)

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    alices_booking.refresh_from_db()
    assert alices_booking.status == Booking.Status.CANCELLED
    day = day_ahead(7)
    assert api.post("/bookings", slot(room, paris(day, 9), paris(day, 10)), as_=bob).status_code == 201
    again = api.delete(f"/bookings/{alices_booking.pk}", as_=alice)
    assert (again.status_code, again.json()["code"]) == (422, "not_live")


def test_delete_series_cancels_its_upcoming_occurrences(api, alice, room):
    created = api.post("/bookings", weekly(room), as_=alice).json()

    response = api.delete(f"/series/{created['series']}", as_=alice)

    assert response.status_code == 200
    body = response.json()
    occurrences = Booking.objects.filter(series_id=created["series"])
    assert body["series"] == created["series"]
    assert sorted(body["cancelled"]) == sorted(occurrences.values_list("pk", flat=True))
    assert body["kept"] == []
    assert set(occurrences.values_list("status", flat=True)) == {Booking.Status.CANCELLED}


def test_delete_series_keeps_the_occurrences_past_the_cancellation_notice_for_a_member(
    api, alice, sophie, site, make_resource
):
    # 100 hours' notice: the first week (at most 58 hours away) can no longer be cancelled by alice, the next can.
    studio = make_resource(site, "studio", cancellation_notice_hours=100)
    series = services.book_series(
        resource=studio,
        member=alice,
        start=paris(day_ahead(1), 10),
        end=paris(day_ahead(1), 11),
        rrule="FREQ=WEEKLY;COUNT=3",
    )
    first, *later = series.bookings

    response = api.delete(f"/series/{series.series.pk}", as_=alice)

    body = response.json()
    assert sorted(body["cancelled"]) == sorted(b.pk for b in later)
    assert [(k["booking"], k["code"]) for k in body["kept"]] == [(first.pk, "deadline_passed")]
    first.refresh_from_db()
    assert first.status == Booking.Status.CONFIRMED
    # The site's staff are not bound by the notice.
    assert api.delete(f"/series/{series.series.pk}", as_=sophie).json()["cancelled"] == [first.pk]


def test_get_bookings_lists_only_mine_page_by_page(api, alice, bob, room, book):
    day = day_ahead(7)
    mine = [book(alice, room, paris(day, h), paris(day, h + 1)) for h in (9, 11, 13)]
    book(bob, room, paris(day, 15), paris(day, 16))

    first_page = api.get("/bookings", as_=alice, limit=2).json()
    second_page = api.get("/bookings", as_=alice, limit=2, offset=2).json()

    assert first_page["count"] == second_page["count"] == 3
    assert [b["id"] for b in first_page["items"]] == [b.pk for b in mine[:2]]
    assert [b["id"] for b in second_page["items"]] == [mine[2].pk]
    assert {b["member"] for b in first_page["items"] + second_page["items"]} == {alice.pk}


def test_get_bookings_filters_upcoming_past_and_status(api, alice, room, book):
    day = day_ahead(7)
    upcoming = book(alice, room, paris(day, 9), paris(day, 10))
    cancelled = book(alice, room, paris(day, 11), paris(day, 12))
    services.cancel(cancelled, by=alice)
    yesterday = day_ahead(-1)
    past = Booking(resource=room, member=alice, start=paris(yesterday, 9), end=paris(yesterday, 10))
    services.load_history([past])

    def ids(**query):
        return [b["id"] for b in api.get("/bookings", as_=alice, **query).json()["items"]]

    assert ids() == [upcoming.pk, cancelled.pk]
    assert ids(when="past") == [past.pk]
    assert ids(when="all") == [cancelled.pk, upcoming.pk, past.pk]
    assert ids(when="all", status="cancelled") == [cancelled.pk]


@pytest.mark.parametrize(
    "query",
    [{"limit": 10**20}, {"limit": 101}, {"limit": 0}, {"offset": 10**20}, {"offset": -1}],
    ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()),
)
def test_an_out_of_range_page_is_a_422_not_a_server_error(api, alice, query):
    # Regression: a `limit` or `offset` beyond 64 bits reached the database and failed there (a 500).
    response = api.get("/bookings", as_=alice, **query)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert response.json()["field"] == next(iter(query))


def test_staff_approve_and_refuse_requests_with_a_reason(api, alice, sophie, site, make_resource, book):
    workshop = make_resource(site, "atelier", requires_approval=True)
    day = day_ahead(7)
    first = book(alice, workshop, paris(day, 9), paris(day, 10))
    second = book(alice, workshop, paris(day, 11), paris(day, 12))

    approved = api.post(f"/bookings/{first.pk}/approve", as_=sophie)
    no_reason = api.post(f"/bookings/{second.pk}/refuse", {"reason": "  "}, as_=sophie)
    refused = api.post(f"/bookings/{second.pk}/refuse", {"reason": "Formation ce jour-là."}, as_=sophie)

    assert (approved.status_code, approved.json()["status"]) == (200, "confirmed")
    assert (no_reason.status_code, no_reason.json()["code"]) == (422, "reason_required")
    assert (refused.status_code, refused.json()["status"], refused.json()["staff_reason"]) == (
        200,
        "refused",
        "Formation ce jour-là.",
    )
    again = api.post(f"/bookings/{first.pk}/approve", as_=sophie)
    assert (again.status_code, again.json()["code"]) == (422, "not_pending")


def test_staff_book_for_a_member(api, alice, sophie, room):
    day = day_ahead(7)

    response = api.post("/bookings", slot(room, paris(day, 9), paris(day, 10), member=alice.pk), as_=sophie)

    assert response.status_code == 201
    assert (response.json()["member"], response.json()["booked_by"]) == (alice.pk, sophie.pk)
    assert api.get("/bookings", as_=alice).json()["count"] == 1


def test_a_block_refuses_bookings_in_the_way_or_cancels_them_when_asked(
    api, alice, sophie, room, alices_booking
):
    day = day_ahead(7)
    block = slot(room, paris(day, 8), paris(day, 12), reason="Fuite d’eau")

    refused = api.post("/blocks", block, as_=sophie)
    created = api.post("/blocks", {**block, "cancel_conflicting": True}, as_=sophie)

    assert refused.status_code == 409
    assert [c["booking"] for c in refused.json()["conflicts"]] == [alices_booking.pk]
    assert created.status_code == 201
    assert created.json()["cancelled_bookings"] == [alices_booking.pk]
    alices_booking.refresh_from_db()
    assert (alices_booking.status, alices_booking.staff_reason) == (Booking.Status.CANCELLED, "Fuite d’eau")
    taken = api.post("/bookings", slot(room, paris(day, 9), paris(day, 10)), as_=alice)
    assert (taken.status_code, taken.json()["code"]) == (409, "blocked")
    assert api.delete(f"/blocks/{created.json()['id']}", as_=sophie).status_code == 204
    assert api.post("/bookings", slot(room, paris(day, 9), paris(day, 10)), as_=alice).status_code == 201


def far_east(value):
    """The same instant written with an offset of +16:00: valid ISO 8601, beyond PostgreSQL's ±15:59."""
    return value.astimezone(dt_timezone(timedelta(hours=16))).isoformat()


def test_an_instant_with_any_iso_offset_is_the_same_instant_everywhere(
    api, alice, sophie, room, alices_booking
):
    # Regression: on PostgreSQL, an offset beyond ±15:59 reached the database as written and failed (a 500).
    day = day_ahead(8)

    booked = api.post(
        "/bookings",
        {"resource": room.pk, "start": far_east(paris(day, 9)), "end": far_east(paris(day, 10))},
        as_=alice,
    )
    moved = api.patch(
        f"/bookings/{alices_booking.pk}",
        {"start": far_east(paris(day, 14)), "end": far_east(paris(day, 15))},
        as_=alice,
    )
    blocked = api.post(
        "/blocks",
        {
            "resource": room.pk,
            "start": far_east(paris(day, 18)),
            "end": far_east(paris(day, 19)),
            "reason": "Ménage",
        },
        as_=sophie,
    )

    assert [r.status_code for r in (booked, moved, blocked)] == [201, 200, 201]
    assert instant(booked.json()["start"]) == paris(day, 9)
    alices_booking.refresh_from_db()
    assert alices_booking.start == paris(day, 14)
    assert instant(blocked.json()["end"]) == paris(day, 19)


def test_a_busy_database_is_a_503_to_retry_not_a_refusal(api, alice, room, monkeypatch):
    # The engine says `busy` when SQLite kept a writer waiting too long. Mapped like any other refusal, it was
    # a 422, which tells a client its request is wrong and not to send it again.
    def busy(**kwargs):
        raise DatabaseBusy("Le service est très sollicité : réessayez dans un instant.")

    monkeypatch.setattr(services, "book", busy)
    day = day_ahead(7)

    response = api.post("/bookings", slot(room, paris(day, 9), paris(day, 10)), as_=alice)

    assert (response.status_code, response.json()["code"], response["Retry-After"]) == (503, "busy", "1")


def next_autumn_change_of_time():
    """The last Sunday of October ahead, when Paris clocks go back from 03:00 to 02:00."""
    day = day_ahead(1)
    while not (day.month == 10 and day.weekday() == 6 and (day + timedelta(7)).month == 11):
        day += timedelta(1)
    return day


@pytest.mark.parametrize("path", ["/bookings", "/bookings/preview"])
def test_a_series_whose_slot_goes_back_on_the_clock_is_a_422_not_a_server_error(api, alice, path, room):
    # Regression: 02:40 summer time to 02:10 winter time is half an hour, but minus half an hour on the clock,
    # the length the engine repeats: on PostgreSQL the series' period was an invalid range (a 500).
    day = next_autumn_change_of_time()
    body = {
        "resource": room.pk,
        "start": f"{day}T02:40:00+02:00",
        "end": f"{day}T02:10:00+01:00",
        "rrule": "FREQ=WEEKLY;COUNT=1",
    }
    before = bookings_state()

    response = api.post(path, body, as_=alice)

    assert (response.status_code, response.json()["code"], response.json()["field"]) == (
        422,
        "invalid_period",
        "end",
    )
    assert bookings_state() == before
