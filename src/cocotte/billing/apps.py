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
