from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "cocotte.accounts"
    label = "accounts"
    verbose_name = _("Membres et accès")  # allauth's section is already « Comptes »

    def ready(self):
        from cocotte.core import navigation

        from . import gdpr, permissions  # noqa: F401 — gdpr registers the account's own part
        from .models import Profile, User

        navigation.register(_("Mon profil"), "accounts:profile", visible=permissions.is_member, order=40)
        navigation.register(_("Se connecter"), "account_login", visible=navigation.anonymous, order=80)
        navigation.register(_("Créer un compte"), "account_signup", visible=navigation.anonymous, order=81)
        navigation.register(
            _("Se déconnecter"), "account_logout", visible=permissions.is_member, order=90, method="post"
        )

        def ensure_profile(sender, instance, created, raw=False, **kwargs):
            # Every account has a profile, however it was made (sign-up, admin, command, fixture).
            if created and not raw:
                Profile.objects.get_or_create(user=instance)

        post_save.connect(ensure_profile, sender=User, weak=False, dispatch_uid="accounts_ensure_profile")
