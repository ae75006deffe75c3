"""API: the sites of the network and their resources (open to visitors)."""

from datetime import time

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from cocotte.accounts.auth import public_auth
from cocotte.core.schemas import error_responses

from .models import Resource, Site

router = Router(tags=["sites"], auth=public_auth)


class OpeningHoursOut(Schema):
    weekday: int
    opens: time
    closes: time


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
    id: int
    site: str
    slug: str
    name: str
    kind: Resource.Kind
    description: str
    seats: int
    capacity: int
    equipment: list[str]
    unit: Resource.Unit
    min_units: int
    max_units: int
    max_advance_days: int
    cancellation_notice_hours: int
    requires_approval: bool

    @staticmethod
    def resolve_site(obj: Resource) -> str:
        return obj.site.slug

    @staticmethod
    def resolve_equipment(obj: Resource) -> list[str]:
        return [e.name for e in obj.equipment.all()]


class ResourceFilter(Schema):
    site: str | None = None
    kind: Resource.Kind | None = None


@router.get("/sites", response=list[SiteOut], summary="Les sites du réseau")
def list_sites(request):
    return Site.objects.filter(is_active=True).prefetch_related("opening_hours")


@router.get("/sites/{slug}", response={200: SiteOut, **error_responses(404)}, summary="Un site")
def get_site(request, slug: str):
    return get_object_or_404(Site.objects.prefetch_related("opening_hours"), slug=slug, is_active=True)


@router.get("/resources", response={200: list[ResourceOut], **error_responses(404)}, summary="Les ressources")
def list_resources(request, filters: Query[ResourceFilter]):
    resources = Resource.objects.filter(is_active=True, site__is_active=True)
    if filters.site is not None:
        site = get_object_or_404(Site, slug=filters.site, is_active=True)
        resources = resources.filter(site=site)
    if filters.kind is not None:
        resources = resources.filter(kind=filters.kind)
    return resources.select_related("site").prefetch_related("equipment")
