from django.db import migrations, models

from cocotte.core import sqlite_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0005_booking_by_member_end"),
    ]

    # Booking gains a column: on SQLite its table is remade, and the places' triggers must survive.
    operations = [
        sqlite_triggers.set_aside("bookings_booking"),
        migrations.AddField(
            model_name="booking",
            name="held_for",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=100, verbose_name="réservé pour"
            ),
        ),
        sqlite_triggers.put_back("bookings_booking"),
    ]
