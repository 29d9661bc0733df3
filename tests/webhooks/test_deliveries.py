"""Webhooks against a loopback receiver: Standard Webhooks signatures, retries scheduled in the
database (driven by moving the due time, never by sleeping), public addresses only, disabling."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from apps.api.services import api_key_create
from apps.generations.models import Generation
from apps.wallet.models import Wallet
from apps.webhooks.models import Delivery, Endpoint, Event, RequestHook
from apps.webhooks.services import (
    DISABLE_AFTER,
    RETRY_DELAYS,
    deliveries_sweep,
    delivery_attempt,
    delivery_redeliver,
    endpoint_create,
    signing_secret_roll,
)

from .receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)
SUBMIT = {"model": "sandbox-image", "params": {"prompt": "a lighthouse", "size": "512x512"}}


@pytest.fixture
def auth(member):
    key = api_key_create(user=member, workspace=member.current_workspace, name="hooks")
    return {"HTTP_AUTHORIZATION": f"Bearer {key.secret}"}


def submit(client, auth, **extra):
    return client.post("/v1/generations", data=json.dumps({**SUBMIT, **extra}), content_type="application/json",
                       **auth)


def due_now():
    Delivery.objects.filter(state=Delivery.State.PENDING).update(next_attempt_at=timezone.now())


def test_request_webhook_is_signed_with_the_workspace_secret(client, auth, member, receiver, eager):
    secret = signing_secret_roll(workspace=member.current_workspace)
    response = submit(client, auth, webhook_url=receiver.url("/done?job=1"))
    assert response.status_code == 202, response.content
    generation_id = response.json()["id"]

    assert len(receiver.requests) == 1
    sent = receiver.requests[0]
    assert sent.path == "/done?job=1"
    payload = Webhook(secret).verify(sent.body, sent.headers)  # the library's own verifier
    assert payload["type"] == "generation.succeeded" and payload["data"]["id"] == generation_id
    assert payload["data"]["status"] == "succeeded" and payload["data"]["outputs"][0]["url"].startswith("http")
    assert sent.headers["webhook-id"] == Event.objects.get().id
    with pytest.raises(WebhookVerificationError):
        Webhook(signing_secret_roll(workspace=member.current_workspace)).verify(sent.body, sent.headers)
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.SUCCEEDED and delivery.log.get().status_code == 200


def test_a_receiver_failing_twice_gets_the_event_on_the_third_try(client, auth, member, receiver, eager):
    endpoint, secret = endpoint_create(workspace=member.current_workspace, user=member, url=receiver.url())
    receiver.statuses = [500, 500]
    submit(client, auth)
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    first_retry = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=RETRY_DELAYS[0] - 2) < first_retry <= timedelta(seconds=RETRY_DELAYS[0])

    assert deliveries_sweep() == 0  # not due yet: nothing is sent early
    due_now()
    assert deliveries_sweep() == 1
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (2, 500)
    assert delivery.next_attempt_at - timezone.now() > timedelta(seconds=RETRY_DELAYS[1] - 5)
    due_now()
    deliveries_sweep()
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SUCCEEDED and delivery.attempts == 3
    assert [a.status_code for a in delivery.log.all()] == [500, 500, 200]
    assert len(receiver.requests) == 3 and len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    payloads = [Webhook(secret).verify(r.body, r.headers) for r in receiver.requests]
    assert {p["data"]["id"] for p in payloads} == {str(Generation.objects.get().pk)}
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.enabled


def test_the_schedule_covers_a_day_and_then_gives_up(client, auth, member, receiver, eager):
    assert sum(RETRY_DELAYS) >= 24 * 3600
    endpoint_create(workspace=member.current_workspace, user=member, url=receiver.url())
    receiver.statuses = [503] * 20
    submit(client, auth)
    for _ in RETRY_DELAYS:
        due_now()
        deliveries_sweep()
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.FAILED and delivery.attempts == len(RETRY_DELAYS) + 1
    assert len(receiver.requests) == len(RETRY_DELAYS) + 1 and delivery.next_attempt_at is None


def test_private_addresses_are_never_contacted(client, auth, member, receiver, settings, eager):
    private = Receiver().start()  # on loopback but not allow-listed: what any other private address looks like
    try:
        signing_secret_roll(workspace=member.current_workspace)
        refused = submit(client, auth, webhook_url=f"http://localhost:{private.port}/hook")
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_webhook_url"
        assert refused.json()["error"]["param"] == "webhook_url" and "non-public" in refused.json()["error"]["message"]
        assert Generation.objects.count() == 0
        assert Wallet.objects.get(workspace=member.current_workspace).held == 0

        # An endpoint whose name resolved to a public address when it was made, private now.
        endpoint = Endpoint(workspace=member.current_workspace, url=f"http://localhost:{private.port}/hook",
                            created_by=member)
        endpoint.secret = "whsec_" + "A" * 43
        endpoint.save()
        submit(client, auth)
        delivery = Delivery.objects.get(endpoint=endpoint)
        attempt = delivery.log.get()
        assert attempt.status_code is None and "non-public address" in attempt.error
        assert private.requests == []
    finally:
        private.stop()


def test_an_endpoint_that_keeps_failing_is_disabled_and_its_owner_told(client, auth, member, receiver, eager):
    endpoint, _ = endpoint_create(workspace=member.current_workspace, user=member, url=receiver.url())
    receiver.statuses = [500] * 10
    submit(client, auth)
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failing_since is not None
    Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - DISABLE_AFTER)
    due_now()
    deliveries_sweep()
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "failed" in endpoint.disabled_reason
    assert Delivery.objects.get().state == Delivery.State.FAILED
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [member.email]
    assert endpoint.url in mail.outbox[0].body
    sent = len(receiver.requests)
    submit(client, auth)  # a disabled endpoint gets nothing new
    assert len(receiver.requests) == sent and Delivery.objects.count() == 1


def test_redeliver_sends_the_same_event_again(client, auth, member, receiver, eager):
    endpoint_create(workspace=member.current_workspace, user=member, url=receiver.url(),
                    events=["generation.succeeded"])
    submit(client, auth)
    first = Delivery.objects.get()
    again = delivery_redeliver(delivery=first)
    assert Delivery.objects.get(pk=again.pk).state == Delivery.State.SUCCEEDED
    assert len(receiver.requests) == 2
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    assert delivery_attempt(delivery_id=first.pk) is None  # a delivered one is never sent again by itself


def test_webhook_url_needs_the_workspace_secret(client, auth, member, receiver):
    refused = submit(client, auth, webhook_url=receiver.url())
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "webhook_secret_missing"
    assert Generation.objects.count() == 0 and Wallet.objects.get(workspace=member.current_workspace).held == 0
    assert submit(client, auth, webhook_url="ftp://example.com/x").json()["error"]["code"] == "invalid_webhook_url"


def test_async_media_endpoints_take_webhook_url(client, auth, member, receiver, eager):
    secret = signing_secret_roll(workspace=member.current_workspace)
    task = client.post("/v1/images/generations", data=json.dumps({
        "model": "sandbox-image", "prompt": "a kite", "size": "512x512", "async": True,
        "webhook_url": receiver.url("/images")}), content_type="application/json", **auth)
    assert task.status_code == 202, task.content
    video = client.post("/v1/videos/generations", data=json.dumps({
        "model": "sandbox-video", "prompt": "waves", "duration": 1, "webhook_url": receiver.url("/videos")}),
        content_type="application/json", **auth)
    assert video.status_code == 202, video.content
    by_path = {sent.path: Webhook(secret).verify(sent.body, sent.headers) for sent in receiver.requests}
    assert by_path["/images"]["data"]["id"] == task.json()["id"]
    # The sandbox's video is polled over time: its hook waits for the job's end.
    assert RequestHook.objects.get(generation_id=video.json()["id"]).url == receiver.url("/videos")
    refused = client.post("/v1/videos/generations", data=json.dumps({
        "model": "sandbox-video", "prompt": "waves", "webhook_url": "http://localhost:1/x"}),
        content_type="application/json", **auth)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "webhook_url"


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_try(client, auth, member, receiver, eager, monkeypatch):
    monkeypatch.setattr("apps.webhooks.services.DEADLINE", 0.5)
    endpoint_create(workspace=member.current_workspace, user=member, url=receiver.url())
    receiver.stall = threading.Event()
    try:
        submit(client, auth)
    finally:
        receiver.stall.set()
    delivery = Delivery.objects.get()
    attempt = delivery.log.get()
    assert delivery.state == Delivery.State.PENDING and attempt.status_code is None
    assert "deadline" in attempt.error and delivery.next_attempt_at is not None


def test_a_content_filter_refusal_with_a_webhook_url_keeps_its_record(client, auth, member, receiver):
    from apps.generations.models import ContentPolicy, ContentRefusal

    signing_secret_roll(workspace=member.current_workspace)
    ContentPolicy.objects.create(name="words", words="forbidden")
    refused = submit(client, auth, params={"prompt": "a forbidden lighthouse"}, webhook_url=receiver.url())
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "content_filter"
    assert ContentRefusal.objects.count() == 1 and Generation.objects.count() == 0
    assert RequestHook.objects.count() == 0
