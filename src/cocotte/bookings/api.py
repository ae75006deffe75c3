"""API: availability, bookings, series and blocks. Thin: parse, find what the caller may touch, call a service."""

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Literal

import orjson
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import AfterValidator, ConfigDict, Strict, field_validator

from cocotte.accounts import permissions
from cocotte.accounts.auth import member_auth, public_auth
from cocotte.core.schemas import error_responses
from cocotte.core.timeutils import day_bounds, is_aware, zone
from cocotte.spaces.api import ResourceId, ResourceKind, SiteSlug
from cocotte.spaces.models import Resource, Site

from . import hooks, rules, schedule, services
from .errors import Forbidden, NotFound
from .models import Block, Booking

router = Router(tags=["bookings"], auth=member_auth)

MAX_AVAILABILITY_DAYS = 31

# Named apart from `Resource.Kind` (see spaces.api): one OpenAPI schema per name.
BookingStatus = StrEnum("BookingStatus", [(choice.name, choice.value) for choice in Booking.Status])
BlockKind = StrEnum("BlockKind", [(choice.name, choice.value) for choice in Block.Kind])

# The years the engine accepts (rules.EARLIEST_YEAR to LATEST_YEAR), for a date's schema.
YEARS_2000_TO_2200 = r"^(20\d\d|21\d\d|2200)-"

# An instant as the engine accepts it, spelled out for client generators: RFC 3339 with an explicit offset (Z
# or ±hh:mm; a time without one is refused, `naive_datetime`), within the engine's years. With the format
# alone, or a pattern that only said the year, fuzzers drew "2000-01-01T00:00:00Z" or naive times and filtered
# nearly all of them out ("too many examples filtered"); drawn from this pattern, every value is well formed.
INSTANT_PATTERN = (
    r"^(20\d\d|21\d\d|2200)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"  # YEARS_2000_TO_2200
    r"T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?"
    r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)

# What the engine requires of a slot that a schema cannot say; written into the descriptions of the inputs.
UNIT_GRID = (
    "Le début et la fin tombent sur l’unité de la ressource (`unit`, `min_units`, `max_units` de /resources), "
    "dans le fuseau du site : à la demi-heure ou à l’heure pile pour `30min` et `hour` ; sur les périodes "
    "d’ouverture du site (matin, après-midi, journée) pour `half_day` et `day` ; à minuit, le même jour d’un "
    "mois suivant, pour `month`. Le créneau est à venir, dans les horaires d’ouverture et dans le délai de "
    "réservation de la ressource (`max_advance_days`). Sinon : 422 et un code (`not_on_unit`, "
    "`outside_opening_hours`, `closed`, `in_past`, `too_far_ahead`, `too_short`, `too_long`)."
)


def _in_utc(value: datetime) -> datetime:
    """The same instant in UTC. ISO 8601 allows offsets up to ±23:59, PostgreSQL up to ±15:59: an instant
    written "…+16:00" reached the database as it was and failed there (a 500)."""
    if not is_aware(value):
        return value  # the engine refuses it: naive_datetime
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return value  # near year 1 or 9999: the engine refuses it before any query (out_of_range)


# An instant sent by a client: aware (with its offset), within the engine's years. Both are checked by the
# engine, with their own codes (`naive_datetime`, `out_of_range`); the schema says so to client generators.
Instant = Annotated[
    datetime,
    AfterValidator(_in_utc),
    Field(
        description=(
            "Date et heure RFC 3339 avec son décalage horaire explicite, `Z` ou `±hh:mm` "
            "(par exemple 2026-12-01T09:00:00+01:00 ou 2026-12-01T08:00:00Z), entre les années 2000 et 2200. "
            "Une heure sans décalage est refusée (422 `naive_datetime`)."
        ),
        # No `examples` here: a start and an end drawn from one list make an empty slot; the inputs have theirs.
        json_schema_extra={"format": "date-time", "pattern": INSTANT_PATTERN},
    ),
]

# A first day of availability: a year inside the engine's, so that the period asked, in any zone and up to
# MAX_AVAILABILITY_DAYS long, stays within them. Near year 1 or 9999 the period's bounds overflowed (a 500).
FIRST_DAY_YEARS = range(rules.EARLIEST_YEAR + 1, rules.LATEST_YEAR)
Day = Annotated[
    date,
    Field(
        description=f"Premier jour (années {FIRST_DAY_YEARS[0]} à {FIRST_DAY_YEARS[-1]}).",
        # FIRST_DAY_YEARS, then the month and the day: a pattern that said only the year left generators to
        # filter for a date, and most of what they drew was filtered out.
        json_schema_extra={"pattern": r"^(200[1-9]|20[1-9]\d|21\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"},
    ),
]

