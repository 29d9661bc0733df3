"""The fake upstream itself: concurrency, fault semantics, redaction, reset, process mode."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.fakes.core import FakeResponse, FakeUpstreamProcess, route, state
from tests.fakes.fixtures import fake_upstream  # noqa: F401
from tests.support.servers import free_port


@route("GET", r"^/_core/ping$", name="core.ping")
def _ping(req):
    return FakeResponse(json={"pong": True})


@route("POST", r"^/_core/job$", name="core.job")
def _job(req):
    job = state.create_job("core.job")
    return FakeResponse(json={"id": job["id"]})


@route("GET", r"^/_core/job/(?P<id>\w+)$", name="core.job_get")
def _job_get(req):
    job = state.jobs[req.match["id"]]
    return FakeResponse(json={"phase": state.advance(job), "progress": job["progress"]})


def test_serves_requests_concurrently(fake_upstream):
    fake_upstream.faults("core.ping", latency=0.4)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: httpx.get(fake_upstream.url + "/_core/ping", timeout=5).json(), range(8)))
    assert answers == [{"pong": True}] * 8
    assert time.monotonic() - started < 2.4  # 8 x 0.4 s in sequence would be 3.2 s (margin for a loaded box)


def test_count_limits_a_fault_and_prefix_matching(fake_upstream):
    fake_upstream.faults("core", status=502, count=2)
    statuses = [httpx.get(fake_upstream.url + "/_core/ping").status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    fake_upstream.faults("coreX", status=500)  # "coreX" is not a dotted prefix of "core.ping"
    assert httpx.get(fake_upstream.url + "/_core/ping").status_code == 200


def test_error_rate_zero_never_fails(fake_upstream):
    fake_upstream.faults("core.ping", status=500, error_rate=0.0)
    assert {httpx.get(fake_upstream.url + "/_core/ping").status_code for _ in range(5)} == {200}


def test_unknown_fault_keys_are_refused(fake_upstream):
    response = httpx.post(fake_upstream.url + "/_fake/faults", json={"route": "core", "statuss": 500})
    assert response.status_code == 400 and "statuss" in response.text


def test_credentials_are_redacted_in_the_request_log(fake_upstream):
    httpx.get(fake_upstream.url + "/_core/ping", headers={"Authorization": "Bearer sk-secret-abcd",
                                                          "xi-api-key": "el-secret-wxyz"})
    [entry] = fake_upstream.requests("core.ping")
    assert entry["auth"] == {"authorization": "Bearer ...abcd", "xi-api-key": "...wxyz"}
    assert "secret" not in str(entry)


def test_reset_wakes_a_handler_stuck_in_a_timeout(fake_upstream):
    fake_upstream.faults("core.ping", timeout=True)
    result = {}

    def call():
        started = time.monotonic()
        result["status"] = httpx.get(fake_upstream.url + "/_core/ping", timeout=10).status_code
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=call)
    thread.start()
    time.sleep(0.2)
    fake_upstream.reset()
    thread.join(5)
    assert result["status"] == 504 and result["seconds"] < 2


def test_async_jobs_take_job_seconds_or_finish_at_once_in_instant_mode(fake_upstream):
    fake_upstream.config(job_seconds=0.2)
    job_id = httpx.post(fake_upstream.url + "/_core/job").json()["id"]
    assert httpx.get(f"{fake_upstream.url}/_core/job/{job_id}").json()["phase"] == "pending"
    time.sleep(0.25)
    assert httpx.get(f"{fake_upstream.url}/_core/job/{job_id}").json() == {"phase": "succeeded", "progress": 100}
    fake_upstream.config(instant=True, job_seconds=60)
    job_id = httpx.post(fake_upstream.url + "/_core/job").json()["id"]
    assert httpx.get(f"{fake_upstream.url}/_core/job/{job_id}").json()["phase"] == "succeeded"


def test_job_faults_stick_to_the_jobs_created_under_them(fake_upstream):
    fake_upstream.config(instant=True)
    fake_upstream.faults("core.job", fail_late=True, count=1)
    failing = httpx.post(fake_upstream.url + "/_core/job").json()["id"]
    healthy = httpx.post(fake_upstream.url + "/_core/job").json()["id"]
    assert httpx.get(f"{fake_upstream.url}/_core/job/{failing}").json()["phase"] == "failed"
    assert httpx.get(f"{fake_upstream.url}/_core/job/{healthy}").json()["phase"] == "succeeded"


def test_unknown_paths_and_methods(fake_upstream):
    assert httpx.get(fake_upstream.url + "/nowhere").status_code == 404
    assert httpx.delete(fake_upstream.url + "/_core/ping").status_code == 405


def test_runs_as_its_own_process():
    """The mode real-worker tests, benchmarks and the demo use: python -m tests.fakes.server."""
    with FakeUpstreamProcess(free_port(), instant=True) as fake:
        health = httpx.get(fake.url + "/_fake/health").json()
        assert {"openai.chat", "comfyui.prompt", "a1111.txt2img", "elevenlabs.tts"} <= set(health["routes"])
        fake.faults("openai.chat", status=429, retry_after=3)
        response = httpx.post(fake.url + "/v1/chat/completions", headers={"Authorization": "Bearer k"},
                              json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]})
        assert response.status_code == 429 and response.headers["retry-after"] == "3"
        assert fake.requests("openai.chat")[0]["auth"] == {"authorization": "Bearer ...k"}
    assert fake.process.poll() is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(fake.url + "/_fake/health", timeout=1)
