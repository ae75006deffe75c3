from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "cocotte.events"
    label = "events"
    verbose_name = _("Événements")

    def ready(self):
        from datetime import timedelta

        from cocotte.accounts import gdpr, permissions
        from cocotte.core import navigation, scheduler

        from . import gdpr as events_gdpr
        from . import services

        gdpr.register("events", export=events_gdpr.export, erase=events_gdpr.erase)
        navigation.register(_("Agenda"), "events:agenda", order=15)
        navigation.register(
            _("Événements de l’équipe"), "events:staff", visible=permissions.is_any_site_staff, order=33
        )
        # Every five minutes: offers past their deadline (the next person waiting is offered the place) and
        # visitors' addresses left unconfirmed for 24 hours.
        scheduler.register("events.expire", timedelta(minutes=5), services.expire_due)