# A yes or no is JSON's true or false: read leniently, 0 or "no" booked what the document calls invalid.
StrictBool = Annotated[bool, Strict()]

# Free text that reaches the database: PostgreSQL refuses the NUL character in text (a 500 instead of a 422).
Text = Annotated[str, Field(pattern=r"^[^\x00]*$")]

# A member's id (GET /me gives one's own): staff book for others with it.
MemberId = Annotated[int, Field(json_schema_extra={"minimum": 1, "examples": [1]})]


def _example_slot(working_days_ahead: int, start_hour: int, end_hour: int) -> tuple[str, str]:
    """A slot on the n-th working day ahead (most sites close at the weekend), in the default zone, as a client
    writes it (with its offset). Computed when the document is, so that its examples stay ahead of whoever reads
    it: a fixed date would soon be past. Counting working days keeps two examples on two days, whatever today is."""
    tz = zone(settings.TIME_ZONE)
    day = timezone.localdate(timezone=tz)
    while working_days_ahead:
        day += timedelta(days=1)
        working_days_ahead -= day.weekday() < 5
    start, end = (datetime.combine(day, time(hour), tzinfo=tz) for hour in (start_hour, end_hour))
    return start.isoformat(timespec="seconds"), end.isoformat(timespec="seconds")


def _documented(description: str, *examples):
    """A model's description and `examples`, each example built when the document is (see _example_slot)."""

    def add(schema: dict) -> None:
        schema["description"] = description
        schema["examples"] = [build() for build in examples]

    return add


def _booking_example() -> dict:
    start, end = _example_slot(5, 9, 10)
    return {"resource": 1, "start": start, "end": end, "note": "Réunion d’équipe"}


def _series_example() -> dict:
    start, end = _example_slot(6, 14, 16)
    return {"resource": 1, "start": start, "end": end, "rrule": "FREQ=WEEKLY;COUNT=4", "skip_conflicts": True}


def _move_example() -> dict:
    start, end = _example_slot(7, 10, 11)
    return {"start": start, "end": end}


def _block_example() -> dict:
    start, end = _example_slot(8, 8, 12)
    return {"resource": 1, "start": start, "end": end, "reason": "Entretien du vidéoprojecteur"}


# --- schemas ------------------------------------------------------------------------------------------------


class SlotOut(Schema):
    start: datetime
    end: datetime
    places_left: int


class BusyOut(Schema):
    start: datetime
    end: datetime
    kind: Literal["booking", "block"]
    status: str = Field("", description="Statut de la réservation (pending, confirmed).")
    reason: str = Field("", description="Motif d’une indisponibilité.")
    mine: bool = False
    booking: int | None = Field(None, description="Identifiant, pour son membre et l’équipe du site.")
    member: str | None = Field(None, description="Nom du membre, pour l’équipe du site seulement.")


class ResourceAvailabilityOut(Schema):
    resource: int
    name: str
    kind: str
    capacity: int
    free: list[SlotOut]
    busy: list[BusyOut]
    full: list[SlotOut]


class AvailabilityOut(Schema):
    site: str
    start: datetime
    end: datetime
    resources: list[ResourceAvailabilityOut]


class AvailabilityQuery(Schema):
    site: SiteSlug
    date: Day
    days: int = Field(1, ge=1, le=MAX_AVAILABILITY_DAYS)
    kind: ResourceKind | None = None

    @field_validator("date")
    @classmethod
    def within_the_engines_years(cls, value: date) -> date:
        if value.year not in FIRST_DAY_YEARS:
            raise ValueError(f"année entre {FIRST_DAY_YEARS[0]} et {FIRST_DAY_YEARS[-1]}")
        return value


