"""The one mapping from HTTP answers and transport failures to provider errors, over real HTTP."""
from __future__ import annotations

import socket
import time
from email.utils import formatdate

import httpx
import pytest

from apps.providers import http
from apps.providers.base import (
    AuthError,
    ChannelConfig,
    ContentFiltered,
    InvalidInput,
    NotFound,
    RateLimited,
    TransientError,
    UpstreamTimeout,
)
from tests.fakes.core import FakeResponse, route


# A route of its own, so these tests do not depend on any provider module.
@route("GET", r"^/_test/echo$", name="testhttp.echo")
def _echo(req):
    return FakeResponse(json={"ok": True, "query": req.query})


@route("POST", r"^/_test/answer$", name="testhttp.answer")
def _answer(req):
    spec = req.json()
    return FakeResponse(status=spec["status"], json=spec.get("json"), body=spec.get("text", "").encode() or None,
                        headers=spec.get("headers", {}))


def _channel(fake, **options) -> ChannelConfig:
    return ChannelConfig(name="t", adapter="test", base_url=fake.url, api_key="k", options=options)


def _answer_with(fake, status, json=None, text="", headers=None, **options):
    return http.request(_channel(fake, **options), "POST", "/_test/answer",
                        json={"status": status, "json": json, "text": text, "headers": headers or {}})


def test_success_returns_the_response(fake_upstream):
    response = http.request(_channel(fake_upstream), "GET", "/_test/echo", params={"a": "1"})
    assert response.json() == {"ok": True, "query": {"a": ["1"]}}


def test_clients_are_pooled_per_origin(fake_upstream):
    first = http.client_for(fake_upstream.url + "/v1")
    assert http.client_for(fake_upstream.url) is first
    assert http.client_for("http://127.0.0.1:1") is not first


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_transient(fake_upstream, status):
    with pytest.raises(TransientError) as caught:
        _answer_with(fake_upstream, status, {"error": {"message": "overloaded"}})
    assert not caught.value.permanent
    assert type(caught.value) is TransientError
    assert caught.value.status == status
    assert "overloaded" in caught.value.message


def test_429_with_seconds_is_rate_limited(fake_upstream):
    with pytest.raises(RateLimited) as caught:
        _answer_with(fake_upstream, 429, {"error": {"message": "slow down"}}, headers={"Retry-After": "7"})
    assert caught.value.retry_after == 7.0
    assert caught.value.code == "upstream_rate_limited"


def test_429_with_http_date():
    when = formatdate(time.time() + 30, usegmt=True)
    error = http.error_for(429, {"error": "busy"}, {"Retry-After": when})
    assert isinstance(error, RateLimited)
    assert 25 <= error.retry_after <= 31


def test_retry_after_ms_wins_and_garbage_is_ignored():
    assert http.error_for(429, {}, {"retry-after-ms": "1500", "retry-after": "9"}).retry_after == 1.5
    assert http.error_for(429, {}, {"Retry-After": "soon"}).retry_after is None
    assert http.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: retry now


@pytest.mark.parametrize("status", [400, 422])
def test_bad_request_is_invalid_input_with_the_providers_message(fake_upstream, status):
    body = {"error": {"message": "size must be one of 1024x1024", "type": "invalid_request_error", "param": "size"}}
    with pytest.raises(InvalidInput) as caught:
        _answer_with(fake_upstream, status, body)
    assert caught.value.permanent
    assert "size must be one of 1024x1024" in caught.value.message


@pytest.mark.parametrize("body, expected", [
    ({"detail": {"status": "voice_not_found", "message": "A voice with that id does not exist"}}, "does not exist"),
    ({"detail": [{"loc": ["body", "steps"], "msg": "ensure this value is less than 150", "type": "value_error"}]},
     "body.steps: ensure this value is less than 150"),
    ({"detail": "Input validation failed"}, "Input validation failed"),
    ({"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT"}},
     "invalid argument"),
    ({"error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation"},
      "node_errors": {"4": {"class_type": "CheckpointLoaderSimple",
                            "errors": [{"message": "Value not in list", "details": "ckpt_name: 'x' not in []"}]}}},
     "CheckpointLoaderSimple"),
    ({"message": "plain message"}, "plain message"),
    ("not json at all", "not json at all"),
])
def test_provider_error_shapes(body, expected):
    error = http.error_for(400, body)
    assert isinstance(error, InvalidInput)
    assert expected in error.message


