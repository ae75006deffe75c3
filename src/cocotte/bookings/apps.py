from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "cocotte.bookings"
    label = "bookings"
    verbose_name = _("Réservations")

    def ready(self):
        from datetime import timedelta

        from cocotte.accounts import gdpr, permissions
        from cocotte.core import navigation, scheduler

        from . import events, hooks, notifications, tasks
        from . import gdpr as bookings_gdpr

        gdpr.register("bookings", export=bookings_gdpr.export, erase=bookings_gdpr.erase)

        navigation.register(_("Mes réservations"), "bookings:mine", visible=permissions.is_member, order=20)
        navigation.register(
            _("Planning de l’équipe"), "planner:index", visible=permissions.is_any_site_staff, order=30
        )
        navigation.register_landing("planner:index", visible=permissions.is_any_site_staff, order=10)
        navigation.register_landing("bookings:mine", visible=permissions.is_member, order=20)

        # Names are what deliveries are recorded under: never rename one (see hooks.subscribe).
        hooks.subscribe("bookings.emails", notifications.email_members)
        hooks.subscribe("bookings.reminders", notifications.schedule_reminders)
        hooks.subscribe("bookings.team_requests", notifications.tell_the_team)

        # The sweeps: what the task worker should have done and did not (a lost task, a failed sending).
        scheduler.register(
            "bookings.deliver_events",
            timedelta(minutes=1),
            lambda: events.deliver_pending(older_than=timedelta(minutes=1)),
        )
        scheduler.register("bookings.reminders", timedelta(minutes=15), tasks.send_due_reminders)
