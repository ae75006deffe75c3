"""API v1: one NinjaAPI, one error shape `{"detail", "code"}`, routers from each app."""

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from cocotte.accounts.api import router as accounts_router
from cocotte.bookings.api import router as bookings_router
from cocotte.bookings.errors import BookingError, Conflict, Forbidden, NotFound
from cocotte.spaces.api import router as spaces_router

api = NinjaAPI(
    title="Cocotte API",
    version="1",
    description=(
        "Réservations des tiers-lieux du réseau. Authentification : jeton personnel "
        "(`Authorization: Bearer …`, créé par `cocotte api_token EMAIL`) ou session du site web. "
        'Les erreurs ont toujours la forme `{"detail": "…", "code": "…"}`.'
    ),
    urls_namespace="api-v1",
)
api.add_router("", spaces_router)
api.add_router("", bookings_router)
api.add_router("", accounts_router)


def error(request, status: int, detail: str, code: str, **extra):
    return api.create_response(request, {"detail": detail, "code": code, **extra}, status=status)


@api.exception_handler(BookingError)
def booking_error(request, exc: BookingError):
    status = next(
        (s for cls, s in ((Conflict, 409), (Forbidden, 403), (NotFound, 404)) if isinstance(exc, cls)), 422
    )
    extra = {"field": exc.field} if exc.field else {}
    if exc.details:
        extra["conflicts"] = exc.details
    return error(request, status, exc.message, exc.code, **extra)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    first = exc.errors[0] if exc.errors else {}
    location = [
        str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "payload")
    ]
    field = ".".join(location) or None
    message = first.get("msg", _("Donnée invalide."))
    detail = f"{field} : {message}" if field else message
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors
    ]
    return error(request, 422, detail, "invalid_input", field=field, errors=errors)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc: AuthenticationError):
    if str(exc) == "invalid_token":
        return error(request, 401, _("Jeton d’API inconnu ou révoqué."), "invalid_token")
    return error(request, 401, _("Authentification requise."), "unauthenticated")


@api.exception_handler(Http404)
def not_found(request, exc):
    return error(request, 404, _("Introuvable."), "not_found")


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return error(request, exc.status_code, str(exc), "http_error")
