"""Phase: registering one place and checking one person in, on an event of 5,000 registrations (issue 10:
"check-in of one person answers in under 50 ms on PostgreSQL with 5,000 registrations"), on a database of its
own; compared with pretix on the same machine, measured the same way (`../shared/peers/pretix/bench.py`).

Two steps, each its own process (`--step`), as the orchestrator calls them:

- `seed`: a site with its staff member, one published event of 6,000 places holding 5,000 confirmed
  registrations (visitors', bulk-inserted with the fields the services write), and `--members` members with
  an API token each, who will register;
- `measure`:
  - first **over HTTP, as pretix's bench.py measures pretix**: `gunicorn cocotte.wsgi -w 2` (sync workers, the
    settings' defaults: persistent database connections, as pretix's) on the loopback, after waiting for the
    machine to be quiet (`--quiet-wait`, the reading recorded); one request at a time, a new connection per
    request (`Connection: close`), `--http-warmup` calls not counted then `--http-count` counted, of each:
    - *register*: `POST /api/v1/events/{id}/registrations` (`{}`), a different member each time (Bearer
      token) → 201; the event's row locked, the places counted, the row, the audit entry and the e-mail task
      inserted, committed (pretix: `POST …/orders/` → 201);
    - *check in*: `POST /evenements/qr/<code>/` (the QR code's URL, the door's one-tap form) with the staff
      member's session cookie and the CSRF cookie + form field, as the phone's browser sends them, a
      different registration each time → 200 (pretix: `POST …/checkinrpc/redeem/` with a team token → 201);
    - *event page*: `GET /evenements/<id>/`, anonymous, no cookie → 200 (pretix: `GET /<org>/<event>/`);
    the event holds 5,000 registrations when the HTTP part starts (pretix's bench starts from its 5,000
    orders too);
  - then in-process through Django's test client (the whole request: middleware, authentication, the view
    or API handler, the service, the template; no HTTP, no socket), `--count` calls after `--warmup`:
    wall and CPU time per call (Django and its PostgreSQL backend), and the SQL statements of one call.

    python -m bench --only events                      # through the orchestrator (its own database)
    python -m bench.events --step seed --out seed.json --members 600   # by hand (DATABASE_URL set), then
    python -m bench.events --step measure --seeded seed.json --out measured.json
"""

import argparse
import http.client
import json
import os
import re
import time
from datetime import timedelta
from pathlib import Path

from bench import common

REGISTRATIONS = 5000
CAPACITY = 6000
STAFF = "equipe@bench.test"
OPERATIONS = ("register", "check_in", "event_page")
PRETIX_NAMES = {"register": "order_create_seq", "check_in": "checkin_rpc_seq", "event_page": "event_page_seq"}


def seed(args) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from cocotte.accounts import permissions
    from cocotte.accounts.models import ApiToken, Role
    from cocotte.events import services
    from cocotte.events.models import Registration, new_token
    from cocotte.spaces.models import Network, Site

    started = time.perf_counter()
    User = get_user_model()
    with transaction.atomic():
        network = Network.objects.create(name="Hautes Terres", slug="hautes-terres")
        site = Site.objects.create(
            network=network, slug="murat", name="La COcotte numérique", street="Rue du Faubourg Notre-Dame",
            postal_code="15300", city="Murat",
        )  # fmt: skip
        staff = User.objects.create_user(STAFF, "a-long-password-1", is_staff=True)
        permissions.grant_role(staff, Role.Name.SITE_STAFF, site)
        start = timezone.now() + timedelta(days=20)
        event = services.create_event(
            by=staff,
            site=site,
            title="Forum du télétravail",
            description="…",
            outside_address="Salle polyvalente, Murat",
            start=start,
            end=start + timedelta(hours=8),
            capacity=CAPACITY,
            waiting_list=True,
            registration_opens=timezone.now() - timedelta(days=1),
        )
        services.publish(event, by=staff)
        now = timezone.now()
        Registration.objects.bulk_create(
            (
                Registration(
                    event=event,
                    name=f"Visiteur {i:04d}",
                    email=f"visiteur-{i}@bench.test",
                    status=Registration.Status.CONFIRMED,
                    confirmed_at=now,
                    token=new_token(),
                    checkin_code=new_token(),
                )
                for i in range(REGISTRATIONS)
            ),
            batch_size=1000,
        )
        User.objects.bulk_create(
            User(email=f"member-{i}@bench.test", password=make_password(None)) for i in range(args.members)
        )
    tokens = {}
    for user in User.objects.filter(email__startswith="member-"):
        tokens[user.email] = ApiToken.issue(user, name="bench")[1]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {
        "event": event.pk,
        "registrations": Registration.objects.filter(event=event).count(),
        "members": len(tokens),
        "tokens": tokens,
        "seed_seconds": round(time.perf_counter() - started, 1),
    }


