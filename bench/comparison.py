"""Phase: the comparison data set, loaded into the database it is bound to, exported, and measured.

The data set, so that other systems can be measured on the same work:

- one site, open Monday to Friday 08:00–20:00 (Europe/Paris), no public holidays or closures;
- 50 exclusive resources booked by the half-hour: 10 meeting rooms, 10 offices, 25 desks, 5 machines;
- 52 weeks, from the Monday 26 weeks before this week's Monday;
- 100 weekly series (2 per resource), one occurrence every week of the 52, 60 to 180 minutes;
- 50,000 one-off bookings on weekdays, 08:00–20:00 on the 30-minute grid, 30 to 180 minutes long;
- no two bookings of a resource overlap. Deterministic for a seed: the same seed gives the same data set
  (shifted in time with the current week).

Written through the ORM in bulk (`cocotte.bookings.services.load_history`, BookingSeries rows), exported to
bench/results/comparison/ as CSV and JSON, with the exact requests measured (requests.json). Measured
through gunicorn (2 workers), one request at a time: a week's availability of all 50 resources, one day's,
creating one booking on a free slot (201), and refusing one on a taken slot (409).
"""

import argparse
import csv
import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from bench import common

SITE = "bench-cmp"
TIMEZONE = "Europe/Paris"
OPENS, CLOSES = clock(8), clock(20)
CELL = timedelta(minutes=30)
CELLS = 24  # 08:00–20:00
WEEKDAYS = 5
KINDS = [
    ("meeting_room", 10, "salle"),
    ("office", 10, "bureau"),
    ("desk", 25, "poste"),
    ("machine", 5, "machine"),
]
MEMBERS = 100
EXPORT = common.RESULTS / "comparison"


