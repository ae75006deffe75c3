"""Sites of a network, their opening hours and closures, and the resources that can be booked there."""

import uuid
from datetime import time, timedelta
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cocotte.accounts.models import User
from cocotte.accounts.permissions import SITE_SCOPE, SITE_STAFF_ROLES

# Where France has extra public holidays (the `holidays` library's codes); school zones are left out.
HOLIDAY_SUBDIVISIONS = [
    ("57", "Moselle"),
    ("6AE", "Alsace"),
    ("971", "Guadeloupe"),
    ("972", "Martinique"),
    ("973", "Guyane"),
    ("974", "La Réunion"),
    ("976", "Mayotte"),
    ("BL", "Saint-Barthélemy"),
    ("MF", "Saint-Martin"),
    ("NC", "Nouvelle-Calédonie"),
    ("PF", "Polynésie française"),
    ("PM", "Saint-Pierre-et-Miquelon"),
    ("TF", "Terres australes françaises"),
    ("WF", "Wallis-et-Futuna"),
]


class Network(models.Model):
    """The operator's network of tiers-lieux (Hautes Terres Communauté in the demo)."""

    name = models.CharField(_("nom"), max_length=200)
    slug = models.SlugField(unique=True)
    operator = models.CharField(_("structure gestionnaire"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("réseau")
        verbose_name_plural = _("réseaux")

    def __str__(self):
        return self.name


class Site(models.Model):
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="sites")
    name = models.CharField(_("nom"), max_length=200)
    slug = models.SlugField(unique=True)
    # What a visitor reads on the site's public page. Staff write French, and English when they can: an
    # empty English text falls back to the French (core.i18n.localized).
    description = models.TextField(
        _("présentation"), blank=True, help_text=_("Ce qu’est le lieu, en quelques phrases.")
    )
    description_en = models.TextField(_("présentation (anglais)"), blank=True)
    audience = models.TextField(
        _("pour qui"),
        blank=True,
        help_text=_("Télétravailleurs, porteurs de projet, entreprises du territoire…"),
    )
    audience_en = models.TextField(_("pour qui (anglais)"), blank=True)
    extra_services = models.TextField(
        _("autres services"),
        blank=True,
        help_text=_(
            "Un service par ligne (accompagnement à la création, formation, événements…) ; les espaces "
            "réservables sont listés d’eux-mêmes."
        ),
    )
    extra_services_en = models.TextField(_("autres services (anglais)"), blank=True)
    directions = models.TextField(
        _("comment venir"), blank=True, help_text=_("Accès, stationnement, transports, accessibilité.")
    )
    directions_en = models.TextField(_("comment venir (anglais)"), blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=8, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    contact_name = models.CharField(
        _("contact"), max_length=120, blank=True, help_text=_("La personne à joindre, telle qu’affichée.")
    )
    contact_role = models.CharField(_("fonction du contact"), max_length=120, blank=True)
    contact_role_en = models.CharField(_("fonction du contact (anglais)"), max_length=120, blank=True)
    street = models.CharField(_("adresse"), max_length=200)
    postal_code = models.CharField(_("code postal"), max_length=10)
    city = models.CharField(_("commune"), max_length=120)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    timezone = models.CharField(_("fuseau horaire"), max_length=50, default="Europe/Paris")
    half_day_split = models.TimeField(
        _("fin de la matinée"),
        default=time(13, 0),
        help_text=_("Heure qui sépare la matinée de l’après-midi pour les réservations à la demi-journée."),
    )
    closed_on_public_holidays = models.BooleanField(_("fermé les jours fériés"), default=True)
    holiday_subdivision = models.CharField(
        _("jours fériés locaux"),
        max_length=5,
        blank=True,
        choices=HOLIDAY_SUBDIVISIONS,
        help_text=_(
            "Alsace, Moselle ou outre-mer ont des jours fériés de plus ; vide en métropole ailleurs."
        ),
    )
    opened_on = models.DateField(_("ouvert depuis"), null=True, blank=True)
    is_active = models.BooleanField(_("actif"), default=True)
    # Changes whenever the site's opening hours or closures change (spaces.opening): read with the site, it
    # tells every web process whether its cached calendar of the site is still right. Random, not a counter:
    # a site created again with the same id (SQLite reuses ids after a rollback) never meets an old entry.
    calendar_version = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("spaces:site", args=[self.slug])

    def map_url(self) -> str:
        """The site on OpenStreetMap: its point when staff gave one, else a search for its address."""
        if self.latitude is not None and self.longitude is not None:
            return (
                f"https://www.openstreetmap.org/?mlat={self.latitude}&mlon={self.longitude}"
                f"#map=17/{self.latitude}/{self.longitude}"
            )
        address = f"{self.street}, {self.postal_code} {self.city}"
        return "https://www.openstreetmap.org/search?" + urlencode({"query": address})

    def team(self):
        """The people who hold a staff role over this site (site staff and project officers)."""
        return User.objects.filter(
            roles__role__in=SITE_STAFF_ROLES, roles__scope_app_label=SITE_SCOPE, roles__scope_id=self.pk
        ).distinct()

    def clean(self):
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"timezone": _("Fuseau horaire inconnu.")}) from None


