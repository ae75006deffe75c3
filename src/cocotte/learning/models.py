"""Trainings: programmes, their sessions and sittings, enrolments, attendance, evidence and qualifications.

A **programme** is what is taught ("Cycle création d'entreprise"); a **session** is one run of it at a site,
made of **sittings** (a day's block, with its trainer and its room, the room booked through the engine and
held for the sitting). Attendance is signed per **half-day**: each sitting has one sheet per half-day it
covers (morning before 13:00 local time, afternoon after), and each sheet one mark per enrolled trainee.

Evidence is never thrown away: enrolments, sheets, marks, certificates, surveys and qualification grants
are protected from deletion (`on_delete=PROTECT` towards them, and the services never delete them); a
person who erases their account keeps their name on the evidence already issued (SEAMS.md).
"""

from datetime import time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cocotte.bookings.models import Booking
from cocotte.spaces.models import Resource, Site

User = settings.AUTH_USER_MODEL

# Where a day's morning ends and its afternoon begins, in the site's zone: the half-days of attendance.
NOON = time(13, 0)
WITHDRAWAL_DAYS = 10  # Code du travail L6353-5: a self-funded trainee may withdraw within 10 days of signing
FIRST_PAYMENT_SHARE = Decimal("0.30")  # L6353-6: at most 30 % of the price once the withdrawal period ends


