from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "cocotte.bookings"
    label = "bookings"
    verbose_name = _("Réservations")

    def ready(self):
        from cocotte.accounts import permissions
        from cocotte.core import navigation
        from cocotte.spaces.models import Resource

        from .services import sync_exclusive_flag

        def resource_saved(sender, instance, raw=False, **kwargs):
            if not raw:
                sync_exclusive_flag(instance)

        navigation.register(_("Mes réservations"), "bookings:mine", visible=permissions.is_member, order=20)
        navigation.register(
            _("Planning de l’équipe"), "planner:index", visible=permissions.is_any_site_staff, order=30
        )

        post_save.connect(resource_saved, sender=Resource, weak=False, dispatch_uid="bookings_sync_exclusive")
