"""Events: the forum, meetups, workshops, open days; who registers, who waits, who arrived.

An **event** happens at a site, in rooms held through the booking engine (`Booking.held_for` =
"events.event:<id>", one booking per room, made and moved and released by `services`) or at an outside address.
A **registration** is one person's place: a member's (linked to their account) or a visitor's (a name and an
e-mail address, confirmed by a link before it holds anything). Its status says whether it holds a place:

- *pending*: a visitor has not clicked the link yet; holds no place, expires after `PENDING_HOURS`;
- *confirmed*: holds a place;
- *waitlisted*: waits, oldest first (`waitlisted_at`), for a place to free up;
- *offered*: a freed place is kept for them until `offer_expires_at`; they accept it, or the next is offered;
- *cancelled* (by them or the team), *expired* (an unconfirmed address, or an offer not taken up).

Places held = confirmed + offered, counted by `services` under the lock of the event's row: never more than
the capacity. The database refuses a second live registration of one account or one address to an event.
"""

import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cocotte.spaces.models import Resource, Site

User = settings.AUTH_USER_MODEL

PENDING_HOURS = 24  # a visitor's unconfirmed registration expires after this


def new_token() -> str:
    return secrets.token_urlsafe(18)  # 24 characters, 144 bits: not guessable, short enough for a QR code