# --- over HTTP, as pretix's bench.py ------------------------------------------------------------------------


def send(port: int, method: str, path: str, *, headers: dict | None = None, payload: bytes | None = None):
    """One request on a new connection, timed end to end (as pretix's `Client.request`: http.client, a new
    connection, `Connection: close`, the whole body read)."""
    headers = {"Host": f"{common.HOST}:{port}", "Connection": "close", **(headers or {})}
    started = time.perf_counter()
    conn = http.client.HTTPConnection(common.HOST, port, timeout=120)
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    return common.Response(response.status, data, time.perf_counter() - started)


def sequential(port: int, calls: list, *, warmup: int, expect: int) -> dict:
    """`calls` ((method, path, headers, payload)) one after another; the first `warmup` sent and checked, not
    counted. Median and p95 (nearest rank) of the others, their statuses and response size."""
    latencies, statuses, sizes = [], {}, []
    for index, (method, path, headers, payload) in enumerate(calls):
        response = send(port, method, path, headers=headers, payload=payload)
        statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1
        if response.status != expect:
            raise RuntimeError(f"{method} {path} → {response.status}: {response.body[:300]!r}")
        if index >= warmup:
            latencies.append(response.seconds * 1000)
            sizes.append(len(response.body))
    return {
        **common.summary(latencies),
        "statuses": statuses,
        "response_bytes": round(sum(sizes) / len(sizes)),
    }


def csrf_pair(client, path: str) -> tuple[str, str]:
    """(cookie, form field) of the CSRF protection, as the door's page hands them to the phone's browser."""
    from django.conf import settings

    response = client.get(path)
    assert response.status_code == 200, response.status_code
    field = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.content)
    assert field, "no CSRF field on the QR code's page"
    return client.cookies[settings.CSRF_COOKIE_NAME].value, field.group(1).decode()


def over_http(args, *, event, tokens: list, codes: list, door) -> dict:
    from urllib.parse import urlencode

    from django.conf import settings

    from cocotte.events.models import Registration

    total = args.http_count + args.http_warmup
    session = door.cookies[settings.SESSION_COOKIE_NAME].value
    csrf_cookie, csrf_field = csrf_pair(door, f"/evenements/qr/{codes[0]}/")
    at_start = Registration.objects.filter(event=event).count()
    register_url = f"/api/v1/events/{event.pk}/registrations"
    registering = [
        (
            "POST",
            register_url,
            {
                "Accept": "application/json",
                "Content-Type": "application/json",
                "Authorization": f"Bearer {t}",
            },
            b"{}",
        )
        for t in tokens[:total]
    ]
    form = urlencode({"csrfmiddlewaretoken": csrf_field}).encode()
    checking_in = []
    for code in codes[:total]:
        headers = {
            "Accept": "text/html",
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf_cookie}",
        }
        checking_in.append(("POST", f"/evenements/qr/{code}/", headers, form))
    page = f"/evenements/{event.pk}/"
    viewing = [("GET", page, {"Accept": "text/html"}, None)] * total
    from django.db import connection

    connection.close()  # no connection held by the client while it measures (as pretix's bench.py)
    with common.gunicorn(args.port, workers=2, log_name="gunicorn-events") as port:
        for call in checking_in:
            call[2]["Origin"] = f"http://{common.HOST}:{port}"  # what a browser sends with a form's POST
        first = send(port, "GET", page, headers={"Accept": "text/html"})
        assert first.status == 200 and event.title.encode() in first.body, (first.status, first.body[:300])
        quiet = common.wait_for_quiet(max(args.quiet_wait, 0))  # (0: one reading of 3 s, no waiting)
        if not quiet["quiet"]:
            print(
                f"  (other processes still use {quiet['cores_others']} cores: measuring anyway)", flush=True
            )
        monitor = common.CpuMonitor()
        figures = {
            "register": sequential(port, registering, warmup=args.http_warmup, expect=201),
            "check_in": sequential(port, checking_in, warmup=args.http_warmup, expect=200),
            "event_page": sequential(port, viewing, warmup=args.http_warmup, expect=200),
        }
        during = monitor.read()
    return {
        **figures,
        "server": f"gunicorn cocotte.wsgi -w 2 (sync) on {common.HOST}, the settings' defaults",
        "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
        "warmup": args.http_warmup,
        "registrations_at_start": at_start,
        "quiet": quiet,
        "cpu_during": during,
    }


