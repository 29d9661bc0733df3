"""/healthz (the process answers), /readyz (its dependencies answer), /metrics (Prometheus)."""
from __future__ import annotations

import hmac
import logging
import sys
import time
import uuid

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import server_error as django_server_error

from .busy import busy_response, is_database_busy
from .metrics import metrics_text

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 3  # seconds each readiness check may take


@never_cache
@require_GET
def healthz(request):
    """Liveness: no dependency is touched, so a database outage does not get processes killed."""
    return JsonResponse({"status": "ok"})


def _check_database():
    from django.db import connection

    if connection.vendor == "postgresql" and connection.settings_dict["OPTIONS"].get("pool"):
        # A fresh connection outside the pool: the question is whether the server answers, not
        # whether this process has a free pooled connection (a busy pool is not an outage).
        import psycopg

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(**params, connect_timeout=PROBE_TIMEOUT, autocommit=True) as direct:
            direct.execute("SELECT 1")
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache():
    from django.core.cache import cache

    key, value = f"readyz:{uuid.uuid4().hex}", "1"
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not return what was written")
    cache.delete(key)


def _check_broker():
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=PROBE_TIMEOUT)
        if conn.transport_cls in ("redis", "rediss") or conn.transport.driver_type == "redis":
            conn.default_channel.client.ping()


def _check_storage():
    from django.core.files.storage import default_storage

    default_storage.exists("readyz-probe")  # a HEAD on S3, a stat locally: reachable and permitted


CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker, "storage": _check_storage}


@never_cache
@require_GET
def readyz(request):
    """Readiness: 200 when the database, cache, broker and storage all answer, else 503."""
    results: dict[str, dict] = {}
    ready = True
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
            results[name] = {"ok": True}
        except Exception as exc:
            ready = False
            results[name] = {"ok": False, "error": f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"}
            log.warning("readiness check %s failed: %s", name, exc)
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    response = JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = "5"
    return response


@never_cache
@require_GET
def metrics(request):
    """Prometheus text format. With METRICS_TOKEN set it needs `Authorization: Bearer <token>`."""
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponse("metrics need the bearer token\n", status=401, content_type="text/plain")
    elif settings.PRODUCTION:
        return HttpResponse("set METRICS_TOKEN to expose metrics in production\n", status=404, content_type="text/plain")
    return HttpResponse(metrics_text(), content_type="text/plain; version=0.0.4; charset=utf-8")


def server_error(request, *args, **kwargs):
    """handler500: an uncaught busy-database error anywhere (middleware included) is a 503."""
    exc = sys.exc_info()[1]
    if exc is not None and is_database_busy(exc):
        return busy_response(request, exc)
    return django_server_error(request, *args, **kwargs)
