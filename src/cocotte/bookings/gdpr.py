"""The bookings' part of a person's data (accounts.gdpr): exported in full; on erasure, the upcoming ones
are cancelled (the places go back to others) and the notes a member wrote are blanked. The rows stay,
no longer saying who: they are the place's history, counted in its figures."""

from django.utils import timezone

from . import events, services
from .models import Booking
from .rules import System


def export(user) -> list[dict]:
    rows = Booking.objects.filter(member=user).select_related("resource__site").order_by("start", "pk")
    return [
        {
            "id": b.pk,
            "site": b.resource.site.name,
            "resource": b.resource.name,
            "start": b.start.isoformat(),
            "end": b.end.isoformat(),
            "status": b.status,
            "note": b.note,
            "series": b.series_id,
            "created_at": b.created_at.isoformat(),
        }
        for b in rows
    ]


def erase(user) -> None:
    upcoming = Booking.objects.live().filter(member=user, end__gt=timezone.now()).select_related("resource")
    # Nobody to tell: the member asked for it, and their address is about to go.
    with events.muted():
        for booking in upcoming:
            services.cancel(booking, by=System(decided_by=user, reason="compte supprimé"))
    Booking.objects.filter(member=user).exclude(note="").update(note="")