class Event(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("brouillon")
        PUBLISHED = "published", _("publié")
        CANCELLED = "cancelled", _("annulé")

    class Audience(models.TextChoices):
        PUBLIC = "public", _("ouvert à tous")
        MEMBERS = "members", _("réservé aux membres")

    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="events")
    title = models.CharField(_("titre"), max_length=200)
    description = models.TextField(_("description"))
    image = models.ImageField(_("image"), upload_to="events/", blank=True)
    image_alt = models.CharField(
        _("texte alternatif de l’image"),
        max_length=250,
        blank=True,
        help_text=_("Ce que montre l’image, pour qui ne la voit pas."),
    )
    rooms = models.ManyToManyField(
        Resource,
        verbose_name=_("salles"),
        blank=True,
        related_name="+",
        help_text=_("Réservées pour l’événement dans le planning du site."),
    )
    outside_address = models.CharField(
        _("ou adresse extérieure"),
        max_length=300,
        blank=True,
        help_text=_("Si l’événement n’a pas lieu dans les salles du site."),
    )
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))
    audience = models.CharField(_("public"), max_length=10, choices=Audience.choices, default=Audience.PUBLIC)
    price_excl_vat = models.DecimalField(
        _("prix HT par place"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("0 pour un événement gratuit."),
    )
    vat_rate = models.DecimalField(
        _("taux de TVA (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("20.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    capacity = models.PositiveIntegerField(_("places"), validators=[MinValueValidator(1)])
    registration_opens = models.DateTimeField(_("ouverture des inscriptions"), null=True, blank=True)
    registration_closes = models.DateTimeField(
        _("clôture des inscriptions"),
        null=True,
        blank=True,
        help_text=_("Par défaut : le début de l’événement."),
    )
    waiting_list = models.BooleanField(_("liste d’attente"), default=True)
    offer_hours = models.PositiveSmallIntegerField(
        _("délai pour accepter une place libérée (heures)"),
        default=24,
        validators=[MinValueValidator(1)],
    )
    cancellation_hours = models.PositiveSmallIntegerField(
        _("annulation sans frais jusqu’à (heures avant le début)"),
        default=48,
        help_text=_("Une place payante annulée plus tard reste due."),
    )
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    cancel_reason = models.TextField(_("motif d’annulation"), blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("événement")
        verbose_name_plural = _("événements")
        ordering = ["start", "pk"]
        indexes = [models.Index(fields=["status", "start"], name="events_event_upcoming")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="events_event_end_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="events_event_capacity_positive"),
        ]

    def __str__(self):
        return self.title

    @property
    def held_for(self) -> str:
        """What the engine's bookings of its rooms say they are held for."""
        return f"events.event:{self.pk}"

    @property
    def is_priced(self) -> bool:
        return self.price_excl_vat > 0

    @property
    def price_incl_vat(self) -> Decimal:
        return (self.price_excl_vat * (1 + self.vat_rate / 100)).quantize(Decimal("0.01"))

    @property
    def closes_at(self):
        return self.registration_closes or self.start

    @property
    def is_public(self) -> bool:
        return self.audience == self.Audience.PUBLIC

    def free_cancellation_until(self):
        return self.start - timedelta(hours=self.cancellation_hours)


class Question(models.Model):
    """A question asked on registration (« Votre activité ? », « Déjeunerez-vous sur place ? »)."""

    class Kind(models.TextChoices):
        TEXT = "text", _("texte libre")
        CHOICE = "choice", _("choix dans une liste")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("ordre"), default=1)
    label = models.CharField(_("question"), max_length=200)
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices, default=Kind.TEXT)
    choices = models.TextField(_("choix possibles"), blank=True, help_text=_("Un par ligne."))
    required = models.BooleanField(_("réponse obligatoire"), default=False)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["event", "position", "pk"]

    def __str__(self):
        return self.label

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class Registration(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("adresse à confirmer")
        CONFIRMED = "confirmed", _("inscrit")
        WAITLISTED = "waitlisted", _("en liste d’attente")
        OFFERED = "offered", _("place proposée")
        CANCELLED = "cancelled", _("annulé")
        EXPIRED = "expired", _("expiré")

    LIVE = (Status.PENDING, Status.CONFIRMED, Status.WAITLISTED, Status.OFFERED)
    HOLDING = (Status.CONFIRMED, Status.OFFERED)  # what counts against the capacity

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="registrations")
    member = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="event_registrations"
    )
    name = models.CharField(_("nom"), max_length=200)
    email = models.EmailField(_("e-mail"))
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices)
    answers = models.JSONField(_("réponses"), default=dict, blank=True)
    language = models.CharField(_("langue des e-mails"), max_length=10, default="fr")
    # The link in the person's e-mails (confirm the address, accept an offer, cancel) and the check-in code
    # in their QR code: two secrets, so that a photo of the QR code at the door cannot cancel the place.
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    checkin_code = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("à confirmer avant"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmé le"), null=True, blank=True)
    waitlisted_at = models.DateTimeField(_("en attente depuis"), null=True, blank=True)
    offered_at = models.DateTimeField(_("place proposée le"), null=True, blank=True)
    offer_expires_at = models.DateTimeField(_("place proposée jusqu’au"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("annulé le"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("arrivé à"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("inscription")
        verbose_name_plural = _("inscriptions")
        ordering = ["event", "created_at", "pk"]
        indexes = [
            # The door's lists and the counts under the event's lock.
            models.Index(fields=["event", "status"], name="events_reg_by_status"),
            # The waiting list, oldest first.
            models.Index(
                fields=["event", "waitlisted_at", "id"],
                name="events_reg_waiting",
                condition=Q(status="waitlisted"),
            ),
            # The scheduler's sweeps.
            models.Index(
                fields=["offer_expires_at"], name="events_reg_offers", condition=Q(status="offered")
            ),
            models.Index(fields=["expires_at"], name="events_reg_unconfirmed", condition=Q(status="pending")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "member"],
                condition=Q(
                    status__in=["pending", "confirmed", "waitlisted", "offered"], member__isnull=False
                ),
                name="events_reg_one_live_per_member",
            ),
            models.UniqueConstraint(
                fields=["event", "email"],
                condition=Q(status__in=["pending", "confirmed", "waitlisted", "offered"]),
                name="events_reg_one_live_per_email",
            ),
        ]

    def __str__(self):
        return f"{self.name} — {self.event}"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE

    @property
    def holds_place(self) -> bool:
        return self.status in self.HOLDING