class BookingOut(Schema):
    id: int
    resource: int
    resource_name: str
    site: str
    start: datetime
    end: datetime
    status: BookingStatus
    series: int | None
    member: int
    booked_by: int | None
    note: str
    staff_reason: str
    checked_in_at: datetime | None = Field(
        description="Arrivée notée (par le membre ou l’équipe), sinon null."
    )
    created_at: datetime

    @staticmethod
    def resolve_resource(obj: Booking) -> int:
        return obj.resource_id

    @staticmethod
    def resolve_resource_name(obj: Booking) -> str:
        return obj.resource.name

    @staticmethod
    def resolve_site(obj: Booking) -> str:
        return obj.resource.site.slug

    @staticmethod
    def resolve_series(obj: Booking) -> int | None:
        return obj.series_id

    @staticmethod
    def resolve_member(obj: Booking) -> int:
        return obj.member_id

    @staticmethod
    def resolve_booked_by(obj: Booking) -> int | None:
        return obj.booked_by_id


class OccurrenceOut(Schema):
    start: datetime
    end: datetime
    free: bool
    code: str | None = None
    detail: str | None = None
    booking: int | None = None
    price: "PriceOut | None" = Field(
        None,
        description="Aperçu : le prix d’une occurrence libre et ce qui la couvre, comme si elle était "
        "réservée seule, s’il est connu.",
    )


class PriceLineOut(Schema):
    label: str
    quantity: int
    unit: str
    unit_price_excl_vat: str = Field(examples=["12.50"])
    covered_by: str = Field(
        "pay_as_you_go",
        description="`pay_as_you_go`, `card`, `day_pass`, `subscription`, `included_hours`, `lease`.",
    )


class PriceOut(Schema):
    """What the booking costs, as the quote provider (billing) answers; amounts are decimal strings, euros."""

    amount_excl_vat: str = Field(examples=["25.00"])
    vat: str = Field(examples=["5.00"])
    total: str = Field(examples=["30.00"])
    currency: str = Field(examples=["EUR"])
    vat_rate: str = Field(examples=["20.00"])
    vat_note: str = Field(description="« TVA non applicable, art. 293 B du CGI » sous franchise, sinon vide.")
    covered_by: str = Field(
        description="Ce qui paie : `pay_as_you_go` (à l’unité), une formule (`card`, `day_pass`, `subscription`, "
        "`included_hours`, `lease`) ou `mixed` quand la réservation est couverte en partie."
    )
    covered_by_label: str
    operator: str
    lines: list[PriceLineOut]


OccurrenceOut.model_rebuild()  # its `price` names PriceOut, defined just above


class BookingCreatedOut(BookingOut):
    occurrences: list[OccurrenceOut] = Field(
        default_factory=list, description="Pour une série : chaque occurrence, réservée ou non, et pourquoi."
    )
    price: PriceOut | None = Field(
        None, description="Son prix (pour une série : celui de la première occurrence), s’il est connu."
    )

    @staticmethod
    def resolve_price(obj) -> dict | None:
        # A participant that priced the booking as it was made (billing) left its price on it.
        if hasattr(obj, "price") or not isinstance(obj, Booking):
            return getattr(obj, "price", None)
        return hooks.quote(
            hooks.Proposal("book", obj.resource, obj.member, obj.booked_by, obj.start, obj.end)
        )


class BookingIn(Schema):
    resource: ResourceId
    start: Instant
    end: Instant
    rrule: Text | None = Field(
        None, max_length=500, description="Récurrence RFC 5545, par exemple FREQ=WEEKLY;COUNT=10."
    )
    skip_conflicts: StrictBool = Field(
        False, description="Série : réserver les occurrences libres seulement (sinon tout ou rien)."
    )
    member: MemberId | None = Field(None, description="Réserver pour ce membre (équipe du site seulement).")
    note: Text = Field("", max_length=2000)

    model_config = ConfigDict(
        json_schema_extra=_documented(
            "Un créneau d’une ressource, ou la première occurrence d’une série (`rrule`). " + UNIT_GRID,
            _booking_example,
            _series_example,
        )
    )

    @field_validator("rrule")
    @classmethod
    def blank_is_none(cls, value):
        return value or None


class PreviewIn(Schema):
    resource: ResourceId
    start: Instant
    end: Instant
    rrule: Text | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="Récurrence RFC 5545, par exemple FREQ=WEEKLY;COUNT=10. Sans règle : le seul créneau.",
    )
    member: MemberId | None = None

    model_config = ConfigDict(
        json_schema_extra=_documented(
            "Un créneau, ou la première occurrence d’une série et sa règle. " + UNIT_GRID,
            lambda: {k: v for k, v in _series_example().items() if k != "skip_conflicts"},
        )
    )


