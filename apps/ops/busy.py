"""A database that is busy or out of reach answers a retryable 503, never a 500.

Pool timeouts (every connection of this process's pool in use for DB_POOL_TIMEOUT seconds),
SQLite's "database is locked" after its busy timeout, PostgreSQL refusing connections: all are
Django OperationalErrors, errors of the database's operation rather than of the request, so
the client is told to come back (503 + Retry-After) and nothing was written."""
from __future__ import annotations

import logging

from django.db import OperationalError
from psycopg import OperationalError as PsycopgOperationalError
from django.http import JsonResponse

log = logging.getLogger("atelier.busy")

RETRY_AFTER_SECONDS = 2


def is_database_busy(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OperationalError):
            return True
        if isinstance(exc, PsycopgOperationalError):  # raised outside Django's wrapper (pool threads)
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def busy_response(request, exc: BaseException) -> JsonResponse:
    log.warning("database busy on %s %s: %s", request.method, request.path, str(exc).splitlines()[0][:200])
    from .metrics import BUSY_ANSWERS

    BUSY_ANSWERS.inc()
    response = JsonResponse({"error": {
        "code": "service_busy",
        "message": "The service is busy right now; retry in a few seconds.",
        "type": "api_error",
    }}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
