"""Property-based tests: the interval helpers against brute force, and the booking engine against a model.

The helpers in `cocotte.core.intervals` decide what is free and what is full; they are checked minute by
minute against the plain set of minutes each interval covers.

The engine is driven by random sequences of book / move / cancel / block, by members and by the site's staff,
on an exclusive room and a pooled open space, on random half-hour-aligned slots over a few days ahead. A
simple model predicts every outcome (success, or which refusal), and after every step the database is
checked: no two live bookings of the room overlap, the open space never holds more than its capacity, no
live booking overlaps a block, every row matches the model, and every refusal changed nothing.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from cocotte.bookings import services
from cocotte.bookings.errors import BookingError, Conflict, Forbidden, InvalidBooking
from cocotte.bookings.models import Block, Booking
from cocotte.core import intervals
from cocotte.core.models import AuditEntry
from tests.helpers import day_ahead, paris

# ---------------------------------------------------------------------------------------------------------
# The pure helpers, against a brute-force model: an interval is the set of whole minutes it covers.
# ---------------------------------------------------------------------------------------------------------

ORIGIN = datetime(2026, 3, 28, 22, tzinfo=UTC)  # any instant will do; this one is near a change of clocks
MINUTE = timedelta(minutes=1)
HELPERS = settings(max_examples=60, deadline=None)


def at(minute: int) -> datetime:
    return ORIGIN + minute * MINUTE


def index(instant: datetime) -> int:
    return (instant - ORIGIN) // MINUTE


minutes_ = st.integers(min_value=0, max_value=90)
# Any pair of instants, empty or reversed ones included: the helpers must ignore those.
any_interval = st.tuples(minutes_, minutes_).map(lambda p: (at(p[0]), at(p[1])))
proper_interval = st.tuples(minutes_, st.integers(min_value=1, max_value=40)).map(
    lambda p: (at(p[0]), at(p[0] + p[1]))
)
any_intervals = st.lists(any_interval, max_size=8)
proper_intervals = st.lists(proper_interval, max_size=8)


def covered(items) -> set[int]:
    return {m for s, e in items for m in range(index(s), index(e))}


def counts(items) -> Counter:
    return Counter(m for s, e in items for m in range(index(s), index(e)))


def runs(per_minute: dict[int, int]) -> list[tuple[datetime, datetime, int]]:
    """Maximal runs of consecutive minutes with the same positive value: (start, end, value)."""
    result: list[tuple[datetime, datetime, int]] = []
    for minute in sorted(m for m, v in per_minute.items() if v > 0):
        value = per_minute[minute]
        if result and index(result[-1][1]) == minute and result[-1][2] == value:
            result[-1] = (result[-1][0], at(minute + 1), value)
        else:
            result.append((at(minute), at(minute + 1), value))
    return result


def as_intervals(minute_set: set[int]) -> list[tuple[datetime, datetime]]:
    return [(s, e) for s, e, _ in runs(dict.fromkeys(minute_set, 1))]


@HELPERS
@given(any_intervals)
def test_merge_is_the_union_in_canonical_form(items):
    """merge gives the union, sorted, without overlaps or touching pieces, empty intervals dropped."""
    assert intervals.merge(items) == as_intervals(covered(items))


@HELPERS
@given(any_intervals, any_intervals)
def test_subtract_removes_exactly_the_holes(base, holes):
    """subtract keeps the minutes of base not in any hole, in canonical form."""
    assert intervals.subtract(base, holes) == as_intervals(covered(base) - covered(holes))


@HELPERS
@given(proper_intervals, proper_interval)
def test_clip_keeps_what_is_inside_the_window(items, window):
    """clip keeps each interval's part inside the window, and only non-empty parts."""
    start, end = window
    clipped = intervals.clip(items, start, end)
    assert covered(clipped) == covered(items) & set(range(index(start), index(end)))
    assert all(start <= s < e <= end for s, e in clipped)


@HELPERS
@given(any_intervals)
def test_occupancy_counts_every_minute(items):
    """occupancy gives the maximal segments of constant, positive overlap count."""
    assert intervals.occupancy(items) == runs(counts(items))


@HELPERS
@given(any_intervals)
def test_max_overlap_is_the_busiest_minute(items):
    """max_overlap is the largest number of intervals sharing a minute (0 when none)."""
    assert intervals.max_overlap(items) == max(counts(items).values(), default=0)


@HELPERS
@given(proper_interval, proper_interval)
def test_overlaps_means_sharing_a_minute(a, b):
    """Two half-open intervals overlap exactly when they share time: touching ones do not."""
    assert intervals.overlaps(*a, *b) == bool(covered([a]) & covered([b]))


# ---------------------------------------------------------------------------------------------------------
# The booking engine, against a model.
# ---------------------------------------------------------------------------------------------------------