class MoveIn(Schema):
    start: Instant | None = None
    end: Instant | None = None
    resource: ResourceId | None = None

    model_config = ConfigDict(
        json_schema_extra=_documented(
            "Ce qui change (le reste garde sa valeur) ; le nouveau créneau suit les règles d’une réservation. "
            + UNIT_GRID,
            _move_example,
        )
    )


class ReasonIn(Schema):
    reason: Text = Field("", max_length=2000)


class SeriesCancelledOut(Schema):
    series: int
    cancelled: list[int]
    kept: list[OccurrenceOut]


class BlockIn(Schema):
    resource: ResourceId
    start: Instant
    end: Instant
    reason: Text = Field(..., min_length=1, max_length=200)
    kind: BlockKind = BlockKind.MAINTENANCE
    cancel_conflicting: StrictBool = Field(
        False, description="Annuler les réservations du créneau (sinon 409 `conflict` s’il y en a)."
    )

    model_config = ConfigDict(
        json_schema_extra=_documented(
            "Une indisponibilité d’une ressource (équipe du site) : la fin après le début, sans unité à suivre.",
            _block_example,
        )
    )


class BlockOut(Schema):
    id: int
    resource: int
    start: datetime
    end: datetime
    kind: BlockKind
    reason: str
    cancelled_bookings: list[int] = []

    @staticmethod
    def resolve_resource(obj: Block) -> int:
        return obj.resource_id


class BookingListQuery(Schema):
    when: Literal["upcoming", "past", "all"] = "upcoming"
    status: BookingStatus | None = None


class PageQuery(Schema):
    limit: int = Field(100, ge=1, le=100)
    offset: int = Field(0, ge=0, le=2**31 - 1)


class Pagination(LimitOffsetPagination):
    """Pages of at most 100. Unbounded, a huge `limit` or `offset` reached the database and failed there."""

    Input = PageQuery


# --- helpers ------------------------------------------------------------------------------------------------


def _resource(pk: int) -> Resource:
    resource = Resource.objects.select_related("site").filter(pk=pk).first()
    if resource is None:
        raise NotFound(f"Ressource {pk} introuvable.", field="resource")
    return resource


def _member(request, pk: int | None):
    if pk is None or pk == request.auth.pk:
        return request.auth
    if not permissions.is_any_site_staff(request.auth):
        raise Forbidden("Seule l’équipe d’un site peut réserver pour quelqu’un d’autre.", field="member")
    member = get_user_model().objects.filter(pk=pk).first()
    if member is None:
        raise NotFound(f"Membre {pk} introuvable.", field="member")
    return member


def _occurrences(occurrences, bookings=(), price_of=None) -> list[OccurrenceOut]:
    booked = {b.start: b.pk for b in bookings}
    return [
        OccurrenceOut(
            start=o.start,
            end=o.end,
            free=o.is_free,
            code=o.problem.code if o.problem else None,
            detail=o.problem.message if o.problem else None,
            booking=booked.get(o.start),
            price=price_of(o) if price_of and o.is_free else None,
        )
        for o in occurrences
    ]


# --- availability -------------------------------------------------------------------------------------------


def _instant(value: datetime):
    """A datetime as the API's JSON shows it. orjson writes UTC instants as Django's encoder does (…Z) but
    keeps microseconds, which Django's encoder cuts to milliseconds: those few (the "now" that starts today's
    first free slot) are written here by Django's encoder, the others by orjson, in C."""
    return _django_json.default(value) if value.microsecond else value


_django_json = DjangoJSONEncoder()


