"""`python -m bench` (`make bench`): every benchmark, on dedicated PostgreSQL databases, figures printed and
written to bench/results/ (JSON).

    python -m bench                                  # the issue's figures: 10,000 and 1,000,000 bookings
    python -m bench --bookings 100000 --quick        # a faster run: smaller database, fewer requests
    python -m bench --only comparison                # some phases (availability, pages, throughput,
                                                     # comparison, billing)
    python -m bench --only billing                   # a month's billing run for 1,000 members, alone
    python -m bench --only events                    # register, check in, event page; event of 5,000
                                                     # registrations, over HTTP and in-process (bench/events.py)
    python -m bench --keep --reuse                   # keep the databases, and reuse them next time

Databases (created and dropped here): BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
cocotte_bench) for the large one, the same name + `_small` for 10,000 bookings, + `_cmp` for the comparison
data set, + `_billing` for the billing run (bench/billing.py). The data folder is COCOTTE_DATA_DIR (default
/tmp/cocotte-bench). Loopback only: gunicorn listens on 127.0.0.1, from --port on.

Server configurations (bench.common.SERVERS), all `gunicorn … -w 2`: "per-request" (DATABASE_CONN_MAX_AGE=0, a
new database connection per request), "persistent" (DATABASE_CONN_MAX_AGE=60), "tuned" (persistent, plus the
write-lock change recommended in docs/PERFORMANCE.md, applied in memory by bench.wsgi_tuned). The targets are
judged on the configuration that the settings' defaults amount to; the comparison set runs on the defaults.
"""

import argparse
import sys
import time

from bench import common

# Issue 7's targets (medians through gunicorn on PostgreSQL, the settings' defaults).
AVAILABILITY_TARGET_MS = 10.0  # the demo site's week, member token, 1,000,000 bookings
GROWTH_TARGET = 1.2  # … and at most 1.2 × its figure at 10,000
PAGES_TARGET_MS = 30.0  # each member page: grid of a day, of a week, my bookings
THROUGHPUT_TARGET = 0.5  # bookings/s over `bench/write` (authenticate a token, insert one row, commit)
COMPARISON_TARGETS_MS = {"availability_week": 20.0, "availability_day": 8.0, "create": 12.0, "conflict": 6.0}
BILLING_TARGET_SECONDS = 60.0  # a billing run for 1,000 members, drafts then issue with PDFs, on 2 cores


def prepare(url: str, bookings: int, *, reuse: bool) -> dict:
    """A migrated database seeded like `seed_demo --bookings N` (see bench.seed), timed. Reused if asked."""
    label = f"cocotte-bench seed --bookings {bookings} on {common.today().isoformat()}"
    if reuse and common.database_exists(url) and common.database_label(url) == label:
        print(f"  reusing {common.database_name(url)} ({label})", flush=True)
        return {"reused": True}
    print(f"  creating {common.database_name(url)}", flush=True)
    common.create_database(url)
    migrate_seconds = common.cocotte(url, "migrate", "--noinput")
    print(f"  cocotte seed_demo --bookings {bookings} …", flush=True)
    try:
        seeded = common.run_phase("seed", url, "--bookings", str(bookings), "--mode", "command", capture=True)
    except common.PhaseFailed as error:
        print(f"  seed_demo failed: {error}", flush=True)
        print("  again, on a new database, with the work-around of bench/seed.py …", flush=True)
        common.create_database(url)
        migrate_seconds = common.cocotte(url, "migrate", "--noinput")
        seeded = common.run_phase("seed", url, "--bookings", str(bookings), "--mode", "workaround")
        seeded["command_failed"] = str(error)
    print(
        f"  seeded in {seeded['seed_seconds']} s ({seeded['mode']}; then VACUUM ANALYZE "
        f"{seeded['vacuum_analyze_seconds']} s)",
        flush=True,
    )
    common.set_database_label(url, label)
    return {"reused": False, "migrate_seconds": round(migrate_seconds, 1), **seeded}


def quiet(args) -> dict:
    """Wait a little for other users of the machine to calm down (bounded), and say how it was."""
    if args.quiet_wait <= 0:
        return {}
    reading = common.wait_for_quiet(args.quiet_wait)
    if not reading["quiet"]:
        print(f"  (other processes still use {reading['cores_others']} cores: measuring anyway)", flush=True)
    return reading