class Qualification(models.Model):
    """What a completed training or a trainer may grant ("Découpe laser, niveau 1"): valid on every site."""

    name = models.CharField(_("nom"), max_length=200, unique=True)
    slug = models.SlugField(unique=True)
    description = models.TextField(_("description"), blank=True)
    # The Fablab lets a grant lapse after months without real use; trainings leave it empty.
    valid_for_months = models.PositiveSmallIntegerField(
        _("validité (mois)"), null=True, blank=True, help_text=_("Vide : sans limite de durée.")
    )

    class Meta:
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Programme(models.Model):
    """A training action as it is published and declared (Qualiopi indicator 1: what a candidate must know)."""

    class Nature(models.TextChoices):
        # The nature of the action, as the ministry's certificate of delivery lists them (L6313-1).
        TRAINING = "training", _("action de formation")
        SKILLS_REVIEW = "skills_review", _("bilan de compétences")
        VAE = "vae", _("action permettant de faire valider les acquis de l’expérience")
        APPRENTICESHIP = "apprenticeship", _("action de formation par apprentissage")

    site = models.ForeignKey(
        Site,
        verbose_name=_("site responsable"),
        on_delete=models.PROTECT,
        related_name="programmes",
        help_text=_("Son équipe gère le programme et ses sessions."),
    )
    title = models.CharField(_("intitulé"), max_length=200)
    slug = models.SlugField(unique=True)
    nature = models.CharField(
        _("nature de l’action"), max_length=20, choices=Nature.choices, default=Nature.TRAINING
    )
    summary = models.TextField(_("présentation"), blank=True)
    objectives = models.TextField(_("objectifs"))
    prerequisites = models.TextField(_("prérequis"), blank=True)
    audience = models.TextField(_("public visé"), blank=True)
    duration_hours = models.DecimalField(
        _("durée (heures)"), max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.5"))]
    )
    price_excl_vat = models.DecimalField(
        _("prix HT par stagiaire"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    # Training is exempt from VAT for a declared provider (CGI 261-4-4° a); a rate is kept for the others.
    vat_rate = models.DecimalField(
        _("taux de TVA (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    funding_notes = models.TextField(_("financements possibles"), blank=True)
    accessibility = models.TextField(
        _("accessibilité aux personnes en situation de handicap"),
        help_text=_("Locaux, adaptations possibles, délai pour les prévoir."),
    )
    accessibility_contact = models.CharField(_("référent handicap (nom et contact)"), max_length=300)
    assessment_method = models.TextField(_("modalités d’évaluation"))
    teaching_methods = models.TextField(_("méthodes pédagogiques"), blank=True)
    # The provider, as the certificates name it.
    provider_name = models.CharField(_("organisme de formation"), max_length=200)
    provider_declaration = models.CharField(
        _("numéro de déclaration d’activité"),
        max_length=30,
        blank=True,
        help_text=_("Enregistré auprès du préfet de région (11 chiffres)."),
    )
    provider_siret = models.CharField(_("SIRET de l’organisme"), max_length=14, blank=True)
    # Under-filled sessions: below `min_trainees` accepted trainees `cancel_days_before` days before the first
    # sitting, the session is cancelled by the scheduler.
    min_trainees = models.PositiveSmallIntegerField(_("minimum de stagiaires"), default=1)
    cancel_days_before = models.PositiveSmallIntegerField(
        _("décision de maintien (jours avant la première séance)"), default=7
    )
    # How long a person offered a freed place has to confirm it, before the next on the list is offered it.
    offer_hours = models.PositiveSmallIntegerField(
        _("délai pour confirmer une place proposée (heures)"), default=48
    )
    grants = models.ForeignKey(
        Qualification,
        verbose_name=_("qualification délivrée"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="programmes",
        help_text=_("Accordée à chaque stagiaire qui termine la formation."),
    )
    published = models.BooleanField(_("publié"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("programme de formation")
        verbose_name_plural = _("programmes de formation")
        ordering = ["title"]

    def __str__(self):
        return self.title


class Module(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="modules")
    position = models.PositiveSmallIntegerField(_("ordre"), default=1)
    title = models.CharField(_("intitulé"), max_length=200)
    objectives = models.TextField(_("objectifs"), blank=True)
    hours = models.DecimalField(_("heures"), max_digits=6, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("module")
        verbose_name_plural = _("modules")
        ordering = ["programme", "position", "pk"]

    def __str__(self):
        return self.title


class Session(models.Model):
    """One run of a programme: its dates are its sittings'."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("en préparation")  # not shown, no enrolment
        OPEN = "open", _("inscriptions ouvertes")
        CANCELLED = "cancelled", _("annulée")
        COMPLETED = "completed", _("terminée")

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="sessions")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="training_sessions")
    label = models.CharField(
        _("nom de la session"), max_length=200, help_text=_("Par exemple « Printemps 2027 ».")
    )
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    capacity = models.PositiveSmallIntegerField(_("places"), validators=[MinValueValidator(1)])
    enrolment_opens = models.DateTimeField(_("ouverture des candidatures"), null=True, blank=True)
    enrolment_closes = models.DateTimeField(_("clôture des candidatures"))
    # Filled from the sittings by the services (first start, last end), so that lists need no aggregate.
    starts_at = models.DateTimeField(_("début"), null=True, blank=True, editable=False)
    ends_at = models.DateTimeField(_("fin"), null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(_("annulée le"), null=True, blank=True, editable=False)
    cancel_reason = models.TextField(_("motif d’annulation"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("session de formation")
        verbose_name_plural = _("sessions de formation")
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["status", "starts_at"], name="learning_session_upcoming")]

    def __str__(self):
        return f"{self.programme} — {self.label}"

    @property
    def has_ended(self) -> bool:
        """Its last sitting is over: the session can be closed and its certificates issued."""
        return self.ends_at is not None and self.ends_at <= timezone.now()


class Sitting(models.Model):
    """A block of teaching on one day, in one room, by one trainer; its room is held through the engine."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="sittings")
    # PROTECT: a signed sheet's seal covers its module, so a module that was taught is kept.
    module = models.ForeignKey(
        Module, on_delete=models.PROTECT, null=True, blank=True, related_name="sittings"
    )
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))
    trainer = models.ForeignKey(
        User, verbose_name=_("formateur"), on_delete=models.PROTECT, related_name="sittings_taught"
    )
    room = models.ForeignKey(
        Resource, verbose_name=_("salle"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outside_address = models.CharField(_("ou adresse extérieure"), max_length=300, blank=True)
    booking = models.OneToOneField(
        Booking, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="sitting"
    )

    class Meta:
        verbose_name = _("séance")
        verbose_name_plural = _("séances")
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="learning_sitting_end_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.session} — {self.start:%Y-%m-%d %H:%M}"


class Enrolment(models.Model):
    """A person's place in a session, from their application to its end. Never deleted: it is evidence."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("candidature reçue")  # staff decide
        WAITLISTED = "waitlisted", _("liste d’attente")
        OFFERED = "offered", _("place proposée")  # a freed place, held until `offer_expires_at`
        ACCEPTED = (
            "accepted",
            pgettext_lazy("formation", "inscrit"),
        )  # holds a place; a self-funded one still signs its contract
        REFUSED = "refused", _("refusée")
        WITHDRAWN = "withdrawn", _("désisté")
        CANCELLED = "cancelled", _("session annulée")
        MOVED = "moved", _("transféré vers une autre session")

    class Funding(models.TextChoices):
        SELF = "self", _("financement personnel")  # a contract, a withdrawal period, a payment schedule
        EMPLOYER = "employer", _("employeur ou organisation")
        PUBLIC = "public", _("financeur public (France Travail, Région, OPCO…)")
        CPF = "cpf", _("compte personnel de formation")
        FREE = "free", _("gratuit")

    # Statuses that hold one of the session's places (the capacity counts them).
    HOLDING = (Status.OFFERED, Status.ACCEPTED)
    # Statuses of a live application: one per person and session (a unique constraint).
    LIVE = (Status.APPLIED, Status.WAITLISTED, Status.OFFERED, Status.ACCEPTED)

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="enrolments")
    trainee = models.ForeignKey(
        User, verbose_name=_("stagiaire"), on_delete=models.PROTECT, related_name="enrolments"
    )
    status = models.CharField(_("statut"), max_length=12, choices=Status.choices, default=Status.APPLIED)
    funding = models.CharField(_("financement"), max_length=10, choices=Funding.choices, default=Funding.SELF)
    payer = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("organisation qui paie"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    project = models.TextField(_("votre projet"))
    expectations = models.TextField(_("vos attentes"), blank=True)
    prerequisites_met = models.BooleanField(_("je remplis les prérequis"), default=False)
    needs_adaptation = models.TextField(_("adaptations liées à un handicap"), blank=True)
    applied_at = models.DateTimeField(_("candidature le"), auto_now_add=True)
    # The waiting list's order: when the person joined it (oldest first).
    waitlisted_at = models.DateTimeField(_("en liste d’attente depuis"), null=True, blank=True)
    offer_expires_at = models.DateTimeField(_("place proposée jusqu’au"), null=True, blank=True)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("motif"), blank=True)
    moved_to = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="moved_from"
    )
    # The training contract of a self-funded trainee (L6353-3): signed before enrolment is final.
    contract_signed_at = models.DateTimeField(_("contrat signé le"), null=True, blank=True)
    contract_signed_name = models.CharField(_("signé par"), max_length=200, blank=True)
    contract_text_hash = models.CharField(max_length=64, blank=True, editable=False)
    # The text as signed, kept whole: the trainee and an auditor reread exactly what was agreed (its hash above).
    contract_text = models.TextField(_("contrat signé"), blank=True, editable=False)
    # At the end: whether the trainee completed the action, the result of the assessment, and what came of it
    # (businesses created, recorded by staff at the cold survey: Qualiopi's results).
    completed = models.BooleanField(_("formation terminée"), null=True, blank=True)
    assessment_result = models.TextField(_("résultat de l’évaluation"), blank=True)
    business_created = models.BooleanField(_("entreprise créée"), null=True, blank=True)
    business_created_on = models.DateField(_("créée le"), null=True, blank=True)
    # The satisfaction surveys' invitations, each sent once (claimed by a conditional UPDATE).
    hot_survey_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    cold_survey_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = pgettext_lazy("formation", "inscription")
        verbose_name_plural = pgettext_lazy("formation", "inscriptions")
        ordering = ["session", "applied_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "trainee"],
                condition=Q(status__in=["applied", "waitlisted", "offered", "accepted"]),
                name="learning_one_live_enrolment",
            ),
        ]
        indexes = [models.Index(fields=["session", "status", "waitlisted_at"], name="learning_enrol_queue")]

    def __str__(self):
        return f"{self.trainee} — {self.session}"

    @property
    def withdrawal_ends_at(self):
        if self.contract_signed_at is None:
            return None
        return self.contract_signed_at + timedelta(days=WITHDRAWAL_DAYS)


class Installment(models.Model):
    """A self-funded trainee's payment schedule: handed to billing on its date, never before the withdrawal
    period ends, the first at most 30 % of the price (L6353-6)."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="installments")
    due_on = models.DateField(_("échéance"))
    amount_excl_vat = models.DecimalField(_("montant HT"), max_digits=10, decimal_places=2)
    handed_over_at = models.DateTimeField(_("transmis à la facturation le"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("annulé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("échéance")
        verbose_name_plural = _("échéances")
        ordering = ["enrolment", "due_on", "pk"]

    def __str__(self):
        return f"{self.enrolment} — {self.due_on}"


class Sheet(models.Model):
    """The attendance sheet of one half-day of a sitting. Locked once the half-day is over: its content's hash
    is stored then, and any later change needs a reason and is audited."""

    class Half(models.TextChoices):
        MORNING = "morning", _("matin")
        AFTERNOON = "afternoon", _("après-midi")

    sitting = models.ForeignKey(Sitting, on_delete=models.PROTECT, related_name="sheets")
    half = models.CharField(_("demi-journée"), max_length=10, choices=Half.choices)
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))
    trainer_signed_at = models.DateTimeField(_("signée par le formateur le"), null=True, blank=True)
    trainer_signature = models.TextField(_("signature du formateur"), blank=True)
    trainer_signed_name = models.CharField(max_length=200, blank=True)
    locked_at = models.DateTimeField(_("verrouillée le"), null=True, blank=True)
    content_hash = models.CharField(_("empreinte"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("feuille d’émargement")
        verbose_name_plural = _("feuilles d’émargement")
        ordering = ["start", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["sitting", "half"], name="learning_one_sheet_per_half_day")
        ]

    def __str__(self):
        return f"{self.sitting} — {self.get_half_display()}"

    @property
    def hours(self) -> Decimal:
        return Decimal((self.end - self.start).total_seconds() / 3600).quantize(Decimal("0.01"))


class Mark(models.Model):
    """One trainee on one sheet: present (signed), absent or excused (with a reason), or not yet marked."""

    class State(models.TextChoices):
        EXPECTED = "expected", _("attendu")
        PRESENT = "present", _("présent")
        ABSENT = "absent", _("absent")
        EXCUSED = "excused", _("absence justifiée")

    class Method(models.TextChoices):
        DRAWN = "drawn", _("signature dessinée")
        TYPED = "typed", _("nom saisi")

    sheet = models.ForeignKey(Sheet, on_delete=models.PROTECT, related_name="marks")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="marks")
    state = models.CharField(_("présence"), max_length=10, choices=State.choices, default=State.EXPECTED)
    reason = models.TextField(_("motif"), blank=True)
    method = models.CharField(max_length=10, choices=Method.choices, blank=True)
    signature = models.TextField(_("signature"), blank=True)  # an SVG path of the drawing
    signed_name = models.CharField(_("nom saisi"), max_length=200, blank=True)
    signed_at = models.DateTimeField(_("signé le"), null=True, blank=True)
    signed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    marked_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("présence")
        verbose_name_plural = _("présences")
        constraints = [
            models.UniqueConstraint(fields=["sheet", "enrolment"], name="learning_one_mark_per_sheet")
        ]

    def __str__(self):
        return f"{self.enrolment.trainee} — {self.get_state_display()}"


class Certificate(models.Model):
    """A certificate issued to a trainee, with what it certified frozen at issue (the PDF is drawn from it)."""

    class Kind(models.TextChoices):
        DELIVERY = "delivery", _("certificat de réalisation")
        COMPLETION = "completion", _("attestation de fin de formation")

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="certificates")
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices)
    number = models.CharField(_("numéro"), max_length=40, unique=True)
    hours_attended = models.DecimalField(_("heures réalisées"), max_digits=6, decimal_places=2)
    content = models.JSONField(_("contenu certifié"), default=dict)
    content_hash = models.CharField(max_length=64, editable=False)
    issued_at = models.DateTimeField(_("délivré le"), auto_now_add=True)
    issued_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("certificat")
        verbose_name_plural = _("certificats")
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "kind"], name="learning_one_certificate_per_kind")
        ]

    def __str__(self):
        return self.number


SCALES = ("overall", "content", "trainers", "organisation", "usefulness")


def _scale(label, *, required: bool = False) -> models.PositiveSmallIntegerField:
    """An answer on the surveys' 1–5 scale."""
    return models.PositiveSmallIntegerField(
        label,
        null=not required,
        blank=not required,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )


class SurveyResponse(models.Model):
    """A trainee's satisfaction: hot at the end of the session, cold three months later."""

    class Kind(models.TextChoices):
        HOT = "hot", _("à chaud")
        COLD = "cold", _("à froid (trois mois après)")

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="survey_responses")
    kind = models.CharField(_("questionnaire"), max_length=5, choices=Kind.choices)
    # Scales from 1 (not at all satisfied) to 5 (very satisfied): held by the database too (Meta).
    overall = _scale(_("satisfaction générale"), required=True)
    content = _scale(_("contenu"))
    trainers = _scale(_("formateurs"))
    organisation = _scale(_("organisation"))
    usefulness = _scale(_("utilité pour le projet"))
    would_recommend = models.BooleanField(_("recommanderiez-vous la formation ?"), null=True, blank=True)
    comments = models.TextField(_("commentaires"), blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("réponse au questionnaire de satisfaction")
        verbose_name_plural = _("réponses aux questionnaires de satisfaction")
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "kind"], name="learning_one_response_per_survey"),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{name}__gte": 1, f"{name}__lte": 5}) | Q(**{f"{name}__isnull": True}),
                    name=f"learning_survey_{name}_on_scale",
                )
                for name in SCALES
            ),
        ]

    def __str__(self):
        return f"{self.enrolment} — {self.get_kind_display()}"


