"""Half-open time intervals [start, end): merging, subtracting, counting overlaps."""

from collections.abc import Iterable
from datetime import datetime

Interval = tuple[datetime, datetime]


def overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping, non-adjacent union of the intervals."""
    result: list[Interval] = []
    for start, end in sorted(intervals):
        if start >= end:
            continue
        if result and start <= result[-1][1]:
            if end > result[-1][1]:
                result[-1] = (result[-1][0], end)
        else:
            result.append((start, end))
    return result


def subtract(base: Iterable[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """The parts of `base` not covered by any of `holes`."""
    holes = merge(holes)
    result: list[Interval] = []
    for start, end in merge(base):
        cursor = start
        for h_start, h_end in holes:
            if h_end <= cursor or h_start >= end:
                continue
            if h_start > cursor:
                result.append((cursor, h_start))
            cursor = max(cursor, h_end)
            if cursor >= end:
                break
        if cursor < end:
            result.append((cursor, end))
    return result


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    return [(max(s, start), min(e, end)) for s, e in intervals if s < end and e > start]


def occupancy(intervals: Iterable[Interval]) -> list[tuple[datetime, datetime, int]]:
    """Segments where the number of overlapping intervals is constant and positive: (start, end, count)."""
    events: list[tuple[datetime, int]] = []
    for start, end in intervals:
        if start < end:
            events.append((start, 1))
            events.append((end, -1))
    events.sort()
    segments: list[tuple[datetime, datetime, int]] = []
    count = 0
    previous = None
    for instant, delta in events:
        if previous is not None and instant > previous and count > 0:
            if segments and segments[-1][1] == previous and segments[-1][2] == count:
                segments[-1] = (segments[-1][0], instant, count)
            else:
                segments.append((previous, instant, count))
        count += delta
        previous = instant
    return segments


def max_overlap(intervals: Iterable[Interval]) -> int:
    return max((count for _, _, count in occupancy(intervals)), default=0)
