"""Reference 003's per-model surface: its exact parameter tables, the catalog mapping, the task
object and its own error table (in-process client; the live examples are in test_reference_examples)."""
import json

import pytest

from apps.api.reference_tasks import (
    GptImage2Body,
    NanoBananaProBody,
    SeedanceBody,
    credits_number,
    gpt_image_params,
    nano_banana_params,
    seedance_params,
)
from apps.api.errors import ApiError
from apps.api.services import api_key_create
from apps.catalog.models import AIModel
from apps.generations.models import Generation
from apps.wallet.models import Wallet

SEEDANCE = {"mode": "text-to-video", "quality_tier": "standard",
            "prompt": "A cinematic shot of a glass train crossing a snowy mountain bridge", "aspect_ratio": "16:9",
            "duration": "5", "resolution": "720p"}
GPT_IMAGE = {"type": "text-to-image", "prompt": "Editorial product photo of a transparent running shoe on chrome",
             "resolution": "1K", "aspectRatio": "1:1"}
NANO = {"type": "text-to-image", "prompt": "A premium packaging mockup for an AI video studio", "image_size": "1:1",
        "resolution": "1K", "output_format": "png"}


def post(client, auth, path, body, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **auth, **headers)


@pytest.fixture
def quiet(monkeypatch):
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)


def model(slug):
    return AIModel.objects.get(slug=slug)


def test_examples_map_onto_the_catalog_models(member):
    assert seedance_params(model("seedance-2"), SeedanceBody(**SEEDANCE)) == {
        "mode": "text-to-video", "prompt": SEEDANCE["prompt"], "aspect_ratio": "16:9", "duration": 5,
        "resolution": "720p", "generate_audio": True, "fixed_lens": False}
    assert gpt_image_params(model("gpt-image-2"), GptImage2Body(**GPT_IMAGE)) == {
        "prompt": GPT_IMAGE["prompt"], "aspect_ratio": "1:1", "resolution": "1K"}
    assert nano_banana_params(model("nano-banana-pro"), NanoBananaProBody(**NANO)) == {
        "prompt": NANO["prompt"], "aspect_ratio": "1:1", "resolution": "1K", "output_format": "png"}
    edited = gpt_image_params(model("gpt-image-2"), GptImage2Body(
        **{**GPT_IMAGE, "type": "image-to-image", "aspectRatio": "3:2", "resolution": "2K", "batchCount": 3,
           "imageUrls": ["https://cdn.example.org/shoe.png"]}))
    assert edited == {"prompt": GPT_IMAGE["prompt"], "aspect_ratio": "3:2", "resolution": "2K", "n": 3,
                      "image_urls": ["https://cdn.example.org/shoe.png"]}
    # A model with sizes only (no ratio or tier fields) gets the pixel size of the shape, 1K only.
    sized = gpt_image_params(model("sandbox-image"), GptImage2Body(**{**GPT_IMAGE, "aspectRatio": "3:2"}))
    assert sized == {"prompt": GPT_IMAGE["prompt"], "size": "1536x1024"}
    with pytest.raises(ApiError) as caught:
        gpt_image_params(model("sandbox-image"), GptImage2Body(**{**GPT_IMAGE, "resolution": "2K"}))
    assert caught.value.param == "resolution"


@pytest.mark.django_db
def test_submit_answers_a_queued_task_and_the_task_endpoint_reads_it(client, auth, member, quiet):
    response = post(client, auth, "/api/v1/video/seedance", SEEDANCE, HTTP_IDEMPOTENCY_KEY="demo-video-001")
    assert response.status_code == 200, response.content
    task = response.json()
    assert task["status"] == "queued" and task["model"] == "seedance" and task["output"] == {}
    assert task["credits_used"] == 0 and task["credits_held"] == 60  # 10 credits/s x 5 s + audio 2/s x 5 s
    assert client.get(f"/api/v1/tasks/{task['id']}", **auth).json()["id"] == task["id"]
    again = post(client, auth, "/api/v1/video/seedance", SEEDANCE, HTTP_IDEMPOTENCY_KEY="demo-video-001")
    assert again.json()["id"] == task["id"] and again["Idempotent-Replayed"] == "true"
    conflict = post(client, auth, "/api/v1/video/seedance", {**SEEDANCE, "duration": "6"},
                    HTTP_IDEMPOTENCY_KEY="demo-video-001")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_conflict"
    assert "reason" not in conflict.json()["error"]
    assert Generation.objects.count() == 1