class Complaint(models.Model):
    """The complaints register (Qualiopi indicator 31): received, answered, and what was done about it."""

    class Status(models.TextChoices):
        OPEN = "open", _("à traiter")
        ANSWERED = "answered", _("répondue")
        CLOSED = "closed", _("close")

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints"
    )
    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints"
    )
    author = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    author_name = models.CharField(_("nom"), max_length=200)
    author_email = models.EmailField(_("e-mail"))
    received_at = models.DateTimeField(_("reçue le"), auto_now_add=True)
    subject = models.CharField(_("objet"), max_length=200)
    description = models.TextField(_("réclamation"))
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.OPEN)
    response = models.TextField(_("réponse apportée"), blank=True)
    action_taken = models.TextField(_("action d’amélioration"), blank=True)
    answered_at = models.DateTimeField(_("répondue le"), null=True, blank=True)
    answered_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("réclamation")
        verbose_name_plural = _("réclamations")
        ordering = ["-received_at", "pk"]

    def __str__(self):
        return self.subject


class GrantDeletion(Exception):
    """A qualification grant is evidence: it is suspended, revoked or expires, never deleted."""


class GrantQuerySet(models.QuerySet):
    def delete(self):
        raise GrantDeletion("A qualification grant is never deleted: revoke it.")


