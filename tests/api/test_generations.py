import json
import time
import uuid
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from apps.api.services import api_key_create
from apps.catalog.models import AIModel
from apps.generations.models import Generation
from apps.generations.services import generation_poll
from apps.wallet.models import Wallet
from apps.wallet.services import wallet_grant

SUBMIT = {"model": "flux-schnell", "params": {"prompt": "a lighthouse at dusk", "n": 2}}


def post(client, auth, body, **headers):
    return client.post("/v1/generations", data=json.dumps(body), content_type="application/json", **auth, **headers)


@pytest.mark.django_db(transaction=True)
def test_submit_and_get_a_generation_end_to_end(client, auth, member, eager):
    response = post(client, auth, SUBMIT)
    assert response.status_code == 202, response.content
    created = response.json()
    assert created["object"] == "generation" and created["model"] == "flux-schnell"
    assert created["price"] == "0.6"  # 0.3 credits x 2 images
    assert response["Location"] == f"/v1/generations/{created['id']}"

    body = client.get(f"/v1/generations/{created['id']}", **auth).json()
    assert body["status"] == "succeeded", body["error"]
    assert body["charged"] == "0.6" and body["error"] is None
    assert len(body["outputs"]) == 2
    output = body["outputs"][0]
    assert output["url"].startswith("http") and urlsplit(output["url"]).path.endswith(".webp")  # output_format webp
    # A signed link: it downloads the file itself, with no session or key.
    signed = urlsplit(output["url"])
    content = Client().get(f"{signed.path}?{signed.query}").getvalue()
    assert content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    assert output["thumbnail_url"].startswith("http") and output["optimized_url"].startswith("http")
    assert body["routing"] == {"upstream": "Sandbox", "adapter": "sandbox", "failover": False, "attempts": 1}
    wallet = Wallet.objects.get(workspace=member.current_workspace)
    assert (wallet.balance, wallet.held) == (100_000 - 600, 0)
    assert Generation.objects.get().source == "api"


def test_validation_errors_name_each_field(client, auth):
    response = post(client, auth, {"model": "veo-3", "params": {"duration": 7, "colour": "red"}})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and error["type"] == "invalid_request_error"
    assert error["fields"] == {"prompt": ["Prompt is required."],
                               "duration": ["Duration (seconds) must be one of: 4, 6, 8 (got 7)."],
                               "colour": ["Unknown parameter 'colour' for this model."]}
    assert Generation.objects.count() == 0


