from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "cocotte.bookings"
    label = "bookings"
    verbose_name = _("Réservations")

    def ready(self):
        from . import hooks, notifications

        # Names are what deliveries are recorded under: never rename one (see hooks.subscribe).
        hooks.subscribe("bookings.emails", notifications.email_members)
        hooks.subscribe("bookings.reminders", notifications.schedule_reminders)
        hooks.subscribe("bookings.team_requests", notifications.tell_the_team)