class Grant(models.Model):
    """A person's qualification: granted by a trainer or by a completed training, valid on every site.
    Never deleted: expiry, suspension and revocation change its status, and the history stays."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("valide")
        EXPIRED = "expired", _("expirée")
        SUSPENDED = "suspended", _("suspendue")
        REVOKED = "revoked", _("retirée")

    qualification = models.ForeignKey(Qualification, on_delete=models.PROTECT, related_name="grants")
    holder = models.ForeignKey(
        User, verbose_name=_("titulaire"), on_delete=models.PROTECT, related_name="qualification_grants"
    )
    granted_by = models.ForeignKey(
        User,
        verbose_name=_("accordée par"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    enrolment = models.ForeignKey(
        Enrolment,
        verbose_name=_("par la formation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grants",
    )
    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="+")
    granted_on = models.DateField(_("accordée le"))
    valid_until = models.DateField(_("valable jusqu’au"), null=True, blank=True)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField(_("motif du statut"), blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("qualification accordée")
        verbose_name_plural = _("qualifications accordées")
        ordering = ["-granted_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(granted_by__isnull=False) | Q(enrolment__isnull=False),
                name="learning_grant_has_a_grantor",
            ),
        ]
        indexes = [models.Index(fields=["holder", "qualification", "status"], name="learning_grant_lookup")]

    def __str__(self):
        return f"{self.qualification} — {self.holder}"

    def delete(self, *args, **kwargs):
        raise GrantDeletion("A qualification grant is never deleted: revoke it.")