def test_error_text_body_over_http(fake_upstream):
    with pytest.raises(InvalidInput) as caught:
        _answer_with(fake_upstream, 400, text="prompt is required")
    assert "prompt is required" in caught.value.message


@pytest.mark.parametrize("status", [401, 403, 402])
def test_auth_statuses(fake_upstream, status):
    with pytest.raises(AuthError) as caught:
        _answer_with(fake_upstream, status, {"error": {"message": "Incorrect API key provided"}})
    assert caught.value.code == "upstream_auth"


def test_404_is_not_found(fake_upstream):
    with pytest.raises(NotFound):
        _answer_with(fake_upstream, 404, {"error": {"message": "The model does not exist"}})


@pytest.mark.parametrize("body", [
    {"error": {"code": "moderation_blocked", "message": "Your request was rejected by the safety system."}},
    {"error": {"code": "content_policy_violation", "message": "Rejected"}},
    {"detail": "NSFW content detected in the prompt"},
])
def test_content_policy_markers(body):
    error = http.error_for(400, body)
    assert isinstance(error, ContentFiltered)
    assert error.code == "content_filtered"


def test_unmarked_403_stays_auth():
    assert isinstance(http.error_for(403, {"error": {"message": "Project does not have access"}}), AuthError)


def test_read_timeout_is_upstream_timeout(fake_upstream):
    fake_upstream.faults("testhttp.echo", timeout=True)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as caught:
        http.request(_channel(fake_upstream, timeout=0.3), "GET", "/_test/echo")
    assert time.monotonic() - started < 2
    assert caught.value.code == "upstream_timeout"


def test_connection_refused_is_transient():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    channel = ChannelConfig(name="t", adapter="test", base_url=f"http://127.0.0.1:{port}", options={"timeout": 1})
    with pytest.raises(TransientError) as caught:
        http.request(channel, "GET", "/anything")
    assert caught.value.code == "upstream_unavailable"


def test_malformed_json_is_transient_bad_response(fake_upstream):
    fake_upstream.faults("testhttp.echo", malformed=True)
    response = http.request(_channel(fake_upstream), "GET", "/_test/echo")
    with pytest.raises(TransientError) as caught:
        http.json_body(response)
    assert caught.value.code == "upstream_bad_response"


def test_stream_maps_error_status(fake_upstream):
    fake_upstream.faults("testhttp.echo", status=503, retry_after=2)
    with pytest.raises(TransientError) as caught:
        with http.stream(_channel(fake_upstream), "GET", "/_test/echo"):
            pass
    assert caught.value.retry_after == 2.0


def test_timeouts_come_from_channel_options():
    channel = ChannelConfig(name="t", adapter="test", options={"timeout": 12, "connect_timeout": 2})
    assert http.timeout_for(channel) == httpx.Timeout(12.0, connect=2.0)
    assert http.timeout_for(ChannelConfig(name="t", adapter="test"), read=30).read == 30.0


def test_redirects_are_not_followed(fake_upstream):
    @route("GET", r"^/_test/redirect$", name="testhttp.redirect")
    def _redirect(req):
        return FakeResponse(status=302, headers={"Location": "http://example.com/"})

    response = http.request(_channel(fake_upstream), "GET", "/_test/redirect")
    assert response.status_code == 302


def test_a1111_exception_shape_keeps_the_text():
    error = http.error_for(500, {"error": "OutOfMemoryError", "detail": "", "body": "", "errors": "CUDA out of memory"})
    assert isinstance(error, TransientError)
    assert "OutOfMemoryError: CUDA out of memory" in error.message


def test_a_forked_child_starts_with_an_empty_pool(fake_upstream):
    import os

    http.client_for(fake_upstream.url)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report the pool size, then leave without running pytest's teardown
        os.write(write, str(len(http._clients)).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 16) == b"0"
    assert len(http._clients) >= 1  # the parent keeps its pool
