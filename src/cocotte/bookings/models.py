"""Bookings, recurring series and blocks. Only `bookings.services` writes them.

Times are aware, stored in UTC, half-open: [start, end). Every live booking holds a place 1..capacity of its
resource (an exclusive resource has one place). The database refuses what must never happen, whatever code
path writes: a trigger (migration 0004, SQLite and PostgreSQL) refuses a live booking whose place is outside
its resource's capacity, and on PostgreSQL an exclusion constraint refuses two live bookings of one place
that overlap. Together they are a pigeonhole: at most `capacity` live bookings at any instant.
"""

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField
from django.core.serializers.json import DjangoJSONEncoder
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

    def no_shows(self, now):
        """Confirmed bookings of members that ended with no arrival recorded. The house's own holds (a
        training's room, an event's) have nobody to arrive and are never counted."""
        return self.filter(
            status=Booking.Status.CONFIRMED, end__lte=now, checked_in_at__isnull=True, held_for=""
        )


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
    # Which of the resource's places (1..capacity) it holds: chosen by the engine under the resource's lock,
    # guarded by the database (see the module's docstring). Members never see it: any free place will do.
    place = models.PositiveSmallIntegerField(_("place"), default=1, editable=False)
    # The occurrence's start as its series' rule gave it (iCalendar's RECURRENCE-ID): a moved occurrence
    # keeps it, so that calendars still know which occurrence it replaces.
    original_start = models.DateTimeField(
        _("début prévu par la série"), null=True, blank=True, editable=False
    )
    note = models.TextField(_("note"), blank=True)
    # Set when the house holds the resource for its own activity (a training's sitting, an event), as
    # "<app label>.<model>:<id>": nobody is billed for it and its member, the person who organises it, gets
    # none of the engine's e-mails (the app that holds it tells its own people).
    held_for = models.CharField(_("réservé pour"), max_length=100, blank=True, default="", editable=False)
    staff_reason = models.TextField(_("motif donné par l’équipe"), blank=True)
    # When the day-before reminder went out (`tasks.remind`): it goes out once. A move clears it.
    reminder_sent_at = models.DateTimeField(_("rappel envoyé le"), null=True, blank=True, editable=False)
    # The member's arrival (`services.check_in`): from their phone, or marked by the team in the planner. A
    # confirmed booking that ends with none is a no-show (`BookingQuerySet.no_shows`).
    checked_in_at = models.DateTimeField(_("arrivée le"), null=True, blank=True, editable=False)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("arrivée notée par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
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
            models.CheckConstraint(condition=models.Q(place__gte=1), name="bookings_booking_place_positive"),
            models.CheckConstraint(
                condition=models.Q(series__isnull=True) | models.Q(original_start__isnull=False),
                name="bookings_occurrence_has_original_start",
            ),
        ]
        indexes = [
            # Availability and conflicts: WHERE resource = ? AND end > period_start AND start < period_end.
            models.Index(fields=["resource", "end"], name="bookings_by_resource_end"),
            # "My bookings", newest first.
            models.Index(fields=["member", "-start"], name="bookings_by_member_start"),
            # "My bookings", the next ones: WHERE member = ? AND end > now, whatever the history before.
            models.Index(fields=["member", "end"], name="bookings_by_member_end"),
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


class BookingEvent(models.Model):
    """What the engine did, recorded in the same transaction as the change (the outbox).

    E-mails, reminders and other apps' reactions are subscribers (`hooks.subscribe`); the task worker hands
    each event to each of them once, after commit (`events.deliver`). A rolled-back change leaves no event,
    so nobody is told of it. Only ids and plain values are kept: subscribers re-read what was committed.
    """

    class Kind(models.TextChoices):
        BOOKED = "booked", _("réservée")
        SERIES_BOOKED = "series_booked", _("série réservée")
        MOVED = "moved", _("déplacée")
        CANCELLED = "cancelled", _("annulée")
        SERIES_CANCELLED = "series_cancelled", _("série annulée")
        APPROVED = "approved", _("validée")
        REFUSED = "refused", _("refusée")
        BLOCKED = "blocked", _("ressource bloquée")

    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    bookings = models.JSONField(_("réservations"), default=list)  # their ids
    data = models.JSONField(_("détails"), default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)
    # When every subscriber had it (a sweep retries the others: `cocotte deliver_events`).
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("événement de réservation")
        verbose_name_plural = _("événements de réservation")
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(delivered_at__isnull=True),
                name="bookings_event_undelivered",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.bookings}"


class EventDelivery(models.Model):
    """One subscriber's claim on one event: the unique pair is why an event is never handled twice."""

    event = models.ForeignKey(BookingEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.CharField(max_length=100)
    claimed_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "subscriber"], name="bookings_event_delivered_once")
        ]

    def __str__(self):
        return f"{self.event_id} → {self.subscriber}"
