"""The team configures resources in the admin without breaking the bookings' guarantees."""

import pytest

from cocotte.bookings import services
from cocotte.bookings.admin import ResourceForm
from cocotte.bookings.models import Booking
from tests.helpers import day_ahead, paris

pytestmark = pytest.mark.django_db


def form_data(resource, **changes):
    data = {f.name: getattr(resource, f.attname) for f in resource._meta.concrete_fields if f.name != "id"}
    data["site"] = resource.site_id
    data.update(changes)
    return data


def test_capacity_cannot_drop_below_the_upcoming_peak(make_user, open_space, book):
    day = day_ahead()
    for i in range(3):
        book(make_user(f"p{i}@example.org"), open_space, paris(day, 8), paris(day, 13))
    form = ResourceForm(data=form_data(open_space, capacity=1), instance=open_space)
    assert not form.is_valid()
    assert "3 réservations" in form.errors["capacity"][0]


def test_lowering_a_capacity_in_the_admin_goes_through_the_engine(client, root, make_user, open_space, book):
    """Saved in the admin, a lower capacity moves upcoming bookings to the places left, and is audited."""
    from cocotte.core.models import AuditEntry

    day = day_ahead()
    first = book(make_user("p1@example.org"), open_space, paris(day, 8), paris(day, 13))
    book(make_user("p2@example.org"), open_space, paris(day, 8), paris(day, 13))
    services.cancel(first, by=root)  # place 1 is free again; the other booking holds place 2
    client.force_login(root)
    data = form_data(open_space, capacity=1)
    data.update({"equipment": [], "_save": "Enregistrer"})
    response = client.post(f"/admin/spaces/resource/{open_space.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    open_space.refresh_from_db()
    assert open_space.capacity == 1
    assert list(Booking.objects.live().filter(resource=open_space).values_list("place", flat=True)) == [1]
    assert AuditEntry.objects.filter(action="resource.capacity_changed", actor=root).exists()


def test_the_booking_admin_pages_answer_for_an_admin(client, root, alice, room, book):
    book(alice, room, paris(day_ahead(), 10), paris(day_ahead(), 11))
    client.force_login(root)
    for url in (
        "/admin/bookings/booking/",
        "/admin/spaces/resource/",
        f"/admin/spaces/resource/{room.pk}/change/",
        "/admin/core/auditentry/",
        "/admin/accounts/user/",
        "/admin/spaces/site/",
    ):
        assert client.get(url).status_code == 200, url


def test_seed_demo_adds_exactly_the_bookings_asked_for(db):
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    before = Booking.objects.count()
    call_command("seed_demo", "--bookings", "3000", stdout=StringIO())
    assert Booking.objects.count() - before == 3000
    call_command("seed_demo", stdout=StringIO())  # idempotent: nothing more
    assert Booking.objects.count() - before == 3000
