"""Phase: seed a database with `cocotte seed_demo --bookings N`, timed.

`--mode command` runs the command itself (in this process, `call_command`). On the code measured first
(commit e728493) the command stops with an IntegrityError (bookings_no_overlap) for N ≳ 100,000: the demo rents
« Bureau 1 » for six months from next month, and `generate_history` gives every office a month-long booking
on the 1st of each month outside the days it keeps clear around today (−16 to +40 days), and the two overlap.
The orchestrator then starts again on a new database with `--mode workaround`: the demo data from the command
(`seed_demo` without --bookings), then the command's own `generate_history` for the N bookings, on every
resource except those with a live booking after the window it keeps clear (Bureau 1: a monthly office, one
booking a month).
"""

import argparse
import io
import random
import time
from datetime import timedelta
from pathlib import Path

from bench import common


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--bookings", type=int, required=True)
    parser.add_argument("--seed", type=int, default=2007, help="the command's default seed")
    parser.add_argument("--mode", choices=["command", "workaround"], default="command")
    args = parser.parse_args(argv)

    common.setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from cocotte.accounts.demo import PEOPLE
    from cocotte.accounts.models import User
    from cocotte.bookings.demo import generate_history
    from cocotte.bookings.models import Booking
    from cocotte.spaces.models import Resource, Site

    excluded: list[str] = []
    if args.mode == "command":
        started = time.perf_counter()
        call_command("seed_demo", bookings=args.bookings, seed=args.seed, stdout=io.StringIO())
        seed_seconds = time.perf_counter() - started
        demo_seconds = history_seconds = None
        added = None  # the command says it in French on its output; the count in the database follows
    else:
        started = time.perf_counter()
        call_command("seed_demo", stdout=io.StringIO())
        demo_seconds = time.perf_counter() - started
        sites = list(Site.objects.filter(slug__in=["cocotte-numerique", "telecentre-murat"]))
        people = {u.email: u for u in User.objects.filter(email__in=[p[0] for p in PEOPLE])}
        people = {email: people[email] for email, *_ in PEOPLE}  # the command's order: same members drawn
        clear_until = timezone.now() + timedelta(days=41)
        in_the_way = set(
            Booking.objects.live()
            .filter(end__gt=clear_until)
            .values_list("resource_id", flat=True)
            .distinct()
        )
        resources = [r for r in Resource.objects.filter(site__in=sites) if r.pk not in in_the_way]
        excluded = list(Resource.objects.filter(pk__in=in_the_way).values_list("slug", flat=True))
        rng = random.Random(args.seed)  # the command drew from it for the demo bookings first: other draws
        started = time.perf_counter()
        added = generate_history(resources, people, args.bookings, rng)
        history_seconds = time.perf_counter() - started
        seed_seconds = demo_seconds + history_seconds
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Booking._meta.db_table}")
    vacuum_seconds = time.perf_counter() - started
    common.write_json(
        args.out,
        {
            "mode": args.mode,
            "bookings_requested": args.bookings,
            "bookings_added": added,
            "bookings_in_database": Booking.objects.count(),
            "seed_seconds": round(seed_seconds, 1),
            "demo_seconds": round(demo_seconds, 1) if demo_seconds is not None else None,
            "history_seconds": round(history_seconds, 1) if history_seconds is not None else None,
            "vacuum_analyze_seconds": round(vacuum_seconds, 1),
            "excluded_resources": excluded,
        },
    )


if __name__ == "__main__":
    main()
