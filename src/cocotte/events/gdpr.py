"""The events' part of a person's data (accounts.gdpr): their registrations, as a member and as a visitor
(found by their e-mail address). On erasure, upcoming places are cancelled (they go to the next person
waiting) and every registration loses its name, address and answers; the rows stay, counted in the
events' figures."""

from django.db.models import Q
from django.utils import timezone

from . import services
from .models import Registration


def _theirs(user):
    return Registration.objects.filter(Q(member=user) | Q(email__iexact=user.email))


def export(user) -> list[dict]:
    rows = _theirs(user).select_related("event__site").order_by("created_at", "pk")
    return [
        {
            "id": r.pk,
            "event": r.event.title,
            "site": r.event.site.name,
            "start": r.event.start.isoformat(),
            "name": r.name,
            "email": r.email,
            "status": r.status,
            "answers": r.answers,
            "created_at": r.created_at.isoformat(),
            "checked_in_at": r.checked_in_at.isoformat() if r.checked_in_at else None,
        }
        for r in rows
    ]


def erase(user) -> None:
    upcoming = _theirs(user).filter(status__in=Registration.LIVE, event__end__gt=timezone.now())
    for registration in upcoming.select_related("event"):
        if not registration.checked_in_at:
            services.cancel_registration(registration, reason="compte supprimé")
    for pk in _theirs(user).values_list("pk", flat=True):
        Registration.objects.filter(pk=pk).update(
            member=None, name="—", email=f"efface-{pk}@anonyme.invalid", answers={}
        )