HALF_HOUR = timedelta(minutes=30)
DAYS = (3, 4)  # ahead: past every member's 24 h notice; two days only, so that requests collide
HALF_DAYS = {"morning": (0, 10), "afternoon": (10, 14), "day": (0, 24)}  # (first half hour, half hours)


@dataclass(frozen=True)
class Period:
    """[start, end) as half hours after 08:00 (opening) on a day ahead."""

    day: int
    first: int
    length: int

    @property
    def start(self) -> datetime:
        return paris(day_ahead(self.day), 8) + self.first * HALF_HOUR

    @property
    def end(self) -> datetime:
        return self.start + self.length * HALF_HOUR

    def fits(self, resource) -> bool:
        """Whether the resource's rules accept it: open hours (08:00–20:00), and the unit."""
        if self.first + self.length > 24:
            return False
        if resource.is_pooled:  # half-days: 08:00–13:00, 13:00–20:00, or the whole day
            return (self.first, self.length) in HALF_DAYS.values()
        return True


# Mostly half-hour slots (some run past closing time), and half-days, which the open space takes.
periods = st.one_of(
    st.builds(
        Period,
        st.sampled_from(DAYS),
        st.integers(min_value=0, max_value=25),
        st.integers(min_value=1, max_value=6),
    ),
    st.builds(
        lambda day, half: Period(day, *HALF_DAYS[half]),
        st.sampled_from(DAYS),
        st.sampled_from(sorted(HALF_DAYS)),
    ),
)


@dataclass
class Expected:
    resource_id: int
    member_id: int
    start: datetime
    end: datetime
    live: bool = True


