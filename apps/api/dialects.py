"""Error dialects: each surface's own words for the one envelope of errors.py.

Domain and API errors keep their stable codes everywhere (apps.core.errors, errors.py); a surface
whose public documentation fixes other words gets them here, at the edge, from which router
served the request (the mount's url_name prefix):

- reference 003's per-model endpoints and /api/v1/tasks (mount "api_v1-reference"): its error
  table exactly, status and code: 401 unauthorized, 400 invalid_request, 402
  insufficient_credits, 429 rate_limited, 409 idempotency_conflict, 503 service_busy, 404
  not_found, 500 internal_error. Atelier's own code stays readable in `error.reason`.
- pollinations' paths at the site root (mounts "root-..."): the common envelope plus its fields,
  `status`, `success: false`, `error.timestamp` and `error.details` ({name, formErrors,
  fieldErrors} for a 400, {name} otherwise).
Everything else answers the common envelope unchanged."""
from __future__ import annotations

from datetime import UTC, datetime

from django.http import HttpRequest, JsonResponse

from apps.core.errors import ApplicationError

from .errors import TYPES, error_body

REFERENCE_MOUNT = "api_v1-reference"
POLLINATIONS_MOUNTS = ("root-pollinations", "root-account")

# Reference 003's table: every status Atelier answers, folded onto the eight it documents.
TASKS_STATUS = {400: 400, 401: 401, 402: 402, 404: 404, 405: 400, 409: 409, 410: 404, 413: 400, 422: 400,
                429: 429, 500: 500, 502: 503, 503: 503, 504: 503}
TASKS_CODE = {400: "invalid_request", 401: "unauthorized", 402: "insufficient_credits", 404: "not_found",
              409: "idempotency_conflict", 429: "rate_limited", 500: "internal_error", 503: "service_busy"}
# 403s: a key that may not do this is "unauthorized" (003: "missing, invalid, or revoked API key");
# a refused prompt is bad input.
FORBIDDEN_AS_INPUT = {"content_filter", "content_filtered"}
IDEMPOTENCY_CODES = {"idempotency_key_reused", "idempotency_conflict", "idempotency_in_flight",
                     "idempotency_key_in_use"}


def dialect_of(request: HttpRequest | None) -> str:
    match = getattr(request, "resolver_match", None)
    name = (match.url_name if match else "") or ""
    if name.startswith(REFERENCE_MOUNT):
        return "tasks"
    if name.startswith(POLLINATIONS_MOUNTS):
        return "pollinations"
    return "atelier"


def tasks_error(status: int, body: dict) -> tuple[int, dict]:
    error = dict(body["error"])
    reason = error["code"]
    if status == 403:
        status = 400 if reason in FORBIDDEN_AS_INPUT else 401
    elif status == 409 and reason not in IDEMPOTENCY_CODES:
        status = 400  # 003 keeps 409 for idempotency; any other clash is a request it cannot take
    status = TASKS_STATUS.get(status, 500 if status >= 500 else 400)
    error["code"] = TASKS_CODE[status]
    error["type"] = TYPES.get(status, "api_error")
    if reason != error["code"]:
        error["reason"] = reason
    return status, {"error": error}


def _pascal(code: str) -> str:
    return "".join(part.capitalize() for part in code.split("_")) or "Error"


def pollinations_error(status: int, body: dict) -> tuple[int, dict]:
    error = dict(body["error"])
    details: dict = {"name": _pascal(error["code"])}
    if status == 400:
        fields = error.get("fields") or {}
        details["formErrors"] = [] if fields else [error["message"]]
        details["fieldErrors"] = fields
    error["details"] = details
    error["timestamp"] = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return status, {"status": status, "success": False, "error": error}


def dialect_body(request: HttpRequest | None, error: ApplicationError) -> tuple[int, dict, dict]:
    status, body, headers = error_body(error)
    dialect = dialect_of(request)
    if dialect == "tasks":
        status, body = tasks_error(status, body)
    elif dialect == "pollinations":
        status, body = pollinations_error(status, body)
    return status, body, headers


def dialect_response(request: HttpRequest | None, error: ApplicationError) -> JsonResponse:
    status, body, headers = dialect_body(request, error)
    response = JsonResponse(body, status=status)
    for name, value in headers.items():
        response[name] = value
    return response