class OpeningHours(models.Model):
    """One opening interval on a weekday, in the site's local time. Several per day make a lunch break.

    `closes` at 00:00 means midnight at the end of the day.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("lundi")
        TUESDAY = 1, _("mardi")
        WEDNESDAY = 2, _("mercredi")
        THURSDAY = 3, _("jeudi")
        FRIDAY = 4, _("vendredi")
        SATURDAY = 5, _("samedi")
        SUNDAY = 6, _("dimanche")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("jour"), choices=Weekday.choices)
    opens = models.TimeField(_("ouverture"))
    closes = models.TimeField(pgettext_lazy("heure", "fermeture"))

    class Meta:
        verbose_name = _("horaire d’ouverture")
        verbose_name_plural = _("horaires d’ouverture")
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")) | models.Q(closes=time(0)),
                name="spaces_openinghours_closes_after_opens",
            ),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="spaces_openinghours_weekday"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Closure(models.Model):
    """Days when a site is closed besides public holidays (a bridge day, summer break, works)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="closures")
    start_date = models.DateField(_("premier jour"))
    end_date = models.DateField(_("dernier jour"))
    reason = models.CharField(_("motif"), max_length=200)

    class Meta:
        verbose_name = _("fermeture")
        verbose_name_plural = _("fermetures")
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")), name="spaces_closure_dates_ordered"
            )
        ]

    def __str__(self):
        return f"{self.reason} ({self.start_date} – {self.end_date})"


class SitePhoto(models.Model):
    """A photo of a site for its public page, resized when staff upload it (spaces.photos)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(
        _("photo"), upload_to="sites/photos/", width_field="width", height_field="height"
    )
    thumbnail = models.ImageField(upload_to="sites/thumbnails/", editable=False)
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    alt_text = models.CharField(
        _("texte alternatif"),
        max_length=250,
        help_text=_(
            "Ce que montre la photo, pour qui ne la voit pas (« L’open space, 12 postes face aux monts »)."
        ),
    )
    alt_text_en = models.CharField(_("texte alternatif (anglais)"), max_length=250, blank=True)
    position = models.PositiveSmallIntegerField(_("ordre d’affichage"), default=0)

    class Meta:
        verbose_name = _("photo du lieu")
        verbose_name_plural = _("photos du lieu")
        ordering = ["site", "position", "pk"]

    def __str__(self):
        return self.alt_text


class Equipment(models.Model):
    """Something a resource offers: a screen, a videoconference kit, a laser cutter's extraction…"""

    name = models.CharField(_("nom"), max_length=100, unique=True)
    name_en = models.CharField(_("nom (anglais)"), max_length=100, blank=True)
    slug = models.SlugField(unique=True)

    class Meta:
        verbose_name = _("équipement")
        verbose_name_plural = _("équipements")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Resource(models.Model):
    class Kind(models.TextChoices):
        DESK = "desk", _("poste en open space")
        OPEN_SPACE = "open_space", _("open space (places partagées)")
        OFFICE = "office", _("bureau privatif")
        MEETING_ROOM = "meeting_room", _("salle de réunion")
        VISIO_ROOM = "visio_room", _("salle de visioconférence")
        COMMON_ROOM = "common_room", _("espace de convivialité")
        MACHINE = "machine", _("machine du Fablab")

    class Unit(models.TextChoices):
        HALF_HOUR = "30min", _("30 minutes")
        HOUR = "hour", _("heure")
        HALF_DAY = "half_day", _("demi-journée")
        DAY = "day", _("journée")
        MONTH = "month", _("mois")

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="resources")
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("nom"), max_length=200)
    name_en = models.CharField(_("nom (anglais)"), max_length=200, blank=True)
    slug = models.SlugField()
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description (anglais)"), blank=True)
    seats = models.PositiveSmallIntegerField(
        _("nombre de personnes"), default=1, validators=[MinValueValidator(1)]
    )
    capacity = models.PositiveSmallIntegerField(
        _("réservations simultanées"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("1 pour une ressource exclusive ; le nombre de places d’un open space partagé."),
    )
    equipment = models.ManyToManyField(Equipment, verbose_name=_("équipements"), blank=True)
    unit = models.CharField(_("unité de réservation"), max_length=10, choices=Unit.choices)
    min_units = models.PositiveSmallIntegerField(_("durée minimale (en unités)"), default=1)
    max_units = models.PositiveSmallIntegerField(_("durée maximale (en unités)"), default=8)
    max_advance_days = models.PositiveSmallIntegerField(
        _("réservable jusqu’à (jours à l’avance)"), default=90
    )
    cancellation_notice_hours = models.PositiveSmallIntegerField(
        _("délai d’annulation (heures avant le début)"), default=24
    )
    requires_approval = models.BooleanField(_("validation par l’équipe"), default=False)
    is_active = models.BooleanField(_("réservable"), default=True)
    position = models.PositiveSmallIntegerField(_("ordre d’affichage"), default=0)

    class Meta:
        verbose_name = _("ressource")
        verbose_name_plural = _("ressources")
        ordering = ["site", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "slug"], name="spaces_resource_slug_unique_per_site"),
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1), name="spaces_resource_capacity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(min_units__gte=1) & models.Q(max_units__gte=models.F("min_units")),
                name="spaces_resource_duration_bounds",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.site})"

    @property
    def is_pooled(self) -> bool:
        return self.capacity > 1

    @property
    def unit_duration(self) -> timedelta | None:
        """Fixed length of one unit; None for units that follow the calendar (half-day, day, month)."""
        return {self.Unit.HALF_HOUR: timedelta(minutes=30), self.Unit.HOUR: timedelta(hours=1)}.get(self.unit)

    @property
    def cancellation_notice(self) -> timedelta:
        return timedelta(hours=self.cancellation_notice_hours)

    def clean(self):
        if self.unit in (self.Unit.DAY,) and self.max_units > 1:
            raise ValidationError(
                {"max_units": _("Une réservation à la journée tient dans une journée : 1 unité au plus.")}
            )
        if self.unit == self.Unit.HALF_DAY and self.max_units > 2:
            raise ValidationError(
                {
                    "max_units": _(
                        "Une réservation à la demi-journée tient dans une journée : 2 unités au plus."
                    )
                }
            )
