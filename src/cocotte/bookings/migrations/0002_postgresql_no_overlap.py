"""PostgreSQL only: the database itself refuses overlapping live bookings of an exclusive resource.

SQLite has no exclusion constraints; there the engine's serialised transactions hold the rule alone.
The GiST index also serves the availability query's range overlap on PostgreSQL, so that today's view
reads only the bookings that touch the period, whatever the years of history before and after it.
"""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.contrib.postgres.indexes import GistIndex
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations
from django.db.models import Func, Q

LIVE = ["pending", "confirmed"]


class TsTzRange(Func):
    function = "TSTZRANGE"
    template = "%(function)s(%(expressions)s, '[)')"


def no_overlap():
    return ExclusionConstraint(
        name="bookings_no_overlap",
        expressions=[("resource", RangeOperators.EQUAL), (TsTzRange("start", "end"), RangeOperators.OVERLAPS)],
        condition=Q(status__in=LIVE, exclusive=True),
    )


def live_period_index():
    return GistIndex("resource", TsTzRange("start", "end"), name="bookings_live_period_gist", condition=Q(status__in=LIVE))


class PostgresOnly(migrations.operations.base.Operation):
    """Adds a constraint or an index on PostgreSQL; does nothing elsewhere."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, build, kind):
        self.build, self.kind = build, kind

    def state_forwards(self, app_label, state):
        pass  # not in the model state: the models stay portable

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            model = to_state.apps.get_model(app_label, "booking")
            getattr(schema_editor, f"add_{self.kind}")(model, self.build())

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            model = from_state.apps.get_model(app_label, "booking")
            getattr(schema_editor, f"remove_{self.kind}")(model, self.build())

    def describe(self):
        return f"PostgreSQL: add {self.kind} {self.build().name}"

    def deconstruct(self):
        return self.__class__.__name__, [self.build, self.kind], {}


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        PostgresOnly(no_overlap, "constraint"),
        PostgresOnly(live_period_index, "index"),
    ]
