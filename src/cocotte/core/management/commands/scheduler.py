"""`cocotte scheduler`: run the periodic jobs of every app when they are due (see `core.scheduler`)."""

import time

from django.core.management.base import BaseCommand

from cocotte.core import scheduler


class Command(BaseCommand):
    help = "Lance les tâches périodiques à leur heure (rappels, envois en attente…)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=20, help="secondes entre deux réveils")
        parser.add_argument("--once", action="store_true", help="une seule passe, puis s’arrêter (cron)")

    def handle(self, *args, interval, once, **options):
        while True:
            for name in scheduler.run_due():
                self.stdout.write(f"{name} : fait")
            if once:
                return
            time.sleep(interval)
