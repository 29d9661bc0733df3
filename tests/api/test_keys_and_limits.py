"""Issue 11: key kinds, permissions, allowlists, pause, limits and the content filter, over HTTP.

Every code of reference 004's table is asserted here (api_key_credit_limit_exceeded with the
key budgets in test_key_budgets.py)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Plan
from apps.api.limits import DatabaseWindowStorage, forget_limiter, rate_hit
from apps.api.models import ApiKey
from apps.api.services import api_key_create, api_key_set_paused
from apps.catalog.models import Channel
from apps.generations.models import ContentPolicy, ContentRefusal, Generation
from apps.wallet.models import Wallet
from tests.support.burst import burst
from tests.support.web import WebProcess, web_env_for_tests


def post(client, path, body, headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def code(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]["code"]


@pytest.fixture(autouse=True)
def _fresh_limiter():
    forget_limiter()
    yield
    forget_limiter()


def _plan(**limits) -> Plan:
    return Plan.objects.create(name=f"plan-{Plan.objects.count()}", **limits)


# ---- the codes ---------------------------------------------------------------------------------
def test_paused_key_is_403_and_resumes(client, member, api_key, auth):
    api_key_set_paused(user=member, key_id=api_key.key.pk, paused=True)
    assert code(client.get("/v1/balance", **auth), 403) == "api_key_paused"
    api_key_set_paused(user=member, key_id=api_key.key.pk, paused=False)
    assert client.get("/v1/balance", **auth).status_code == 200


def test_model_outside_the_allowlist_is_403(client, member):
    key = api_key_create(user=member, workspace=member.current_workspace, name="images only",
                         allowed_models=["sandbox-image"])
    response = post(client, "/v1/generations", {"model": "sandbox-text", "params": {"prompt": "hi"}},
                    bearer(key.secret))
    assert code(response, 403) == "api_key_model_not_allowed"
    assert response.json()["error"]["param"] == "model"
    listed = [m["id"] for m in client.get("/v1/models", **bearer(key.secret)).json()["data"]]
    assert listed == ["sandbox-image"]
    assert Generation.objects.count() == 0


def test_missing_permission_is_403(client, member):
    key = api_key_create(user=member, workspace=member.current_workspace, name="no balance",
                         permissions=["generate"])
    assert code(client.get("/v1/balance", **bearer(key.secret)), 403) == "permission_denied"
    reader = api_key_create(user=member, workspace=member.current_workspace, name="reader",
                            permissions=["account:balance"])
    response = post(client, "/v1/generations", {"model": "sandbox-image", "params": {"prompt": "x"}},
                    bearer(reader.secret))
    assert code(response, 403) == "permission_denied"


def test_rate_limit_is_429_with_retry_after_and_headers_on_every_answer(client, member):
    key = api_key_create(user=member, workspace=member.current_workspace, name="slow", requests_per_minute=2)
    first = post(client, "/v1/redeem", {"code": "AAAA-BBBB-CCCC-DDDD"}, bearer(key.secret))
    assert first.status_code == 404  # the code is unknown, but the request counted
    assert (first["X-RateLimit-Limit"], first["X-RateLimit-Remaining"]) == ("2", "1")
    assert 0 < int(first["X-RateLimit-Reset"]) <= 60
    post(client, "/v1/redeem", {"code": "AAAA-BBBB-CCCC-DDDD"}, bearer(key.secret))
    refused = post(client, "/v1/redeem", {"code": "AAAA-BBBB-CCCC-DDDD"}, bearer(key.secret))
    assert code(refused, 429) == "rate_limit_exceeded"
    assert int(refused["Retry-After"]) >= 1 and refused["X-RateLimit-Remaining"] == "0"
    # Status reads have their own, higher window.
    assert client.get("/v1/balance", **bearer(key.secret)).status_code == 200


def test_third_concurrent_video_job_is_429(client, member, auth, monkeypatch):
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda *a, **k: None)  # keep them pending
    Wallet.objects.filter(workspace=member.current_workspace).update(balance=10_000_000)
    body = {"model": "sandbox-video", "params": {"prompt": "waves", "duration": 1}}
    assert post(client, "/v1/generations", body, auth).status_code == 202
    assert post(client, "/v1/generations", body, auth).status_code == 202
    refused = post(client, "/v1/generations", body, auth)
    assert code(refused, 429) == "concurrency_limit_exceeded" and refused["Retry-After"]
    assert Generation.objects.count() == 2
    Generation.objects.filter(status="queued").update(status="canceled")
    assert post(client, "/v1/generations", body, auth).status_code == 202


# ---- publishable keys --------------------------------------------------------------------------
@pytest.fixture
def publishable(member):
    return api_key_create(user=member, workspace=member.current_workspace, name="site", kind="publishable",
                          allowed_models=["sandbox-image"]).secret


def test_publishable_key_reads_lists_but_cannot_chat_submit_or_read_the_account(client, publishable):
    assert publishable.startswith("pk_")
    assert [m["name"] for m in client.get(f"/image/models?key={publishable}").json()] == ["sandbox-image"]
    chat = post(client, "/v1/chat/completions", {"model": "sandbox-text", "messages": [
        {"role": "user", "content": "hi"}]}, bearer(publishable))
    assert code(chat, 403) == "permission_denied"
    submit = post(client, "/v1/generations", {"model": "sandbox-image", "params": {"prompt": "x"}},
                  bearer(publishable))
    assert code(submit, 403) == "permission_denied"
    assert code(client.get("/v1/balance", **bearer(publishable)), 403) == "permission_denied"
    assert Generation.objects.count() == 0


def test_publishable_keys_are_limited_per_client_ip(client, member, publishable):
    plan = _plan(publishable_requests_per_minute=2)
    member.current_workspace.plan = plan
    member.current_workspace.save()
    for _ in range(2):
        assert client.get("/image/models", **bearer(publishable), REMOTE_ADDR="203.0.113.7").status_code == 200
    assert code(client.get("/image/models", **bearer(publishable), REMOTE_ADDR="203.0.113.7"), 429) == \
        "rate_limit_exceeded"
    assert client.get("/image/models", **bearer(publishable), REMOTE_ADDR="203.0.113.8").status_code == 200


# ---- the content filter ------------------------------------------------------------------------
@pytest.fixture
def policy(db):
    return ContentPolicy.objects.create(name="No forbidden words", words="forbidden\nanother phrase")


def _nothing_held(user):
    wallet = Wallet.objects.get(workspace=user.current_workspace)
    return wallet.held == 0 and wallet.balance == 100_000


def test_filtered_prompt_is_403_on_the_api_and_nothing_is_held(client, member, auth, policy):
    response = post(client, "/v1/generations", {"model": "sandbox-image", "params": {
        "prompt": "a Forbidden lighthouse"}}, auth)
    assert code(response, 403) == "content_filter"
    assert Generation.objects.count() == 0 and _nothing_held(member)
    refusal = ContentRefusal.objects.get()
    assert refusal.matched == "forbidden" and refusal.policy == policy and refusal.source == "api"
    assert "lighthouse" not in refusal.matched  # the prompt itself is not kept


def test_filtered_chat_is_403_content_filter(client, member, auth, policy):
    response = post(client, "/v1/chat/completions", {"model": "sandbox-text", "messages": [
        {"role": "user", "content": [{"type": "text", "text": "say another phrase please"}]}]}, auth)
    assert code(response, 403) == "content_filter"
    assert Generation.objects.count() == 0 and _nothing_held(member)


def test_filtered_prompt_is_refused_in_the_studio(client, member, policy):
    client.force_login(member)
    response = client.post("/models/sandbox-image/generate", {"prompt": "forbidden art", "size": "512x512", "n": "1"})
    assert b"refused by the content policy" in response.content
    assert Generation.objects.count() == 0 and _nothing_held(member)


def test_a_policy_for_another_workspace_does_not_apply(client, member, auth, team):
    ContentPolicy.objects.create(name="Team only", words="lighthouse", workspace=team)
    response = post(client, "/v1/generations", {"model": "sandbox-image", "params": {"prompt": "a lighthouse"}}, auth)
    assert response.status_code == 202


def test_moderation_model_through_a_channel(client, member, auth, fake_upstream):
    channel = Channel(name="Moderation", adapter="openai", base_url=f"{fake_upstream.url}/v1", enabled=False)
    channel.api_key = "sk-mod"
    channel.save()
    ContentPolicy.objects.create(name="Moderated", moderation_channel=channel)
    refused = post(client, "/v1/generations", {"model": "sandbox-image", "params": {
        "prompt": "something forbidden"}}, auth)
    assert code(refused, 403) == "content_filter"
    assert ContentRefusal.objects.get().matched == "moderation: violence"
    sent = fake_upstream.requests("openai.moderations")[-1]["json"]
    assert sent == {"model": "omni-moderation-latest", "input": ["something forbidden"]}
    assert post(client, "/v1/generations", {"model": "sandbox-image", "params": {"prompt": "calm sea"}},
                auth).status_code == 202


def test_unreachable_moderation_blocks_or_lets_through_as_configured(client, member, auth, fake_upstream):
    channel = Channel(name="Moderation", adapter="openai", base_url=f"{fake_upstream.url}/v1", enabled=False)
    channel.api_key = "sk-mod"
    channel.save()
    policy = ContentPolicy.objects.create(name="Moderated", moderation_channel=channel)
    fake_upstream.faults("openai.moderations", status=503)
    body = {"model": "sandbox-image", "params": {"prompt": "calm sea"}}
    refused = post(client, "/v1/generations", body, auth)
    assert code(refused, 503) == "moderation_unavailable" and refused["Retry-After"]
    policy.when_unreachable = ContentPolicy.Unreachable.ALLOW
    policy.save()
    assert post(client, "/v1/generations", body, auth).status_code == 202


# ---- sliding windows -------------------------------------------------------------------------
def test_the_window_slides_across_a_fixed_minute_boundary(db, monkeypatch, settings):
    """30 at 0:50 and 30 at 0:59 fill the limit; at 1:01 a fixed window would admit 60 more, the
    sliding one none until the first entries are a minute old."""
    clock = {"now": 1_800_000_050.0}
    monkeypatch.setattr("time.time", lambda: clock["now"])
    admitted = 0
    for moment, tries in ((50, 30), (59, 30), (61, 60), (109.5, 10), (110.5, 40)):
        clock["now"] = 1_800_000_000.0 + moment
        for _ in range(tries):
            try:
                rate_hit(scope="t", identity="boundary", per_minute=60, what="requests")
                admitted += 1
            except Exception:
                pass
        if moment == 61:
            assert admitted == 60
        if moment == 109.5:
            assert admitted == 60  # the 0:50 entries expire at 1:50
    assert admitted == 90  # at 1:50.5 the 30 entries of 0:50 have left the window


@pytest.mark.pg
def test_a_limit_of_60_a_minute_holds_under_four_processes(transactional_db, make_user, catalog):
    from apps.accounts.services import user_onboard

    user = make_user("burst@example.com")
    user_onboard(user=user)
    workspace = user.current_workspace
    workspace.plan = _plan(polls_per_minute=60)
    workspace.save()
    secret = api_key_create(user=user, workspace=workspace, name="burst").secret
    server = WebProcess(extra_env=web_env_for_tests(), threads=16)
    try:
        statuses = burst(f"{server.url}/v1/balance", headers={"Authorization": f"Bearer {secret}"}, processes=4,
                         per_process=250)
    finally:
        server.stop()
    admitted = statuses.count(200)
    assert len(statuses) == 1000 and statuses.count(429) == 1000 - admitted
    assert 55 <= admitted <= 60, admitted


def test_database_window_storage_counts_and_frees(db, monkeypatch):
    clock = {"now": 1000.0}
    monkeypatch.setattr("time.time", lambda: clock["now"])
    store = DatabaseWindowStorage()
    assert all(store.acquire_entry("k", 3, 60) for _ in range(3))
    assert store.acquire_entry("k", 3, 60) is False
    assert store.get_moving_window("k", 3, 60) == (1000.0, 3)
    clock["now"] = 1060.5
    assert store.acquire_entry("k", 3, 60) is True


def test_expired_key_code_is_reference_004s(client, member, api_key, auth):
    ApiKey.objects.filter(pk=api_key.key.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert code(client.get("/v1/balance", **auth), 403) == "api_key_expired"


def test_cors_answers_publishable_keys_only(client, member, publishable, api_key):
    preflight = client.options("/image/models", HTTP_ORIGIN="https://app.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == "*"
    public = client.get("/image/models", HTTP_ORIGIN="https://app.example", **bearer(publishable))
    assert public["Access-Control-Allow-Origin"] == "*"
    secret = client.get("/image/models", HTTP_ORIGIN="https://app.example", **bearer(api_key.secret))
    assert secret.status_code == 200 and "Access-Control-Allow-Origin" not in secret
    chat = client.options("/v1/chat/completions", HTTP_ORIGIN="https://app.example")
    assert "Access-Control-Allow-Origin" not in chat


def test_keys_never_reach_a_log_line():
    import logging

    from config.logs import RedactKeysFilter

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "GET /text/hi?key=%s&model=openai from %s",
                               ("pk_abcdefghijklmnopqrstuvwxyz", "sk_0123456789abcdef0123"), None)
    RedactKeysFilter().filter(record)
    assert record.getMessage() == "GET /text/hi?key=[redacted]&model=openai from [redacted]"


def test_on_redis_a_request_enters_the_key_and_workspace_windows_together_or_neither(db, settings):
    """One script call takes both windows; when the workspace's is full the key's keeps its room."""
    from apps.api.errors import ApiError
    from apps.api.limits import Hit, rate_hits
    from tests.support.servers import start_redis

    redis = start_redis()
    try:
        settings.REDIS_URL = redis.url
        forget_limiter()
        key, workspace = Hit("key", "k1", 5, "requests"), Hit("workspace", "w1", 3, "requests in this workspace")
        windows = [rate_hits([key, workspace]) for _ in range(3)]
        assert [w[0].remaining for w in windows] == [4, 3, 2] and windows[-1][1].remaining == 0
        with pytest.raises(ApiError) as refused:
            rate_hits([key, workspace])
        assert refused.value.code == "rate_limit_exceeded" and "in this workspace" in refused.value.message
        alone = rate_hits([key, Hit("workspace", "w2", 3, "requests in this workspace")])[0]
        assert alone.remaining == 1  # the refused request did not use the key's window
        rate_hits([key, Hit("workspace", "w3", 3, "requests in this workspace")])
        with pytest.raises(ApiError) as refused:
            rate_hits([key, Hit("workspace", "w4", 3, "requests in this workspace")])
        assert "5 requests per minute" in refused.value.message
        assert refused.value.headers["X-RateLimit-Remaining"] == "0"
    finally:
        forget_limiter()
        redis.stop()
