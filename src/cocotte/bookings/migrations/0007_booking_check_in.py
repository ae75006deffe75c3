import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from cocotte.core import sqlite_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0006_booking_held_for"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # Booking gains columns: should SQLite remake its table, the places' triggers must survive.
    operations = [
        sqlite_triggers.set_aside("bookings_booking"),
        migrations.AddField(
            model_name="booking",
            name="checked_in_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="arrivée le"),
        ),
        migrations.AddField(
            model_name="booking",
            name="checked_in_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="arrivée notée par",
            ),
        ),
        sqlite_triggers.put_back("bookings_booking"),
    ]
