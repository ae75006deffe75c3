"""Phase: registering one place and checking one person in, on an event of 5,000 registrations (issue 10:
"check-in of one person answers in under 50 ms on PostgreSQL with 5,000 registrations"), on a database of its
own; compared with pretix on the same machine (SEAMS.md: 96–120 ms and 64 SQL statements to register, 35–59 ms
and 19–20 to check in).

Two steps, each its own process (`--step`), as the orchestrator calls them:

- `seed`: a site with its staff member, one published event of 6,000 places holding 5,000 confirmed
  registrations (visitors', bulk-inserted with the fields the services write), and `--members` members with
  an API token each, who will register;
- `measure`, in-process through Django's test client (the whole request: middleware, authentication, the
  view or API handler, the service, the template), after a warm-up:
  - *register*: `POST /api/v1/events/{id}/registrations` by a different member each time (Bearer token), in
    the event of 5,000 registrations: the event's row locked, the places counted, the row and the e-mail task
    inserted, committed;
  - *check in*: `POST /evenements/qr/<code>/` (the QR code's URL) by the staff member's session, a different
    registration each time;
  wall and CPU time per call (median, p95), and the SQL statements of one call of each.

    python -m bench --only events                      # through the orchestrator (its own database)
    python -m bench.events --step seed --out seed.json  # by hand (DATABASE_URL set), then --step measure
"""

import argparse
import time
from datetime import timedelta
from pathlib import Path

from bench import common

REGISTRATIONS = 5000
CAPACITY = 6000
STAFF = "equipe@bench.test"


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


def measure(args) -> dict:
    import json

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from cocotte.events.models import Event, Registration

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    seeded = json.loads(Path(args.seeded).read_text())
    event = Event.objects.get(pk=seeded["event"])
    tokens = list(seeded["tokens"].values())
    codes = list(
        Registration.objects.filter(event=event, checked_in_at__isnull=True)
        .order_by("?")
        .values_list("checkin_code", flat=True)[: args.count + args.warmup + 2]
    )
    staff = get_user_model().objects.get(email=STAFF)
    door = Client()
    door.force_login(staff)
    api = Client()
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

    results = {}
    for name, make in (("register", registering), ("check_in", checking_in)):
        queries = common.queries_of(make())
        calls = [make() for _ in range(args.count + args.warmup)]
        iterator = iter(calls)
        costs = common.in_process_costs(lambda it=iterator: next(it)(), args.count, args.warmup)
        results[name] = {**costs, "sql_statements": len(queries), "sql": queries}
    results["registrations_in_event"] = Registration.objects.filter(event=event).count()
    return results


# --- the orchestrator's part -------------------------------------------------------------------------------


def orchestrate(args, results: dict) -> None:
    """`python -m bench --only events`: a database of its own, seeded, measured, figures printed."""
    import json
    import os

    url = common.database_url("_events")
    count = 100 if args.quick else 300
    print(
        f"\n[events] register and check in, event of {REGISTRATIONS:,} registrations, {count} calls",
        flush=True,
    )
    common.create_database(url)
    migrate_seconds = common.cocotte(url, "migrate", "--noinput")
    seeded = common.run_phase("events", url, "--step", "seed", "--members", str(count + 30))
    print(f"  seeded {seeded['registrations']:,} registrations in {seeded['seed_seconds']} s", flush=True)
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    seed_file = common.RESULTS / f".events-seed-{os.getpid()}.json"
    seed_file.write_text(json.dumps(seeded))
    try:
        quiet_reading = (
            common.wait_for_quiet(getattr(args, "quiet_wait", 0) or 0)
            if getattr(args, "quiet_wait", 0)
            else {}
        )
        measured = common.run_phase(
            "events", url, "--step", "measure", "--seeded", str(seed_file), "--count", str(count)
        )
    finally:
        seed_file.unlink(missing_ok=True)
    for name in ("register", "check_in"):
        figures = measured[name]
        print(
            f"  {name}: median {figures['median_ms']} ms, p95 {figures['p95_ms']} ms, CPU {figures['cpu_total_mean_ms']} "
            f"ms per call, {figures['sql_statements']} SQL statements",
            flush=True,
        )
    seeded.pop("tokens", None)
    results["events"] = {
        "database": common.database_name(url),
        "migrate_seconds": round(migrate_seconds, 1),
        "seed": seeded,
        "measure": measured,
        "quiet": quiet_reading,
        "target_check_in_ms": 50.0,
        "pretix": {
            "register_ms": [96, 120],
            "register_sql": 64,
            "check_in_ms": [35, 59],
            "check_in_sql": [19, 20],
        },
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--step", choices=["seed", "measure"], required=True)
    parser.add_argument("--members", type=int, default=330, help="members who will register (seed)")
    parser.add_argument("--seeded", help="the seed step's JSON (measure)")
    parser.add_argument("--count", type=int, default=300, help="measured calls of each kind")
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)
    common.setup_django()
    step = {"seed": seed, "measure": measure}[args.step]
    common.write_json(args.out, step(args))


if __name__ == "__main__":
    main()


def table_rows(e: dict) -> list[str]:
    """The events' lines of the orchestrator's Markdown table."""
    rows = []
    size = f"{e['seed']['registrations']:,} registrations"
    for name, label, target in (
        ("register", "Register one place (API, member token)", None),
        ("check_in", "Check one person in (QR code URL, staff session)", e["target_check_in_ms"]),
    ):
        m = e["measure"][name]
        met = f"{'yes' if m['median_ms'] <= target else '**no**'}" if target else ""
        rows.append(
            f"| {label}, Django test client, {size}, {m['sql_statements']} SQL "
            f"| {m['median_ms']} ms | {m['p95_ms']} ms | {f'< {target:g} ms' if target else ''} | {met} |"
        )
        rows.append(
            f"| … its CPU per call: Django {m['cpu_mean_ms']} ms + PostgreSQL {m['postgresql_cpu_mean_ms']} ms "
            f"| {m['cpu_total_mean_ms']} ms | | | |"
        )
    return rows
