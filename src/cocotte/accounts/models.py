"""People: members, their organisations and profile, and personal API tokens.

The login is the email address. What a person may do beyond being a member is a `Role` (site staff of a
site, trainer, juror…); the permission rules that read roles live in `accounts.permissions`.
"""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractUser):
    """A person with an account. `is_staff` opens the Django admin; what they do in Cocotte is in `Role`."""

    username = None
    email = models.EmailField(_("adresse e-mail"), unique=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]

    def __str__(self):
        return self.get_full_name() or self.email

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class Organisation(models.Model):
    """A company, association or public body that members belong to (and, later, that gets invoiced)."""

    name = models.CharField(_("nom"), max_length=200)
    siren = models.CharField(_("SIREN"), max_length=9, blank=True, help_text=_("9 chiffres, sans espace."))
    address = models.TextField(_("adresse"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["siren"], condition=~models.Q(siren=""), name="accounts_organisation_siren_unique"
            )
        ]

    def __str__(self):
        return self.name


def new_calendar_key() -> str:
    return secrets.token_urlsafe(32)


class Profile(models.Model):
    class Status(models.TextChoices):
        TELEWORKER = "teleworker", _("télétravailleur salarié")
        PROJECT_HOLDER = "project_holder", _("porteur de projet")
        COMPANY = "company", _("entreprise")
        ASSOCIATION = "association", _("association")
        OTHER = "other", _("autre")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    status = models.CharField(_("statut"), max_length=20, choices=Status.choices, default=Status.OTHER)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    commune = models.CharField(_("commune de résidence"), max_length=120, blank=True)
    # A French invoice names the buyer's address (CGI art. 242 nonies A): printed on the member's own bills.
    billing_address = models.TextField(_("adresse de facturation"), blank=True)
    calendar_key = models.CharField(
        _("clé du calendrier personnel"),
        max_length=43,
        unique=True,
        default=new_calendar_key,
        editable=False,
        help_text=_(
            "Secret de l’adresse du flux iCalendar ; la changer rend l’ancienne adresse inutilisable."
        ),
    )
    language = models.CharField(
        _("langue"), max_length=5, choices=[("fr", "Français"), ("en", "English")], default="fr"
    )

    class Meta:
        verbose_name = _("profil")
        verbose_name_plural = _("profils")

    def __str__(self):
        return str(self.user)

    def calendar_url(self, request=None) -> str:
        """The absolute address of the private feed (from the request's host, else COCOTTE_PUBLIC_URL)."""
        path = reverse("calendar:member", kwargs={"key": self.calendar_key})
        return request.build_absolute_uri(path) if request is not None else settings.COCOTTE_PUBLIC_URL + path

    def renew_calendar_key(self) -> str:
        """Revoke the private calendar address by giving it a new secret."""
        self.calendar_key = new_calendar_key()
        self.save(update_fields=["calendar_key"])
        return self.calendar_key


class Consent(models.Model):
    """Evidence of what a person accepted, which version of the text, and when (GDPR, art. 7)."""

    class Document(models.TextChoices):
        TERMS = "terms", _("conditions d’utilisation")
        PRIVACY = "privacy", _("politique de confidentialité")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    document = models.CharField(_("document"), max_length=20, choices=Document.choices)
    version = models.CharField(_("version"), max_length=20)
    accepted_at = models.DateTimeField(_("accepté le"), auto_now_add=True)
    ip_address = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)

    class Meta:
        verbose_name = _("consentement")
        verbose_name_plural = _("consentements")
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "document", "version"], name="accounts_consent_once_per_version"
            )
        ]

    def __str__(self):
        return f"{self.user} — {self.get_document_display()} {self.version}"


