"""API: training sessions (public), applying to one and withdrawing (members). Thin: parse, find, call a service."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from pydantic import Strict

from cocotte.accounts.auth import member_auth, public_auth
from cocotte.core.schemas import error_responses

from . import services
from .models import Enrolment, Session

router = Router(tags=["learning"])

SessionStatus = StrEnum("TrainingSessionStatus", [(c.name, c.value) for c in Session.Status])
EnrolmentStatus = StrEnum("EnrolmentStatus", [(c.name, c.value) for c in Enrolment.Status])
FundingKind = StrEnum("TrainingFunding", [(c.name, c.value) for c in Enrolment.Funding])

# Free text that reaches the database: PostgreSQL refuses the NUL character in text (a 500 instead of a 422).
Text = Annotated[str, Field(pattern=r"^[^\x00]*$")]
StrictBool = Annotated[bool, Strict()]
SessionId = Annotated[int, Field(ge=1, le=2**31 - 1, json_schema_extra={"examples": [1]})]


class TrainingSessionOut(Schema):
    id: int
    programme: str = Field(description="Intitulé du programme.")
    programme_slug: str
    label: str
    site: str = Field(description="Identifiant (slug) du site.")
    site_name: str
    starts_at: datetime | None
    ends_at: datetime | None
    enrolment_closes: datetime
    capacity: int
    places_left: int
    open_for_enrolment: bool
    status: SessionStatus
    price_excl_vat: str = Field(examples=["600.00"])
    duration_hours: str = Field(examples=["15.00"])


class EnrolmentIn(Schema):
    project: Text = Field(..., min_length=1, max_length=5000, description="Votre projet, en quelques lignes.")
    expectations: Text = Field("", max_length=5000)
    prerequisites_met: StrictBool = Field(..., description="Vous confirmez remplir les prérequis.")
    needs_adaptation: Text = Field("", max_length=2000, description="Adaptations liées à un handicap.")
    funding: FundingKind = FundingKind.SELF


class EnrolmentOut(Schema):
    id: int
    session: int
    status: EnrolmentStatus
    funding: FundingKind
    applied_at: datetime
    offer_expires_at: datetime | None = None
    contract_to_sign: bool = False


def _session_out(session: Session, held: int | None = None) -> dict:
    held = session.held_places if held is None else held
    return {
        "id": session.pk,
        "programme": session.programme.title,
        "programme_slug": session.programme.slug,
        "label": session.label,
        "site": session.site.slug,
        "site_name": session.site.name,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "enrolment_closes": session.enrolment_closes,
        "capacity": session.capacity,
        "places_left": max(0, session.capacity - held),
        "open_for_enrolment": services.enrolment_open(session),
        "status": session.status,
        "price_excl_vat": str(session.programme.price_excl_vat),
        "duration_hours": str(session.programme.duration_hours),
    }


def _enrolment_out(enrolment: Enrolment) -> dict:
    return {
        "id": enrolment.pk,
        "session": enrolment.session_id,
        "status": enrolment.status,
        "funding": enrolment.funding,
        "applied_at": enrolment.applied_at,
        "offer_expires_at": enrolment.offer_expires_at,
        "contract_to_sign": services.needs_contract(enrolment),
    }


def _public_session(session_id: int) -> Session:
    session = (
        Session.objects.select_related("programme", "site")
        .filter(pk=session_id, programme__published=True)
        .exclude(status=Session.Status.PLANNED)
        .first()
    )
    if session is None:
        raise services.NotFound(_("Session introuvable."))
    return session


@router.get(
    "/trainings/sessions",
    auth=public_auth,
    response={200: list[TrainingSessionOut], **error_responses(401)},
    summary="Les prochaines sessions de formation (programmes publiés)",
)
def list_sessions(request):
    return [_session_out(session) for session in services.upcoming_sessions()]


@router.get(
    "/trainings/sessions/{session_id}",
    auth=public_auth,
    response={200: TrainingSessionOut, **error_responses(401, 404, 422)},
    summary="Une session de formation",
)
def get_session(request, session_id: SessionId):
    session = _public_session(session_id)
    return _session_out(session, services.held(session))


@router.post(
    "/trainings/sessions/{session_id}/enrolments",
    auth=member_auth,
    response={201: EnrolmentOut, **error_responses(400, 401, 403, 404, 409, 422)},
    summary="Candidater à une session (`applied`, ou `waitlisted` si elle est complète)",
    description=(
        "Refus : 422 `closed` (candidatures fermées), `past` (session commencée), `cancelled`, "
        "`prerequisites_not_met` ; 409 `already_enrolled`. Un financement par une organisation se choisit "
        "depuis le site web (l’organisation qui paie)."
    ),
)
def apply(request, session_id: SessionId, payload: EnrolmentIn):
    session = _public_session(session_id)
    enrolment = services.apply(
        session,
        trainee=request.auth,
        application=services.Application(
            project=payload.project,
            expectations=payload.expectations,
            prerequisites_met=payload.prerequisites_met,
            needs_adaptation=payload.needs_adaptation,
            funding=str(payload.funding),
        ),
    )
    return Status(201, _enrolment_out(enrolment))


@router.get(
    "/trainings/sessions/{session_id}/enrolments/mine",
    auth=member_auth,
    response={200: EnrolmentOut, **error_responses(401, 404, 422)},
    summary="Ma candidature ou mon inscription à une session",
)
def my_enrolment(request, session_id: SessionId):
    enrolment = _mine(request, session_id)
    return _enrolment_out(enrolment)


def _mine(request, session_id: int) -> Enrolment:
    enrolment = (
        Enrolment.objects.select_related("session__programme", "session__site")
        .filter(session_id=session_id, trainee=request.auth)
        .order_by("-applied_at", "-pk")
        .first()
    )
    if enrolment is None:
        raise services.NotFound(_("Aucune candidature à cette session."))
    live = Enrolment.objects.filter(
        session_id=session_id, trainee=request.auth, status__in=Enrolment.LIVE
    ).first()
    return live or enrolment


@router.delete(
    "/trainings/sessions/{session_id}/enrolments/mine",
    auth=member_auth,
    response={200: EnrolmentOut, **error_responses(401, 403, 404, 409, 422)},
    summary="Me désister (ma place va au premier de la liste d’attente)",
)
def withdraw(request, session_id: SessionId):
    enrolment = _mine(request, session_id)
    return _enrolment_out(services.withdraw(enrolment, by=request.auth))
