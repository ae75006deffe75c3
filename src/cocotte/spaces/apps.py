from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SpacesConfig(AppConfig):
    name = "cocotte.spaces"
    label = "spaces"
    verbose_name = _("Lieux")

    def ready(self):
        from cocotte.accounts import permissions
        from cocotte.core import navigation

        from .models import Site

        # A site's team holds its roles over ("spaces", site id): the sites are the scopes this app names.
        permissions.register_scope(permissions.SITE_SCOPE, lambda: Site.objects.all())
        navigation.register(_("Réserver"), "home", order=10)  # the sites' list (home) is where booking starts

        from . import opening  # noqa: F401 — connects the receivers that keep cached calendars right