class Role(models.Model):
    """A role held by a person, optionally over a scope: an object of another app, named by its app label and id.

    The scope is not a foreign key so that `accounts` never imports the apps above it: the staff of a site
    hold `site_staff` over ("spaces", site id), a juror will hold `juror` over a contest's edition. Being a
    member needs no role (any active account is one). `accounts.permissions` reads this table; grant and
    revoke through its `grant_role` and `revoke_role`, which keep the per-request cache right.
    """

    class Name(models.TextChoices):
        SITE_STAFF = "site_staff", _("équipe d’un site")
        PROJECT_OFFICER = "project_officer", _("chargé de mission")
        TRAINER = "trainer", _("formateur")
        JUROR = "juror", _("juré")
        FABLAB_MANAGER = "fablab_manager", _("responsable du Fablab")
        OBSERVER = "observer", _("observateur")
        # Over ("accounts", organisation id): sees and pays its bills, buys plans for its people.
        ORGANISATION_MANAGER = "organisation_manager", _("gestionnaire d’une organisation")
        ADMIN = "admin", _("administrateur")

    user = models.ForeignKey(User, verbose_name=_("personne"), on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("rôle"), max_length=30, choices=Name.choices)
    scope_app_label = models.CharField(
        _("application de la portée"),
        max_length=100,
        blank=True,
        help_text=_("Vide pour un rôle sans portée ; « spaces » pour un site."),
    )
    scope_id = models.PositiveBigIntegerField(_("identifiant de la portée"), null=True, blank=True)
    granted_by = models.ForeignKey(
        User,
        verbose_name=_("accordé par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("accordé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("rôle")
        verbose_name_plural = _("rôles")
        ordering = ["user", "role", "scope_app_label", "scope_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope_app_label="", scope_id__isnull=True)
                | (~models.Q(scope_app_label="") & models.Q(scope_id__isnull=False)),
                name="accounts_role_scope_whole_or_none",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "scope_app_label", "scope_id"],
                condition=models.Q(scope_id__isnull=False),
                name="accounts_role_once_per_scope",
            ),
            # NULLs are distinct in a unique index: the unscoped role needs its own.
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(scope_id__isnull=True),
                name="accounts_role_once_unscoped",
            ),
        ]
        indexes = [
            models.Index(fields=["scope_app_label", "scope_id", "role"], name="accounts_role_by_scope")
        ]

    # A site's team is always named site by site; an admin is admin everywhere. Other roles may take either.
    NEEDS_SCOPE = frozenset({Name.SITE_STAFF, Name.PROJECT_OFFICER})
    NEVER_SCOPED = frozenset({Name.ADMIN})

    def __str__(self):
        scope = f" ({self.scope_app_label} {self.scope_id})" if self.scope_id is not None else ""
        return f"{self.user} — {self.get_role_display()}{scope}"

    def clean(self):
        scoped = self.scope_id is not None or bool(self.scope_app_label)
        if scoped and (self.scope_id is None or not self.scope_app_label):
            raise ValidationError(
                _("Une portée se donne par son application et son identifiant, ou pas du tout.")
            )
        if self.role in self.NEEDS_SCOPE and not scoped:
            raise ValidationError({"scope_id": _("Ce rôle se donne pour un site : indiquez-le.")})
        if self.role in self.NEVER_SCOPED and scoped:
            raise ValidationError({"scope_id": _("Ce rôle vaut partout : il ne prend pas de portée.")})


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def live(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once, at creation."""

    PREFIX = "cct_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("nom"), max_length=100, default="API")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(_("début du jeton"), max_length=12, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("jeton d’API")
        verbose_name_plural = _("jetons d’API")

    def __str__(self):
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(cls, user, name="API") -> tuple["ApiToken", str]:
        """Create a token and return it with the raw secret, which is never stored."""
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=_hash_token(raw), hint=raw[:8])
        return token, raw

    @classmethod
    def authenticate(cls, raw: str):
        """The active user behind a raw token, or None."""
        token = (
            cls.objects.live()
            .select_related("user")
            .filter(key_hash=_hash_token(raw), user__is_active=True)
            .first()
        )
        if token is None:
            return None
        # Record use at most once a minute: a token that hammers the API must not write on every call.
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user

    def revoke(self):
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])