@router.get(
    "/availability",
    auth=public_auth,
    response={200: AvailabilityOut, **error_responses(401, 404, 422)},
    summary="Créneaux libres et occupés des ressources d’un site",
)
def availability(request, query: Query[AvailabilityQuery]):
    """The response is built as plain data and rendered by orjson, not validated into `AvailabilityOut`
    instances (the schemas document it; tests check that it matches them): a week of 50 resources is a
    few thousand slots, and ninja's per-object validation cost ten times the rest of the request."""
    site = get_object_or_404(
        Site, slug=query.site, is_active=True
    )  # its calendar: cached, see spaces.opening
    tz = zone(site.timezone)
    start = day_bounds(query.date, tz)[0]
    end = day_bounds(query.date + timedelta(days=query.days - 1), tz)[1]
    resources = Resource.objects.filter(site=site, is_active=True)
    if query.kind:
        resources = resources.filter(kind=query.kind)
    resources = list(resources)
    for resource in resources:
        resource.site = site  # share the site: no query per resource
    results = schedule.availability(resources, start, end)

    viewer = request.auth
    viewer_pk = viewer.pk
    sees_names = permissions.can_see_who_booked(viewer, site.pk)
    names = {}
    if sees_names:
        member_ids = {b.member_id for r in results for b in r.busy if b.member_id}
        names = {u.pk: str(u) for u in get_user_model().objects.filter(pk__in=member_ids)}
    instant = _instant
    rows = []
    for entry in results:
        busy = []
        for item in entry.busy:
            mine = item.member_id is not None and item.member_id == viewer_pk
            busy.append(
                {
                    "start": instant(item.start),
                    "end": instant(item.end),
                    "kind": item.kind,
                    "status": item.status,
                    "reason": item.reason,
                    "mine": mine,
                    "booking": item.id if item.kind == "booking" and (mine or sees_names) else None,
                    "member": names.get(item.member_id) if sees_names else None,
                }
            )
        resource = entry.resource
        rows.append(
            {
                "resource": resource.pk,
                "name": resource.name,
                "kind": resource.kind,
                "capacity": resource.capacity,
                "free": [
                    {"start": instant(s.start), "end": instant(s.end), "places_left": s.places_left}
                    for s in entry.free
                ],
                "busy": busy,
                "full": [
                    {"start": instant(s.start), "end": instant(s.end), "places_left": 0} for s in entry.full
                ],
            }
        )
    body = {"site": site.slug, "start": instant(start), "end": instant(end), "resources": rows}
    return HttpResponse(orjson.dumps(body, option=orjson.OPT_UTC_Z), content_type=JSON)


JSON = "application/json; charset=utf-8"


# --- bookings -----------------------------------------------------------------------------------------------


@router.get(
    "/bookings", response={200: list[BookingOut], **error_responses(401, 422)}, summary="Mes réservations"
)
@paginate(Pagination)
def list_bookings(request, filters: Query[BookingListQuery]):
    bookings = Booking.objects.filter(member=request.auth).select_related("resource__site")
    now = timezone.now()
    if filters.when == "upcoming":
        bookings = bookings.filter(end__gt=now).order_by("start", "id")
    elif filters.when == "past":
        bookings = bookings.filter(end__lte=now).order_by("-start", "-id")
    else:
        bookings = bookings.order_by("-start", "-id")
    if filters.status:
        bookings = bookings.filter(status=filters.status)
    return bookings


@router.post(
    "/bookings",
    response={201: BookingCreatedOut, **error_responses(400, 401, 403, 404, 409, 422, 503)},
    summary="Réserver (un créneau, ou une série avec `rrule`)",
)
def create_booking(request, payload: BookingIn):
    common = {
        "member": _member(request, payload.member),
        "start": payload.start,
        "end": payload.end,
        "by": request.auth,
        "note": payload.note,
    }
    if payload.rrule is None:
        # The engine reads the resource under its lock: no row read before.
        return Status(201, services.book(resource=payload.resource, **common))
    result = services.book_series(
        resource=_resource(payload.resource),
        **common,
        rrule=payload.rrule,
        skip_conflicts=payload.skip_conflicts,
    )
    first = Booking.objects.select_related("resource__site").get(pk=result.bookings[0].pk)
    out = BookingCreatedOut.from_orm(first)
    out.occurrences = _occurrences(result.occurrences, result.bookings)
    return Status(201, out)


@router.post(
    "/bookings/preview",
    response={200: list[OccurrenceOut], **error_responses(400, 401, 403, 404, 422)},
    summary="Voir ce que coûterait un créneau ou chaque occurrence d’une série, et ses conflits, sans rien réserver",
)
def preview_series(request, payload: PreviewIn):
    resource = _resource(payload.resource)
    member = _member(request, payload.member)
    occurrences = services.preview_series(
        resource=resource,
        member=member,
        start=payload.start,
        end=payload.end,
        rrule=payload.rrule,
        by=request.auth,
    )

    def price_of(occurrence):
        return hooks.quote(
            hooks.Proposal("book", resource, member, request.auth, occurrence.start, occurrence.end)
        )

    return _occurrences(occurrences, price_of=price_of)


