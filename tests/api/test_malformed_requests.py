"""Malformed bodies and headers sent to every public POST endpoint: every answer is a 4xx with a
stable code and nothing is written, on SQLite and (with --postgres) on PostgreSQL."""
from __future__ import annotations

import json

import pytest

from apps.api.models import IdempotencyRecord
from apps.generations.models import Generation
from apps.wallet.models import Hold

pytestmark = pytest.mark.pg

ENDPOINTS = ["/v1/generations", "/v1/quote", "/v1/redeem", "/v1/chat/completions", "/v1/responses",
             "/v1/images/generations", "/v1/images/edits", "/v1/audio/speech", "/v1/videos",
             "/v1/videos/generations", "/api/v1/generations", "/api/v1/chat/completions"]

DEEP = ("[" * 5000 + "]" * 5000).encode()
BODIES = {
    "nested 5000 deep": (DEEP, "application/json"),
    "nested object": (('{"a":' * 3000 + "1" + "}" * 3000).encode(), "application/json"),
    "Infinity": (b'{"model": "sandbox-text", "temperature": Infinity, "params": {"n": Infinity}}', "application/json"),
    "NaN": (b'{"model": "sandbox-text", "temperature": NaN}', "application/json"),
    "10^400": (b'{"model": "sandbox-image", "n": 1' + b"0" * 400 + b', "params": {"n": 1e400}}', "application/json"),
    "float overflow": (b'{"model": "sandbox-image", "params": {"n": 1e400}, "n": 1e400}', "application/json"),
    "NUL in a string": (b'{"model": "sandbox-\\u0000image", "prompt": "a\\u0000b", "params": {"prompt": "x\\u0000"}}',
                        "application/json"),
    "lone surrogate": (b'{"model": "sandbox-image", "prompt": "\\ud800", "params": {"prompt": "\\udfff"}}',
                       "application/json"),
    "wrong types": (json.dumps({"model": 5, "prompt": ["x"], "messages": "hi", "params": [1], "input": {},
                                "code": 7}).encode(), "application/json"),
    "array body": (b"[1, 2, 3]", "application/json"),
    "empty object": (b"{}", "application/json"),
    "3 MB": (json.dumps({"model": "sandbox-text", "prompt": "x" * 3_000_000}).encode(), "application/json"),
    "form body": (b"model=sandbox-image&prompt=hello", "application/x-www-form-urlencoded"),
    "XML body": (b"<?xml version='1.0'?><request><model>sandbox-image</model></request>", "application/xml"),
    "bad UTF-8": (b'{"model": "sandbox-image", "prompt": "\xff\xfe\xfa"}', "application/json"),
    "truncated": (b'{"model": "sandbox-image", "prompt": "hel', "application/json"),
}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_malformed_bodies_are_4xx_with_a_code(client, auth, path):
    answers = {}
    for kind, (body, content_type) in BODIES.items():
        response = client.post(path, data=body, content_type=content_type, **auth)
        error = response.json().get("error", {}) if response.get("Content-Type", "").startswith(
            "application/json") else {}
        answers[kind] = (response.status_code, error.get("code"))
        assert 400 <= response.status_code < 500 and error.get("code") and error.get("message"), \
            (kind, response.status_code, response.content[:300])
    assert Generation.objects.count() == 0 and Hold.objects.count() == 0
    assert answers["3 MB"] == (413, "request_too_large")
    assert answers["NaN"][1] == answers["lone surrogate"][1] == "invalid_json"


@pytest.mark.parametrize("header", ["a\x00b", "x" * 201, "\u00e9t\u00e9", "tab\there"])
def test_a_bad_idempotency_key_is_400(client, auth, header):
    response = client.post("/v1/generations", data=json.dumps({"model": "sandbox-image", "params": {"prompt": "x"}}),
                           content_type="application/json", HTTP_IDEMPOTENCY_KEY=header, **auth)
    assert response.status_code == 400 and response.json()["error"]["param"] == "Idempotency-Key"
    assert Generation.objects.count() == 0 and IdempotencyRecord.objects.count() == 0


def test_chat_request_limits_name_messages(client, auth):
    many = [{"role": "user", "content": "hi"}] * 201
    response = client.post("/v1/chat/completions", data=json.dumps({"model": "sandbox-text", "messages": many}),
                           content_type="application/json", **auth)
    assert response.status_code == 400 and response.json()["error"]["param"] == "messages"
    long = [{"role": "user", "content": "x" * 64_001}]
    response = client.post("/v1/chat/completions", data=json.dumps({"model": "sandbox-text", "messages": long}),
                           content_type="application/json", **auth)
    assert response.status_code == 400 and response.json()["error"]["param"] == "messages"
    assert Generation.objects.count() == 0


def test_validation_failure_stores_no_idempotency_record(client, auth):
    response = client.post("/v1/generations", data=json.dumps({"model": "sandbox-image", "params": {"n": 99}}),
                           content_type="application/json", HTTP_IDEMPOTENCY_KEY="retry-me", **auth)
    assert response.status_code == 400 and IdempotencyRecord.objects.count() == 0
    fixed = client.post("/v1/generations", data=json.dumps({"model": "sandbox-image", "params": {"prompt": "x"}}),
                        content_type="application/json", HTTP_IDEMPOTENCY_KEY="retry-me", **auth)
    assert fixed.status_code == 202
