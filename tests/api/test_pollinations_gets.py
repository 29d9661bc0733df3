"""pollinations' simple GETs and account endpoints at the site root (in-process client, eager jobs)."""
import csv
import io

import pytest
from PIL import Image

from apps.api.pollinations import ImageQuery, image_get_params
from apps.api.services import api_key_create
from apps.catalog.models import AIModel
from apps.generations.models import Generation
from apps.wallet.models import Wallet

pytestmark = pytest.mark.django_db(transaction=True)


def balance(member):
    return Wallet.objects.get(workspace=member.current_workspace).balance


def test_image_bytes_then_the_stored_result_without_a_new_charge(client, auth, member, eager):
    first = client.get("/image/a%20cat?model=flux&width=512&height=512&seed=7", **auth)
    assert first.status_code == 200, first.content
    # JPEG, as pollinations' flux answers (reference 002 documents image/jpeg and image/png only)
    assert first["Content-Type"] == "image/jpeg" and first["X-Atelier-Replayed"] == "false"
    picture = Image.open(io.BytesIO(b"".join(first.streaming_content)))
    assert picture.format == "JPEG" and picture.size[0] / picture.size[1] == 1
    after_first = balance(member)
    again = client.get("/image/a%20cat?model=flux&width=512&height=512&seed=7", **auth)
    assert again.status_code == 200 and again["X-Atelier-Replayed"] == "true"
    assert again["X-Atelier-Generation-Id"] == first["X-Atelier-Generation-Id"]
    assert balance(member) == after_first and Generation.objects.count() == 1
    other_seed = client.get("/image/a%20cat?model=flux&width=512&height=512&seed=8", **auth)
    assert other_seed["X-Atelier-Replayed"] == "false" and balance(member) < after_first
    fresh = client.get("/image/a%20cat?model=flux&width=512&height=512&seed=7&no-cache=true", **auth)
    assert fresh["X-Atelier-Replayed"] == "false" and Generation.objects.count() == 3


def test_query_key_and_hints_the_model_ignores(client, api_key, member, eager):
    response = client.get(f"/image/a%20lighthouse?model=sandbox-image&width=768&height=768&negative_prompt=blur"
                          f"&enhance=true&nologo=true&private=true&key={api_key.secret}")
    assert response.status_code == 200, response.content
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).size == (768, 768)
    assert response["X-Atelier-Ignored-Params"] == "negative_prompt,enhance"


def test_query_parameters_map_onto_the_models_names(member):
    flux = AIModel.objects.get(slug="flux-schnell")
    params, ignored = image_get_params(flux, "a fox", ImageQuery(width=1920, height=1080, seed=3, quality="hd"))
    assert params == {"prompt": "a fox", "aspect_ratio": "16:9", "seed": 3, "output_format": "jpg"}
    assert ignored == ["quality"]
    gpt = AIModel.objects.get(slug="gpt-image-2")
    params, _ = image_get_params(gpt, "a logo", ImageQuery(quality="hd", transparent=True, width=1536, height=1024))
    assert params == {"prompt": "a logo", "aspect_ratio": "3:2", "resolution": "2K", "quality": "high",
                      "background": "transparent", "output_format": "png"}  # PNG keeps the transparency
    seedance = AIModel.objects.get(slug="seedance-2")
    params, _ = image_get_params(seedance, "waves", ImageQuery(
        width=1920, height=1080, duration=6, audio=False, image="https://a.example/1.png|https://a.example/2.png"))
    assert params == {"prompt": "waves", "aspect_ratio": "16:9", "resolution": "1080p", "duration": 6,
                      "generate_audio": False, "image_url": "https://a.example/1.png",
                      "end_image_url": "https://a.example/2.png"}


