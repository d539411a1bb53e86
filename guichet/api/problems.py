"""Every refusal of the API is an RFC 9457 problem document (`application/problem+json`): a
title and a detail for people, the service error's stable `code`, and the `field` at fault
when there is one."""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from guichet.core.errors import ServiceError
from guichet.core.permissions import PermissionRefused
from guichet.dossiers.editing import EditConflict
from guichet.dossiers.services import AlreadySubmitted

CONTENT_TYPE = "application/problem+json"
logger = logging.getLogger(__name__)

# A service refusal is a 422 unless its kind says otherwise.
SERVICE_STATUSES = {PermissionRefused: 403, EditConflict: 412, AlreadySubmitted: 409}
TITLES = {400: gettext_lazy("Requête invalide"), 401: gettext_lazy("Authentification requise"),
          403: gettext_lazy("Action refusée"), 404: gettext_lazy("Introuvable"),
          409: gettext_lazy("Conflit"), 412: gettext_lazy("Version périmée"),
          413: gettext_lazy("Requête trop volumineuse"), 422: gettext_lazy("Données refusées"),
          428: gettext_lazy("Version attendue"), 429: gettext_lazy("Trop de requêtes"),
          500: gettext_lazy("Erreur du serveur")}


class Problem(Exception):
    """A refusal the API itself decides (a missing `If-Match`, a scope too narrow)."""

    def __init__(self, status: int, detail: str, *, code: str, field: str | None = None,
                 errors: list | None = None):
        super().__init__(detail)
        self.http_status, self.detail, self.code, self.field = status, detail, code, field
        self.errors = errors


def problem(status: int, detail: str, *, code: str, field: str | None = None,
            errors: list | None = None, headers: dict | None = None) -> JsonResponse:
    body = {"type": "about:blank", "title": str(TITLES.get(status, _("Erreur"))),
            "status": status, "detail": str(detail), "code": code}
    if field is not None:
        body["field"] = field
    if errors is not None:
        body["errors"] = errors
    response = JsonResponse(body, status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def unknown_path(request, path: str = "") -> JsonResponse:
    """Any address under /api/v1/ that names no operation: a problem, not an HTML page."""
    return problem(404, _("Aucune opération de l'API à cette adresse : voyez la "
                          "documentation, /api/v1/docs."), code="not_found")


def _status_of(error: ServiceError) -> int:
    return next((status for kind, status in SERVICE_STATUSES.items()
                 if isinstance(error, kind)), 422)


# The names the operations give their body and query parameters: not part of a field's path.
PARAMETER_NAMES = ("data", "query")


def _field_path(location: tuple) -> str | None:
    """The field's dotted path, without where it came from (body, query) nor the parameter."""
    parts = [str(part) for part in location[1:]]
    if len(parts) > 1 and parts[0] in PARAMETER_NAMES:
        parts = parts[1:]
    return ".".join(parts) or None


def _validation_errors(error: ValidationError) -> list[dict]:
    return [{"field": _field_path(tuple(item.get("loc", ()))), "detail": item.get("msg", "")}
            for item in error.errors]


def register(api) -> None:
    """Make every refusal of `api` a problem document."""

    @api.exception_handler(ServiceError)
    def service_error(request, error):
        return problem(_status_of(error), error.message, code=error.code, field=error.field)

    @api.exception_handler(Problem)
    def own_problem(request, error):
        return problem(error.http_status, error.detail, code=error.code, field=error.field,
                       errors=error.errors)

    @api.exception_handler(ValidationError)
    def invalid(request, error):
        errors = _validation_errors(error)
        return problem(422, _("Des valeurs sont refusées : voyez chaque champ."),
                       code="invalid", field=errors[0]["field"] if errors else None,
                       errors=errors)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, error):
        return problem(401, _("Présentez un jeton d'API valide : en-tête « Authorization: "
                              "Bearer <jeton> »."), code="unauthenticated",
                       headers={"WWW-Authenticate": 'Bearer realm="guichet"'})

    @api.exception_handler(Throttled)
    def throttled(request, error):
        wait = int(error.wait or 1)
        return problem(429, _("Trop de requêtes pour ce jeton : réessayez dans %(seconds)d s.")
                       % {"seconds": wait}, code="throttled",
                       headers={"Retry-After": str(wait)})

    @api.exception_handler(Http404)
    def not_found(request, error):
        return problem(404, _("Cette ressource n'existe pas, ou elle ne vous est pas "
                              "ouverte."), code="not_found")

    @api.exception_handler(PermissionDenied)
    def denied(request, error):
        return problem(403, str(error) or _("Vous n'avez pas le droit de faire cette action."),
                       code="permission_refused")

    @api.exception_handler(HttpError)
    def http_error(request, error):
        return problem(error.status_code, str(error), code="http_error")

    @api.exception_handler(MultiPartParserError)
    def unreadable_form(request, error):
        return problem(400, _("Le corps multipart/form-data de la requête est illisible."),
                       code="unreadable_body")

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, error):
        return problem(413, _("La requête est trop volumineuse."), code="too_big")

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request, error):
        return problem(400, _("La requête est refusée telle qu'elle est formée."),
                       code="bad_request")

    @api.exception_handler(Exception)
    def unexpected(request, error):
        # A bug: logged with its traceback, answered in the API's format, never in HTML.
        logger.exception("API request failed: %s %s", request.method, request.path)
        return problem(500, _("Une erreur inattendue est survenue ; elle est enregistrée."),
                       code="server_error")


PROBLEM_SCHEMA = {
    "type": "object", "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"},
        "status": {"type": "integer"}, "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable code of the refusal."},
        "field": {"type": ["string", "null"], "description": "The field at fault."},
        "errors": {"type": "array", "items": {
            "type": "object", "properties": {"field": {"type": ["string", "null"]},
                                             "detail": {"type": "string"}}}}}}
# What any operation may answer besides its success (RFC 9457 documents).
REFUSALS = {400: "Requête invalide", 401: "Jeton absent, inconnu ou révoqué",
            403: "Action refusée", 404: "Introuvable ou non ouvert à ce jeton",
            409: "Conflit", 412: "Version périmée (If-Match)", 422: "Données refusées",
            413: "Requête trop volumineuse", 428: "If-Match attendu",
            429: "Trop de requêtes (Retry-After)",
            500: "Erreur du serveur"}


def documented(schema: dict) -> dict:
    """The OpenAPI document with the problem responses every operation may give."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    reference = {CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            # Ninja keys its own responses by number: one key per status, as JSON has it.
            responses = {str(status): answer
                         for status, answer in operation.get("responses", {}).items()}
            operation["responses"] = responses
            for status, description in REFUSALS.items():
                responses.setdefault(str(status), {"description": description,
                                                   "content": reference})
    return schema
