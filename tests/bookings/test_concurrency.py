"""Double booking is impossible under real concurrency, on SQLite and on PostgreSQL.

Dozens of threads, each with its own database connection (as concurrent web requests have), are released
together by a barrier and try to take the same slot through the booking engine. The engine's conflict check
is slowed down on purpose (`find_conflict` sleeps after deciding) so that the window between "the slot is
free" and "the booking is written" is wide: without the guard, many threads get through (see the control
test); with it, exactly as many as the resource can hold do, and every other one gets a clear Conflict.
"""

import contextlib
import importlib
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, connection, transaction

from cocotte.bookings import places, services
from cocotte.bookings.errors import Conflict
from cocotte.bookings.models import Booking
from cocotte.core import intervals
from cocotte.spaces.models import Resource
from tests.helpers import day_ahead, paris

THREADS = 32
HALF_HOUR = timedelta(minutes=30)
RACE_WINDOW = 0.05  # seconds the conflict check waits after deciding, to widen the race

pytestmark = pytest.mark.django_db(transaction=True)

no_overlap = importlib.import_module("cocotte.bookings.migrations.0004_places_outbox").no_overlap


def make_members(count: int, prefix: str = "member") -> list:
    """Active accounts, inserted in bulk (no password hashing: it would cost seconds)."""
    User = get_user_model()
    User.objects.bulk_create(
        User(email=f"{prefix}-{i}@example.org", password=make_password(None)) for i in range(count)
    )
    return list(User.objects.filter(email__startswith=f"{prefix}-").order_by("email"))


@pytest.fixture
def slow_check(monkeypatch):
    """Widen the race: the conflict check sleeps after deciding, before the booking is written."""
    original = services.find_conflict

    def find_conflict(*args, **kwargs):
        result = original(*args, **kwargs)
        time.sleep(RACE_WINDOW)
        return result

    monkeypatch.setattr(services, "find_conflict", find_conflict)
    choose = places.lowest_free

    def lowest_free(*args, **kwargs):  # a pooled space's place is decided after a read of its own
        result = choose(*args, **kwargs)
        time.sleep(RACE_WINDOW)
        return result

    monkeypatch.setattr(places, "lowest_free", lowest_free)


@pytest.fixture
def decided_together(monkeypatch):
    """For the control: every thread's conflict check decides before any of them writes, so that without the
    guard the race double books for certain, however slowly a busy machine schedules the threads (a sleep
    alone left it to chance: on a loaded machine one thread could write before the others had read)."""
    original = services.find_conflict
    decided = threading.Barrier(THREADS, timeout=30)

    def find_conflict(*args, **kwargs):
        result = original(*args, **kwargs)
        decided.wait()
        return result

    monkeypatch.setattr(services, "find_conflict", find_conflict)


@pytest.fixture
def without_lock(monkeypatch):
    """Remove the engine's lock on resources: each writer still has its transaction, and the database's
    guards (the place trigger, PostgreSQL's exclusion constraint) are all that stands in the way."""

    @contextlib.contextmanager
    def unlocked(resources):
        with services.write_transaction():
            yield {r.pk: Resource.objects.select_related("site").get(pk=r.pk) for r in resources}

    monkeypatch.setattr(services, "resources_write_lock", unlocked)


@pytest.fixture
def without_guard(monkeypatch):
    """Remove every guard against double booking: the resource lock and its transaction, and PostgreSQL's
    exclusion constraint."""

    @contextlib.contextmanager
    def no_lock(resources):
        yield {r.pk: Resource.objects.select_related("site").get(pk=r.pk) for r in resources}

    monkeypatch.setattr(services, "resources_write_lock", no_lock)
    if connection.vendor != "postgresql":
        yield
        return
    with connection.schema_editor() as editor:
        editor.remove_constraint(Booking, no_overlap())
    try:
        yield
    finally:
        # The control leaves overlapping rows behind: they must go before the constraint can come back.
        Booking.objects.all().delete()
        with connection.schema_editor() as editor:
            editor.add_constraint(Booking, no_overlap())


