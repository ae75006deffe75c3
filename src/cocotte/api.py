"""API v1: one NinjaAPI, one error shape `{"detail", "code"}`, routers from each app."""

import functools

from django.core.exceptions import ImproperlyConfigured
from django.http import Http404
from django.urls import re_path
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema

from cocotte.accounts.api import router as accounts_router
from cocotte.accounts.auth import CsrfFailed, anonymous
from cocotte.billing.api import router as billing_router
from cocotte.bookings.api import router as bookings_router
from cocotte.core.errors import DomainError
from cocotte.events.api import router as events_router
from cocotte.learning.api import router as learning_router
from cocotte.spaces.api import router as spaces_router


class CocotteOpenAPISchema(OpenAPISchema):
    def add_schema_definitions(self, definitions: dict) -> None:
        """Refuse two different schemas under one name: django-ninja kept the last one, and the document lied
        (`Resource.Kind` and `Block.Kind` are both « Kind »: resources were documented with blocks' kinds)."""
        for name, definition in definitions.items():
            if self.schemas.get(name, definition) != definition:
                raise ImproperlyConfigured(
                    f"Two different schemas are named {name!r} in the API: rename one."
                )
        super().add_schema_definitions(definitions)

    def operation_security(self, operation):
        """An endpoint open to visitors says so: `{}` among its security requirements means « none needed »."""
        security = super().operation_security(operation)
        if security is not None and anonymous in operation.auth_callbacks:
            security.append({})
        return security


class CocotteAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return CocotteOpenAPISchema(self, path_prefix)

    def _get_urls(self):
        """Every URL of the API answers a method it does not serve with the JSON error shape too, and an
        address under the API that names no operation answers the JSON 404, not Django's HTML page."""
        urls = super()._get_urls()
        for url in urls:
            if getattr(url, "name", None) == "api-root":
                url.callback = self._unknown_path  # django-ninja's raised Http404 outside the API's handlers
            elif hasattr(url, "callback"):
                url.callback = self._json_method_not_allowed(url.callback)
        # Last, so that it only catches what nothing above matched (`/bookings/abc` too: ids are integers).
        urls.append(re_path(r"", self._unknown_path, name="unknown-path"))
        return urls

    @method_decorator(csrf_exempt)
    def _unknown_path(self, request, *args, **kwargs):
        # CSRF-exempt: a POST to an unknown address is a 404, not a 403 about a token it could not use.
        return error(
            request,
            404,
            _("Aucune opération de l’API à l’adresse %(path)s.") % {"path": request.path},
            "not_found",
        )

    def _json_method_not_allowed(self, view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if response.status_code != 405 or response.get("Content-Type", "").startswith("application/json"):
                return response
            replacement = error(
                request,
                405,
                _("Méthode %(method)s non permise.") % {"method": request.method},
                "method_not_allowed",
            )
            replacement["Allow"] = response["Allow"]
            return replacement

        return wrapper


api = CocotteAPI(
    title="Cocotte API",
    version="1",
    description=(
        "Réservations des tiers-lieux du réseau, factures, avoirs et relevés. Authentification : jeton personnel "
        "(`Authorization: Bearer …`, créé par `cocotte api_token EMAIL`) ou session du site web. "
        'Les erreurs ont toujours la forme `{"detail": "…", "code": "…"}`.'
    ),
    urls_namespace="api-v1",
)
api.add_router("", spaces_router)
api.add_router("", bookings_router)
api.add_router("", accounts_router)
api.add_router("", billing_router)
api.add_router("", events_router)
api.add_router("", learning_router)


def error(request, status: int, detail: str, code: str, **extra):
    return api.create_response(request, {"detail": detail, "code": code, **extra}, status=status)


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    """Every app's refusals, answered with the status their kind carries (core.errors): 409 for a conflict,
    503 and Retry-After when the database was busy (nothing was wrong with the request), and so on."""
    extra = {"field": exc.field} if exc.field else {}
    if exc.details:
        extra["conflicts"] = exc.details
    response = error(request, exc.status, exc.message, exc.code, **extra)
    for header, value in exc.headers().items():
        response[header] = value
    return response


# pydantic's messages are English whatever the caller reads: the common kinds, in the request's language
# (LocaleMiddleware: Accept-Language, else French). Kinds not listed keep pydantic's words.
_DATETIME = gettext_lazy("Une date et une heure ISO 8601 sont attendues (2026-12-08T10:00:00+01:00).")
_DATE = gettext_lazy("Une date AAAA-MM-JJ est attendue.")
_INTEGER = gettext_lazy("Un nombre entier est attendu.")
VALIDATION_MESSAGES = {
    "missing": gettext_lazy("Champ obligatoire."),
    "int_parsing": _INTEGER,
    "int_type": _INTEGER,
    "int_from_float": _INTEGER,
    "float_parsing": gettext_lazy("Un nombre est attendu."),
    "bool_parsing": gettext_lazy("true ou false est attendu."),
    "string_type": gettext_lazy("Un texte est attendu."),
    "string_too_long": gettext_lazy("Texte trop long : %(max_length)s caractères au plus."),
    "string_too_short": gettext_lazy("Texte trop court : %(min_length)s caractères au moins."),
    "greater_than_equal": gettext_lazy("La valeur doit être au moins %(ge)s."),
    "less_than_equal": gettext_lazy("La valeur doit être au plus %(le)s."),
    "greater_than": gettext_lazy("La valeur doit dépasser %(gt)s."),
    "less_than": gettext_lazy("La valeur doit être inférieure à %(lt)s."),
    "datetime_parsing": _DATETIME,
    "datetime_type": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "date_parsing": _DATE,
    "date_type": _DATE,
    "date_from_datetime_parsing": _DATE,
    "timezone_aware": gettext_lazy("Précisez le décalage horaire (…+01:00 ou …Z)."),
    "literal_error": gettext_lazy("Valeur non permise ; valeurs possibles : %(expected)s."),
    "enum": gettext_lazy("Valeur non permise ; valeurs possibles : %(expected)s."),
    "json_invalid": gettext_lazy("Le corps de la requête n’est pas du JSON valide."),
    "model_attributes_type": gettext_lazy("Un objet JSON est attendu."),
    "dict_type": gettext_lazy("Un objet JSON est attendu."),
    "list_type": gettext_lazy("Une liste est attendue."),
    "extra_forbidden": gettext_lazy("Champ inconnu."),
}


def _message(error: dict) -> str:
    kind = error.get("type", "")
    if kind == "value_error":  # raised by our validators, already in the request's language
        return str(error.get("ctx", {}).get("error") or error.get("msg", "")).removeprefix("Value error, ")
    template = VALIDATION_MESSAGES.get(kind)
    if template is None:
        return error.get("msg", "") or str(_("Donnée invalide."))
    try:
        return str(template) % dict(error.get("ctx") or {})
    except (KeyError, TypeError, ValueError):
        return str(template)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    first = exc.errors[0] if exc.errors else {}
    location = [
        str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "payload")
    ]
    field = ".".join(location) or None
    message = _message(first) if first else str(_("Donnée invalide."))
    detail = f"{field} : {message}" if field else message
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": _message(e), "type": e.get("type", "")}
        for e in exc.errors
    ]
    return error(request, 422, detail, "invalid_input", field=field, errors=errors)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc: AuthenticationError):
    if str(exc) == "invalid_token":
        return error(request, 401, _("Jeton d’API inconnu ou révoqué."), "invalid_token")
    return error(request, 401, _("Authentification requise."), "unauthenticated")


@api.exception_handler(CsrfFailed)
def csrf_failed(request, exc: CsrfFailed):
    return error(
        request,
        403,
        _("Jeton CSRF absent ou invalide : une écriture par la session du site web doit l’envoyer."),
        "csrf_failed",
    )


@api.exception_handler(Http404)
def not_found(request, exc):
    return error(request, 404, _("Introuvable."), "not_found")


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    if exc.status_code == 400:
        # django-ninja's only 400: a request body that does not parse as JSON.
        return error(request, 400, _("Le corps de la requête n’est pas du JSON valide."), "invalid_json")
    return error(request, exc.status_code, str(exc), "http_error")