def test_text_plain_stream_and_stored_answer(client, auth, member):
    first = client.get("/text/hello%20there%20sailor?model=sandbox-text&seed=1", **auth)
    assert first.status_code == 200 and first["Content-Type"].startswith("text/plain")
    text = first.content.decode()
    assert text and first["X-Atelier-Replayed"] == "false"
    spent = balance(member)
    again = client.get("/text/hello%20there%20sailor?model=sandbox-text&seed=1", **auth)
    assert again.content.decode() == text and again["X-Atelier-Replayed"] == "true" and balance(member) == spent
    streamed = client.get("/text/tell%20me%20about%20kites?model=sandbox-text&stream=true", **auth)
    assert streamed["Content-Type"].startswith("text/event-stream")
    events = b"".join(streamed.streaming_content).decode()
    assert events.rstrip().endswith("data: [DONE]") and '"delta":{"content":' in events
    default_model = client.get("/text/hello", **auth)  # pollinations' default name "openai"
    assert default_model.status_code == 200
    assert Generation.objects.filter(pk=default_model["X-Atelier-Generation-Id"]).get().model.slug == "gpt-5.6-luna"


def test_pollinations_error_envelope(client, auth, member):
    unknown = client.get("/image/a%20cat?model=no-such-model", **auth)
    body = unknown.json()
    assert unknown.status_code == 404 and body["status"] == 404 and body["success"] is False
    assert body["error"]["code"] == "invalid_model" and body["error"]["details"] == {"name": "InvalidModel"}
    bad = client.get("/image/a%20cat?width=3", **auth).json()
    assert bad["status"] == 400 and bad["error"]["details"]["fieldErrors"] == {"width": [bad["error"]["message"]]}
    anonymous = client.get("/text/hello")
    assert anonymous.status_code == 401 and anonymous.json()["success"] is False
    assert Generation.objects.count() == 0


def test_past_the_wait_bound_the_error_names_the_task(client, auth, member, settings, monkeypatch):
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)
    settings.API_SYNC_WAIT_SECONDS = 0
    response = client.get("/image/slow%20boat?model=sandbox-image", **auth)
    body = response.json()
    assert response.status_code == 504 and body["error"]["code"] == "generation_pending"
    assert body["error"]["poll_url"].endswith(f"/v1/generations/{body['error']['task_id']}")


def test_account_endpoints_and_their_permissions(client, auth, member, eager):
    assert client.get("/account/balance", **auth).json()["balance"] == 100
    client.get("/image/a%20cat?model=sandbox-image&width=512&height=512", **auth)
    client.get("/text/hello?model=sandbox-text", **auth)
    assert client.get("/account/balance", **auth).json()["balance"] < 100
    profile = client.get("/account/profile", **auth).json()
    assert profile["email"] == "member@example.com" and profile["tier"] and profile["nextResetAt"] is None
    usage = client.get("/account/usage", **auth).json()
    assert usage["count"] == 2 and {r["type"] for r in usage["usage"]} == {"generate.image", "generate.text"}
    record = next(r for r in usage["usage"] if r["type"] == "generate.image")
    assert record["output_image_tokens"] == 1 and record["api_key_type"] == "secret"
    assert len(record["timestamp"]) == 19 and record["timestamp"][10] == " "
    only = client.get("/account/usage?model=sandbox-text", **auth).json()
    assert only["count"] == 1 and set(only["by_model"]) == {"sandbox-text"}
    rows = list(csv.DictReader(io.StringIO(client.get("/account/usage?format=csv", **auth).content.decode())))
    assert len(rows) == 2 and rows[0]["timestamp"] == usage["usage"][0]["timestamp"]
    assert client.get("/account/usage?start=2000-01-01&end=2000-01-02", **auth).json()["count"] == 0
    narrow = api_key_create(user=member, workspace=member.current_workspace, name="narrow",
                            permissions=["generate", "account:balance"]).secret
    headers = {"HTTP_AUTHORIZATION": f"Bearer {narrow}"}
    assert client.get("/account/balance", **headers).status_code == 200
    denied = client.get("/account/usage", **headers)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "permission_denied"
    assert client.get("/account/profile", **headers).status_code == 403
    budgeted = api_key_create(user=member, workspace=member.current_workspace, name="budget",
                              credit_limit=5_000).secret
    assert client.get("/account/balance", HTTP_AUTHORIZATION=f"Bearer {budgeted}").json() == {
        "balance": 5, "currency": "credits", "source": "key_budget"}
