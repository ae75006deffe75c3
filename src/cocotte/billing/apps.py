from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "cocotte.billing"
    label = "billing"
    verbose_name = _("Facturation")

    def ready(self):
        from cocotte.accounts import permissions
        from cocotte.bookings import hooks
        from cocotte.core import navigation

        from . import coverage, participant

        navigation.register(_("Mes factures"), "billing:mine", visible=permissions.is_member, order=25)
        navigation.register(
            _("Facturation"), "billing:staff", visible=permissions.is_any_site_staff, order=31
        )

        # Billing's admin scopes every row and choice to the operators of the sites one runs (admin.py).
        permissions.open_admin_to_site_staff(self.label)

        hooks.register_quote_provider("billing.prices", coverage.quote)
        hooks.register_participant("billing.coverage", participant.participate)

        from datetime import timedelta

        from cocotte.core import scheduler

        from . import einvoicing, reminders, sending

        # Daily: each overdue bill's reminder at 15 and 30 days, once ever (see reminders).
        scheduler.register("billing.reminders", timedelta(days=1), reminders.send_due_reminders)
        # Every quarter of an hour: bills whose sending failed or whose task was lost (see sending).
        scheduler.register("billing.sending", timedelta(minutes=15), sending.retry_due)
        # Every quarter of an hour: the platform's lifecycle statuses, then staff told of rejections.
        scheduler.register("billing.einvoicing", timedelta(minutes=15), einvoicing.poll)
