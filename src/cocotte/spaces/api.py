"""API: the sites of the network and their resources (open to visitors)."""

from datetime import time
from enum import StrEnum
from typing import Annotated

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from pydantic import WithJsonSchema

from cocotte.accounts.auth import public_auth
from cocotte.core.schemas import error_responses

from .models import Resource, Site

router = Router(tags=["sites"], auth=public_auth)

# The models' choices under names of their own: both `Resource.Kind` and `Block.Kind` are called « Kind », and
# the OpenAPI document keeps one schema per name, so the resources' kinds were documented as the blocks' kinds.
ResourceKind = StrEnum("ResourceKind", [(choice.name, choice.value) for choice in Resource.Kind])
ResourceUnit = StrEnum("ResourceUnit", [(choice.name, choice.value) for choice in Resource.Unit])

# A site's slug, as `Site.slug` (a SlugField) accepts them.
SiteSlug = Annotated[
    str, Field(pattern=r"^[-a-zA-Z0-9_]+$", max_length=50, json_schema_extra={"examples": ["murat"]})
]

# A resource's id as a client sends it: one that GET /resources lists. The schema says what ids look like (a
# positive integer); an id that names nothing is a 404 `not_found`, not an invalid input.
ResourceId = Annotated[
    int,
    Field(
        description="Identifiant d’une ressource, tel que GET /resources le donne (`id`).",
        json_schema_extra={"minimum": 1, "examples": [1]},
    ),
]

# A wall-clock time in the site's zone. OpenAPI's `format: time` is RFC 3339's full-time, which requires a UTC
# offset ("08:00:00+01:00"); opening hours have none, so their schema says what is sent.
LocalTime = Annotated[
    time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?$",
            "description": "Heure locale du site, sans décalage horaire (HH:MM:SS ; 00:00:00 en fermeture : minuit).",
            "examples": ["08:30:00"],
        }
    ),
]


class OpeningHoursOut(Schema):
    weekday: int
    opens: LocalTime
    closes: LocalTime


class SiteOut(Schema):
    id: int
    slug: str
    name: str
    description: str
    street: str
    postal_code: str
    city: str
    email: str
    phone: str
    timezone: str
    opening_hours: list[OpeningHoursOut]


class ResourceOut(Schema):
    id: int = Field(..., description="À donner comme `resource` pour réserver (POST /bookings).")
    site: str
    slug: str
    name: str
    kind: ResourceKind
    description: str
    seats: int
    capacity: int = Field(..., description="Places réservables en même temps (1 : ressource exclusive).")
    equipment: list[str]
    unit: ResourceUnit = Field(
        ...,
        description=(
            "L’unité de réservation : le début et la fin d’un créneau tombent dessus. `30min`, `hour` : à la "
            "demi-heure, à l’heure pile ; `half_day`, `day` : sur les périodes d’ouverture du site (matin, "
            "après-midi, journée) ; `month` : de minuit à minuit, le même jour d’un mois suivant."
        ),
    )
    min_units: int = Field(..., description="Durée la plus courte, en unités.")
    max_units: int = Field(..., description="Durée la plus longue, en unités.")
    max_advance_days: int = Field(..., description="Jusqu’à combien de jours à l’avance on peut réserver.")
    cancellation_notice_hours: int
    requires_approval: bool = Field(..., description="Une réservation est une demande que l’équipe valide.")

    @staticmethod
    def resolve_site(obj: Resource) -> str:
        return obj.site.slug

    @staticmethod
    def resolve_equipment(obj: Resource) -> list[str]:
        return [e.name for e in obj.equipment.all()]


class ResourceFilter(Schema):
    site: SiteSlug | None = None
    kind: ResourceKind | None = None


# Open to visitors, but a caller who sends a token that is wrong gets 401 (bearer tokens never fall back).
@router.get("/sites", response={200: list[SiteOut], **error_responses(401)}, summary="Les sites du réseau")
def list_sites(request):
    return Site.objects.filter(is_active=True).prefetch_related("opening_hours")


@router.get("/sites/{slug}", response={200: SiteOut, **error_responses(401, 404, 422)}, summary="Un site")
def get_site(request, slug: SiteSlug):
    return get_object_or_404(Site.objects.prefetch_related("opening_hours"), slug=slug, is_active=True)


@router.get(
    "/resources",
    response={200: list[ResourceOut], **error_responses(401, 404, 422)},
    summary="Les ressources",
)
def list_resources(request, filters: Query[ResourceFilter]):
    resources = Resource.objects.filter(is_active=True, site__is_active=True)
    if filters.site is not None:
        site = get_object_or_404(Site, slug=filters.site, is_active=True)
        resources = resources.filter(site=site)
    if filters.kind is not None:
        resources = resources.filter(kind=filters.kind)
    return resources.select_related("site").prefetch_related("equipment")
