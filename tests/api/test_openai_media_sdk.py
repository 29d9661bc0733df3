"""The official openai SDK against a live server and a real Celery worker: images (url and
b64_json, sync and async tasks, edits), speech, video (create, retrieve, content) and models."""
from __future__ import annotations

import base64
import io

import httpx
import openai
import pytest
from PIL import Image

from apps.accounts.services import user_onboard
from apps.api.services import api_key_create
from apps.generations.models import Generation
from apps.wallet.audit import wallet_audit
from tests.support.web import WebProcess, web_env_for_tests
from tests.support.worker import wait_until

pytestmark = [pytest.mark.worker]


@pytest.fixture
def user(transactional_db, make_user, catalog):
    user = make_user("maker@example.com")
    user_onboard(user=user)
    return user


@pytest.fixture
def web(transactional_db, catalog, worker):
    server = WebProcess(extra_env={**web_env_for_tests(), "API_SYNC_WAIT_SECONDS": "60"})
    yield server
    server.stop()


@pytest.fixture
def key(user):
    return api_key_create(user=user, workspace=user.current_workspace, name="media").secret


@pytest.fixture
def sdk(web, key):
    return openai.OpenAI(api_key=key, base_url=f"{web.url}/v1", max_retries=0, timeout=90)


def _png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_images_sync_url_and_b64(sdk, user):
    result = sdk.images.generate(model="sandbox-image", prompt="a red kite over dunes", n=2, size="512x512")
    assert len(result.data) == 2 and all(item.url.startswith("http") for item in result.data)
    first = httpx.get(result.data[0].url, timeout=30)
    assert first.status_code == 200 and _png(first.content).size == (512, 512)
    assert result.model_extra["credits"] and result.model_extra["routing"]["upstream"] == "Sandbox"
    inline = sdk.images.generate(model="sandbox-image", prompt="a blue kite", response_format="b64_json")
    assert inline.data[0].url is None
    assert _png(base64.b64decode(inline.data[0].b64_json)).size == (1024, 1024)
    assert Generation.objects.filter(status="succeeded").count() == 2 and wallet_audit() == []


def test_images_async_task_then_poll(sdk, key, web):
    task = sdk.post("/images/generations", cast_to=httpx.Response, body={
        "model": "sandbox-image", "prompt": "a lantern", "size": "1:1", "async": True})
    assert task.status_code == 202
    task_id = task.json()["id"]
    assert task.json()["status"] in ("queued", "in_progress")
    headers = {"Authorization": f"Bearer {key}"}
    done = wait_until(lambda: (body := httpx.get(f"{web.url}/api/v1/images/tasks/{task_id}", headers=headers).json())
                      ["status"] == "completed" and body, timeout=60, message="the image task")
    assert done["data"][0]["url"].startswith("http") and done["credits"] == done["price"]


def test_images_edit_multipart(sdk):
    source = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 30, 30)).save(source, format="PNG")
    source.seek(0)
    result = sdk.images.edit(model="sandbox-image", image=("source.png", source, "image/png"),
                             prompt="make it blue", size="512x512")
    edited = _png(httpx.get(result.data[0].url, timeout=30).content)
    assert edited.size == (512, 512)
    assert Generation.objects.get().params["image_url"].startswith("data:image/png;base64,")


def test_image_errors_name_the_parameter(sdk):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.images.generate(model="sandbox-image", prompt="x", size="3000x100")
    assert caught.value.param == "size"
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.images.generate(model="no-such-model", prompt="x")
    assert caught.value.code == "invalid_model"
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.images.generate(model="sandbox-text", prompt="x")
    assert caught.value.param == "model"
    assert Generation.objects.count() == 0


def test_speech_bytes_in_the_requested_format(sdk):
    with sdk.audio.speech.with_streaming_response.create(model="sandbox-speech", voice="alloy",
                                                         input="Every model, one wallet.",
                                                         response_format="wav") as response:
        data = response.read()
        assert response.headers["content-type"].startswith("audio/wav")
    assert data[:4] == b"RIFF" and len(data) > 1000
    generation = Generation.objects.get()
    assert generation.status == "succeeded" and generation.charged > 0


def test_video_create_retrieve_content(sdk):
    video = sdk.videos.create(model="sandbox-video", prompt="a paper boat on a pond", seconds="2", size="1280x720")
    assert video.status in ("queued", "in_progress") and video.object == "video"
    finished = wait_until(lambda: (v := sdk.videos.retrieve(video.id)).status in ("completed", "failed") and v,
                          timeout=120, message="the video job")
    assert finished.status == "completed", finished.error
    assert finished.progress == 100 and finished.size == "1280x720" and finished.seconds == "2"
    content = sdk.videos.download_content(video.id)
    data = content.read()
    assert data[4:8] == b"ftyp"
    generation = Generation.objects.get()
    assert generation.params["aspect_ratio"] == "16:9" and generation.params["resolution"] == "720p"
    assert wallet_audit() == []


def test_video_task_shapes_of_reference_004_and_000(web, key):
    headers = {"Authorization": f"Bearer {key}"}
    submitted = httpx.post(f"{web.url}/api/v1/videos/generations", headers=headers, json={
        "model": "sandbox-video", "prompt": "neon city aerial", "aspect_ratio": "16:9", "resolution": "720p",
        "duration": 2}, timeout=30)
    assert submitted.status_code == 202, submitted.text
    task_id = submitted.json()["id"]
    task = wait_until(lambda: (t := httpx.get(f"{web.url}/api/v1/videos/tasks/{task_id}", headers=headers).json())
                      ["status"] in ("completed", "failed") and t, timeout=120, message="the video task")
    assert task["status"] == "completed" and task["video_url"].split("?")[0].endswith(".mp4")
    job = httpx.get(f"{web.url}/v1/videos/jobs/{task_id}", headers=headers).json()
    assert job["status"] == "succeeded" and job["video_url"] == task["video_url"]


def test_models_list_and_retrieve(sdk):
    ids = [m.id for m in sdk.models.list()]
    assert "sandbox-image" in ids and "gpt-4o" in ids
    model = sdk.models.retrieve("sandbox-text")
    assert model.id == "sandbox-text" and model.object == "model"
    with pytest.raises(openai.NotFoundError):
        sdk.models.retrieve("no-such-model")