def race(jobs) -> list:
    """Run each job in its own thread, all released together; return what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)

    def run(index, job):
        try:
            prepared = job.prepare()  # what a request loads before acting, on this thread's connection
            barrier.wait(timeout=30)
            outcomes[index] = job.act(prepared)
        except BaseException as error:  # everything is reported, nothing is swallowed
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return outcomes


class BookJob:
    def __init__(self, resource_pk, member_pk, start, end):
        self.resource_pk, self.member_pk, self.start, self.end = resource_pk, member_pk, start, end

    def prepare(self):
        resource = Resource.objects.select_related("site").get(pk=self.resource_pk)
        return resource, get_user_model().objects.get(pk=self.member_pk)

    def act(self, prepared):
        resource, member = prepared
        return services.book(resource=resource, member=member, start=self.start, end=self.end)


class MoveJob:
    def __init__(self, booking_pk, start, end, resource_pk=None):
        self.booking_pk, self.start, self.end, self.resource_pk = booking_pk, start, end, resource_pk

    def prepare(self):
        booking = Booking.objects.select_related("resource__site", "member").get(pk=self.booking_pk)
        target = (
            Resource.objects.select_related("site").get(pk=self.resource_pk) if self.resource_pk else None
        )
        return booking, target

    def act(self, prepared):
        booking, target = prepared
        return services.move(booking, by=booking.member, start=self.start, end=self.end, resource=target)


def split(outcomes):
    """(successes, refusals); fails on anything that is neither a result nor a Conflict."""
    unexpected = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, Conflict)]
    assert not unexpected, f"not a clear conflict: {unexpected[:3]!r}"
    return (
        [o for o in outcomes if not isinstance(o, BaseException)],
        [o for o in outcomes if isinstance(o, Conflict)],
    )


def live_on(resource, start, end):
    return list(Booking.objects.live().filter(resource=resource, start__lt=end, end__gt=start))


def test_exclusive_room_same_slot_is_booked_once(room, slow_check):
    """32 members booking the same room slot at the same instant: one gets it, 31 get a Conflict."""
    members = make_members(THREADS)
    start, end = paris(day_ahead(7), 10), paris(day_ahead(7), 11)

    outcomes = race([BookJob(room.pk, m.pk, start, end) for m in members])

    won, lost = split(outcomes)
    assert len(won) == 1
    assert len(lost) == THREADS - 1
    assert all(error.code == "conflict" for error in lost)
    assert [b.pk for b in live_on(room, start, end)] == [won[0].pk]


def test_pooled_space_takes_exactly_its_capacity(open_space, slow_check):
    """32 members booking the same morning of an open space with 3 places: 3 get one, 29 a Conflict."""
    members = make_members(THREADS)
    day = day_ahead(7)
    start, end = paris(day, 8), paris(day, 13)

    outcomes = race([BookJob(open_space.pk, m.pk, start, end) for m in members])

    won, lost = split(outcomes)
    assert len(won) == open_space.capacity == 3
    assert len(lost) == THREADS - open_space.capacity
    assert sorted(b.pk for b in live_on(open_space, start, end)) == sorted(b.pk for b in won)


def test_overlapping_different_slots_never_overlap(room, slow_check):
    """Members racing for different but overlapping periods of the room: whatever wins, nothing overlaps."""
    members = make_members(16)
    day = day_ahead(7)
    # Periods of 30 min to 2 h starting every half hour between 09:00 and 12:30: all overlap some others.
    jobs = []
    for i, member in enumerate(members):
        start = paris(day, 9) + (i % 8) * HALF_HOUR
        jobs.append(BookJob(room.pk, member.pk, start, start + (i // 8 + 1) * HALF_HOUR))

    won, _ = split(race(jobs))

    live = [(b.start, b.end) for b in Booking.objects.live().filter(resource=room)]
    assert len(live) == len(won) >= 1
    assert intervals.max_overlap(live) == 1


def test_moves_into_the_same_slot_land_once(room, slow_check):
    """Members moving their own bookings onto the same slot at once: one move lands, the others are
    refused and their bookings stay where they were."""
    members = make_members(16)
    day, target_day = day_ahead(7), day_ahead(8)
    bookings = [  # one per half hour from 08:00 to 20:00
        services.book(
            resource=room,
            member=m,
            start=paris(day, 8) + i * HALF_HOUR,
            end=paris(day, 8) + (i + 1) * HALF_HOUR,
        )
        for i, m in enumerate(members[:24])
    ]
    before = {b.pk: (b.start, b.end) for b in bookings}
    start, end = paris(target_day, 10), paris(target_day, 11)

    won, lost = split(race([MoveJob(b.pk, start, end) for b in bookings]))

    assert len(won) == 1
    assert len(lost) == len(bookings) - 1
    assert [b.pk for b in live_on(room, start, end)] == [won[0].pk]
    for booking in Booking.objects.exclude(pk=won[0].pk):
        assert (booking.start, booking.end) == before[booking.pk]
        assert booking.is_live


def test_crossed_moves_between_two_rooms_do_not_deadlock(site, room, make_resource, slow_check):
    """Members moving bookings from room A to room B while others move from B to A, all at once: every
    move ends with a result or a Conflict, never a database error (deadlock, lock timeout)."""
    other = make_resource(site, "salle-2")
    members = make_members(12)
    day = day_ahead(7)
    jobs = []
    for i, member in enumerate(members):
        source, target = (room, other) if i % 2 else (other, room)
        start = paris(day, 8) + (i // 2) * HALF_HOUR
        booking = services.book(resource=source, member=member, start=start, end=start + HALF_HOUR)
        later = paris(day, 14) + (i // 2) * HALF_HOUR  # distinct targets: every move can land
        jobs.append(MoveJob(booking.pk, later, later + HALF_HOUR, resource_pk=target.pk))

    won, lost = split(race(jobs))

    assert len(won) == len(members)
    assert not lost
    for resource in (room, other):
        live = [(b.start, b.end) for b in Booking.objects.live().filter(resource=resource)]
        assert intervals.max_overlap(live) == 1


def test_control_without_the_guard_the_race_double_books(room, decided_together, without_guard):
    """Control: with the lock and the database constraint removed, the same race books the slot several
    times. This proves the tests above can fail, and that the guard is what makes them pass."""
    members = make_members(THREADS)
    start, end = paris(day_ahead(7), 10), paris(day_ahead(7), 11)

    outcomes = race([BookJob(room.pk, m.pk, start, end) for m in members])

    won, _ = split(outcomes)
    landed = live_on(room, start, end)
    assert len(landed) == len(won)
    print(f"control on {connection.vendor}: {len(landed)} bookings of one slot")
    assert len(landed) > 1


@pytest.mark.postgres
def test_database_refuses_overlapping_live_bookings(room, alice, bob):
    """PostgreSQL itself refuses two overlapping live bookings of an exclusive resource, even when written
    without the engine (admin, scripts, a future code path)."""
    day = day_ahead(7)
    Booking.objects.create(resource=room, member=alice, start=paris(day, 10), end=paris(day, 11))

    with pytest.raises(IntegrityError, match="bookings_no_overlap"), transaction.atomic():
        Booking.objects.create(resource=room, member=bob, start=paris(day, 10, 30), end=paris(day, 11, 30))

    assert Booking.objects.count() == 1


@pytest.mark.postgres
def test_database_lets_dead_and_adjacent_bookings_be(room, open_space, alice, bob):
    """The constraint concerns live bookings of one place only: a cancelled or refused booking may overlap a
    live one, periods that merely touch are fine, and a pooled space holds several on distinct places."""
    day = day_ahead(7)
    Booking.objects.create(resource=room, member=alice, start=paris(day, 10), end=paris(day, 11))
    for status in (Booking.Status.CANCELLED, Booking.Status.REFUSED):
        Booking.objects.create(
            resource=room, member=bob, start=paris(day, 10), end=paris(day, 11), status=status
        )
    Booking.objects.create(resource=room, member=bob, start=paris(day, 11), end=paris(day, 12))
    for place, member in enumerate((alice, bob), start=1):
        Booking.objects.create(
            resource=open_space, member=member, start=paris(day, 8), end=paris(day, 13), place=place
        )

    assert Booking.objects.count() == 6


@pytest.mark.postgres
def test_database_refuses_reviving_an_overlapping_booking(room, alice, bob):
    """Turning a cancelled booking back to live where the slot has since been taken is refused too."""
    day = day_ahead(7)
    cancelled = Booking.objects.create(
        resource=room,
        member=alice,
        start=paris(day, 10),
        end=paris(day, 11),
        status=Booking.Status.CANCELLED,
    )
    Booking.objects.create(resource=room, member=bob, start=paris(day, 10), end=paris(day, 11))

    cancelled.status = Booking.Status.CONFIRMED
    with pytest.raises(IntegrityError, match="bookings_no_overlap"), transaction.atomic():
        cancelled.save()


def test_a_writer_kept_waiting_too_long_on_sqlite_is_told_the_place_is_busy(room):
    """SQLite has one writer at a time: past the wait, the member gets a clear « busy », not a server error."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's database-wide write lock only")
    from cocotte.bookings.errors import DatabaseBusy

    (alice,) = make_members(1, "busy")
    day = day_ahead()
    holder_has_lock, release = threading.Event(), threading.Event()

    def hold_the_write_lock():
        with transaction.atomic():  # BEGIN IMMEDIATE: takes the database's write lock
            Resource.objects.filter(pk=room.pk).update(name=room.name)
            holder_has_lock.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    holder_has_lock.wait(10)
    outcome = []

    def impatient_booking():
        connection.ensure_connection()
        connection.connection.execute("PRAGMA busy_timeout = 100")
        try:
            services.book(resource=room, member=alice, start=paris(day, 10), end=paris(day, 11))
        except DatabaseBusy as error:
            outcome.append(error)
        finally:
            connection.close()

    worker = threading.Thread(target=impatient_booking)
    worker.start()
    worker.join(20)
    release.set()
    holder.join(20)
    assert len(outcome) == 1 and outcome[0].code == "busy"
    assert not Booking.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# Pooled spaces: the database holds their capacity too
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_without_the_lock_the_database_alone_holds_a_pooled_space_to_its_capacity(
    open_space, slow_check, without_lock
):
    """The engine's lock removed, 32 members race for the same morning of an open space of 3 places: the
    place numbers and PostgreSQL's exclusion constraint let at most 3 in, the others get a Conflict."""
    members = make_members(THREADS)
    start, end = paris(day_ahead(7), 8), paris(day_ahead(7), 13)

    won, lost = split(race([BookJob(open_space.pk, m.pk, start, end) for m in members]))

    landed = live_on(open_space, start, end)
    assert 1 <= len(landed) == len(won) <= open_space.capacity
    assert len(lost) == THREADS - len(won)
    assert sorted(b.place for b in landed) == list(range(1, len(landed) + 1))


@pytest.mark.postgres
def test_without_the_lock_the_database_alone_refuses_a_double_booking(room, slow_check, without_lock):
    members = make_members(THREADS)
    start, end = paris(day_ahead(7), 10), paris(day_ahead(7), 11)

    won, lost = split(race([BookJob(room.pk, m.pk, start, end) for m in members]))

    assert len(won) == 1
    assert len(lost) == THREADS - 1
    assert len(live_on(room, start, end)) == 1


def test_control_without_any_guard_a_pooled_space_overflows(open_space, slow_check, without_guard):
    """Control: with the lock and the exclusion constraint removed, the race puts more than 3 members on
    the 3 places: the tests above can fail, and the guards are what makes them pass."""
    members = make_members(THREADS)
    start, end = paris(day_ahead(7), 8), paris(day_ahead(7), 13)

    won, _ = split(race([BookJob(open_space.pk, m.pk, start, end) for m in members]))

    landed = live_on(open_space, start, end)
    print(f"control on {connection.vendor}: {len(landed)} bookings of 3 places")
    assert len(landed) == len(won) > open_space.capacity
