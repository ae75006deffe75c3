"""Phase: booking throughput through POST /api/v1/bookings, against two yardsticks (bench/urls.py).

gunicorn (2 sync workers) serves `bench/ping` (Django's middleware stack and a JsonResponse, no database),
`bench/write` (the honest ceiling of a write: authenticate the API token, insert one row in a transaction,
commit) and the API, in the same run, to the same pool of client threads on the loopback. The booking
requests take free one-hour slots of the exclusive rooms and machines: most on distinct slots, some in
groups of clients that ask for the same slot at the same moment (one must win, the others get 409). Afterwards
SQL counts the live bookings of exclusive resources that overlap another one (must be 0).

Three server configurations (bench.common.SERVERS: per-request, persistent, tuned) run at once, each on its own
port, and the load goes to them in rounds: in each round, every server gets a burst of pings then a burst of
booking requests (a burst of `bench/write` after the pings). Rates are requests completed over the seconds of their bursts, summed over the rounds. Taking
turns puts the configurations, and the ping and its booking figures, under the same conditions on a shared
machine. Each configuration books its own slots.
"""

import argparse
import contextlib
import io
import random
import threading
import time
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

from bench import common

MEMBERS = ["alice@cocotte.test", "bob@cocotte.test", "chloe@cocotte.test"]


def free_slots(rng) -> list[dict]:
    """Free slots one unit long (30 minutes or an hour), from tomorrow to each resource's horizon, of every
    exclusive resource booked by the half-hour or the hour (shuffled)."""
    from django.utils import timezone

    from cocotte.bookings import schedule
    from cocotte.core.timeutils import at_local, zone
    from cocotte.spaces.models import Resource, Site

    slots = []
    today = timezone.localdate()
    for site in Site.objects.filter(is_active=True).prefetch_related("opening_hours", "closures"):
        tz = zone(site.timezone)
        resources = list(
            Resource.objects.filter(
                site=site, is_active=True, capacity=1, unit__in=[Resource.Unit.HALF_HOUR, Resource.Unit.HOUR]
            )
        )
        if not resources:
            continue
        for resource in resources:
            resource.site = site
        horizon = max(r.max_advance_days for r in resources)
        start = at_local(today + timedelta(days=1), clock(0), tz)
        end = at_local(today + timedelta(days=horizon + 1), clock(0), tz)
        for entry in schedule.availability(resources, start, end):
            unit = entry.resource.unit_duration
            step = int(unit.total_seconds() // 60)
            for free in entry.free:
                local = free.start.astimezone(tz)
                offset = (local.hour * 60 + local.minute) % step
                cursor = free.start + timedelta(minutes=(step - offset) % step)
                while cursor + unit <= free.end:
                    slots.append({"resource": entry.resource.pk, "start": cursor, "end": cursor + unit})
                    cursor += unit
    rng.shuffle(slots)
    return slots


def plan(slots, tokens, total: int, contended_share: float, contenders: int, rng) -> tuple[list, int, int]:
    """The booking requests as blocks: a distinct slot's request alone, or a contended slot's requests side by
    side (taken at the same moment by different client threads), shuffled together."""
    groups = round(total * contended_share / contenders)
    distinct = total - groups * contenders
    if distinct + groups > len(slots):
        raise RuntimeError(f"{len(slots)} free slots, {distinct + groups} needed: lower --booking-requests")

    def body(slot):
        return {
            "resource": slot["resource"],
            "start": slot["start"].isoformat(),
            "end": slot["end"].isoformat(),
        }

    singles = [[("POST", "/api/v1/bookings", body(s), rng.choice(tokens), None)] for s in slots[:distinct]]
    contested = [
        [("POST", "/api/v1/bookings", body(s), tokens[i % len(tokens)], g) for i in range(contenders)]
        for g, s in enumerate(slots[distinct : distinct + groups])
    ]
    blocks = singles + contested
    rng.shuffle(blocks)
    return blocks, distinct, groups


def hammer(port: int, calls, threads: int, time_limit: float) -> dict:
    """Send `calls` from `threads` client threads (each takes the next call when it is free).

    Returns the records (call, status, seconds) and the burst's duration."""
    lock = threading.Lock()
    position = 0
    records = []
    errors = []
    deadline = time.perf_counter() + time_limit
    finished = []

    def client():
        nonlocal position
        while True:
            with lock:
                if position >= len(calls) or time.perf_counter() > deadline:
                    return
                index = position
                position += 1
            method, path, body, token, _group = calls[index]
            try:
                response = common.request(port, method, path, body=body, token=token)
            except OSError as error:
                errors.append(repr(error))
                continue
            with lock:
                records.append((calls[index], response.status, response.seconds))
                finished.append(time.perf_counter())

    started = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {
        "records": records,
        "seconds": max(finished, default=started) - started,
        "errors": errors,
        "timed_out": len(records) + len(errors) < len(calls),
    }


def aggregate(bursts: list[dict], threads: int) -> dict:
    """Rate and latencies of a kind of request over all its bursts."""
    records = [r for b in bursts for r in b["records"]]
    seconds = sum(b["seconds"] for b in bursts)
    statuses: dict[str, int] = {}
    for _, status, _ in records:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "requests_completed": len(records),
        "bursts": len(bursts),
        "client_threads": threads,
        "seconds": round(seconds, 3),
        "requests_per_second": round(len(records) / seconds, 1) if seconds else 0.0,
        "statuses": dict(sorted(statuses.items())),
        "connection_errors": sum(len(b["errors"]) for b in bursts),
        "timed_out": any(b["timed_out"] for b in bursts),
        **common.summary(r[2] * 1000 for r in records),
        "latency_by_status": {
            status: common.summary(r[2] * 1000 for r in records if str(r[1]) == status) for status in statuses
        },
    }


