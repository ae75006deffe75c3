"""Places of a pooled space: which of its N places each live booking holds. Pure: no query.

A pooled space (an open space of 12 places) lets N bookings overlap. The database cannot count, but it can
refuse two live bookings of one place that overlap (the exclusion constraint) and a place beyond N (the
trigger): so each booking holds a place 1..N, and at most N overlap at any instant, whatever code writes.
Members never see place numbers: the engine moves upcoming bookings between places when that lets a new
booking in (a desk for the day when one place is free in the morning and another in the afternoon).
"""

from dataclasses import dataclass
from datetime import datetime


@dataclass
class Held:
    """A booking's hold on a place: `key` names it (a booking id, or None for the one being placed)."""

    key: object
    start: datetime
    end: datetime
    place: int | None


def lowest_free(capacity: int, start: datetime, end: datetime, others: list[Held]) -> int | None:
    """The lowest place free over all of [start, end), given what the others hold; None if none is."""
    used = {h.place for h in others if h.start < end and start < h.end}
    return next((p for p in range(1, capacity + 1) if p not in used), None)


def assign(capacity: int, fixed: list[Held], movable: list[Held]) -> dict[object, int] | None:
    """Places 1..capacity for every movable hold so that no two overlapping holds share one; `fixed` holds
    keep theirs. Each movable keeps its current place when it can. None when they cannot all be placed.

    Greedy in order of start: a hold that overlaps an earlier-starting one overlaps it at its own start, so
    when at most `capacity` holds overlap at any instant a place is always left (interval graphs colour
    with as many colours as their largest clique). Fixed holds (bookings already over) can make it refuse
    where a cleverer search would not; that case is a refusal, never a double booking.
    """
    placed: list[Held] = [h for h in fixed if h.place is not None and h.place <= capacity]
    result: dict[object, int] = {}
    for hold in sorted(movable, key=lambda h: (h.start, h.end)):
        overlapping = [h for h in placed if h.start < hold.end and hold.start < h.end]
        used = {h.place for h in overlapping}
        if hold.place is not None and hold.place <= capacity and hold.place not in used:
            place = hold.place
        else:
            place = next((p for p in range(1, capacity + 1) if p not in used), None)
            if place is None:
                return None
        result[hold.key] = place
        placed.append(Held(hold.key, hold.start, hold.end, place))
    return result
