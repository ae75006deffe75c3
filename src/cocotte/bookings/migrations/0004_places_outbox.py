"""Places of pooled spaces guarded by the database, occurrences' original starts, and the engine's outbox.

- Every booking holds a place 1..capacity (existing ones: numbered here, so that overlapping live bookings of
  a pooled space hold different places). The `exclusive` copy of the capacity goes: an exclusive resource
  is the case of one place, and history is never rewritten when a capacity changes.
- A trigger (SQLite and PostgreSQL) refuses a live booking whose place is beyond its resource's capacity,
  and a capacity below the places held by live bookings still to end.
- On PostgreSQL the exclusion constraint becomes (resource, place, period): with the trigger, at most
  `capacity` live bookings overlap at any instant. It is deferrable, so that the engine can move upcoming
  bookings between places inside one transaction (checked at commit when it asks, at once otherwise).
- `original_start`: each occurrence's start as its series' rule gave it (iCalendar's RECURRENCE-ID), which
  pairing rows by id order only guessed. Existing occurrences get their current start.
"""

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.core.serializers.json import DjangoJSONEncoder
from django.db import migrations, models
from django.db.models import Deferrable, Func, Q

LIVE = ("pending", "confirmed")


class TsTzRange(Func):
    function = "TSTZRANGE"
    template = "%(function)s(%(expressions)s, '[)')"


def old_no_overlap():
    return ExclusionConstraint(
        name="bookings_no_overlap",
        expressions=[("resource", RangeOperators.EQUAL), (TsTzRange("start", "end"), RangeOperators.OVERLAPS)],
        condition=Q(status__in=LIVE, exclusive=True),
    )


def no_overlap():
    return ExclusionConstraint(
        name="bookings_no_overlap",
        expressions=[
            ("resource", RangeOperators.EQUAL),
            ("place", RangeOperators.EQUAL),
            (TsTzRange("start", "end"), RangeOperators.OVERLAPS),
        ],
        condition=Q(status__in=LIVE),
        deferrable=Deferrable.IMMEDIATE,
    )


SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER bookings_place_within_capacity_insert BEFORE INSERT ON bookings_booking
    WHEN NEW.status IN ('pending', 'confirmed')
         AND NEW.place > (SELECT capacity FROM spaces_resource WHERE id = NEW.resource_id)
    BEGIN SELECT RAISE(ABORT, 'bookings_place_within_capacity'); END
    """,
    """
    CREATE TRIGGER bookings_place_within_capacity_update
    BEFORE UPDATE OF place, resource_id, status, start, "end" ON bookings_booking
    WHEN NEW.status IN ('pending', 'confirmed')
         AND NEW.place > (SELECT capacity FROM spaces_resource WHERE id = NEW.resource_id)
    BEGIN SELECT RAISE(ABORT, 'bookings_place_within_capacity'); END
    """,
    # Datetimes are ISO text in UTC on SQLite: compared as text with the same shape of now.
    """
    CREATE TRIGGER bookings_capacity_holds_places BEFORE UPDATE OF capacity ON spaces_resource
    WHEN EXISTS (
        SELECT 1 FROM bookings_booking
        WHERE resource_id = NEW.id AND status IN ('pending', 'confirmed') AND place > NEW.capacity
              AND "end" > strftime('%Y-%m-%d %H:%M:%f', 'now')
    )
    BEGIN SELECT RAISE(ABORT, 'bookings_place_within_capacity'); END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS bookings_place_within_capacity_insert",
    "DROP TRIGGER IF EXISTS bookings_place_within_capacity_update",
    "DROP TRIGGER IF EXISTS bookings_capacity_holds_places",
]

POSTGRES_TRIGGERS = [
    # FOR SHARE: a capacity lowered by a transaction not yet committed is waited for, not read stale.
    """
    CREATE FUNCTION bookings_place_within_capacity() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.status IN ('pending', 'confirmed') AND NEW.place > (
            SELECT capacity FROM spaces_resource WHERE id = NEW.resource_id FOR SHARE
        ) THEN
            RAISE EXCEPTION 'bookings_place_within_capacity: place % of resource % is beyond its capacity',
                NEW.place, NEW.resource_id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER bookings_place_within_capacity
    BEFORE INSERT OR UPDATE OF place, resource_id, status, start, "end" ON bookings_booking
    FOR EACH ROW EXECUTE FUNCTION bookings_place_within_capacity()
    """,
    """
    CREATE FUNCTION bookings_capacity_holds_places() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.capacity < OLD.capacity AND EXISTS (
            SELECT 1 FROM bookings_booking
            WHERE resource_id = NEW.id AND status IN ('pending', 'confirmed') AND place > NEW.capacity
                  AND "end" > now()
        ) THEN
            RAISE EXCEPTION 'bookings_place_within_capacity: live bookings of resource % hold places beyond %',
                NEW.id, NEW.capacity USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER bookings_capacity_holds_places BEFORE UPDATE OF capacity ON spaces_resource
    FOR EACH ROW EXECUTE FUNCTION bookings_capacity_holds_places()
    """,
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS bookings_capacity_holds_places ON spaces_resource",
    "DROP FUNCTION IF EXISTS bookings_capacity_holds_places()",
    "DROP TRIGGER IF EXISTS bookings_place_within_capacity ON bookings_booking",
    "DROP FUNCTION IF EXISTS bookings_place_within_capacity()",
]


