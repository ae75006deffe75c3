"""Phase: a site's week through GET /api/v1/availability, with 10,000 and with 1,000,000 bookings.

Two parts. In a process bound to each seeded database (`python -m bench.availability --out FILE`): a
member's API token, EXPLAIN (ANALYZE, BUFFERS) of the bookings query that the request runs, the SQL it runs,
and its time through Django's test client (the whole Django stack, no HTTP server, no reconnection).

Then, from the orchestrator, `measure()`: one gunicorn (2 workers) per database and server configuration,
all started at once, and the requests sent one at a time, in turns across the servers, with the member's
token and anonymously. Taking turns puts every configuration under the same conditions (other users of the
machine come and go), so that the growth from 10,000 to 1,000,000 bookings is a fair ratio.
"""

import argparse
import contextlib
import re
from datetime import timedelta
from pathlib import Path

from bench import common

SITE = "cocotte-numerique"
MEMBER = "alice@cocotte.test"


def this_monday():
    from django.utils import timezone

    today = timezone.localdate()
    return today - timedelta(days=today.weekday())


def explain(site_slug: str, first_day, days: int) -> dict:
    """The SQL of the bookings-and-blocks query that the availability request runs, and its plan."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cocotte.bookings import schedule
    from cocotte.core.timeutils import day_bounds, zone
    from cocotte.spaces.models import Resource, Site

    site = Site.objects.prefetch_related("opening_hours", "closures").get(slug=site_slug)
    tz = zone(site.timezone)
    start = day_bounds(first_day, tz)[0]
    end = day_bounds(first_day + timedelta(days=days - 1), tz)[1]
    resources = list(Resource.objects.filter(site=site, is_active=True))
    for resource in resources:
        resource.site = site
    with CaptureQueriesContext(connection) as captured:
        results = schedule.availability(resources, start, end)
    sql = next(q["sql"] for q in captured.captured_queries if "bookings_booking" in q["sql"])
    with connection.cursor() as cursor:
        for _ in range(3):  # the last of three: warm, as the requests see it
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
    scans = r"(?:Index Scan|Index Only Scan|Bitmap Index Scan) (?:using|on) (\S+)"
    return {
        "sql": sql,
        "plan": plan,
        "indexes": sorted(set(re.findall(scans, plan))),
        "seq_scans": sorted(set(re.findall(r"Seq Scan on (\S+)", plan))),
        "planning_ms": _number(r"Planning Time: ([\d.]+) ms", plan),
        "execution_ms": _number(r"Execution Time: ([\d.]+) ms", plan),
        "busy_rows": sum(len(r.busy) for r in results),
        "resources": len(resources),
    }


def _number(pattern: str, text: str) -> float | None:
    match = re.search(pattern, text)
    return float(match.group(1)) if match else None


def in_process(path: str, token: str, count: int, warmup: int) -> dict:
    """The same request through Django's test client: the full Django stack, no HTTP server, one connection
    kept open. Wall time, and CPU time of Django and of PostgreSQL per request."""
    from django.test import Client

    client = Client()

    def call():
        response = client.get(path, headers={"authorization": f"Bearer {token}"})
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} → {response.status_code}")

    return common.in_process_costs(call, count, warmup)


def measure(targets: dict, path: str, *, requests: int, warmup: int, port: int) -> dict:
    """Serve each target {name: (database URL, token)} with each server configuration, all at once, and send
    `requests` rounds: in each, one member request and one anonymous request to every server in turn.

    Returns {target: {server: {"member": stats, "anonymous": stats}}}.
    """
    servers = ("per-request", "persistent")
    with contextlib.ExitStack() as stack:
        ports = {}
        for name, (url, _token) in targets.items():
            for server in servers:
                ports[name, server] = stack.enter_context(
                    common.gunicorn(
                        port + len(ports),
                        url=url,
                        server=server,
                        log_name=f"gunicorn-availability-{name}-{server}",
                    )
                )
        samples = {(name, server, who): [] for name, server in ports for who in ("member", "anonymous")}
        statuses: dict = {key: {} for key in samples}
        for round_number in range(warmup + requests):
            for (name, server), server_port in ports.items():
                for who, token in (("member", targets[name][1]), ("anonymous", None)):
                    response = common.request(server_port, "GET", path, token=token)
                    key = (name, server, who)
                    statuses[key][str(response.status)] = statuses[key].get(str(response.status), 0) + 1
                    if response.status != 200:
                        raise RuntimeError(
                            f"{name}/{server}: GET {path} → {response.status}: {response.body[:200]!r}"
                        )
                    if round_number >= warmup:
                        samples[key].append(response.seconds * 1000)
    result: dict = {}
    for (name, server, who), values in samples.items():
        result.setdefault(name, {}).setdefault(server, {})[who] = {
            **common.summary(values),
            "statuses": statuses[name, server, who],
        }
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=300, help="through Django's test client")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args(argv)

    common.setup_django()
    from django.conf import settings
    from django.test import Client

    from cocotte.bookings.models import Booking

    monday = this_monday()
    path = f"/api/v1/availability?site={SITE}&date={monday.isoformat()}&days={args.days}"
    token = common.issue_token(MEMBER)
    client = Client()
    result = {
        "token": token,
        "path": path,
        "bookings_in_database": Booking.objects.count(),
        "live_bookings_in_database": Booking.objects.live().count(),
        "site": SITE,
        "date": monday.isoformat(),
        "days": args.days,
        "settings_conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
        "default_server": common.default_server(),
        "explain": explain(SITE, monday, args.days),
        "in_process_member": in_process(path, token, args.requests, args.warmup),
        "queries_per_request": common.queries_of(
            lambda: client.get(path, headers={"authorization": f"Bearer {token}"})
        ),
    }
    common.write_json(args.out, result)


if __name__ == "__main__":
    main()
