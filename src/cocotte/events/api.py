"""API: events (public ones for anyone, members-only ones for members) and one's registration to them.

Thin: `services` decides who sees what and every rule; refusals answer `{detail, code}` with their status
(`closed`, `already_registered`, `full`, `account_required`…), through the API's DomainError handler."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import ValidationError

from cocotte.accounts.auth import member_auth, public_auth
from cocotte.core.schemas import error_responses

from . import ical, services
from .errors import NotFound
from .models import Event, Registration

router = Router(tags=["events"])

EventId = Annotated[int, Field(ge=1, le=2**31 - 1)]
# Free text reaching the database: PostgreSQL refuses the NUL character.
Answer = Annotated[str, Field(max_length=1000, pattern=r"^[^\x00]*$")]


class EventOut(Schema):
    id: int
    title: str
    description: str
    site: str
    location: str
    start: datetime
    end: datetime
    audience: Literal["public", "members"]
    status: Literal["published", "cancelled", "draft"]
    price_excl_vat: Decimal
    vat_rate: Decimal
    capacity: int
    places_left: int
    waiting_list: bool
    registration_opens: datetime | None
    registration_closes: datetime


class RegistrationIn(Schema):
    answers: dict[Annotated[str, Field(max_length=12, pattern=r"^\d{1,10}$")], Answer] = Field(
        default_factory=dict,
        description="Réponses aux questions de l’événement, par identifiant de question.",
        max_length=50,
    )


class RegistrationOut(Schema):
    id: int
    event: int
    status: Literal["pending", "confirmed", "waitlisted", "offered", "cancelled", "expired"]
    offer_expires_at: datetime | None
    created_at: datetime


def _out(event: Event) -> dict:
    return {
        "id": event.pk,
        "title": event.title,
        "description": event.description,
        "site": event.site.name,
        "location": ical.location(event),
        "start": event.start,
        "end": event.end,
        "audience": event.audience,
        "status": event.status,
        "price_excl_vat": event.price_excl_vat,
        "vat_rate": event.vat_rate,
        "capacity": event.capacity,
        "places_left": services.places_left(event),
        "waiting_list": event.waiting_list,
        "registration_opens": event.registration_opens,
        "registration_closes": event.closes_at,
    }


def _registration_out(registration: Registration) -> dict:
    return {
        "id": registration.pk,
        "event": registration.event_id,
        "status": registration.status,
        "offer_expires_at": registration.offer_expires_at,
        "created_at": registration.created_at,
    }


@router.get(
    "/events",
    auth=public_auth,
    response={200: list[EventOut], **error_responses(401)},
    summary="Événements à venir (publics ; ceux réservés aux membres pour les membres)",
)
def list_events(request):
    events = (
        services.with_counts(services.visible_events(request.auth))
        .filter(status__in=[Event.Status.PUBLISHED, Event.Status.CANCELLED], end__gt=timezone.now())
        .select_related("site")
        .prefetch_related("rooms")
        .order_by("start", "pk")[:200]
    )
    return [_out(e) for e in events]


@router.get(
    "/events/{event_id}",
    auth=public_auth,
    response={200: EventOut, **error_responses(401, 404, 422)},
    summary="Un événement",
)
def get_event(request, event_id: EventId):
    return _out(services.get_event_for(request.auth, event_id))


@router.post(
    "/events/{event_id}/registrations",
    auth=member_auth,
    response={201: RegistrationOut, **error_responses(400, 401, 403, 404, 409, 422)},
    summary="M’inscrire (201 : `confirmed`, ou `waitlisted` si c’est complet et qu’il y a une liste d’attente)",
)
def register(request, event_id: EventId, payload: RegistrationIn | None = None):
    body = request.body.strip()
    if body not in (b"", b"null") and not body.startswith(b"{"):
        # The body may be left out, or null (one click, no answers); ninja then also took a body that is not
        # an object (`[]`, `3`) for an empty one, which the document refuses.
        raise ValidationError(
            [{"loc": ["body", "payload"], "msg": _("Le corps doit être un objet JSON."), "type": "dict_type"}]
        )
    event = services.get_event_for(request.auth, event_id, counts=False)
    answers = payload.answers if payload else {}
    registration = services.register(event, member=request.auth, answers=answers)
    return Status(201, _registration_out(registration))


@router.delete(
    "/events/{event_id}/registrations/mine",
    auth=member_auth,
    response={200: RegistrationOut, **error_responses(401, 404, 409, 422)},
    summary="Annuler mon inscription",
)
def cancel_mine(request, event_id: EventId):
    event = services.get_event_for(request.auth, event_id, counts=False)
    registration = (
        Registration.objects.filter(event=event, status__in=Registration.LIVE)
        .filter(Q(member=request.auth) | Q(email=request.auth.email.lower()))
        .first()
    )
    if registration is None:
        raise NotFound(_("Vous n’êtes pas inscrit·e à cet événement."), code="not_registered")
    result = services.cancel_registration(registration, by=request.auth)
    return _registration_out(result.registration)