def measure(args) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from cocotte.events.models import Event, Registration

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    seeded = json.loads(Path(args.seeded).read_text())
    event = Event.objects.get(pk=seeded["event"])
    tokens = list(seeded["tokens"].values())
    http_calls = args.http_count + args.http_warmup if args.http_count else 0
    needed = http_calls + args.count + args.warmup + 2
    if len(tokens) < needed:
        raise SystemExit(f"{needed} members needed (seed --members), {len(tokens)} seeded")
    codes = list(
        Registration.objects.filter(event=event, checked_in_at__isnull=True)
        .order_by("?")
        .values_list("checkin_code", flat=True)[:needed]
    )
    staff = get_user_model().objects.get(email=STAFF)
    door = Client()
    door.force_login(staff)  # a session row, as the staff member's login on the door's phone
    results = {}
    if http_calls:
        results["http"] = over_http(
            args, event=event, tokens=tokens[:http_calls], codes=codes[:http_calls], door=door
        )
        tokens, codes = tokens[http_calls:], codes[http_calls:]

    api, visitor = Client(), Client()
    register_url = f"/api/v1/events/{event.pk}/registrations"

    def registering():
        token = tokens.pop()

        def call():
            response = api.post(
                register_url,
                "{}",
                content_type="application/json",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 201, response.content

        return call

    def checking_in():
        code = codes.pop()

        def call():
            response = door.post(f"/evenements/qr/{code}/")
            assert response.status_code == 200, response.status_code

        return call

    def viewing():
        def call():
            response = visitor.get(f"/evenements/{event.pk}/")
            assert response.status_code == 200, response.status_code

        return call

    for name, make in (("register", registering), ("check_in", checking_in), ("event_page", viewing)):
        queries = common.queries_of(make())
        calls = [make() for _ in range(args.count + args.warmup)]
        iterator = iter(calls)
        costs = common.in_process_costs(lambda it=iterator: next(it)(), args.count, args.warmup)
        results[name] = {**costs, "sql_statements": len(queries), "sql": queries}
    results["registrations_in_event"] = Registration.objects.filter(event=event).count()
    return results


# --- pretix, measured by its own harness ---------------------------------------------------------------------


def pretix_figures(path: Path) -> dict | None:
    """The sequential figures of a run of `../shared/peers/pretix/bench.py` (its JSON), if the file exists."""
    if not path.is_file():
        return None
    run = json.loads(path.read_text())
    rows = {row["name"]: row for row in run.get("results", []) if "name" in row}
    figures = {}
    for ours, theirs in PRETIX_NAMES.items():
        row = rows.get(theirs)
        if row:
            figures[ours] = {
                "name": theirs,
                "n": row["n"],
                "median_ms": row["median_ms"],
                "p95_ms": row["p95_ms"],
                "sql_statements": row.get("sql_queries_per_call"),
                "statuses": row.get("http_status_counts"),
            }
    return {
        "file": str(path),
        "timestamp": run.get("timestamp"),
        "version": run.get("pretix_version"),
        "gunicorn_workers": run.get("gunicorn_workers"),
        "dataset": run.get("dataset"),
        "operations": figures,
    }


def ratios(ours: dict, pretix: dict | None) -> dict:
    """pretix / Cocotte, per operation, of the medians and p95s over HTTP."""
    if not pretix:
        return {}
    result = {}
    for name, theirs in pretix["operations"].items():
        mine = ours.get(name)
        if mine and mine.get("median_ms"):
            result[name] = {
                "median": round(theirs["median_ms"] / mine["median_ms"], 1),
                "p95": round(theirs["p95_ms"] / mine["p95_ms"], 1),
            }
    return result


# --- the orchestrator's part -------------------------------------------------------------------------------


def orchestrate(args, results: dict) -> None:
    """`python -m bench --only events`: a database of its own, seeded, measured, figures printed."""
    url = common.database_url("_events")
    count = 100 if args.quick else 300
    http_count = getattr(args, "events_http", 200)
    http_warmup = 10
    wait = getattr(args, "events_quiet_wait", 1200)
    print(
        f"\n[events] register, check in and the event page, event of {REGISTRATIONS:,} registrations: "
        f"{http_count} calls of each over HTTP (gunicorn, 2 workers), {count} in-process",
        flush=True,
    )
    common.create_database(url)
    migrate_seconds = common.cocotte(url, "migrate", "--noinput")
    members = (http_count + http_warmup if http_count else 0) + count + 30
    seeded = common.run_phase("events", url, "--step", "seed", "--members", str(members))
    print(f"  seeded {seeded['registrations']:,} registrations in {seeded['seed_seconds']} s", flush=True)
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    seed_file = common.RESULTS / f".events-seed-{os.getpid()}.json"
    seed_file.write_text(json.dumps(seeded))
    try:
        measured = common.run_phase(
            "events", url, "--step", "measure", "--seeded", str(seed_file), "--count", str(count),
            "--http-count", str(http_count), "--http-warmup", str(http_warmup), "--quiet-wait", str(wait),
            "--port", str(args.port + 25),
        )  # fmt: skip
    finally:
        seed_file.unlink(missing_ok=True)
    pretix = pretix_figures(Path(getattr(args, "events_pretix", "") or default_pretix_results()))
    http = measured.get("http", {})
    compared = ratios(http, pretix)
    if http:
        quiet = http["quiet"]
        print(
            f"  over HTTP (other processes: {quiet.get('cores_others', '?')} cores before, waited "
            f"{quiet.get('waited_seconds', 0)} s; {http['cpu_during']['cores_others']} cores during):",
            flush=True,
        )
        for name in OPERATIONS:
            f = http[name]
            theirs = (pretix or {}).get("operations", {}).get(name)
            versus = (
                f"; pretix {theirs['median_ms']} / {theirs['p95_ms']} ms, ratio {compared[name]['median']}× "
                f"/ {compared[name]['p95']}×"
                if theirs and name in compared
                else ""
            )
            print(f"    {name}: median {f['median_ms']} ms, p95 {f['p95_ms']} ms{versus}", flush=True)
    for name in OPERATIONS:
        figures = measured[name]
        print(
            f"  {name}, in-process: median {figures['median_ms']} ms, p95 {figures['p95_ms']} ms, CPU "
            f"{figures['cpu_total_mean_ms']} ms per call, {figures['sql_statements']} SQL statements",
            flush=True,
        )
    seeded.pop("tokens", None)
    results["events"] = {
        "database": common.database_name(url),
        "migrate_seconds": round(migrate_seconds, 1),
        "seed": seeded,
        "measure": measured,
        "target_check_in_ms": 50.0,
        "pretix": pretix,
        "ratios_pretix_over_cocotte": compared,
    }


def default_pretix_results() -> Path:
    """Where pretix's bench.py writes its figures by default (`$PEERS/pretix-bench-results.json`)."""
    peers = os.environ.get("PEERS", "/var/tmp/cocotte-peers")  # noqa: S108 — the peers' harness's folder
    return Path(peers) / "pretix-bench-results.json"


def table_rows(e: dict) -> list[str]:
    """The events' lines of the orchestrator's Markdown table."""
    rows = []
    size = f"{e['seed']['registrations']:,} registrations"
    labels = {
        "register": ("Register one place (API, member token)", None),
        "check_in": ("Check one person in (QR code URL, staff session)", e["target_check_in_ms"]),
        "event_page": ("Event page (anonymous)", None),
    }
    http = e["measure"].get("http", {})
    theirs = (e.get("pretix") or {}).get("operations", {})
    for name, (label, target) in labels.items():
        if name in http:
            h = http[name]
            met = f"{'yes' if h['median_ms'] <= target else '**no**'}" if target else ""
            rows.append(
                f"| {label}, HTTP (gunicorn, 2 workers), {size} | {h['median_ms']} ms | {h['p95_ms']} ms "
                f"| {f'< {target:g} ms' if target else ''} | {met} |"
            )
        if name in theirs:
            p, r = theirs[name], e["ratios_pretix_over_cocotte"].get(name, {})
            rows.append(
                f"| … pretix `{p['name']}` (its bench.py, {p['sql_statements']} SQL), ratio pretix / Cocotte "
                f"{r.get('median', '?')}× | {p['median_ms']} ms | {p['p95_ms']} ms | | |"
            )
        m = e["measure"][name]
        rows.append(
            f"| … Django test client, {m['sql_statements']} SQL | {m['median_ms']} ms | {m['p95_ms']} ms | | |"
        )
        rows.append(
            f"| … its CPU per call: Django {m['cpu_mean_ms']} ms + PostgreSQL {m['postgresql_cpu_mean_ms']} ms "
            f"| {m['cpu_total_mean_ms']} ms | | | |"
        )
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--step", choices=["seed", "measure"], required=True)
    parser.add_argument("--members", type=int, default=560, help="members who will register (seed)")
    parser.add_argument("--seeded", help="the seed step's JSON (measure)")
    parser.add_argument("--count", type=int, default=300, help="in-process calls of each kind")
    parser.add_argument("--warmup", type=int, default=20, help="in-process warm-up calls")
    parser.add_argument("--http-count", type=int, default=200, help="calls of each kind over HTTP (0: none)")
    parser.add_argument("--http-warmup", type=int, default=10, help="warm-up calls over HTTP (pretix: 10)")
    parser.add_argument(
        "--quiet-wait", type=float, default=1200, help="seconds to wait, at most, for a quiet machine"
    )
    parser.add_argument("--port", type=int, default=8790, help="gunicorn's loopback port (or the next free)")
    args = parser.parse_args(argv)
    common.setup_django()
    step = {"seed": seed, "measure": measure}[args.step]
    common.write_json(args.out, step(args))


if __name__ == "__main__":
    main()
