"""/healthz, /readyz, the retryable 503 of a busy or absent database, request ids, metrics."""
import json
import logging

import httpx
import pytest
from django.db import OperationalError

from apps.ops.middleware import client_address
from tests.support.servers import free_port
from tests.support.web import WebProcess


def test_healthz_and_readyz_answer_ok_when_everything_is_reachable(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json()
    assert set(ready.json()["checks"]) == {"database", "cache", "broker", "storage"}
    assert all(check["ok"] for check in ready.json()["checks"].values())


def test_readiness_fails_when_the_database_is_down_and_requests_get_a_retryable_503(transactional_db):
    closed = free_port()  # nothing listens there: the database is down
    web = WebProcess(workers=1, threads=4, extra_env={
        "DATABASE_URL": f"postgres://atelier@127.0.0.1:{closed}/atelier", "DB_POOL_TIMEOUT": "1"})
    try:
        assert httpx.get(f"{web.url}/healthz", timeout=10).status_code == 200  # alive: do not restart it
        ready = httpx.get(f"{web.url}/readyz", timeout=30)
        assert ready.status_code == 503 and ready.headers["Retry-After"]
        checks = ready.json()["checks"]
        assert checks["database"]["ok"] is False and "OperationalError" in checks["database"]["error"]
        assert checks["cache"]["ok"] and checks["broker"]["ok"]
        busy = httpx.get(f"{web.url}/v1/balance", headers={"Authorization": "Bearer atl_x"}, timeout=30)
        assert busy.status_code == 503, web.log()
        assert busy.headers["Retry-After"] == "2" and busy.json()["error"]["code"] == "service_busy"
        page = httpx.get(f"{web.url}/", timeout=30)  # a studio page (the gallery reads the catalog)
        assert page.status_code == 503 and "Traceback" not in page.text
    finally:
        web.stop()


def test_a_locked_sqlite_database_answers_503_not_500(client, db, monkeypatch):
    from apps.api.services import api_key_authenticate  # noqa: F401  (the view's first database call)

    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr("apps.api.auth.api_key_authenticate", locked)
    response = client.get("/v1/balance", HTTP_AUTHORIZATION="Bearer atl_x")
    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert response.json()["error"]["code"] == "service_busy"


def test_request_id_is_echoed_and_carried_into_the_task_headers(client, db, member_with_key,
                                                                django_capture_on_commit_callbacks):
    from celery.signals import before_task_publish

    published = []

    def capture(headers=None, body=None, **kwargs):
        published.append(dict(headers or {}))

    before_task_publish.connect(capture, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            with_id = client.post(
                "/v1/generations", data=json.dumps({"model": "sandbox-image", "params": {"prompt": "a fox"}}),
                content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {member_with_key}",
                HTTP_X_REQUEST_ID="req-abcdef123456")
    finally:
        before_task_publish.disconnect(capture)
    assert with_id.status_code == 202 and with_id["X-Request-ID"] == "req-abcdef123456"
    assert published and published[-1]["request_id"] == "req-abcdef123456"
    assert published[-1]["task"] == "apps.generations.tasks.run_generation"
    fresh = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces")
    assert fresh["X-Request-ID"] != "bad id with spaces" and len(fresh["X-Request-ID"]) == 32


def test_json_log_lines_carry_the_request_id():
    from config.logs import JsonFormatter, RequestIdFilter, request_id_var

    token = request_id_var.set("req-0123456789")
    try:
        record = logging.LogRecord("apps.x", logging.INFO, __file__, 1, "job %s queued", ("g1",), None)
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "job g1 queued" and line["request_id"] == "req-0123456789" and line["level"] == "INFO"


def test_metrics_count_requests_jobs_and_holds(client, db, member_with_key, django_capture_on_commit_callbacks,
                                               monkeypatch):
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda generation, countdown=None: None)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/v1/generations", data=json.dumps({"model": "sandbox-image", "params": {"prompt": "a fox"}}),
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {member_with_key}")
    text = client.get("/metrics").content.decode()
    assert 'atelier_jobs{model="sandbox-image",status="queued"} 1.0' in text
    assert 'atelier_holds_total{event="placed"}' in text
    assert 'atelier_http_request_seconds_count{method="POST",route="v1/generations",status="202"}' in text


def test_metrics_token_is_required_when_set(client, db, settings):
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200


@pytest.mark.parametrize("forwarded,proxies,expected", [
    ("", 0, "10.0.0.9"),
    ("203.0.113.7", 0, "10.0.0.9"),  # no trusted proxy: the header is the client's word, ignored
    ("203.0.113.7", 1, "203.0.113.7"),
    ("198.51.100.1, 203.0.113.7", 1, "203.0.113.7"),  # the leftmost entry was written by the client
    ("198.51.100.1, 203.0.113.7, 10.0.0.2", 2, "203.0.113.7"),
])
def test_client_address_reads_only_what_trusted_proxies_wrote(forwarded, proxies, expected):
    meta = {"REMOTE_ADDR": "10.0.0.9", "HTTP_X_FORWARDED_FOR": forwarded}
    assert client_address(meta, proxies) == expected


@pytest.fixture
def member_with_key(make_user, catalog):
    from apps.accounts.services import user_onboard
    from apps.api.services import api_key_create

    user = make_user("ops@example.com")
    user_onboard(user=user)
    return api_key_create(user=user, workspace=user.current_workspace, name="ops").secret
