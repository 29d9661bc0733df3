"""The public HTTP API: one django-ninja application, its surfaces mounted where clients expect them.

- `/v1/...` and `/api/v1/...`: the same routers (references 000 and 002 call /v1, references 003
  and 004 call /api/v1; OpenAI's SDKs take either as base_url).
- the site root: pollinations' paths (reference 002).

Request shapes are pydantic schemas (they also make the OpenAPI document); bodies are parsed by
parsing.StrictParser; every error leaves as the envelope of errors.py, in the words of the surface
that served the request (dialects.py: reference 003's table, pollinations' extra fields)."""
from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http.multipartparser import MultiPartParserError
from ninja.errors import AuthenticationError, HttpError, ValidationError

from apps.catalog.schema import ValidationFailed
from apps.core.errors import ApplicationError, Kind

from .auth import key_auth
from .dialects import dialect_response
from .errors import ApiError, from_validation
from .openapi import AtelierAPI
from .parsing import StrictParser

log = logging.getLogger(__name__)


# ---- the application --------------------------------------------------------------------------
api = AtelierAPI(title="Atelier API", version="1", description=__doc__, auth=key_auth, parser=StrictParser(),
               docs_url=None, openapi_url=None, urls_namespace="public-api")


def _pydantic_param(location) -> str:
    parts = [str(part) for part in location if part not in ("body", "payload", "query", "path")]
    text = ""
    for part in parts:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "body"


@api.exception_handler(ApplicationError)
def _application_error(request, exc: ApplicationError):
    return dialect_response(request, exc)


@api.exception_handler(ValidationFailed)
def _validation_failed(request, exc: ValidationFailed):
    return dialect_response(request, from_validation(exc))


@api.exception_handler(ValidationError)
def _schema_error(request, exc: ValidationError):
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        param = _pydantic_param(error.get("loc", ()))
        message = error.get("msg", "Invalid value.")
        if error.get("type") == "extra_forbidden":
            message = f"Unrecognized request argument supplied: {param}"
        elif error.get("type") == "missing":
            message = f"Missing required parameter: {param}."
        fields.setdefault(param, []).append(message)
    first = next(iter(fields))
    return dialect_response(request, ApiError("invalid_request", fields[first][0], fields=fields, param=first))


@api.exception_handler(AuthenticationError)
def _authentication_error(request, exc):  # ninja's own "no credentials" (our KeyAuth raises instead)
    return dialect_response(request, ApiError("missing_api_key", "Send your API key as 'Authorization: Bearer "
                                              "<key>'.", kind=Kind.UNAUTHENTICATED))


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    cause = exc.__cause__
    if isinstance(cause, ApplicationError):  # raised by StrictParser inside ninja's body reading
        return dialect_response(request, cause)
    if exc.status_code == 400:
        return dialect_response(request, ApiError("invalid_json", "The request body is not valid JSON."))
    kind = {404: Kind.NOT_FOUND, 405: Kind.INVALID, 401: Kind.UNAUTHENTICATED}.get(exc.status_code, Kind.INVALID)
    return dialect_response(request, ApiError("invalid_request", str(exc), kind=kind))


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return dialect_response(request, ApiError("request_too_large", "The request body is too large.",
                                              kind=Kind.TOO_LARGE))


@api.exception_handler(MultiPartParserError)
def _bad_multipart(request, exc):
    # A multipart body Django cannot read (no boundary, truncated): the client's mistake, not a 500.
    return dialect_response(request, ApiError("invalid_request", f"The multipart body cannot be read: {exc}",
                                              kind=Kind.INVALID))


@api.exception_handler(OperationalError)
def _database_busy(request, exc):
    raise exc  # a busy or unreachable database: the ops middleware answers a retryable 503


@api.exception_handler(Exception)
def _unexpected(request, exc):
    log.exception("API error on %s %s", request.method, request.path)
    return dialect_response(request, ApiError("internal_error", "Something went wrong on our side.",
                                              kind=Kind.INTERNAL))


# ---- mounts -----------------------------------------------------------------------------------
from . import account, music_ads, native, openai_chat, openai_media, pollinations, reference_tasks  # noqa: E402

for prefix, name in (("v1/", "v1"), ("api/v1/", "api_v1")):
    api.add_router(prefix, native.router, url_name_prefix=f"{name}-native")
    api.add_router(prefix, openai_chat.router, url_name_prefix=f"{name}-openai-chat")
    api.add_router(prefix, openai_media.router, url_name_prefix=f"{name}-openai-media")
    api.add_router(prefix, music_ads.router, url_name_prefix=f"{name}-music-ads")
# Reference 003's per-model endpoints and tasks, under /api/v1 only (its own error table).
api.add_router("api/v1/", reference_tasks.router, url_name_prefix="api_v1-reference")
api.add_router("", pollinations.router, url_name_prefix="root-pollinations")
api.add_router("", account.router, url_name_prefix="root-account")