def snapshot():
    """Everything a refusal must leave as it was."""
    return (
        list(Booking.objects.order_by("pk").values()),
        list(Block.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )


class BookingMachine(RuleBasedStateMachine):
    """Random sequences of engine calls; each example runs in a savepoint rolled back at its end."""

    # Set by the test: the room, the open space, the members and the site's staff.
    room = open_space = staff = None
    members: tuple = ()

    bookings = Bundle("bookings")

    def __init__(self):
        super().__init__()
        self.resources = {r.pk: r for r in (self.room, self.open_space)}
        self.model: dict[int, Expected] = {}
        self.blocks: dict[int, list[tuple[datetime, datetime]]] = {pk: [] for pk in self.resources}
        self.block_attempts = 0
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()

    def teardown(self):
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)

    # The model -------------------------------------------------------------------------------------------

    def may_manage(self, actor, expected: Expected) -> bool:
        return actor == self.staff or actor.pk == expected.member_id

    def conflicts(self, resource, start, end, *, exclude=None) -> bool:
        if any(s < end and start < e for s, e in self.blocks[resource.pk]):
            return True
        taken = [
            (b.start, b.end)
            for pk, b in self.model.items()
            if pk != exclude and b.live and b.resource_id == resource.pk and b.start < end and start < b.end
        ]
        return intervals.max_overlap(intervals.clip(taken, start, end)) >= resource.capacity

    def attempt(self, name, expected_error, call):
        """Run an engine call; a refusal must be the predicted one and must have changed nothing."""
        before = snapshot()
        try:
            result = call()
        except BookingError as error:
            event(f"{name}: {type(error).__name__} ({error.code})")
            assert expected_error is not None, f"refused unexpectedly: {error!r}"
            assert type(error) is expected_error[0], f"expected {expected_error}, got {error!r}"
            if expected_error[1]:
                assert error.code == expected_error[1]
            assert snapshot() == before, "a refused operation changed the database"
            return None
        assert expected_error is None, f"expected {expected_error}, but it succeeded"
        event(f"{name}: done")
        return result

    # The rules -------------------------------------------------------------------------------------------

    @rule(
        target=bookings,
        on_pooled=st.booleans(),
        member=st.integers(min_value=0, max_value=2),
        actor=st.sampled_from(["self", "self", "staff", "other"]),
        period=periods,
    )
    def book(self, on_pooled, member, actor, period):
        resource = self.open_space if on_pooled else self.room
        member = self.members[member]
        by = {"self": member, "staff": self.staff}.get(actor) or next(m for m in self.members if m != member)
        if by != member and by != self.staff:
            expected_error = (Forbidden, None)
        elif not period.fits(resource):
            expected_error = (InvalidBooking, None)
        elif self.conflicts(resource, period.start, period.end):
            expected_error = (Conflict, None)
        else:
            expected_error = None
        booking = self.attempt(
            "book",
            expected_error,
            lambda: services.book(
                resource=resource, member=member, by=by, start=period.start, end=period.end
            ),
        )
        if booking is None:
            return multiple()
        self.model[booking.pk] = Expected(resource.pk, member.pk, period.start, period.end)
        return booking.pk

    @rule(
        pk=bookings,
        to_pooled=st.booleans(),
        actor=st.sampled_from(["owner", "owner", "staff", "other"]),
        period=periods,
    )
    def move(self, pk, to_pooled, actor, period):
        expected = self.model[pk]
        target = self.open_space if to_pooled else self.room
        by = self.actor(actor, expected)
        if not self.may_manage(by, expected):
            expected_error = (Forbidden, None)
        elif not period.fits(target):
            expected_error = (InvalidBooking, None)
        elif not expected.live:
            expected_error = (InvalidBooking, "not_live")
        elif self.conflicts(target, period.start, period.end, exclude=pk):
            expected_error = (Conflict, None)
        else:
            expected_error = None
        booking = Booking.objects.select_related("resource__site").get(pk=pk)
        moved = self.attempt(
            "move",
            expected_error,
            lambda: services.move(booking, by=by, start=period.start, end=period.end, resource=target),
        )
        if moved is not None:
            expected.resource_id, expected.start, expected.end = target.pk, period.start, period.end

    @rule(pk=bookings, actor=st.sampled_from(["owner", "owner", "staff", "other"]))
    def cancel(self, pk, actor):
        expected = self.model[pk]
        by = self.actor(actor, expected)
        if not self.may_manage(by, expected):
            expected_error = (Forbidden, None)
        elif not expected.live:
            expected_error = (InvalidBooking, "not_live")
        else:
            expected_error = None
        booking = Booking.objects.select_related("resource__site").get(pk=pk)
        if self.attempt("cancel", expected_error, lambda: services.cancel(booking, by=by)) is not None:
            expected.live = False

    # Rare, and once there are bookings to get in the way: a block takes its period away from the rest.
    @precondition(lambda self: self.block_attempts < 2 and len(self.model) >= 2)
    @rule(on_pooled=st.booleans(), period=periods, cancel_conflicting=st.booleans())
    def block(self, on_pooled, period, cancel_conflicting):
        self.block_attempts += 1
        resource = self.open_space if on_pooled else self.room
        start, end = period.start, period.end
        in_the_way = sorted(
            pk
            for pk, b in self.model.items()
            if b.live and b.resource_id == resource.pk and b.start < end and start < b.end
        )
        expected_error = (Conflict, None) if in_the_way and not cancel_conflicting else None
        result = self.attempt(
            "block",
            expected_error,
            lambda: services.block(
                resource,
                by=self.staff,
                start=start,
                end=end,
                reason="Entretien",
                cancel_conflicting=cancel_conflicting,
            ),
        )
        if result is not None:
            self.blocks[resource.pk].append((start, end))
            assert sorted(b.pk for b in result[1]) == in_the_way
            for pk in in_the_way:
                self.model[pk].live = False

    def actor(self, role, expected: Expected):
        owner = next(m for m in self.members if m.pk == expected.member_id)
        if role == "owner":
            return owner
        if role == "staff":
            return self.staff
        return next(m for m in self.members if m != owner)

    # What must always hold, read from the database ---------------------------------------------------------

    @invariant()
    def exclusive_room_never_double_booked(self):
        live = [(b.start, b.end) for b in Booking.objects.live().filter(resource=self.room)]
        assert intervals.max_overlap(live) <= 1

    @invariant()
    def pooled_space_never_over_capacity(self):
        live = [(b.start, b.end) for b in Booking.objects.live().filter(resource=self.open_space)]
        assert intervals.max_overlap(live) <= self.open_space.capacity

    @invariant()
    def no_live_booking_in_a_block(self):
        for block in Block.objects.all():
            assert (
                not Booking.objects.live()
                .filter(resource_id=block.resource_id, start__lt=block.end, end__gt=block.start)
                .exists()
            )

    @invariant()
    def database_matches_the_model(self):
        rows = Booking.objects.select_related("resource")
        assert {
            b.pk: Expected(b.resource_id, b.member_id, b.start, b.end, b.is_live) for b in rows
        } == self.model

    @invariant()
    def each_live_booking_holds_a_place_of_its_own(self):
        """What the database guards read: places within capacity, never one place twice at once."""
        for resource in (self.room, self.open_space):
            live = list(Booking.objects.live().filter(resource=resource).values_list("start", "end", "place"))
            assert all(1 <= place <= resource.capacity for _s, _e, place in live)
            for place in {p for _s, _e, p in live}:
                assert intervals.max_overlap([(s, e) for s, e, p in live if p == place]) <= 1


@pytest.mark.django_db
def test_random_bookings_moves_and_cancellations_keep_the_schedule_sound(
    room, open_space, alice, bob, sophie
):
    """Whatever members and staff do, in any order: no double booking, no pooled space over capacity, no
    booking inside a block, every outcome as the model predicts, and a refusal changes nothing."""
    machine = type(
        "Machine",
        (BookingMachine,),
        {"room": room, "open_space": open_space, "staff": sophie, "members": (alice, bob, sophie)},
    )
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=40,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