@pytest.mark.parametrize("body, code, status", [
    ({"params": {"prompt": "x"}}, "invalid_request", 400),
    ({"model": "no-such-model", "params": {}}, "invalid_model", 404),
    ({"model": "flux-schnell", "prompt": "top-level"}, "invalid_request", 400),
    ({"model": "flux-schnell", "params": "prompt"}, "invalid_request", 400),
])
def test_malformed_bodies(client, auth, body, code, status):
    response = post(client, auth, body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_not_json_and_too_large(client, auth):
    response = client.post("/v1/generations", data="{nope", content_type="application/json", **auth)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json"
    huge = json.dumps({"model": "gpt-4o", "params": {"prompt": "x" * 600_000}})
    response = client.post("/v1/generations", data=huge, content_type="application/json", **auth)
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"


def test_disabled_model_is_refused(client, auth):
    AIModel.objects.filter(slug="flux-schnell").update(enabled=False)
    response = post(client, auth, SUBMIT)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "invalid_model"


def test_insufficient_credits_is_402(client, auth):
    response = post(client, auth, {"model": "veo-3", "params": {"prompt": "a storm"}})  # 320 credits > 100
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_credits"


def test_idempotency_replay_and_reuse_with_another_body(client, auth, member):
    first = post(client, auth, SUBMIT, HTTP_IDEMPOTENCY_KEY="job-1")
    assert first.status_code == 202
    again = post(client, auth, SUBMIT, HTTP_IDEMPOTENCY_KEY="job-1")
    # Reference 003: the first answer (status and body) is replayed.
    assert again.status_code == 202 and again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert Generation.objects.count() == 1
    assert Wallet.objects.get(workspace=member.current_workspace).held == 600  # held once

    other = post(client, auth, {"model": "flux-schnell", "params": {"prompt": "something else"}},
                 HTTP_IDEMPOTENCY_KEY="job-1")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_conflict"
    assert Generation.objects.count() == 1
    fresh = post(client, auth, SUBMIT, HTTP_IDEMPOTENCY_KEY="job-2")
    assert fresh.status_code == 202 and Generation.objects.count() == 2


def test_outsider_gets_404_for_someone_elses_generation(client, auth, outsider):
    created = post(client, auth, SUBMIT).json()
    from apps.accounts.services import user_onboard

    user_onboard(user=outsider)
    other = api_key_create(user=outsider, workspace=outsider.current_workspace, name="outsider")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {other.secret}"}
    for path in (f"/v1/generations/{created['id']}", f"/v1/generations/{uuid.uuid4()}", "/v1/generations/not-a-uuid"):
        response = client.get(path, **headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    cancel = client.post(f"/v1/generations/{created['id']}/cancel", **headers)
    assert cancel.status_code == 404
    assert client.get("/v1/generations", **headers).json()["data"] == []
    assert [g["id"] for g in client.get("/v1/generations", **auth).json()["data"]] == [created["id"]]


def test_teammate_key_sees_team_generations(client, team, owner, teammate, catalog):
    owner_key = api_key_create(user=owner, workspace=team, name="o").secret
    mate_key = api_key_create(user=teammate, workspace=team, name="t").secret
    created = post(client, {"HTTP_AUTHORIZATION": f"Bearer {owner_key}"}, SUBMIT).json()
    seen = client.get(f"/v1/generations/{created['id']}", HTTP_AUTHORIZATION=f"Bearer {mate_key}")
    assert seen.status_code == 200


def test_cancel_releases_the_hold(client, auth, member):
    created = post(client, auth, SUBMIT).json()
    response = client.post(f"/v1/generations/{created['id']}/cancel", **auth)
    assert response.status_code == 200 and response.json()["status"] == "canceled"
    assert response.json()["error"]["code"] == "canceled"
    assert Wallet.objects.get(workspace=member.current_workspace).held == 0
    again = client.post(f"/v1/generations/{created['id']}/cancel", **auth)
    assert again.status_code == 409 and again.json()["error"]["code"] == "generation_finished"


def test_text_model_accepts_messages(client, auth):
    body = {"model": "gpt-4o-mini", "params": {"messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 50}}
    response = post(client, auth, body)
    assert response.status_code == 202, response.content
    assert response.json()["params"]["messages"] == [{"role": "user", "content": "Say hi"}]


@pytest.mark.django_db(transaction=True)
def test_music_generation_lists_songs(client, member, eager):
    wallet_grant(wallet=Wallet.objects.get(workspace=member.current_workspace), amount=100_000, reason="test")
    secret = api_key_create(user=member, workspace=member.current_workspace, name="music").secret
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    body = {"model": "elevenlabs-music", "params": {"prompt": "calm piano for a rainy night", "duration": 10}}
    created = post(client, headers, body)
    assert created.status_code == 202, created.content
    job = client.get(f"/v1/generations/{created.json()['id']}", **headers).json()
    deadline = time.monotonic() + 60
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        # Eager mode runs a poll's countdown at once; a poll that comes too early waits here.
        Generation.objects.filter(pk=job["id"]).update(next_check_at=timezone.now())
        generation_poll(generation_id=job["id"])
        job = client.get(f"/v1/generations/{job['id']}", **headers).json()
    assert job["status"] == "succeeded", job["error"]
    assert job["price"] == "15"  # 1.5 credits per second x 10 s
    song = job["songs"][0]
    assert song["audio_url"] == job["outputs"][0]["url"] and song["audio_url"].startswith("http")
    assert song["title"] and song["lyrics"]  # the sandbox writes lyrics when none were given, as lyric models do
