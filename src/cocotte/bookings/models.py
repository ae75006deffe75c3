"""Bookings, recurring series and blocks. Only `bookings.services` writes them.

Times are aware, stored in UTC, half-open: [start, end). On PostgreSQL, migration 0002 adds an exclusion
constraint so that no two live bookings of an exclusive resource overlap, whatever code path writes them.
"""

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField
from django.db import connections, models
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils.translation import gettext_lazy as _

from cocotte.spaces.models import Resource


class TsTzRange(models.Func):
    """tstzrange(start, end, '[)'): the half-open period of a row, as PostgreSQL's GiST indexes see it."""

    function = "TSTZRANGE"
    template = "%(function)s(%(expressions)s, '[)')"
    output_field = DateTimeRangeField()


class BookingQuerySet(models.QuerySet):
    def live(self):
        """Bookings that hold their slot: confirmed, or pending until someone refuses them."""
        return self.filter(status__in=Booking.LIVE)

    def overlapping(self, start, end):
        """Bookings that share some time with [start, end).

        On PostgreSQL, a range overlap that the GiST index on live periods serves from both sides (no walk
        through past or future years). Elsewhere, `end > period start` first, which the index on
        (resource, end) serves: it skips every booking that ended before the period.
        """
        if end <= start:
            return self.none()  # an empty period overlaps nothing (and is no range for PostgreSQL)
        if connections[self.db].vendor == "postgresql":
            return self.alias(period=TsTzRange("start", "end")).filter(
                period__overlap=DateTimeTZRange(start, end, "[)")
            )
        return self.filter(end__gt=start, start__lt=end)


class BookingSeries(models.Model):
    """A recurring request (RFC 5545 RRULE); each occurrence is a Booking of its own with its own status."""

    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="series")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="booking_series"
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    rrule = models.CharField(_("règle de récurrence"), max_length=500)
    first_start = models.DateTimeField(_("début de la première occurrence"))
    first_end = models.DateTimeField(_("fin de la première occurrence"))
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("série de réservations")
        verbose_name_plural = _("séries de réservations")

    def __str__(self):
        return f"{self.resource} — {self.rrule}"


class Booking(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("en attente de validation")
        CONFIRMED = "confirmed", _("confirmée")
        CANCELLED = "cancelled", _("annulée")
        REFUSED = "refused", _("refusée")

    LIVE = (Status.PENDING, Status.CONFIRMED)

    resource = models.ForeignKey(
        Resource, verbose_name=_("ressource"), on_delete=models.PROTECT, related_name="bookings"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("membre"), on_delete=models.PROTECT, related_name="bookings"
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("réservé par"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    series = models.ForeignKey(
        BookingSeries, on_delete=models.PROTECT, related_name="bookings", null=True, blank=True
    )
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    # Copied from the resource (capacity 1) so that the database's exclusion constraint can see it.
    exclusive = models.BooleanField(default=True, editable=False)
    note = models.TextField(_("note"), blank=True)
    staff_reason = models.TextField(_("motif donné par l’équipe"), blank=True)
    # When the day-before reminder went out (`tasks.remind`): it goes out once. A move clears it.
    reminder_sent_at = models.DateTimeField(_("rappel envoyé le"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        verbose_name = _("réservation")
        verbose_name_plural = _("réservations")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="bookings_booking_end_after_start"
            ),
        ]
        indexes = [
            # Availability and conflicts: WHERE resource = ? AND end > period_start AND start < period_end.
            models.Index(fields=["resource", "end"], name="bookings_by_resource_end"),
            # "My bookings", newest first.
            models.Index(fields=["member", "-start"], name="bookings_by_member_start"),
        ]

    def __str__(self):
        return f"{self.resource.name} {self.start:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE


class Block(models.Model):
    """A period when a resource cannot be booked: maintenance, a closure, an event set up by the team."""

    class Kind(models.TextChoices):
        MAINTENANCE = "maintenance", _("maintenance")
        CLOSURE = "closure", _("fermeture")
        OTHER = "other", _("autre")

    resource = models.ForeignKey(
        Resource, verbose_name=_("ressource"), on_delete=models.CASCADE, related_name="blocks"
    )
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices, default=Kind.MAINTENANCE)
    reason = models.CharField(_("motif"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("indisponibilité")
        verbose_name_plural = _("indisponibilités")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="bookings_block_end_after_start"
            ),
        ]
        indexes = [models.Index(fields=["resource", "end"], name="blocks_by_resource_end")]

    def __str__(self):
        return f"{self.resource.name}: {self.reason}"