def run_availability(args, results: dict) -> None:
    from bench import availability

    sizes = [("small", args.small, "_small"), ("large", args.bookings, "")]
    runs, targets = {}, {}
    for label, count, suffix in sizes:
        url = common.database_url(suffix)
        print(f"\n[availability] {count:,} bookings", flush=True)
        prepared = prepare(url, count, reuse=args.reuse)
        run = common.run_phase(
            "availability", url, "--requests", str(args.requests), "--warmup", str(args.warmup)
        )
        run.update(seeded_bookings=count, database=common.database_name(url), **prepared)
        targets[label] = (url, run.pop("token"))
        runs[label] = run
        explain = run["explain"]
        print(
            f"  Django test client {run['in_process_member']['median_ms']} ms "
            f"({len(run['queries_per_request'])} queries); bookings query {explain['execution_ms']} ms "
            f"via {', '.join(explain['indexes']) or 'no index'}",
            flush=True,
        )
    paths = {run["path"] for run in runs.values()}
    if len(paths) != 1:
        raise RuntimeError(f"the databases disagree on the week: {paths}")
    print(
        "\n[availability] HTTP, both databases in turns, per-request and persistent connections", flush=True
    )
    before = quiet(args)
    monitor = common.CpuMonitor()
    http = availability.measure(
        targets, paths.pop(), requests=args.requests, warmup=args.warmup, port=args.port
    )
    cpu = {"before": before, "during": monitor.read()}
    for label, run in runs.items():
        run["http"] = http[label]
        for server, figures in run["http"].items():
            member, anonymous = figures["member"], figures["anonymous"]
            print(
                f"  {run['seeded_bookings']:>9,} bookings, {server}: GET week median {member['median_ms']} ms, "
                f"p95 {member['p95_ms']} ms (anonymous {anonymous['median_ms']} / {anonymous['p95_ms']} ms)",
                flush=True,
            )
    print(f"  other processes used {cpu['during']['cores_others']} cores meanwhile", flush=True)
    growth = {}
    for server in runs["large"]["http"]:
        small, large = runs["small"]["http"][server]["member"], runs["large"]["http"][server]["member"]
        growth[server] = round(large["median_ms"] / small["median_ms"], 3)
    results["availability"] = {
        "default_server": runs["large"]["default_server"],
        "runs": runs,
        "growth": growth,
        "cpu": cpu,
        "target_median_ms": AVAILABILITY_TARGET_MS,
        "target_growth": GROWTH_TARGET,
    }


def run_pages(args, results: dict) -> None:
    url = common.database_url("")
    print(f"\n[pages] member pages on {args.bookings:,} bookings", flush=True)
    prepared = prepare(url, args.bookings, reuse=True)  # the availability phase's database, if it ran
    before = quiet(args)
    monitor = common.CpuMonitor()
    run = common.run_phase(
        "pages",
        url,
        "--port",
        str(args.port + 30),
        "--requests",
        str(args.requests),
        "--warmup",
        str(args.warmup),
    )
    run.update(seeded_bookings=args.bookings, cpu={"before": before, "during": monitor.read()}, **prepared)
    results["pages"] = {**run, "target_median_ms": PAGES_TARGET_MS}
    for name, figures in run["http"].items():
        local = run["in_process"][name]
        print(
            f"  {name}: median {figures['median_ms']} ms, p95 {figures['p95_ms']} ms; test client "
            f"{local['median_ms']} ms, CPU {local['cpu_median_ms']} + {local['postgresql_cpu_mean_ms']} ms, "
            f"{len(local['queries'])} queries",
            flush=True,
        )
    print(f"  other processes used {run['cpu']['during']['cores_others']} cores meanwhile", flush=True)