@dataclass
class Dataset:
    seed: int
    first_monday: date
    weeks: int
    resources: list[dict] = field(default_factory=list)  # slug, kind, name
    series: list[dict] = field(default_factory=list)  # resource, member, weekday, cell, cells
    bookings: list[tuple] = field(
        default_factory=list
    )  # (resource, day, cell, cells, member, series or None)
    busy: list[list[int]] = field(default_factory=list)  # [resource][day] bit mask of taken cells

    def day(self, index: int) -> date:
        """The date of weekday number `index` (0 = first Monday, 5 = the Monday after)."""
        return self.first_monday + timedelta(weeks=index // WEEKDAYS, days=index % WEEKDAYS)

    def day_index(self, day: date) -> int | None:
        weeks, weekday = divmod((day - self.first_monday).days, 7)
        if weekday >= WEEKDAYS or not 0 <= weeks < self.weeks:
            return None
        return weeks * WEEKDAYS + weekday

    def is_free(self, resource: int, day: int, cell: int, cells: int) -> bool:
        return not self.busy[resource][day] & (((1 << cells) - 1) << cell)

    def take(self, resource: int, day: int, cell: int, cells: int) -> None:
        self.busy[resource][day] |= ((1 << cells) - 1) << cell


def generate(seed: int, first_monday: date, *, one_offs: int = 50_000, weeks: int = 52) -> Dataset:
    """The data set, in memory: pure Python, no database, deterministic for (seed, weeks, one_offs)."""
    rng = random.Random(seed)
    data = Dataset(seed=seed, first_monday=first_monday, weeks=weeks)
    for kind, count, stem in KINDS:
        for number in range(1, count + 1):
            data.resources.append(
                {"slug": f"{stem}-{number:02}", "kind": kind, "name": f"{stem.capitalize()} {number}"}
            )
    days = weeks * WEEKDAYS
    data.busy = [[0] * days for _ in data.resources]
    for resource in range(len(data.resources)):
        for _ in range(2):
            while True:
                weekday, cells = rng.randrange(WEEKDAYS), rng.randint(2, 6)
                cell = rng.randrange(CELLS - cells + 1)
                if data.is_free(resource, weekday, cell, cells):
                    break
            number = len(data.series)
            data.series.append(
                {
                    "resource": resource,
                    "member": rng.randrange(MEMBERS),
                    "weekday": weekday,
                    "cell": cell,
                    "cells": cells,
                }
            )
            for week in range(weeks):
                day = week * WEEKDAYS + weekday
                data.take(resource, day, cell, cells)
                data.bookings.append((resource, day, cell, cells, data.series[number]["member"], number))
    placed = 0
    while placed < one_offs:
        resource, day, cells = rng.randrange(len(data.resources)), rng.randrange(days), rng.randint(1, 6)
        cell = rng.randrange(CELLS - cells + 1)
        if not data.is_free(resource, day, cell, cells):
            continue
        data.take(resource, day, cell, cells)
        data.bookings.append((resource, day, cell, cells, rng.randrange(MEMBERS), None))
        placed += 1
    return data


class Clock:
    """Wall-clock cells of the data set's days as aware UTC instants (cached: a few thousand distinct)."""

    def __init__(self, data: Dataset):
        from cocotte.core.timeutils import zone

        self.data, self.tz, self.cache = data, zone(TIMEZONE), {}

    def at(self, day: int, cell: int) -> datetime:
        key = (day, cell)
        if key not in self.cache:
            from cocotte.core.timeutils import at_local

            local = datetime.combine(self.data.day(day), OPENS) + cell * CELL
            self.cache[key] = at_local(local.date(), local.time(), self.tz)
        return self.cache[key]


def load(data: Dataset) -> dict:
    """Write the data set through the ORM, in bulk. Returns ids and timings."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from cocotte.accounts.models import Profile
    from cocotte.bookings import services
    from cocotte.bookings.models import Booking, BookingSeries
    from cocotte.spaces.models import Network, OpeningHours, Resource, Site

    User = get_user_model()
    clock_ = Clock(data)
    started = time.perf_counter()
    with transaction.atomic():
        network, _ = Network.objects.get_or_create(slug="bench", defaults={"name": "Benchmark"})
        site = Site.objects.create(
            network=network,
            slug=SITE,
            name="Site de comparaison",
            street="1 rue du Banc d’essai",
            postal_code="15300",
            city="Murat",
            timezone=TIMEZONE,
            closed_on_public_holidays=False,
        )
        OpeningHours.objects.bulk_create(
            OpeningHours(site=site, weekday=d, opens=OPENS, closes=CLOSES) for d in range(WEEKDAYS)
        )
        resources = Resource.objects.bulk_create(
            Resource(
                site=site,
                slug=spec["slug"],
                kind=spec["kind"],
                name=spec["name"],
                capacity=1,
                unit=Resource.Unit.HALF_HOUR,
                min_units=1,
                max_units=CELLS,
                max_advance_days=400,
                cancellation_notice_hours=0,
                requires_approval=False,
                position=position,
            )
            for position, spec in enumerate(data.resources)
        )
        unusable = make_password(None)
        members = User.objects.bulk_create(
            User(
                email=f"member{n:03}@bench.test", first_name="Membre", last_name=f"{n:03}", password=unusable
            )
            for n in range(MEMBERS)
        )
        Profile.objects.bulk_create(Profile(user=m) for m in members)
        series_rows = BookingSeries.objects.bulk_create(
            BookingSeries(
                resource=resources[s["resource"]],
                member=members[s["member"]],
                booked_by=members[s["member"]],
                rrule=f"FREQ=WEEKLY;COUNT={data.weeks}",
                first_start=clock_.at(s["weekday"], s["cell"]),
                first_end=clock_.at(s["weekday"], s["cell"] + s["cells"]),
                note="bench",
            )
            for s in data.series
        )
    setup_seconds = time.perf_counter() - started
    started = time.perf_counter()
    rows = [
        Booking(
            resource=resources[r],
            member=members[m],
            booked_by=members[m],
            series=series_rows[s] if s is not None else None,
            start=clock_.at(d, c),
            end=clock_.at(d, c + n),
            status=Booking.Status.CONFIRMED,
        )
        for r, d, c, n, m, s in data.bookings
    ]
    with transaction.atomic():
        loaded = services.load_history(rows, batch_size=5000)
    load_seconds = time.perf_counter() - started
    with transaction.atomic():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Booking._meta.db_table}")
    return {
        "site": site,
        "resources": resources,
        "members": members,
        "series": series_rows,
        "bookings": rows,
        "loaded": loaded,
        "setup_seconds": round(setup_seconds, 2),
        "load_seconds": round(load_seconds, 2),
    }


def export(data: Dataset, loaded: dict, workload: dict, meta: dict) -> dict:
    """CSV and JSON files another system can load: resources, series, bookings, the requests measured."""
    EXPORT.mkdir(parents=True, exist_ok=True)
    tz = Clock(data).tz
    resources, series, members = loaded["resources"], loaded["series"], loaded["members"]
    slug = {r.pk: r.slug for r in resources}
    files = {}

    path = EXPORT / "resources.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "slug", "kind", "name", "capacity", "unit_minutes", "days", "opens", "closes"])
        for r in resources:
            writer.writerow([r.pk, r.slug, r.kind, r.name, 1, 30, "Mon-Fri", "08:00", "20:00"])
    files["resources"] = path.name

    path = EXPORT / "series.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "resource", "member", "rrule", "first_start", "first_end", "occurrences"])
        for row, spec in zip(series, data.series, strict=True):
            writer.writerow(
                [
                    row.pk,
                    slug[row.resource_id],
                    f"member{spec['member']:03}",
                    row.rrule,
                    row.first_start.astimezone(tz).isoformat(),
                    row.first_end.astimezone(tz).isoformat(),
                    data.weeks,
                ]
            )
    files["series"] = path.name

    path = EXPORT / "bookings.csv"
    series_ids = [s.pk for s in series]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "resource", "member", "start", "end", "start_utc", "end_utc", "series"])
        for booking, (_r, _d, _c, _n, m, s) in zip(loaded["bookings"], data.bookings, strict=True):
            writer.writerow(
                [
                    booking.pk,
                    slug[booking.resource_id],
                    f"member{m:03}",
                    booking.start.astimezone(tz).isoformat(),
                    booking.end.astimezone(tz).isoformat(),
                    booking.start.isoformat(),
                    booking.end.isoformat(),
                    series_ids[s] if s is not None else "",
                ]
            )
    files["bookings"] = path.name

    path = EXPORT / "requests.json"
    common.write_json(path, workload)
    files["requests"] = path.name
    common.write_json(EXPORT / "dataset.json", {**meta, "files": files, "members": len(members)})
    files["dataset"] = "dataset.json"
    return {name: str(EXPORT / file) for name, file in files.items()}


def workload(data: Dataset, loaded: dict, count: int, warmup: int, rng) -> dict:
    """The requests measured, in order: reproducible from the seed and the day of the run."""
    from django.utils import timezone

    resources = loaded["resources"]
    clock_ = Clock(data)
    today = timezone.localdate()
    this_monday = today - timedelta(days=today.weekday())
    total = count + warmup
    weeks = [this_monday + timedelta(weeks=w) for w in range(10)]
    days, day = [], today
    while len(days) < 10:
        if day.weekday() < WEEKDAYS:
            days.append(day)
        day += timedelta(days=1)
    # Bookable days: from tomorrow to the end of the data set (future, so the rules accept them).
    tomorrow = data.day_index(today + timedelta(days=1))
    first = tomorrow
    probe = today + timedelta(days=1)
    while first is None:  # tomorrow is a weekend day
        probe += timedelta(days=1)
        first = data.day_index(probe)
    last = data.weeks * WEEKDAYS - 1

    def body(r, d, c, n):
        return {
            "resource": resources[r].pk,
            "start": clock_.at(d, c).isoformat(),
            "end": clock_.at(d, c + n).isoformat(),
        }

    creations = []
    while len(creations) < total:
        r, d, n = rng.randrange(len(resources)), rng.randint(first, last), rng.randint(1, 4)
        c = rng.randrange(CELLS - n + 1)
        if data.is_free(r, d, c, n):
            data.take(r, d, c, n)
            creations.append({"resource_slug": resources[r].slug, **body(r, d, c, n)})
    future = [b for b in data.bookings if b[1] >= first]
    conflicts = []
    for r, d, c, n, _m, _s in rng.sample(future, total):
        start = c + rng.randrange(n)  # starts inside the booking: overlaps it whatever its length
        length = min(rng.randint(1, 3), CELLS - start)
        conflicts.append({"resource_slug": resources[r].slug, **body(r, d, start, length)})
    site = SITE
    return {
        "note": "Requests measured, in order; the first `warmup` of each list are not counted. Times are UTC.",
        "warmup": warmup,
        "availability_week": [
            {"method": "GET", "path": f"/api/v1/availability?site={site}&date={w.isoformat()}&days=7"}
            for w in (weeks * (total // len(weeks) + 1))[:total]
        ],
        "availability_day": [
            {"method": "GET", "path": f"/api/v1/availability?site={site}&date={d.isoformat()}&days=1"}
            for d in (days * (total // len(days) + 1))[:total]
        ],
        "create": [
            {"method": "POST", "path": "/api/v1/bookings", "body": b, "expect": 201} for b in creations
        ],
        "conflict": [
            {"method": "POST", "path": "/api/v1/bookings", "body": b, "expect": 409} for b in conflicts
        ],
    }


def measure(port: int, work: dict, token: str) -> dict:
    warmup = work["warmup"]
    results = {}
    for name in ("availability_week", "availability_day", "create", "conflict"):
        calls = []
        for item in work[name]:
            body = item.get("body")
            if body is not None:
                body = {k: v for k, v in body.items() if k != "resource_slug"}
            calls.append((item["method"], item["path"], body, token))
        expect = (item.get("expect", 200),)
        results[name] = common.timed_requests(port, calls, warmup=warmup, expect=expect)
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--bookings", type=int, default=50_000, help="one-off bookings")
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--requests", type=int, default=200, help="measured requests per operation")
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)

    common.setup_django()
    from django.conf import settings
    from django.utils import timezone

    from bench.throughput import count_overlaps

    today = timezone.localdate()
    this_monday = today - timedelta(days=today.weekday())
    first_monday = this_monday - timedelta(weeks=args.weeks // 2)
    started = time.perf_counter()
    data = generate(args.seed, first_monday, one_offs=args.bookings, weeks=args.weeks)
    generate_seconds = time.perf_counter() - started
    loaded = load(data)
    last_day = data.day(args.weeks * WEEKDAYS - 1)
    meta = {
        "description": [
            "One site, open Monday to Friday 08:00-20:00 (Europe/Paris); no public holidays, no closures.",
            "50 exclusive resources (capacity 1) booked by the half-hour: 10 meeting rooms, 10 offices, 25 desks, 5 machines.",
            "100 weekly series (2 per resource), one occurrence in each of the 52 weeks, 60 to 180 minutes.",
            "50,000 one-off bookings on weekdays, 08:00-20:00 on the 30-minute grid, 30 to 180 minutes long.",
            "No two bookings of a resource overlap; all are confirmed. Times in the CSV files: local with offset, and UTC.",
            "requests.json: the requests measured, in order (the first `warmup` of each list are not counted).",
            "results.json: Cocotte's figures on this data set (median and p95 in ms, one request at a time).",
        ],
        "seed": args.seed,
        "timezone": TIMEZONE,
        "first_day": first_monday.isoformat(),
        "last_day": last_day.isoformat(),
        "weeks": args.weeks,
        "opening": "Monday–Friday 08:00–20:00, no holidays",
        "grid_minutes": 30,
        "resources": {kind: count for kind, count, _ in KINDS},
        "one_off_bookings": args.bookings,
        "series": len(data.series),
        "series_bookings": len(data.series) * args.weeks,
        "bookings_total": len(data.bookings),
        "cells_taken_share": round(
            sum(bin(mask).count("1") for masks in data.busy for mask in masks)
            / (len(data.busy) * args.weeks * WEEKDAYS * CELLS),
            3,
        ),
    }
    work = workload(data, loaded, args.requests, args.warmup, random.Random(args.seed + 1))
    files = export(data, loaded, work, meta)
    token = common.issue_token("member000@bench.test")
    with common.gunicorn(args.port, workers=2, log_name="gunicorn-comparison") as port:
        results = measure(port, work, token)
    common.write_json(
        EXPORT / "results.json",
        {
            "system": "Cocotte (gunicorn cocotte.wsgi -w 2, PostgreSQL, settings' defaults)",
            "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
            "measured": common.now_iso(),
            "machine": common.machine(),
            "operations": {
                name: {k: figures[k] for k in ("n", "median_ms", "p95_ms", "statuses")}
                for name, figures in results.items()
            },
        },
    )
    result = {
        "dataset": meta,
        "generate_seconds": round(generate_seconds, 2),
        "setup_seconds": loaded["setup_seconds"],
        "load_seconds": loaded["load_seconds"],
        "files": files,
        "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
        "operations": results,
        **count_overlaps(),
    }
    common.write_json(args.out, result)


if __name__ == "__main__":
    main()
