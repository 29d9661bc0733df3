"""The API's error envelope and the one mapping from domain errors to it.

Every surface answers errors as {"error": {"code", "message", "type", "param", "fields"?}}:
`code` is stable and what programs branch on; `message` is for people; `type` and `param` are
what the OpenAI SDKs read (their exception classes come from the HTTP status: 400
BadRequestError, 401 AuthenticationError, 402 APIStatusError, 403 PermissionDeniedError, 404
NotFoundError, 409 ConflictError, 413, 422, 429 RateLimitError, 5xx InternalServerError);
`fields` maps each refused parameter to its messages. Statuses come from apps.core.http."""
from __future__ import annotations

import math

from django.http import JsonResponse

from apps.catalog.schema import ValidationFailed
from apps.core.errors import ApplicationError, Kind
from apps.core.http import status_for

TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_quota",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    410: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "upstream_error",
    503: "service_unavailable",
    504: "timeout_error",
}


class ApiError(ApplicationError):
    """An error the API edge itself raises (a malformed request, a missing key...)."""

    def __init__(self, code: str, message: str, *, kind: str = Kind.INVALID, fields: dict | None = None,
                 param: str | None = None, headers: dict | None = None, retry_after: float | None = None):
        super().__init__(message, code=code, kind=kind, fields=fields, retry_after=retry_after)
        self.param = param
        self.headers = headers or {}
        self.extra: dict = {}  # more fields for the error object (e.g. the task id to poll)


def invalid(message: str, *, param: str | None = None, code: str = "invalid_request") -> ApiError:
    return ApiError(code, message, param=param, fields={param: [message]} if param else None)


def not_found(what: str = "resource") -> ApiError:
    return ApiError("not_found", f"No such {what}.", kind=Kind.NOT_FOUND)


def unknown_model(model_id) -> ApiError:
    # Reference 000's code, on every surface: the SDKs see a 404 NotFoundError.
    return ApiError("invalid_model", f"Unknown model id {model_id!r}. See GET /v1/models.", kind=Kind.NOT_FOUND,
                    param="model")


def from_validation(failure: ValidationFailed, message: str = "Some parameters are not valid.") -> ApiError:
    return ApiError(failure.code, message, fields=failure.errors, param=next(iter(failure.errors), None))


# Domain codes this edge names differently: a wallet budget is, on the API, a key's credit limit.
API_CODES = {"budget_exceeded": "api_key_credit_limit_exceeded"}


def error_body(error: ApplicationError) -> tuple[int, dict, dict]:
    """(status, JSON body, headers) for a domain or API error."""
    status = status_for(error)
    fields = getattr(error, "fields", None) or {}
    param = getattr(error, "param", None) or next(iter(fields), None)
    message = error.message
    if fields and message in ("Some parameters are not valid.",):
        # The SDKs show `message` alone: name the first problem in it.
        message = f"{message} {param}: {' '.join(fields[param])}"
    body = {"code": API_CODES.get(error.code, error.code), "message": message, "type": TYPES.get(status, "api_error"), "param": param}
    if fields:
        body["fields"] = fields
    body.update(getattr(error, "extra", None) or {})
    headers = dict(getattr(error, "headers", None) or {})
    if error.retry_after is not None:
        headers.setdefault("Retry-After", str(max(1, math.ceil(error.retry_after))))
    return status, {"error": body}, headers


def error_response(error: ApplicationError) -> JsonResponse:
    status, body, headers = error_body(error)
    response = JsonResponse(body, status=status)
    for name, value in headers.items():
        response[name] = value
    return response
