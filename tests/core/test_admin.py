"""Rows that only services may write (bookings, series, blocks, the audit trail) are read-only in the admin."""

import pytest
from django.contrib import admin
from django.urls import reverse

from cocotte.bookings.models import Block, Booking, BookingSeries
from cocotte.core.admin import ReadOnlyAdminMixin
from cocotte.core.models import AuditEntry
from tests.helpers import day_ahead, paris

pytestmark = pytest.mark.django_db


def test_the_engines_rows_and_the_audit_trail_use_the_read_only_admin():
    read_only = {m for m, a in admin.site._registry.items() if isinstance(a, ReadOnlyAdminMixin)}
    assert {Booking, BookingSeries, Block, AuditEntry} <= read_only


def test_even_an_admin_cannot_add_change_or_delete_a_booking_there(client, root, alice, room, book):
    day = day_ahead()
    booking = book(alice, room, paris(day, 10), paris(day, 11))
    client.force_login(root)
    info = "admin:bookings_booking_"
    assert client.get(reverse(info + "add")).status_code == 403
    page = client.get(reverse(info + "change", args=[booking.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content  # shown, not editable
    client.post(reverse(info + "change", args=[booking.pk]), {"note": "changé", "start": "", "end": ""})
    assert client.post(reverse(info + "delete", args=[booking.pk]), {"post": "yes"}).status_code == 403
    booking.refresh_from_db()
    assert booking.note == "" and booking.status == Booking.Status.CONFIRMED
    entry = AuditEntry.objects.first()
    assert client.get(reverse("admin:core_auditentry_delete", args=[entry.pk])).status_code == 403