def run_throughput(args, results: dict) -> None:
    url = common.database_url("")
    print(f"\n[throughput] on {args.bookings:,} bookings", flush=True)
    if "availability" in results:
        prepared = {"reused": "availability phase"}
    else:
        prepared = prepare(url, args.bookings, reuse=args.reuse)
    before = quiet(args)
    monitor = common.CpuMonitor()
    run = common.run_phase(
        "throughput",
        url,
        "--port",
        str(args.port + 10),
        "--threads",
        str(args.threads),
        "--booking-requests",
        str(args.booking_requests),
        "--ping-requests",
        str(args.ping_requests),
        "--write-requests",
        str(args.ping_requests // 3),
    )
    run.update(
        seeded_bookings=args.bookings,
        database=common.database_name(url),
        cpu={"before": before, "during": monitor.read()},
        **prepared,
    )
    results["throughput"] = {**run, "target_ratio": THROUGHPUT_TARGET}
    for server, figures in run["servers"].items():
        print(
            f"  {server}: ping {figures['ping_requests_per_second']} req/s, write "
            f"{figures['write_requests_per_second']} req/s, bookings {figures['booking_requests_per_second']} "
            f"req/s, ratio to ping {figures['ratio']}, to write {figures['ratio_to_write']}; "
            f"statuses {figures['bookings']['statuses']}",
            flush=True,
        )
    print(
        f"  overlapping live bookings: {run['overlapping_live_bookings']}; "
        f"other processes used {run['cpu']['during']['cores_others']} cores",
        flush=True,
    )


def run_comparison(args, results: dict) -> None:
    url = common.database_url("_cmp")
    print("\n[comparison] data set: 50 resources, 50,000 bookings, 100 weekly series", flush=True)
    common.create_database(url)
    common.cocotte(url, "migrate", "--noinput")
    before = quiet(args)
    monitor = common.CpuMonitor()
    run = common.run_phase(
        "comparison",
        url,
        "--port",
        str(args.port + 20),
        "--requests",
        str(args.cmp_requests),
        "--warmup",
        str(args.warmup),
    )
    run.update(database=common.database_name(url), cpu={"before": before, "during": monitor.read()})
    results["comparison"] = run
    print(
        f"  generated in {run['generate_seconds']} s, loaded {run['dataset']['bookings_total']:,} bookings "
        f"in {run['load_seconds']} s; exported to bench/results/comparison/",
        flush=True,
    )
    for name, figures in run["operations"].items():
        print(f"  {name}: median {figures['median_ms']} ms, p95 {figures['p95_ms']} ms", flush=True)


def run_billing(args, results: dict) -> None:
    url = common.database_url("_billing")
    size = ["--members", str(args.members), "--organisations", str(args.organisations)]
    print(
        f"\n[billing] a month's run: {args.members:,} members, {args.organisations} organisations, "
        f"{args.workers} PDF workers",
        flush=True,
    )
    common.create_database(url)
    migrate_seconds = common.cocotte(url, "migrate", "--noinput")
    seeded = common.run_phase("billing", url, "--step", "seed", *size)
    print(
        f"  seeded {seeded['members']:,} members ({seeded['subscriptions']} subscriptions), "
        f"{seeded['organisations']} organisations ({seeded['leases']} leases, {seeded['aids']} aids), "
        f"{seeded['charges']:,} charges for {seeded['month']} in {seeded['seed_seconds']} s",
        flush=True,
    )
    before = quiet(args)
    monitor = common.CpuMonitor()
    run = common.run_phase("billing", url, "--step", "run", "--workers", str(args.workers))
    during = monitor.read()
    parts, per = run["parts"], run["per_invoice_ms"]
    print(
        f"  {run['invoices']:,} invoices in {parts['total']['seconds']} s: prepare {parts['prepare']['seconds']} s, "
        f"numbers {parts['issue']['seconds']} s within numbers + PDFs {parts['render']['seconds']} s, dispatch "
        f"{parts['dispatch']['seconds']} s; CPU per invoice {per['cpu_total']} ms (Python {per['cpu_python']} + "
        f"PostgreSQL {per['cpu_postgresql']}); other processes used {during['cores_others']} cores",
        flush=True,
    )
    quiet(args)
    breakdown = common.run_phase("billing", url, "--step", "breakdown", "--sample", str(args.billing_sample))
    per_bill = breakdown["per_bill"]
    print(
        f"  breakdown of {breakdown['sample']} bills, CPU per bill {breakdown['per_bill_total']['cpu_ms']} ms: "
        + ", ".join(f"{name} {figures['cpu_ms']}" for name, figures in per_bill.items()),
        flush=True,
    )
    results["billing"] = {
        "database": common.database_name(url),
        "migrate_seconds": round(migrate_seconds, 1),
        "seed": seeded,
        "run": run,
        "breakdown": breakdown,
        "cpu": {"before": before, "during": during},
        "target_seconds": BILLING_TARGET_SECONDS,
    }


def run_events(args, results: dict) -> None:
    from bench import events

    events.orchestrate(args, results)


PHASES = {
    "availability": run_availability,
    "pages": run_pages,
    "throughput": run_throughput,
    "comparison": run_comparison,
    "billing": run_billing,
    "events": run_events,
}


def _ok(flag: bool) -> str:
    return "yes" if flag else "**no**"


def _name(server: str, default: str) -> str:
    return f"{server} (= the defaults)" if server == default else server


def table(results: dict) -> str:
    """The figures as a Markdown table (what docs/PERFORMANCE.md shows)."""
    lines = ["| Measure | Median | p95 | Target | Met |", "|---|---:|---:|---|---|"]
    if "availability" in results:
        a = results["availability"]
        default = a["default_server"]
        for label in ("small", "large"):
            run = a["runs"][label]
            size = f"{run['bookings_in_database']:,} bookings"
            for server, figures in run["http"].items():
                member, anonymous = figures["member"], figures["anonymous"]
                target = label == "large" and server == a["default_server"]
                lines.append(
                    f"| Week of `{run['site']}` via API, {_name(server, default)}, member token, {size} "
                    f"| {member['median_ms']} ms | {member['p95_ms']} ms "
                    f"| {f'≤ {AVAILABILITY_TARGET_MS:g} ms' if target else ''} | {_ok(member['median_ms'] <= AVAILABILITY_TARGET_MS) if target else ''} |"
                )
                lines.append(
                    f"| Week via API, {_name(server, default)}, anonymous, {size} | {anonymous['median_ms']} ms "
                    f"| {anonymous['p95_ms']} ms | | |"
                )
            in_process = run["in_process_member"]
            lines.append(
                f"| Week via Django test client (no HTTP, no reconnect), {size} "
                f"| {in_process['median_ms']} ms | {in_process['p95_ms']} ms | | |"
            )
            lines.append(
                f"| … its CPU time per request: Django {in_process['cpu_mean_ms']} ms + PostgreSQL "
                f"{in_process['postgresql_cpu_mean_ms']} ms (means), {size} | {in_process['cpu_total_mean_ms']} ms | | | |"
            )
            lines.append(
                f"| Bookings query alone (EXPLAIN ANALYZE execution), {size} | {run['explain']['execution_ms']} ms | | | |"
            )
        for server, growth in a["growth"].items():
            target = server == a["default_server"]
            lines.append(
                f"| Growth of the median, {a['runs']['large']['bookings_in_database']:,} / "
                f"{a['runs']['small']['bookings_in_database']:,} bookings, {_name(server, default)} | {growth}× | "
                f"| {f'≤ {GROWTH_TARGET}×' if target else ''} | {_ok(growth <= GROWTH_TARGET) if target else ''} |"
            )
        large = a["runs"]["large"]
        if large.get("seed_seconds") is not None:
            lines.append(
                f"| Seeding {large['seeded_bookings']:,} bookings (`seed_demo`, {large['mode']}) "
                f"| {large['seed_seconds']} s | | | |"
            )
    if "pages" in results:
        p = results["pages"]
        names = {"grid_day": "grid of a day", "grid_week": "grid of a week", "my_bookings": "my bookings"}
        for key, name in names.items():
            f, local = p["http"][key], p["in_process"][key]
            lines.append(
                f"| Member page, {name} (`{p['paths'][key]}`), session cookie | {f['median_ms']} ms | {f['p95_ms']} ms "
                f"| ≤ {PAGES_TARGET_MS:g} ms | {_ok(f['median_ms'] <= PAGES_TARGET_MS)} |"
            )
            lines.append(
                f"| … test client: wall / CPU Django + PostgreSQL / queries | {local['median_ms']} ms "
                f"| {local['cpu_median_ms']} + {local['postgresql_cpu_mean_ms']} ms | {len(local['queries'])} | |"
            )
    if "throughput" in results:
        t = results["throughput"]
        default = t["default_server"]
        for server, s in t["servers"].items():
            b = s["bookings"]
            target = server == t["default_server"]
            lines.append(
                f"| `bench/ping` (minimal Django JSON view), {_name(server, default)} | {s['ping_requests_per_second']} req/s | | | |"
            )
            lines.append(
                f"| POST /api/v1/bookings, {_name(server, default)}, {t['client_threads']} clients "
                f"| {s['booking_requests_per_second']} req/s | latency {b['median_ms']} / {b['p95_ms']} ms | | |"
            )
            lines.append(
                f"| `bench/write` (authenticate a token, insert one row, commit), {_name(server, default)} "
                f"| {s['write_requests_per_second']} req/s | | | |"
            )
            lines.append(
                f"| Throughput ratio bookings / ping, {_name(server, default)} | {s['ratio']} | | | |"
            )
            lines.append(
                f"| Throughput ratio bookings / write, {_name(server, default)} | {s['ratio_to_write']} | "
                f"| {f'≥ {THROUGHPUT_TARGET}' if target else ''} "
                f"| {_ok((s['ratio_to_write'] or 0) >= THROUGHPUT_TARGET) if target else ''} |"
            )
        if t.get("in_process"):
            ip = t["in_process"]
            lines.append(
                f"| CPU per ping, Django test client (Django + PostgreSQL, mean) | {ip['ping']['cpu_total_mean_ms']} ms | | | |"
            )
            lines.append(
                f"| CPU per booking, Django test client (Django {ip['booking']['cpu_mean_ms']} + PostgreSQL "
                f"{ip['booking']['postgresql_cpu_mean_ms']} ms, mean) | {ip['booking']['cpu_total_mean_ms']} ms | | | |"
            )
            lines.append(
                f"| CPU ratio ping / booking (the throughput ratio on idle CPUs) | {ip['cpu_ratio']} | | | |"
            )
            if ip.get("write"):
                lines.append(
                    f"| CPU per `bench/write`, Django test client (Django + PostgreSQL, mean) "
                    f"| {ip['write']['cpu_total_mean_ms']} ms | | | |"
                )
                lines.append(
                    f"| CPU ratio write / booking (the ratio to the ceiling on idle CPUs) | {ip['write_cpu_ratio']} | | | |"
                )
        lines.append(
            f"| Overlapping live bookings of exclusive resources after the runs | {t['overlapping_live_bookings']} | | 0 "
            f"| {_ok(t['overlapping_live_bookings'] == 0)} |"
        )
    if "comparison" in results:
        c = results["comparison"]
        names = {
            "availability_week": "Comparison set: week of 50 resources via API",
            "availability_day": "Comparison set: one day of 50 resources via API",
            "create": "Comparison set: create one booking (201)",
            "conflict": "Comparison set: refuse a conflicting booking (409)",
        }
        for key, name in names.items():
            f = c["operations"][key]
            goal = COMPARISON_TARGETS_MS[key]
            lines.append(
                f"| {name} | {f['median_ms']} ms | {f['p95_ms']} ms | ≤ {goal:g} ms | {_ok(f['median_ms'] <= goal)} |"
            )
        lines.append(
            f"| Comparison set: loading {c['dataset']['bookings_total']:,} bookings (bulk ORM) | {c['load_seconds']} s | | | |"
        )
    if "billing" in results:
        lines += billing_rows(results["billing"])
    if "events" in results:
        from bench.events import table_rows

        lines += table_rows(results["events"])
    return "\n".join(lines)


BREAKDOWN_NAMES = {
    "weasyprint_layout": "WeasyPrint, HTML parsed and laid out",
    "weasyprint_pdf": "WeasyPrint, PDF written",
    "embed_xml": "Factur-X checked (XSD) and embedded",
    "xml": "Factur-X XML built (`facturx.cii_xml`)",
    "template": "Django template to HTML",
    "context": "the template's context (`documents.bill_context`)",
    "database": "database reads and the PDF's write",
    "other": "the rest (`runs._render`, `documents.render`)",
}


def billing_rows(b: dict) -> list[str]:
    run, parts, per = b["run"], b["run"]["parts"], b["run"]["per_invoice_ms"]
    total = parts["total"]["seconds"]
    n = run["invoices"]
    rows = [
        f"| Billing run, {n:,} invoices ({b['seed']['members']:,} members + {b['seed']['organisations']} "
        f"organisations), drafts + issue + PDF/A-3 with Factur-X, {run['workers']} workers, whole "
        f"| {total} s | | ≤ {b['target_seconds']:g} s | {_ok(total <= b['target_seconds'])} |",
    ]
    for key, name in (
        ("prepare", "drafts (`runs.prepare`)"),
        ("issue", "numbers (`issuing.issue_many`, 100 a transaction), in the parent, during the next row"),
        ("render", f"numbers and PDFs overlapped (`runs.issue_run`, {run['workers']} PDF processes)"),
        ("dispatch", "sending queued (`sending.dispatch`)"),
    ):
        p = parts[key]
        statements = (
            f", {p['statements'] / n:.1f} SQL statements an invoice"
            if p.get("statements") and key != "render"
            else ""
        )
        rows.append(
            f"| … {name}: wall / CPU Python + PostgreSQL{statements} | {p['seconds']} s "
            f"| {p['cpu_python_seconds']} + {p['cpu_postgresql_seconds']} s | | |"
        )
    rows.append(
        f"| CPU per invoice, whole run: Python {per['cpu_python']} + PostgreSQL {per['cpu_postgresql']} ms "
        f"(drafts {per['cpu_prepare']}, numbers {per['cpu_issue']}, numbers + PDF {per['cpu_render']}) "
        f"| {per['cpu_total']} ms | | | |"
    )
    d = b["breakdown"]
    rows.append(
        f"| PDF of one bill, in-process, {d['sample']} bills: CPU / wall ({d['queries_per_bill']} queries) "
        f"| {d['per_bill_total']['cpu_ms']} ms | {d['per_bill_total']['wall_ms']} ms | | |"
    )
    for key, figures in d["per_bill"].items():
        if key in BREAKDOWN_NAMES:
            rows.append(
                f"| … {BREAKDOWN_NAMES[key]}: CPU / wall | {figures['cpu_ms']} ms | {figures['wall_ms']} ms | | |"
            )
    first = d["first_bill_of_a_process"]
    rows.append(
        f"| … first bill of a process (WeasyPrint loaded, fonts, stylesheet): CPU / wall "
        f"| {first['cpu_ms']} ms | {first['wall_ms']} ms | | |"
    )
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bookings", type=int, default=1_000_000, help="bookings of the large database")
    parser.add_argument("--small", type=int, default=10_000, help="bookings of the small database")
    parser.add_argument("--quick", action="store_true", help="fewer requests per measure")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated phases: availability,pages,throughput,comparison,billing,events",
    )
    parser.add_argument("--members", type=int, default=1000, help="members of the billing run")
    parser.add_argument("--organisations", type=int, default=50, help="organisations of the billing run")
    parser.add_argument("--workers", type=int, default=2, help="PDF workers of the billing run")
    parser.add_argument("--keep", action="store_true", help="do not drop the databases at the end")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse databases seeded today with the same size"
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="first loopback port (the phases use up to 30 from here)"
    )
    parser.add_argument("--threads", type=int, default=8, help="client threads of the throughput phase")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        help="seconds to wait, at most, before each phase for other processes to leave the CPU "
        "(default 60, 10 with --quick; 0: never)",
    )
    parser.add_argument(
        "--events-http",
        type=int,
        default=200,
        help="calls of each kind over HTTP in the events phase (0: none)",
    )
    parser.add_argument(
        "--events-quiet-wait",
        type=float,
        default=1200,
        help="seconds the events phase waits, at most, for a quiet machine before its HTTP part (0: never)",
    )
    parser.add_argument(
        "--events-pretix",
        default="",
        help="pretix's bench.py results to compare the events with (default $PEERS/pretix-bench-results.json)",
    )
    args = parser.parse_args(argv)
    if args.quiet_wait is None:
        args.quiet_wait = 10 if args.quick else 60
    args.requests = 100 if args.quick else 300
    args.warmup = 10 if args.quick else 30
    args.booking_requests = 200 if args.quick else 400
    args.ping_requests = 1500 if args.quick else 3000
    args.cmp_requests = 60 if args.quick else 200
    args.billing_sample = 20 if args.quick else 50
    phases = [p.strip() for p in args.only.split(",") if p.strip()] or list(PHASES)
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")

    started = time.perf_counter()
    monitor = common.CpuMonitor()
    results = {
        "started": common.now_iso(),
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "machine": common.machine(),
        "code": common.git_state(),
        "options": vars(args),
        "postgresql": common.server_settings(common.database_url("")),
    }
    urls = [common.database_url(s) for s in ("", "_small", "_cmp", "_billing", "_events")]
    try:
        for phase in PHASES:
            if phase in phases:
                PHASES[phase](args, results)
    finally:
        if not args.keep:
            for url in urls:
                common.drop_database(url)
        results["seconds"] = round(time.perf_counter() - started, 1)
        results["cpu"] = monitor.read()
        stamp = results["started"].replace(":", "").replace("-", "")
        path = common.write_json(common.RESULTS / f"bench-{stamp}.json", results)
        common.write_json(common.RESULTS / "latest.json", results)
    print(f"\n{table(results)}\n")
    print(
        f"Whole run: {results['seconds']:.0f} s; other processes used {results['cpu']['cores_others']} of "
        f"{results['machine']['cpus']} cores on average. Raw results: {path.relative_to(common.ROOT)}"
    )


if __name__ == "__main__":
    main()
