"""Who bills a site (its operator, in private or public mode) and what its spaces cost (price lines).

The booking engine never imports this app: billing prices what the engine proposes (`pricing`, registered
as the engine's quote provider) and, in the issues to come, bills what it records.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum.fr import siren as siren_number
from stdnum.fr import siret as siret_number
from stdnum.fr import tva as vat_number

from cocotte.accounts.models import Profile
from cocotte.spaces.models import Resource, Site


class Operator(models.Model):
    """The legal body that runs sites and bills their members."""

    class Mode(models.TextChoices):
        PRIVATE = "private", _("privé : factures et avoirs (association, SPL, SCIC, entreprise)")
        PUBLIC = "public", _("public : relevés de liquidation et régie de recettes (collectivité en régie)")

    name = models.CharField(_("nom"), max_length=200)
    legal_name = models.CharField(_("raison sociale"), max_length=200)
    mode = models.CharField(_("mode de facturation"), max_length=10, choices=Mode.choices)
    street = models.CharField(_("adresse"), max_length=200)
    postal_code = models.CharField(_("code postal"), max_length=10)
    city = models.CharField(_("commune"), max_length=120)
    siret = models.CharField(_("SIRET"), max_length=14, help_text=_("14 chiffres, sans espace."))
    vat_number = models.CharField(_("numéro de TVA intracommunautaire"), max_length=13, blank=True)
    vat_franchise = models.BooleanField(
        _("franchise en base de TVA"),
        default=False,
        help_text=_("Les factures portent « TVA non applicable, art. 293 B du CGI » et aucune TVA."),
    )
    email = models.EmailField(_("e-mail de facturation"), blank=True)
    invoice_prefix = models.CharField(
        _("préfixe des factures"), max_length=10, default="F", help_text=_("F donne F2027-000123.")
    )

    class Meta:
        verbose_name = _("structure gestionnaire")
        verbose_name_plural = _("structures gestionnaires")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def siren(self) -> str:
        return self.siret[:9]

    def clean(self):
        errors = {}
        self.siret = siret_number.compact(self.siret or "")
        if not siret_number.is_valid(self.siret):
            errors["siret"] = _("SIRET invalide : 14 chiffres dont la clé de contrôle.")
        elif not siren_number.is_valid(self.siren):
            errors["siret"] = _("Le SIREN de ce SIRET est invalide.")
        if self.vat_number:
            self.vat_number = vat_number.compact(self.vat_number)
            if not vat_number.is_valid(self.vat_number):
                errors["vat_number"] = _("Numéro de TVA invalide (FR suivi de 11 caractères).")
        if self.vat_franchise and self.vat_number:
            errors["vat_franchise"] = _("En franchise de TVA, la structure ne facture pas de TVA.")
        if errors:
            raise ValidationError(errors)


class SiteOperator(models.Model):
    """Which operator runs (and bills) a site: one per site."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="operator_link")
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="site_links")

    class Meta:
        verbose_name = _("site géré")
        verbose_name_plural = _("sites gérés")

    def __str__(self):
        return f"{self.site} — {self.operator}"


class Category(models.TextChoices):
    """Who pays which price: the member's status (their profile), or a public body."""

    TELEWORKER = Profile.Status.TELEWORKER, _("télétravailleur salarié")
    PROJECT_HOLDER = Profile.Status.PROJECT_HOLDER, _("porteur de projet")
    COMPANY = Profile.Status.COMPANY, _("entreprise")
    ASSOCIATION = Profile.Status.ASSOCIATION, _("association")
    PUBLIC_BODY = "public_body", _("organisme public")


class PriceLine(models.Model):
    """A price of an operator: per unit of a resource (or of every resource of a kind), for a category of
    members (or for everyone). The most precise line wins: the resource before its kind, a category before
    everyone."""

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="prices")
    resource = models.ForeignKey(
        Resource, verbose_name=_("ressource"), on_delete=models.CASCADE, null=True, blank=True
    )
    kind = models.CharField(_("type de ressource"), max_length=20, choices=Resource.Kind.choices, blank=True)
    category = models.CharField(
        _("catégorie"),
        max_length=20,
        choices=Category.choices,
        blank=True,
        help_text=_("Vide : tout le monde."),
    )
    unit = models.CharField(_("par"), max_length=10, choices=Resource.Unit.choices)
    amount_excl_vat = models.DecimalField(
        _("prix HT"), max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    vat_rate = models.DecimalField(
        _("taux de TVA (%)"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("20.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    label = models.CharField(
        _("libellé"), max_length=200, help_text=_("Ce que lit le membre : « Journée de coworking ».")
    )

    class Meta:
        verbose_name = _("tarif")
        verbose_name_plural = _("tarifs")
        ordering = ["operator", "kind", "resource", "category"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(resource__isnull=False) & models.Q(kind=""))
                | (models.Q(resource__isnull=True) & ~models.Q(kind="")),
                name="billing_priceline_resource_or_kind",
            ),
            models.UniqueConstraint(
                fields=["operator", "resource", "category", "unit"],
                condition=models.Q(resource__isnull=False),
                name="billing_priceline_one_per_resource",
            ),
            models.UniqueConstraint(
                fields=["operator", "kind", "category", "unit"],
                condition=models.Q(resource__isnull=True),
                name="billing_priceline_one_per_kind",
            ),
        ]

    def __str__(self):
        return f"{self.label} — {self.amount_excl_vat} € HT / {self.get_unit_display()}"

    def clean(self):
        if bool(self.resource_id) == bool(self.kind):
            raise ValidationError(
                _("Un tarif vaut pour une ressource, ou pour un type de ressource : l’un des deux.")
            )