@router.get(
    "/bookings/{booking_id}",
    response={200: BookingOut, **error_responses(401, 404, 422)},
    summary="Une réservation",
)
def get_booking(request, booking_id: int):
    return services.get_booking_for(request.auth, booking_id)


@router.patch(
    "/bookings/{booking_id}",
    response={200: BookingOut, **error_responses(400, 401, 403, 404, 409, 422, 503)},
    summary="Déplacer une réservation",
)
def move_booking(request, booking_id: int, payload: MoveIn):
    booking = services.get_booking_for(request.auth, booking_id)
    target = _resource(payload.resource) if payload.resource is not None else booking.resource
    return services.move(
        booking,
        by=request.auth,
        start=payload.start or booking.start,
        end=payload.end or booking.end,
        resource=target,
    )


@router.delete(
    "/bookings/{booking_id}",
    response={200: BookingOut, **error_responses(401, 403, 404, 422, 503)},
    summary="Annuler une réservation (une occurrence d’une série : celle-ci seulement)",
)
def cancel_booking(request, booking_id: int):
    booking = services.get_booking_for(request.auth, booking_id)
    return services.cancel(booking, by=request.auth)


@router.post(
    "/bookings/{booking_id}/check-in",
    response={200: BookingOut, **error_responses(401, 403, 404, 422, 503)},
    summary="Noter l’arrivée (le membre, d’une demi-heure avant le début à la fin ; l’équipe, jusqu’à 7 jours après)",
)
def check_in_booking(request, booking_id: int):
    booking = services.get_booking_for(request.auth, booking_id)
    return services.check_in(booking, by=request.auth)


@router.post(
    "/bookings/{booking_id}/approve",
    response={200: BookingOut, **error_responses(400, 401, 403, 404, 422, 503)},
    summary="Valider une demande (équipe du site)",
)
def approve_booking(request, booking_id: int, payload: ReasonIn | None = None):
    booking = services.get_booking_for(request.auth, booking_id)
    return services.approve(booking, by=request.auth, reason=payload.reason if payload else "")


@router.post(
    "/bookings/{booking_id}/refuse",
    response={200: BookingOut, **error_responses(400, 401, 403, 404, 422, 503)},
    summary="Refuser une demande, avec le motif dit au membre (équipe du site)",
)
def refuse_booking(request, booking_id: int, payload: ReasonIn):
    booking = services.get_booking_for(request.auth, booking_id)
    return services.refuse(booking, by=request.auth, reason=payload.reason)


@router.delete(
    "/series/{series_id}",
    response={200: SeriesCancelledOut, **error_responses(401, 403, 404, 422, 503)},
    summary="Annuler les occurrences à venir d’une série",
)
def cancel_series(request, series_id: int):
    series = services.get_series_for(request.auth, series_id)
    result = services.cancel_series(series, by=request.auth)
    return SeriesCancelledOut(
        series=series.pk,
        cancelled=[b.pk for b in result.cancelled],
        kept=[
            OccurrenceOut(start=b.start, end=b.end, free=False, code=e.code, detail=e.message, booking=b.pk)
            for b, e in result.kept
        ],
    )


# --- blocks (site staff) ------------------------------------------------------------------------------------


@router.post(
    "/blocks",
    response={201: BlockOut, **error_responses(400, 401, 403, 404, 409, 422, 503)},
    summary="Rendre une ressource indisponible (maintenance, fermeture)",
)
def create_block(request, payload: BlockIn):
    resource = _resource(payload.resource)
    block, cancelled = services.block(
        resource,
        by=request.auth,
        start=payload.start,
        end=payload.end,
        reason=payload.reason,
        kind=payload.kind,
        cancel_conflicting=payload.cancel_conflicting,
    )
    out = BlockOut.from_orm(block)
    out.cancelled_bookings = [b.pk for b in cancelled]
    return Status(201, out)


@router.delete(
    "/blocks/{block_id}",
    response={204: None, **error_responses(401, 403, 404, 422, 503)},
    summary="Lever une indisponibilité",
)
def delete_block(request, block_id: int):
    services.unblock(services.get_block_for(request.auth, block_id), by=request.auth)
    return Status(204, None)