def number_places(apps, schema_editor):
    """Give overlapping live bookings of each pooled resource distinct places (the lowest free one)."""
    Booking = apps.get_model("bookings", "Booking")
    Resource = apps.get_model("spaces", "Resource")
    for resource in Resource.objects.filter(capacity__gt=1):
        active: list[tuple] = []  # (end, place) of the bookings placed so far that may still overlap
        changed = []
        rows = Booking.objects.filter(resource=resource, status__in=LIVE).order_by("start", "id")
        for booking in rows.only("id", "start", "end", "place"):
            active = [(end, place) for end, place in active if end > booking.start]
            used = {place for _end, place in active}
            booking.place = next(p for p in range(1, len(used) + 2) if p not in used)
            active.append((booking.end, booking.place))
            if booking.place != 1:
                changed.append(booking)
        Booking.objects.bulk_update(changed, ["place"], batch_size=1000)


def set_original_starts(apps, schema_editor):
    Booking = apps.get_model("bookings", "Booking")
    Booking.objects.filter(series__isnull=False).update(original_start=models.F("start"))


class Database(migrations.operations.base.Operation):
    """Raw SQL for one vendor, none for the others; not in the model state (the models stay portable)."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, vendor, forwards, backwards):
        self.vendor, self.forwards, self.backwards = vendor, forwards, backwards

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            for statement in self.forwards:
                schema_editor.execute(statement, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            for statement in self.backwards:
                schema_editor.execute(statement, params=None)

    def describe(self):
        return f"{self.vendor}: triggers keeping places within capacity"

    def deconstruct(self):
        return self.__class__.__name__, [self.vendor, self.forwards, self.backwards], {}


class DropOldConstraint(migrations.operations.base.Operation):
    """The old constraint reads `exclusive`: it goes before the column does."""

    reduces_to_sql = True
    reversible = True

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.remove_constraint(from_state.apps.get_model(app_label, "booking"), old_no_overlap())

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.add_constraint(to_state.apps.get_model(app_label, "booking"), old_no_overlap())

    def describe(self):
        return "PostgreSQL: drop the exclusion constraint over exclusive resources"


class AddNewConstraint(migrations.operations.base.Operation):
    reduces_to_sql = True
    reversible = True

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.add_constraint(to_state.apps.get_model(app_label, "booking"), no_overlap())

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.remove_constraint(from_state.apps.get_model(app_label, "booking"), no_overlap())

    def describe(self):
        return "PostgreSQL: the exclusion constraint over (resource, place, period)"


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0003_booking_reminder_sent_at"),
        ("spaces", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="place",
            field=models.PositiveSmallIntegerField(default=1, editable=False, verbose_name="place"),
        ),
        migrations.AddField(
            model_name="booking",
            name="original_start",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="début prévu par la série"
            ),
        ),
        migrations.RunPython(number_places, migrations.RunPython.noop),
        migrations.RunPython(set_original_starts, migrations.RunPython.noop),
        DropOldConstraint(),
        migrations.RemoveField(model_name="booking", name="exclusive"),
        AddNewConstraint(),
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.CheckConstraint(condition=models.Q(place__gte=1), name="bookings_booking_place_positive"),
        ),
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.CheckConstraint(
                condition=models.Q(series__isnull=True) | models.Q(original_start__isnull=False),
                name="bookings_occurrence_has_original_start",
            ),
        ),
        Database("sqlite", SQLITE_TRIGGERS, SQLITE_DROP),
        Database("postgresql", POSTGRES_TRIGGERS, POSTGRES_DROP),
        migrations.CreateModel(
            name="BookingEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("booked", "réservée"),
                            ("series_booked", "série réservée"),
                            ("moved", "déplacée"),
                            ("cancelled", "annulée"),
                            ("series_cancelled", "série annulée"),
                            ("approved", "validée"),
                            ("refused", "refusée"),
                            ("blocked", "ressource bloquée"),
                        ],
                        max_length=20,
                        verbose_name="type",
                    ),
                ),
                ("bookings", models.JSONField(default=list, verbose_name="réservations")),
                ("data", models.JSONField(default=dict, encoder=DjangoJSONEncoder, verbose_name="détails")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("delivered_at", models.DateTimeField(blank=True, null=True)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "événement de réservation",
                "verbose_name_plural": "événements de réservation",
                "ordering": ["id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(delivered_at__isnull=True),
                        fields=["id"],
                        name="bookings_event_undelivered",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="EventDelivery",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("subscriber", models.CharField(max_length=100)),
                ("claimed_at", models.DateTimeField(auto_now_add=True)),
                ("done_at", models.DateTimeField(blank=True, null=True)),
                (
                    "event",
                    models.ForeignKey(
                        on_delete=models.deletion.CASCADE, related_name="deliveries", to="bookings.bookingevent"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("event", "subscriber"), name="bookings_event_delivered_once")
                ]
            },
        ),
    ]