@pytest.mark.django_db
def test_the_catalog_models_at_modality_and_slug(client, auth, member, quiet):
    response = post(client, auth, "/api/v1/image/flux-schnell", {"prompt": "a lighthouse", "n": 2})
    assert response.status_code == 200 and response.json()["model"] == "flux-schnell"
    assert Generation.objects.get().params["n"] == 2
    wrong = post(client, auth, "/api/v1/video/flux-schnell", {"prompt": "a lighthouse"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_request"
    unknown = post(client, auth, "/api/v1/image/no-such-model", {"prompt": "x"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found" and unknown.json()["error"]["reason"] == "invalid_model"


@pytest.mark.parametrize("path, body, param", [
    ("/api/v1/video/seedance", {**SEEDANCE, "duration": 5}, "duration"),  # a number, not 003's string
    ("/api/v1/video/seedance", {**SEEDANCE, "duration": "16"}, "duration"),
    ("/api/v1/video/seedance", {**SEEDANCE, "prompt": "ab"}, "prompt"),
    ("/api/v1/video/seedance", {**SEEDANCE, "resolution": "480p"}, "resolution"),
    ("/api/v1/video/seedance", {**SEEDANCE, "colour": "red"}, "colour"),
    ("/api/v1/video/seedance", {**SEEDANCE, "mode": "image-to-video"}, "body"),
    ("/api/v1/video/seedance", {**SEEDANCE, "channel": "real", "seed": 7}, "body"),
    ("/api/v1/video/seedance", {**SEEDANCE, "image_url": "http://example.org/a.png"}, "image_url"),
    ("/api/v1/video/seedance", {**SEEDANCE, "quality_tier": "pro"}, "quality_tier"),
    ("/api/v1/image/gpt-image-2", {**GPT_IMAGE, "batchCount": 5}, "batchCount"),
    ("/api/v1/image/gpt-image-2", {**GPT_IMAGE, "aspectRatio": "auto", "resolution": "2K"}, "body"),
    ("/api/v1/image/gpt-image-2", {**GPT_IMAGE, "type": "image-to-image"}, "body"),
    ("/api/v1/image/gpt-image-2", {**GPT_IMAGE, "resolution": "4K"}, "body"),  # 1:1 cannot use 4K (standard)
    ("/api/v1/image/gpt-image-2", {**GPT_IMAGE, "channel": "economy"}, "channel"),
    ("/api/v1/image/nano-banana-pro", {**NANO, "image_urls": ["https://cdn.example.org/a.png"] * 9}, "image_urls"),
    ("/api/v1/image/nano-banana-pro", {**NANO, "output_format": "webp"}, "output_format"),
])
@pytest.mark.django_db
def test_003_tables_are_enforced_as_invalid_request(client, auth, member, quiet, path, body, param):
    response = post(client, auth, path, body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and error["param"] == param, error
    assert Generation.objects.count() == 0


@pytest.mark.django_db
def test_the_error_table_of_003(client, auth, member, quiet, make_user):
    missing = client.post("/api/v1/image/nano-banana-pro", data=json.dumps(NANO), content_type="application/json")
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
    bad_key = post(client, {"HTTP_AUTHORIZATION": "Bearer sk_nope"}, "/api/v1/image/nano-banana-pro", NANO)
    assert bad_key.status_code == 401 and bad_key.json()["error"]["reason"] == "invalid_api_key"
    assert client.get("/api/v1/tasks/sd2_xxxxx", **auth).json()["error"]["code"] == "not_found"
    Wallet.objects.filter(workspace=member.current_workspace).update(balance=1)
    poor = post(client, auth, "/api/v1/image/nano-banana-pro", NANO)
    assert poor.status_code == 402 and poor.json()["error"]["code"] == "insufficient_credits"
    malformed = client.post("/api/v1/image/nano-banana-pro", data="{", content_type="application/json", **auth)
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "invalid_request"
    # Another owner's task is not_found, never forbidden.
    Wallet.objects.filter(workspace=member.current_workspace).update(balance=100_000)
    task = post(client, auth, "/api/v1/image/nano-banana-pro", NANO).json()
    other = make_user("other@example.com")
    from apps.accounts.services import user_onboard

    user_onboard(user=other)
    key = api_key_create(user=other, workspace=other.current_workspace, name="other").secret
    theirs = client.get(f"/api/v1/tasks/{task['id']}", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "not_found"
    # The same failures keep Atelier's own words on the other surfaces.
    assert client.get("/v1/generations/sd2_xxxxx", **auth).json()["error"]["code"] == "not_found"
    assert client.post("/v1/generations", data="{}", content_type="application/json").json()["error"]["code"] \
        == "missing_api_key"


def test_credits_are_json_numbers():
    assert credits_number(30_000) == 30 and credits_number(13_400) == 13.4 and credits_number(None) == 0
