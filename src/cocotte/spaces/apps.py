from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SpacesConfig(AppConfig):
    name = "cocotte.spaces"
    label = "spaces"
    verbose_name = _("Lieux")

    def ready(self):
        from . import opening  # noqa: F401 — connects the receivers that keep cached calendars right