def verdicts(records) -> dict:
    """Who won each contended slot: exactly one 201 per group is the rule."""
    winners: dict[int, int] = {}
    groups = set()
    for call, status, _ in records:
        group = call[4]
        if group is None:
            continue
        groups.add(group)
        if status == 201:
            winners[group] = winners.get(group, 0) + 1
    return {
        "contended_slots_with_one_winner": sum(1 for n in winners.values() if n == 1),
        "contended_slots_with_several_winners": sum(1 for n in winners.values() if n > 1),
        "contended_slots_without_winner": len(groups) - len(winners),
    }


OVERLAP_SQL = """
SELECT count(*) FROM (
    SELECT b.start,
           max(b."end") OVER (
               PARTITION BY b.resource_id ORDER BY b.start, b.id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ) AS previous_end
    FROM {booking} b JOIN {resource} r ON r.id = b.resource_id
    WHERE r.capacity = 1 AND b.status IN ('pending', 'confirmed')
) ordered
WHERE previous_end > start
"""


def count_overlaps() -> dict:
    """Live bookings of exclusive resources (capacity 1) that start before an earlier one of the same resource
    ends: 0 when no two overlap. One sort of the table, not a self-join."""
    from django.db import connection

    from cocotte.bookings.models import Booking
    from cocotte.spaces.models import Resource

    sql = OVERLAP_SQL.format(booking=Booking._meta.db_table, resource=Resource._meta.db_table)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql)
        count = cursor.fetchone()[0]
    return {
        "overlapping_live_bookings": count,
        "overlap_sql": " ".join(sql.split()),
        "overlap_seconds": round(time.perf_counter() - started, 2),
    }


def booking_queries(slot, token) -> list[str]:
    """The SQL statements of one POST /api/v1/bookings, through Django's test client (one more booking)."""
    import json

    from django.test import Client

    client = Client()
    body = json.dumps(
        {"resource": slot["resource"], "start": slot["start"].isoformat(), "end": slot["end"].isoformat()}
    )
    with contextlib.redirect_stdout(io.StringIO()):  # the console e-mail backend prints the confirmation
        return common.queries_of(
            lambda: client.post(
                "/api/v1/bookings",
                body,
                content_type="application/json",
                headers={"authorization": f"Bearer {token}"},
            )
        )


def in_process(slots, token, count: int) -> dict:
    """The same work through Django's test client, one at a time: CPU time per ping and per booking (of Django
    and of PostgreSQL). Their ratio is what the throughput ratio tends to when the CPUs are the limit and
    nothing else runs: a figure that the machine's other users hardly move."""
    import json

    from django.test import Client

    client = Client()
    ping = common.in_process_costs(lambda: client.get("/bench/ping"), 300, 30)
    write = common.in_process_costs(
        lambda: client.post("/bench/write", headers={"authorization": f"Bearer {token}"}), 300, 30
    )
    slots = iter(slots)

    def book():
        slot = next(slots)
        body = {
            "resource": slot["resource"],
            "start": slot["start"].isoformat(),
            "end": slot["end"].isoformat(),
        }
        response = client.post(
            "/api/v1/bookings",
            json.dumps(body),
            content_type="application/json",
            headers={"authorization": f"Bearer {token}"},
        )
        if response.status_code != 201:
            raise RuntimeError(f"POST /api/v1/bookings → {response.status_code}: {response.content[:200]!r}")

    with contextlib.redirect_stdout(io.StringIO()):  # the console e-mail backend prints each confirmation
        booking = common.in_process_costs(book, count, 10)
    return {
        "ping": ping,
        "write": write,
        "booking": booking,
        "cpu_ratio": round(ping["cpu_total_mean_ms"] / booking["cpu_total_mean_ms"], 3)
        if booking["cpu_total_mean_ms"]
        else None,
        "write_cpu_ratio": round(write["cpu_total_mean_ms"] / booking["cpu_total_mean_ms"], 3)
        if booking["cpu_total_mean_ms"]
        else None,
    }


