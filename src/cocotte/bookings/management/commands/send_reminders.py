"""`cocotte send_reminders`: send tomorrow's booking reminders that have not gone out yet.

For deployments without a task worker: run it once a day from cron, in the evening (18:00 is when the
worker would send them). Running it again, or alongside the worker, sends nothing twice: each sending is
recorded on the booking (see `bookings.tasks.remind`).
"""

import logging

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from cocotte.bookings.tasks import due_tomorrow, remind

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Envoie les rappels des réservations de demain qui ne sont pas encore partis."

    def handle(self, *args, **options):
        sent = failed = 0
        for booking in list(due_tomorrow()):
            try:
                if remind(booking.pk, expected_start=booking.start):
                    sent += 1
            except Exception:  # one bad address must not stop the others; cron hears of it below
                logger.exception("Reminder of booking %s failed", booking.pk)
                failed += 1
        self.stdout.write(ngettext("%(n)s rappel envoyé.", "%(n)s rappels envoyés.", sent) % {"n": sent})
        if failed:
            raise CommandError(
                ngettext(
                    "%(n)s rappel en échec : voir le journal.",
                    "%(n)s rappels en échec : voir le journal.",
                    failed,
                )
                % {"n": failed}
            )
