from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "cocotte.billing"
    label = "billing"
    verbose_name = _("Facturation")

    def ready(self):
        from cocotte.bookings import hooks

        from . import coverage, participant

        hooks.register_quote_provider("billing.prices", coverage.quote)
        hooks.register_participant("billing.coverage", participant.participate)

        from datetime import timedelta

        from cocotte.core import scheduler

        from . import reminders

        # Daily: each overdue bill's reminder at 15 and 30 days, once ever (see reminders).
        scheduler.register("billing.reminders", timedelta(days=1), reminders.send_due_reminders)