def _slots_needed(total: int, args) -> int:
    groups = round(total * args.contended_share / args.contenders)
    return total - groups * args.contenders + groups


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--port", type=int, default=8770)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--booking-requests", type=int, default=400, help="per server configuration")
    parser.add_argument("--ping-requests", type=int, default=3000, help="per server configuration")
    parser.add_argument("--write-requests", type=int, default=1000, help="per server configuration")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--contended-share", type=float, default=0.2)
    parser.add_argument("--contenders", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per burst, at most")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--in-process-bookings", type=int, default=100)
    parser.add_argument(
        "--servers", default="per-request,persistent,tuned", help="configurations (bench.common.SERVERS)"
    )
    args = parser.parse_args(argv)

    common.setup_django()
    from django.utils import timezone

    from bench.urls import ensure_write_table
    from cocotte.bookings.models import Booking

    ensure_write_table()
    rng = random.Random(args.seed)
    tokens = [common.issue_token(email) for email in MEMBERS]
    slots = free_slots(rng)
    found = len(slots)
    servers = args.servers.split(",")
    plans, rounds = {}, {}
    requested = total = args.booking_requests
    while total > 10 and _slots_needed(total, args) > len(slots) // len(servers):
        total = int(total * 0.9)  # a reused database has fewer free slots left: fewer requests
    if total != requested:
        print(f"  only {len(slots)} free slots: {total} booking requests per server instead of {requested}")
    for server in servers:
        blocks, distinct, groups = plan(slots, tokens, total, args.contended_share, args.contenders, rng)
        slots = slots[distinct + groups :]  # each configuration books its own slots
        plans[server] = {
            "booking_requests": sum(map(len, blocks)),
            "distinct_slots": distinct,
            "contended_slots": groups,
        }
        size = -(-len(blocks) // args.rounds)
        rounds[server] = [[c for b in blocks[i : i + size] for c in b] for i in range(0, len(blocks), size)]
    ping_calls = [("GET", "/bench/ping", None, None, None)] * (args.ping_requests // args.rounds)
    write_calls = [
        ("POST", "/bench/write", None, tokens[n % len(tokens)], None)
        for n in range(args.write_requests // args.rounds)
    ]
    before = Booking.objects.count()
    run_started = timezone.now()
    bursts = {server: {"ping": [], "write": [], "bookings": []} for server in servers}
    with contextlib.ExitStack() as stack:
        ports = {
            server: stack.enter_context(
                common.gunicorn(args.port + n, log_name=f"gunicorn-throughput-{server}", server=server)
            )
            for n, server in enumerate(servers)
        }
        for number in range(args.rounds):
            for server in servers:
                port = ports[server]
                bursts[server]["ping"].append(hammer(port, ping_calls, args.threads, args.time_limit))
                bursts[server]["write"].append(hammer(port, write_calls, args.threads, args.time_limit))
                if number < len(rounds[server]):
                    calls = rounds[server][number]
                    bursts[server]["bookings"].append(hammer(port, calls, args.threads, args.time_limit))
    results = {}
    for server in servers:
        ping = aggregate(bursts[server]["ping"], args.threads)
        write = aggregate(bursts[server]["write"], args.threads)
        bookings = aggregate(bursts[server]["bookings"], args.threads)
        records = [r for b in bursts[server]["bookings"] for r in b["records"]]
        results[server] = {
            "server": common.SERVERS[server],
            "ping": ping,
            "write": write,
            "bookings": bookings,
            "ping_requests_per_second": ping["requests_per_second"],
            "write_requests_per_second": write["requests_per_second"],
            "booking_requests_per_second": bookings["requests_per_second"],
            "ratio": round(bookings["requests_per_second"] / ping["requests_per_second"], 3)
            if ping["requests_per_second"]
            else None,
            "ratio_to_write": round(bookings["requests_per_second"] / write["requests_per_second"], 3)
            if write["requests_per_second"]
            else None,
            **verdicts(records),
        }
    result = {
        "default_server": common.default_server(),
        "database_bookings_before": before,
        "gunicorn_workers": 2,
        "client_threads": args.threads,
        "rounds": args.rounds,
        "plan": {
            "per_server": plans,
            "contenders_per_slot": args.contenders,
            "slot_length": "one unit of the resource (30 minutes, or an hour)",
            "free_slots_found": found,
            "booking_requests_asked": requested,
        },
        "servers": results,
        "created_in_database": Booking.objects.filter(created_at__gte=run_started).count(),
        "created_by_api": sum(s["bookings"]["statuses"].get("201", 0) for s in results.values()),
        **count_overlaps(),
    }
    # More bookings, after the counts: the SQL of one, and the CPU cost of some, through Django's test client.
    result["queries_per_booking"] = booking_queries(slots[0], tokens[0])
    count = min(args.in_process_bookings, len(slots) - 11)
    result["in_process"] = in_process(slots[1:], tokens[0], count) if count >= 10 else None
    common.write_json(args.out, result)


if __name__ == "__main__":
    main()
