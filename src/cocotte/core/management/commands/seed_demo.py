"""Demo data of every installed app (each app's `demo` module, see `cocotte.core.seeding`).

Idempotent: run it again and nothing is duplicated. The apps add their own options (bookings: `--bookings N`
adds N generated bookings spread over past and future years, for benchmarks).
"""

import random

from django.core.management.base import BaseCommand

from cocotte.core import seeding


class Command(BaseCommand):
    help = "Crée les données de démonstration (idempotent) ; --bookings N ajoute N réservations générées."

    def add_arguments(self, parser):
        for module in seeding.demo_modules():
            if hasattr(module, "add_arguments"):
                module.add_arguments(parser)
        parser.add_argument(
            "--seed", type=int, default=2007, help="Graine du hasard, pour des données reproductibles."
        )

    def handle(self, *args, seed, **options):
        rng = random.Random(seed)  # noqa: S311 — reproducible demo data, not secrets
        context = seeding.DemoContext(options=options, rng=rng, stdout=self.stdout, style=self.style)
        seeding.seed(context)
