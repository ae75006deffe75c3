"""Money: who bills a site, what things cost, what members hold, what they owe, and the books.

- **Operators** bill the sites they run, in private mode (legal invoices and credit notes) or public mode
  (monthly liquidation statements per debtor and a régie's receipts; never a legal invoice number).
- **Price lines** price pay-as-you-go; **plans** (day pass, card, subscription, lease) are what a member or
  an organisation holds (**holdings**), and cover bookings first (**credit uses**).
- **Charges** are billable lines, handed over by any app (the booking engine's participant here; the Fablab,
  trainings and events later, through `ledger.hand_over`): billing never imports those apps.
- A **billing run** turns a month's charges and periodic fees into draft **bills**; issuing numbers them
  without gaps (`Sequence`), freezes them, renders the PDF/A-3 with its Factur-X and chains their footprints.
- **Payments** are allocated to bills; **aids** reduce bills and enter the company's de minimis ledger.

The booking engine never imports this app: billing prices what the engine proposes (`pricing`, the engine's
quote provider) and records what it does (`coverage`, the engine's participant).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum.fr import siren as siren_number
from stdnum.fr import siret as siret_number
from stdnum.fr import tva as vat_number

from cocotte.accounts.models import Organisation, Profile
from cocotte.bookings.models import Booking
from cocotte.spaces.models import Resource, Site

MONEY = {"max_digits": 12, "decimal_places": 2}
RATE = {"max_digits": 5, "decimal_places": 2}
QUANTITY = {"max_digits": 10, "decimal_places": 3}


def _vat_rate_field(**kwargs):
    return models.DecimalField(
        _("taux de TVA (%)"),
        default=Decimal("20.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        **RATE,
        **kwargs,
    )


def _one_debtor(prefix: str) -> models.CheckConstraint:
    """A member or an organisation, never both, never neither: who holds, owes or pays."""
    return models.CheckConstraint(
        condition=(models.Q(member__isnull=False) & models.Q(organisation__isnull=True))
        | (models.Q(member__isnull=True) & models.Q(organisation__isnull=False)),
        name=f"billing_{prefix}_one_debtor",
    )


class RevenueType(models.TextChoices):
    """What a line is for: the service code of public-mode exports, and what a régie may collect."""

    COWORKING = "coworking", _("coworking")
    OFFICE = "office", _("location de bureau")
    MEETING_ROOM = "meeting_room", _("location de salle")
    FABLAB = "fablab", _("Fablab")
    TRAINING = "training", _("formation")
    EVENT = "event", _("événement")
    OTHER = "other", _("autre prestation")

    @classmethod
    def of_kind(cls, kind: str) -> str:
        return {
            Resource.Kind.DESK: cls.COWORKING,
            Resource.Kind.OPEN_SPACE: cls.COWORKING,
            Resource.Kind.OFFICE: cls.OFFICE,
            Resource.Kind.MEETING_ROOM: cls.MEETING_ROOM,
            Resource.Kind.VISIO_ROOM: cls.MEETING_ROOM,
            Resource.Kind.COMMON_ROOM: cls.MEETING_ROOM,
            Resource.Kind.MACHINE: cls.FABLAB,
        }.get(kind, cls.OTHER)


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
    credit_note_prefix = models.CharField(
        _("préfixe des avoirs"), max_length=10, default="AV", help_text=_("AV donne AV2027-000004.")
    )
    legal_form = models.CharField(
        _("forme juridique"), max_length=100, blank=True, help_text=_("Association loi 1901, SPL, SCIC SA…")
    )
    rcs = models.CharField(
        _("immatriculation RCS"),
        max_length=100,
        blank=True,
        help_text=_("Pour une société : RCS Aurillac 812 345 676."),
    )
    share_capital = models.CharField(_("capital social"), max_length=50, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    logo = models.ImageField(_("logo"), upload_to="operators/", blank=True)
    payment_days = models.PositiveSmallIntegerField(
        _("délai de paiement (jours)"),
        default=30,
        validators=[MaxValueValidator(60)],
        help_text=_("60 jours au plus après l’émission (Code de commerce, L441-10)."),
    )
    vat_on_debits = models.BooleanField(
        _("option pour le paiement de la TVA d’après les débits"),
        default=False,
        help_text=_("Portée sur les factures de prestations de services quand la structure a opté."),
    )
    regie_revenue_types = models.JSONField(
        _("recettes que la régie peut encaisser"),
        default=list,
        blank=True,
        help_text=_("Mode public : les types de recettes de l’acte constitutif de la régie."),
    )
    # The French chart of accounts by default (SEAMS): each overridable for the operator's own plan.
    account_sales = models.CharField(_("compte de produits"), max_length=10, default="706")
    account_vat = models.CharField(_("compte de TVA collectée"), max_length=10, default="44571")
    account_customers = models.CharField(_("compte clients"), max_length=10, default="411")
    account_bank = models.CharField(_("compte de banque"), max_length=10, default="512")
    account_cash = models.CharField(_("compte de caisse"), max_length=10, default="530")
    account_aids = models.CharField(_("compte des aides"), max_length=10, default="4419")

    class Meta:
        verbose_name = _("structure gestionnaire")
        verbose_name_plural = _("structures gestionnaires")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def siren(self) -> str:
        return self.siret[:9]

    @property
    def is_public(self) -> bool:
        return self.mode == self.Mode.PUBLIC

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


class CancellationRule(models.Model):
    """What a booking cancelled within its notice costs, per resource kind: a share of its price (100 % when
    the operator set no rule). A booking cancelled in time costs nothing."""

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="cancellation_rules")
    kind = models.CharField(_("type de ressource"), max_length=20, choices=Resource.Kind.choices)
    percent = models.DecimalField(
        _("part du prix facturée (%)"),
        default=Decimal("100"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        **RATE,
    )

    class Meta:
        verbose_name = _("règle d’annulation tardive")
        verbose_name_plural = _("règles d’annulation tardive")
        constraints = [
            models.UniqueConstraint(fields=["operator", "kind"], name="billing_cancellation_one_per_kind")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} : {self.percent} %"


class DebtorDetails(models.Model):
    """What bills need of an organisation beyond accounts' name, SIREN and address."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="billing_details"
    )
    vat_number = models.CharField(_("numéro de TVA intracommunautaire"), max_length=13, blank=True)
    email = models.EmailField(_("e-mail de facturation"), blank=True)
    is_public_body = models.BooleanField(_("organisme public"), default=False)
    commitment_reference = models.CharField(
        _("référence d’engagement"),
        max_length=50,
        blank=True,
        help_text=_("Débiteur public : l’engagement juridique."),
    )
    service_code = models.CharField(_("code service"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("coordonnées de facturation")
        verbose_name_plural = _("coordonnées de facturation")

    def __str__(self):
        return str(self.organisation)


class Plan(models.Model):
    """What an operator sells beyond pay-as-you-go."""

    class Kind(models.TextChoices):
        DAY_PASS = "day_pass", _("pass journée")
        CARD = "card", _("carte prépayée")
        SUBSCRIPTION = "subscription", _("abonnement mensuel")
        LEASE = "lease", _("location de bureau au mois")

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="plans")
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("nom"), max_length=200)
    name_en = models.CharField(_("nom (anglais)"), max_length=200, blank=True)
    price_excl_vat = models.DecimalField(
        _("prix HT"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Par mois pour un abonnement ou une location."),
        **MONEY,
    )
    vat_rate = _vat_rate_field()
    days = models.DecimalField(
        _("jours"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Pass : 1 ; carte : N jours, une demi-journée en prend la moitié."),
    )
    valid_months = models.PositiveSmallIntegerField(_("validité (mois)"), default=12)
    included_hours = models.DecimalField(
        _("heures de salle incluses par mois"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    day_kinds = models.JSONField(
        _("ressources couvertes à la journée"),
        default=list,
        blank=True,
        help_text=_("Types de ressources que couvrent les jours (ou l’abonnement) : open space, poste."),
    )
    hour_kinds = models.JSONField(
        _("ressources couvertes à l’heure"),
        default=list,
        blank=True,
        help_text=_("Types de ressources que couvrent les heures incluses : salles."),
    )
    deposit = models.DecimalField(_("dépôt de garantie"), default=Decimal("0"), **MONEY)
    notice_months = models.PositiveSmallIntegerField(_("préavis (mois)"), default=0)
    on_sale = models.BooleanField(_("en vente dans l’espace membre"), default=True)

    class Meta:
        verbose_name = _("formule")
        verbose_name_plural = _("formules")
        ordering = ["operator", "kind", "price_excl_vat"]

    def __str__(self):
        return self.name

    @property
    def revenue_type(self) -> str:
        return RevenueType.OFFICE if self.kind == self.Kind.LEASE else RevenueType.COWORKING


class Holding(models.Model):
    """A plan that a member, or an organisation for its people, holds from a date."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("formule"), on_delete=models.PROTECT, related_name="holdings"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("membre"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="holdings",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="holdings",
    )
    resource = models.ForeignKey(
        Resource,
        verbose_name=_("bureau loué"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("Location : le bureau."),
    )
    starts_on = models.DateField(_("début"))
    # A card's last valid day; a lease's end; a subscription's, once cancelled (the end of its paid month).
    ends_on = models.DateField(_("fin"), null=True, blank=True)
    price_excl_vat = models.DecimalField(
        _("prix HT"), help_text=_("Par mois pour un abonnement ou une location."), **MONEY
    )
    days_left = models.DecimalField(_("jours restants"), max_digits=5, decimal_places=1, default=Decimal("0"))
    cancelled_at = models.DateTimeField(_("résiliée le"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("formule détenue")
        verbose_name_plural = _("formules détenues")
        ordering = ["starts_on", "pk"]
        constraints = [
            _one_debtor("holding"),
            models.CheckConstraint(
                condition=models.Q(days_left__gte=0), name="billing_holding_days_left_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=models.F("starts_on")),
                name="billing_holding_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "ends_on"]),
            models.Index(fields=["organisation", "ends_on"]),
        ]

    def __str__(self):
        return f"{self.plan} — {self.member or self.organisation}"

    @property
    def debtor(self):
        return self.member or self.organisation

    def is_active_on(self, day) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class CreditUse(models.Model):
    """What a booking took of a holding: days of a card or pass, hours included in a month."""

    holding = models.ForeignKey(Holding, on_delete=models.PROTECT, related_name="uses")
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="credit_uses")
    amount = models.DecimalField(_("quantité"), max_digits=6, decimal_places=2)
    month = models.DateField(_("mois"), help_text=_("Le premier jour du mois du créneau."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("utilisation de crédit")
        verbose_name_plural = _("utilisations de crédit")
        constraints = [models.UniqueConstraint(fields=["holding", "booking"], name="billing_credituse_once")]
        indexes = [models.Index(fields=["holding", "month"])]

    def __str__(self):
        return f"{self.amount} — {self.holding}"


class Charge(models.Model):
    """A billable line, from whatever app: what a debtor owes an operator for a service on a date.

    Other apps hand lines over through `ledger.hand_over`, naming their source (app label and row): a
    source bills once. A billing run takes the open charges of its month into draft bills."""

    class Status(models.TextChoices):
        OPEN = "open", _("à facturer")
        BILLED = "billed", _("facturée")
        VOID = "void", _("annulée")

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="charges")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    source = models.CharField(_("origine"), max_length=50, help_text=_("bookings.booking, fablab.use…"))
    source_id = models.PositiveBigIntegerField(_("identifiant d’origine"))
    revenue_type = models.CharField(_("type de recette"), max_length=20, choices=RevenueType.choices)
    label = models.CharField(_("libellé"), max_length=300)
    service_date = models.DateField(_("date de la prestation"))
    quantity = models.DecimalField(_("quantité"), **QUANTITY)
    unit = models.CharField(_("unité"), max_length=20)
    unit_price_excl_vat = models.DecimalField(_("prix unitaire HT"), **MONEY)
    vat_rate = _vat_rate_field()
    amount_excl_vat = models.DecimalField(_("montant HT"), **MONEY)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.OPEN)
    bill = models.ForeignKey("Bill", on_delete=models.SET_NULL, null=True, blank=True, related_name="charges")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ligne à facturer")
        verbose_name_plural = _("lignes à facturer")
        ordering = ["service_date", "pk"]
        constraints = [
            _one_debtor("charge"),
            models.UniqueConstraint(fields=["source", "source_id"], name="billing_charge_one_per_source"),
        ]
        indexes = [models.Index(fields=["operator", "status", "service_date"])]

    def __str__(self):
        return f"{self.label} — {self.amount_excl_vat} € HT"

    @property
    def debtor(self):
        return self.member or self.organisation


class Sequence(models.Model):
    """The last number given in a series of an operator (F2027, AV2027, R2027): numbers come from here,
    under a row lock, inside the transaction that issues — so they are gapless and chronological."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="sequences")
    series = models.CharField(_("série"), max_length=20)
    last = models.PositiveIntegerField(_("dernier numéro"), default=0)
    # The footprint of the series' last bill: the next one chains to it without reading that bill.
    last_footprint = models.CharField(_("dernière empreinte"), max_length=64, blank=True)
    last_issued_on = models.DateField(_("dernière émission"), null=True, blank=True)

    class Meta:
        verbose_name = _("série de numérotation")
        verbose_name_plural = _("séries de numérotation")
        constraints = [models.UniqueConstraint(fields=["operator", "series"], name="billing_sequence_unique")]

    def __str__(self):
        return f"{self.series} : {self.last}"


class BillingRun(models.Model):
    """A month billed for an operator: its drafts, then their issue; progress is read by the staff page."""

    class Status(models.TextChoices):
        RUNNING = "running", _("en cours")
        DRAFTED = "drafted", _("brouillons prêts")
        ISSUING = "issuing", _("émission en cours")
        ISSUED = "issued", _("émise")
        FAILED = "failed", _("échouée")

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="runs")
    month = models.DateField(_("mois"), help_text=_("Le premier jour du mois facturé."))
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    total = models.PositiveIntegerField(_("documents à traiter"), default=0)
    done = models.PositiveIntegerField(_("documents traités"), default=0)
    error = models.TextField(_("erreur"), blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("facturation mensuelle")
        verbose_name_plural = _("facturations mensuelles")
        ordering = ["-month", "-pk"]
        # A month is billed by one run: running it again adds what came since to the same drafts.
        constraints = [
            models.UniqueConstraint(fields=["operator", "month"], name="billing_run_one_per_month")
        ]

    def __str__(self):
        return f"{self.operator} — {self.month:%Y-%m}"


class IssuedBillError(Exception):
    """An issued bill was about to change: it never does (a credit note corrects it)."""


class Lifecycle(models.TextChoices):
    """The lifecycle statuses of an e-invoice, by the reform's codes, as the approved platform reports them.

    Four are mandatory: Déposée (the platform took it), Rejetée (its checks refused it: deemed not sent),
    Refusée (the buyer refuses it) and Encaissée (the seller declares the payment received); the others are
    optional. A code this list does not know is kept as the platform gave it."""

    DEPOSITED = "200", _("Déposée")
    ISSUED = "201", _("Émise par la plateforme")
    RECEIVED = "202", _("Reçue par la plateforme")
    MADE_AVAILABLE = "203", _("Mise à disposition")
    TAKEN_OVER = "204", _("Prise en charge")
    APPROVED = "205", _("Approuvée")
    PARTIALLY_APPROVED = "206", _("Approuvée partiellement")
    DISPUTED = "207", _("En litige")
    SUSPENDED = "208", _("Suspendue")
    COMPLETED = "209", _("Complétée")
    REFUSED = "210", _("Refusée")
    PAYMENT_SENT = "211", _("Paiement transmis")  # « mise en paiement » in the first specifications
    COLLECTED = "212", _("Encaissée")
    REJECTED = "213", _("Rejetée")


# Nothing follows these: the platform is not asked again.
LIFECYCLE_FINAL = frozenset({Lifecycle.REFUSED, Lifecycle.COLLECTED, Lifecycle.REJECTED})
# Staff must act on these: correct what the platform rejected, settle what the buyer refused (a credit note).
LIFECYCLE_PROBLEMS = frozenset({Lifecycle.REFUSED, Lifecycle.REJECTED})


class Bill(models.Model):
    """An invoice, a credit note (private mode) or a liquidation statement (public mode), draft or issued.

    Issued, it never changes: `save` and `delete` refuse, the admin and the API only read it, and its
    footprint (chained to the previous one of its series) lets `verify_invoices` find any change made
    behind the application's back. It keeps the buyer's and seller's details as they were at issue."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("facture")
        CREDIT_NOTE = "credit_note", _("avoir")
        STATEMENT = "statement", _("relevé de liquidation")

    class Status(models.TextChoices):
        DRAFT = "draft", _("brouillon")
        ISSUED = "issued", _("émise")

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="bills")
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.INVOICE)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    run = models.ForeignKey(
        BillingRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="bills"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("membre"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bills",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bills",
    )
    series = models.CharField(_("série"), max_length=20, blank=True)
    sequence = models.PositiveIntegerField(_("rang dans la série"), null=True, blank=True)
    number = models.CharField(_("numéro"), max_length=30, blank=True)
    period_start = models.DateField(_("début de la période"))
    period_end = models.DateField(_("fin de la période"))
    issue_date = models.DateField(_("date d’émission"), null=True, blank=True)
    due_date = models.DateField(_("échéance"), null=True, blank=True)
    buyer_name = models.CharField(_("nom de l’acheteur"), max_length=200)
    buyer_address = models.TextField(_("adresse de l’acheteur"), blank=True)
    buyer_email = models.EmailField(_("e-mail de l’acheteur"), blank=True)
    buyer_siren = models.CharField(_("SIREN de l’acheteur"), max_length=9, blank=True)
    buyer_vat_number = models.CharField(_("TVA de l’acheteur"), max_length=13, blank=True)
    buyer_is_business = models.BooleanField(_("acheteur professionnel"), default=False)
    buyer_is_public = models.BooleanField(_("acheteur public"), default=False)
    commitment_reference = models.CharField(_("référence d’engagement"), max_length=50, blank=True)
    purchase_order = models.CharField(_("bon de commande"), max_length=50, blank=True)
    seller = models.JSONField(_("vendeur"), default=dict, blank=True, help_text=_("Figé à l’émission."))
    credited_bill = models.ForeignKey(
        "self",
        verbose_name=_("facture corrigée"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
    )
    note = models.TextField(_("mention libre"), blank=True)
    total_excl_vat = models.DecimalField(_("total HT"), default=Decimal("0"), **MONEY)
    total_vat = models.DecimalField(_("total TVA"), default=Decimal("0"), **MONEY)
    total_incl_vat = models.DecimalField(_("total TTC"), default=Decimal("0"), **MONEY)
    footprint = models.CharField(_("empreinte"), max_length=64, blank=True, editable=False)
    previous_footprint = models.CharField(
        _("empreinte précédente"), max_length=64, blank=True, editable=False
    )
    pdf = models.BinaryField(_("PDF émis"), null=True, blank=True, editable=False)
    issued_at = models.DateTimeField(_("émise le"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # What may still be written on an issued bill: how it travels, never what it says.
    # The PDF is rendered from the frozen content once the number is given, outside the numbering lock.
    MUTABLE_WHEN_ISSUED = frozenset({"sent_at", "platform_status", "pdf"})
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    platform_status = models.CharField(
        _("statut sur la plateforme"), max_length=30, choices=Lifecycle.choices, blank=True
    )

    class Meta:
        verbose_name = _("pièce de facturation")
        verbose_name_plural = _("pièces de facturation")
        ordering = ["-issue_date", "-sequence", "-pk"]
        constraints = [
            _one_debtor("bill"),
            models.UniqueConstraint(
                fields=["operator", "number"],
                condition=~models.Q(number=""),
                name="billing_bill_number_unique",
            ),
            models.UniqueConstraint(
                fields=["operator", "series", "sequence"],
                condition=models.Q(sequence__isnull=False),
                name="billing_bill_sequence_unique",
            ),
            # A statement never carries a legal number; an issued invoice or credit note always does.
            models.CheckConstraint(
                condition=~models.Q(kind="statement", number__gt="")
                & ~models.Q(kind__in=["invoice", "credit_note"], status="issued", number=""),
                name="billing_bill_number_by_kind",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="credit_note", credited_bill__isnull=True),
                name="billing_credit_note_cites_invoice",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "status"]),
            models.Index(fields=["organisation", "status"]),
            models.Index(fields=["operator", "series", "sequence"]),
        ]

    def __str__(self):
        return self.number or self.reference

    def save(self, *args, **kwargs):
        if self.pk and not getattr(self, "_issuing", False):
            stored = Bill.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == self.Status.ISSUED:
                fields = kwargs.get("update_fields")
                if fields is None or not set(fields) <= self.MUTABLE_WHEN_ISSUED:
                    raise IssuedBillError(_("Une pièce émise ne change plus : établissez un avoir."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.pk and Bill.objects.filter(pk=self.pk, status=self.Status.ISSUED).exists():
            raise IssuedBillError(_("Une pièce émise ne se supprime pas : établissez un avoir."))
        return super().delete(*args, **kwargs)

    @property
    def reference(self) -> str:
        """What names the bill to people: its number, or for a draft or a statement a stable reference."""
        if self.number:
            return self.number
        prefix = "REL" if self.kind == self.Kind.STATEMENT else "BROUILLON"
        return f"{prefix}-{self.period_start:%Y%m}-{self.pk or 0:06d}"

    @property
    def is_issued(self) -> bool:
        return self.status == self.Status.ISSUED

    @property
    def debtor(self):
        return self.member or self.organisation


class BillLine(models.Model):
    class Kind(models.TextChoices):
        SERVICE = "service", _("prestation")
        AID = "aid", _("aide")

    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("rang"))
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices, default=Kind.SERVICE)
    label = models.CharField(_("libellé"), max_length=300)
    revenue_type = models.CharField(_("type de recette"), max_length=20, choices=RevenueType.choices)
    service_start = models.DateField(_("du"))
    service_end = models.DateField(_("au"))
    quantity = models.DecimalField(_("quantité"), **QUANTITY)
    unit = models.CharField(_("unité"), max_length=20)
    unit_price_excl_vat = models.DecimalField(_("prix unitaire HT"), **MONEY)
    vat_rate = _vat_rate_field()
    amount_excl_vat = models.DecimalField(_("montant HT"), **MONEY)
    aid = models.ForeignKey("Aid", on_delete=models.PROTECT, null=True, blank=True, related_name="bill_lines")
    # The billable line it came from (none for a line staff typed): deleting it from a draft voids the charge.
    charge = models.ForeignKey(
        Charge, on_delete=models.SET_NULL, null=True, blank=True, related_name="bill_lines"
    )

    class Meta:
        verbose_name = _("ligne")
        verbose_name_plural = _("lignes")
        ordering = ["bill", "position"]
        constraints = [
            models.UniqueConstraint(fields=["bill", "position"], name="billing_billline_position_unique")
        ]

    def __str__(self):
        return f"{self.label} — {self.amount_excl_vat} € HT"

    def save(self, *args, **kwargs):
        if self.bill_id and Bill.objects.filter(pk=self.bill_id, status=Bill.Status.ISSUED).exists():
            raise IssuedBillError(_("Une pièce émise ne change plus : établissez un avoir."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if Bill.objects.filter(pk=self.bill_id, status=Bill.Status.ISSUED).exists():
            raise IssuedBillError(_("Une pièce émise ne se supprime pas : établissez un avoir."))
        return super().delete(*args, **kwargs)


class TransmissionQuerySet(models.QuerySet):
    def of_operator(self, operator):
        return self.filter(bill__operator=operator)

    def needing_attention(self):
        """What staff must act on: a sending that gave up, a bill the platform rejected or the buyer refused."""
        return self.filter(
            models.Q(status=Transmission.Status.FAILED) | models.Q(lifecycle__in=LIFECYCLE_PROBLEMS)
        ).order_by("-at", "-pk")

    def waiting(self):
        """Dispatched and not sent yet (queued, maybe after a failed attempt, or being sent)."""
        return self.filter(status__in=[Transmission.Status.QUEUED, Transmission.Status.SENDING])

    def to_poll(self):
        """Deposited on the platform, in no final state yet: their lifecycle is still to follow."""
        return self.filter(
            channel=Transmission.Channel.PLATFORM, status=Transmission.Status.SENT, external_id__gt=""
        ).exclude(lifecycle__in=LIFECYCLE_FINAL)


class Transmission(models.Model):
    """A bill's journey to its buyer, by e-mail or through the e-invoicing platform: one per bill.

    `sending.dispatch` writes it *queued* in the transaction that asks for the sending; the task worker claims
    it (queued → sending, one conditional UPDATE: of two workers, one sends), sends, and records the outcome —
    *sent*, with `Bill.sent_at` — or puts it back in the queue with the error and when to try again (*failed*
    once it has tried enough: staff see it). Through the platform, `history` holds each lifecycle status the
    platform reported, once, and `lifecycle` the latest (mirrored on `Bill.platform_status`)."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        PLATFORM = "platform", _("plateforme de dématérialisation")

    class Status(models.TextChoices):
        QUEUED = "queued", _("à envoyer")
        SENDING = "sending", _("en cours d’envoi")
        SENT = "sent", _("envoyée")
        FAILED = "failed", _("non envoyée")

    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="transmissions")
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("statut"), max_length=30, choices=Status.choices, default=Status.QUEUED)
    external_id = models.CharField(_("identifiant sur la plateforme"), max_length=100, blank=True)
    lifecycle = models.CharField(
        _("statut sur la plateforme"), max_length=30, choices=Lifecycle.choices, blank=True
    )
    # An invoice to a business that went by e-mail because no platform is configured: to deposit once one is.
    fallback = models.BooleanField(_("par e-mail faute de plateforme"), default=False)
    message = models.TextField(
        _("message"), blank=True, help_text=_("La dernière erreur, ou ce qui a été fait.")
    )
    attempts = models.PositiveSmallIntegerField(_("tentatives échouées"), default=0)
    retry_after = models.DateTimeField(_("nouvel essai après"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("envoi commencé le"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    checked_at = models.DateTimeField(_("statut demandé le"), null=True, blank=True)
    staff_notified_at = models.DateTimeField(_("équipe prévenue le"), null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    objects = TransmissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("transmission")
        verbose_name_plural = _("transmissions")
        ordering = ["bill", "at", "pk"]
        constraints = [
            # A bill is sent once: two dispatches, or two workers, meet here.
            models.UniqueConstraint(fields=["bill"], name="billing_transmission_once_per_bill")
        ]
        indexes = [models.Index(fields=["status", "retry_after"], name="billing_transmission_due")]

    def __str__(self):
        return f"{self.bill} — {self.get_channel_display()} : {self.get_status_display()}"

    @property
    def needs_attention(self) -> bool:
        return self.status == self.Status.FAILED or self.lifecycle in LIFECYCLE_PROBLEMS


class LifecycleEvent(models.Model):
    """A lifecycle status the platform reported for a transmission, at its date: recorded once."""

    transmission = models.ForeignKey(Transmission, on_delete=models.PROTECT, related_name="history")
    status = models.CharField(_("statut"), max_length=30, choices=Lifecycle.choices)
    occurred_at = models.DateTimeField(_("date"))
    reason = models.TextField(_("motif"), blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("statut reçu de la plateforme")
        verbose_name_plural = _("statuts reçus de la plateforme")
        ordering = ["transmission", "occurred_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["transmission", "status", "occurred_at"], name="billing_lifecycle_event_once"
            )
        ]

    def __str__(self):
        return f"{self.transmission.bill} — {self.get_status_display()} ({self.occurred_at:%Y-%m-%d %H:%M})"


class Payment(models.Model):
    """Money received from a debtor, allocated to bills (wholly, partly, or not yet)."""

    class Method(models.TextChoices):
        TRANSFER = "transfer", _("virement")
        CHEQUE = "cheque", _("chèque")
        CARD = "card", _("carte bancaire")
        CASH = "cash", _("espèces")
        ONLINE = "online", _("paiement en ligne")

    class Status(models.TextChoices):
        PENDING = "pending", _("en attente du prestataire")
        RECEIVED = "received", _("reçu")
        FAILED = "failed", _("échoué")

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="payments")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    amount = models.DecimalField(_("montant"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY)
    method = models.CharField(_("moyen"), max_length=10, choices=Method.choices)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.RECEIVED)
    received_on = models.DateField(_("reçu le"))
    reference = models.CharField(
        _("référence"), max_length=100, blank=True, help_text=_("N° de chèque, de virement…")
    )
    provider_reference = models.CharField(_("référence du prestataire"), max_length=100, blank=True)
    # Public mode: a payment taken on site by the régie gets a numbered receipt, for one revenue type.
    revenue_type = models.CharField(
        _("type de recette"), max_length=20, choices=RevenueType.choices, blank=True
    )
    receipt_series = models.CharField(_("série des quittances"), max_length=20, blank=True)
    receipt_sequence = models.PositiveIntegerField(_("rang de la quittance"), null=True, blank=True)
    receipt_number = models.CharField(_("n° de quittance"), max_length=30, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("paiement")
        verbose_name_plural = _("paiements")
        ordering = ["-received_on", "-pk"]
        constraints = [
            _one_debtor("payment"),
            models.UniqueConstraint(
                fields=["operator", "receipt_number"],
                condition=~models.Q(receipt_number=""),
                name="billing_payment_receipt_unique",
            ),
            models.UniqueConstraint(
                fields=["provider_reference"],
                condition=~models.Q(provider_reference=""),
                name="billing_payment_provider_reference_unique",
            ),
        ]

    def __str__(self):
        return f"{self.amount} € — {self.get_method_display()} — {self.received_on}"


class Allocation(models.Model):
    """The part of a payment that settles a bill."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(_("montant"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY)

    class Meta:
        verbose_name = _("affectation")
        verbose_name_plural = _("affectations")
        constraints = [models.UniqueConstraint(fields=["payment", "bill"], name="billing_allocation_once")]

    def __str__(self):
        return f"{self.amount} € → {self.bill}"


class Reminder(models.Model):
    """A reminder sent for an overdue bill, at 15 or 30 days: the unique pair is why it never goes twice."""

    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="reminders")
    days_overdue = models.PositiveSmallIntegerField(_("jours de retard"))
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("relance")
        verbose_name_plural = _("relances")
        constraints = [models.UniqueConstraint(fields=["bill", "days_overdue"], name="billing_reminder_once")]

    def __str__(self):
        return f"{self.bill} — {self.days_overdue} j"


class Aid(models.Model):
    """An aid to a company: a share or a monthly amount off given lines over a period, naming its funder.

    Granted (`aids.grant`), it enters the company's de minimis ledger with its gross grant equivalent."""

    class Kind(models.TextChoices):
        RENT_COVERAGE = "rent_coverage", _("prise en charge du loyer")
        REDUCED_RATE = "reduced_rate", _("tarif réduit")
        FREE_MONTHS = "free_months", _("mois de bureau offerts")
        PRIZE = "prize", _("prix du concours")
        OTHER = "other", _("autre aide")

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="aids")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("entreprise aidée"), on_delete=models.PROTECT, related_name="aids"
    )
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    funder = models.CharField(_("financeur"), max_length=200)
    legal_basis = models.CharField(
        _("base légale"), max_length=300, default="Règlement (UE) 2023/2831 (de minimis)"
    )
    percent = models.DecimalField(
        _("part prise en charge (%)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        **RATE,
    )
    monthly_amount = models.DecimalField(_("montant mensuel"), null=True, blank=True, **MONEY)
    revenue_types = models.JSONField(
        _("lignes concernées"), default=list, blank=True, help_text=_("Types de recettes ; vide : toutes.")
    )
    starts_on = models.DateField(_("du"))
    ends_on = models.DateField(_("au"))
    market_monthly_rent = models.DecimalField(
        _("loyer de marché mensuel"),
        null=True,
        blank=True,
        help_text=_("Pour l’équivalent-subvention d’un loyer."),
        **MONEY,
    )
    gross_grant_equivalent = models.DecimalField(_("équivalent-subvention brut"), **MONEY)
    granted_on = models.DateField(_("accordée le"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(_("origine"), max_length=50, blank=True, help_text=_("contest.award…"))
    source_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("aide")
        verbose_name_plural = _("aides")
        ordering = ["-granted_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(percent__isnull=False) & models.Q(monthly_amount__isnull=True))
                | (models.Q(percent__isnull=True) & models.Q(monthly_amount__isnull=False)),
                name="billing_aid_percent_or_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="billing_aid_period"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.organisation} ({self.funder})"


class AidLedgerEntry(models.Model):
    """One aid in a company's de minimis ledger: granted here, or declared by the company from another funder."""

    siren = models.CharField(_("SIREN"), max_length=9, db_index=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="aid_ledger"
    )
    aid = models.OneToOneField(
        Aid, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entry"
    )
    granted_on = models.DateField(_("date d’octroi"))
    amount = models.DecimalField(_("équivalent-subvention brut"), **MONEY)
    aid_type = models.CharField(_("type d’aide"), max_length=200)
    legal_basis = models.CharField(_("base légale"), max_length=300)
    funder = models.CharField(_("financeur"), max_length=200)
    declared = models.BooleanField(_("déclarée par l’entreprise"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("aide au registre de minimis")
        verbose_name_plural = _("registre des aides de minimis")
        ordering = ["siren", "granted_on", "pk"]

    def __str__(self):
        return f"{self.siren} — {self.granted_on} — {self.amount} €"


class Closing(models.Model):
    """A closed month or year of an operator: its documents archived with a checksum manifest. Nothing
    dated in a closed period can be issued any more."""

    class Period(models.TextChoices):
        MONTH = "month", _("mois")
        YEAR = "year", _("exercice")

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="closings")
    period = models.CharField(_("période"), max_length=10, choices=Period.choices)
    starts_on = models.DateField(_("du"))
    ends_on = models.DateField(_("au"))
    manifest = models.TextField(_("manifeste"), help_text=_("SHA-256 de chaque document archivé."))
    archive = models.BinaryField(_("archive"), editable=False)
    archive_sha256 = models.CharField(_("SHA-256 de l’archive"), max_length=64)
    last_footprint = models.CharField(_("dernière empreinte"), max_length=64, blank=True)
    closed_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("clôture")
        verbose_name_plural = _("clôtures")
        ordering = ["operator", "-ends_on"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "period", "starts_on"], name="billing_closing_once")
        ]

    def __str__(self):
        return f"{self.operator} — {self.starts_on} → {self.ends_on}"
