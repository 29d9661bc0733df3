"""Every example of the reference documents, sent verbatim to a live server (granian) with a real
Celery worker on the sandbox: only the host and the key change.

The curl lines below are copied from ../shared/reference/ as they are printed there and run by
bash and curl; the shell variables they name ($POLYFORGE_API_KEY, $SEEDANCE_API_KEY, $JOB_ID)
are set in the environment, YOUR_API_KEY is replaced by the key. Substitutions beyond host and
key, each said where it happens: reference 002's vision example names
https://example.com/image.jpg and reference 003's task poll names sd2_xxxxx (placeholders): the
image is served on loopback by the fake upstream, the task id is the one the submit returned.
Reference 001 names tools, not paths: its workflows are run over Atelier's HTTP paths for them."""
from __future__ import annotations

import io
import json
import os
import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest
from PIL import Image

from apps.accounts.services import user_onboard
from apps.api.services import api_key_create
from apps.generations.models import Generation
from apps.wallet.audit import wallet_audit
from apps.wallet.models import Wallet
from apps.wallet.services import wallet_grant
from tests.fakes.core import state as fake_state
from tests.support.images import png_bytes, product_shot, reference_ad, template_match
from tests.support.web import WebProcess, web_env_for_tests
from tests.support.worker import WorkerProcess, wait_until

pytestmark = [pytest.mark.worker]


# ---- reference 000 (Polyforge) ------------------------------------------------------------------
POLYFORGE = "https://api.polyforge.ai"
POLYFORGE_QUICKSTART = """curl -X POST https://api.polyforge.ai/v1/images/generations \\
  -H "Authorization: Bearer $POLYFORGE_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{ "model": "nano-banana-2", "prompt": "studio shot of a drink", "size": "1024x1024" }'"""
POLYFORGE_IMAGE_BODY = """{
  "model": "nano-banana-2",
  "prompt": "a pulped sparkling drink, studio light",
  "size": "1024x1024",
  "steps": 30
}"""
POLYFORGE_VIDEO_POLL = """curl https://api.polyforge.ai/v1/videos/jobs/$JOB_ID \\
  -H "Authorization: Bearer $POLYFORGE_API_KEY\""""

# ---- reference 002 (pollinations) ---------------------------------------------------------------
POLLINATIONS = "https://gen.pollinations.ai"
POLLINATIONS_IMAGE = """curl 'https://gen.pollinations.ai/image/a%20cat?model=flux' \\
  -H 'Authorization: Bearer YOUR_API_KEY'"""
POLLINATIONS_CHAT = """curl 'https://gen.pollinations.ai/v1/chat/completions' \\
  -H 'Authorization: Bearer YOUR_API_KEY' \\
  -H 'Content-Type: application/json' \\
  -d '{"model": "openai", "messages": [{"role": "user", "content": "Hello"}]}'"""
POLLINATIONS_VISION = """curl 'https://gen.pollinations.ai/v1/chat/completions' \\
  -H 'Authorization: Bearer YOUR_API_KEY' \\
  -H 'Content-Type: application/json' \\
  -d '{"model": "openai", "messages": [{"role": "user", "content": [{"type": "text", "text": "Describe this image"}, {"type": "image_url", "image_url": {"url": "https://example.com/image.jpg"}}]}]}'"""
POLLINATIONS_TEXT = """curl 'https://gen.pollinations.ai/text/hello?key=YOUR_API_KEY'"""
POLLINATIONS_STREAM = """curl 'https://gen.pollinations.ai/v1/chat/completions' \\
  -H 'Authorization: Bearer YOUR_API_KEY' \\
  -H 'Content-Type: application/json' \\
  -d '{"model": "openai", "messages": [{"role": "user", "content": "Write a poem"}], "stream": true}' \\
  --no-buffer"""
POLLINATIONS_ACCOUNT = ["""curl 'https://gen.pollinations.ai/account/balance' \\
  -H 'Authorization: Bearer YOUR_API_KEY'""", """curl 'https://gen.pollinations.ai/account/profile' \\
  -H 'Authorization: Bearer YOUR_API_KEY'""", """curl 'https://gen.pollinations.ai/account/usage' \\
  -H 'Authorization: Bearer YOUR_API_KEY'"""]

# ---- reference 003 (Seedance / GPT Image 2 / Nano Banana Pro) ----------------------------------
SEEDANCE_HOST = "https://seedance2ai.io"
SEEDANCE_SUBMITS = {
    "seedance": """curl -X POST https://seedance2ai.io/api/v1/video/seedance \\
  -H "Authorization: Bearer $SEEDANCE_API_KEY" \\
  -H "Content-Type: application/json" \\
  -H "Idempotency-Key: demo-video-001" \\
  -d '{
    "mode": "text-to-video",
    "quality_tier": "standard",
    "prompt": "A cinematic shot of a glass train crossing a snowy mountain bridge",
    "aspect_ratio": "16:9",
    "duration": "5",
    "resolution": "720p"
  }'""",
    "gpt-image-2": """curl -X POST https://seedance2ai.io/api/v1/image/gpt-image-2 \\
  -H "Authorization: Bearer $SEEDANCE_API_KEY" \\
  -H "Content-Type: application/json" \\
  -H "Idempotency-Key: demo-gpt-image-001" \\
  -d '{
    "type": "text-to-image",
    "prompt": "Editorial product photo of a transparent running shoe on chrome",
    "resolution": "1K",
    "aspectRatio": "1:1"
  }'""",
    "nano-banana-pro": """curl -X POST https://seedance2ai.io/api/v1/image/nano-banana-pro \\
  -H "Authorization: Bearer $SEEDANCE_API_KEY" \\
  -H "Content-Type: application/json" \\
  -H "Idempotency-Key: demo-nbp-001" \\
  -d '{
    "type": "text-to-image",
    "prompt": "A premium packaging mockup for an AI video studio",
    "image_size": "1:1",
    "resolution": "1K",
    "output_format": "png"
  }'""",
}
SEEDANCE_TASK = """curl https://seedance2ai.io/api/v1/tasks/sd2_xxxxx \\
  -H "Authorization: Bearer $SEEDANCE_API_KEY\""""


class Answer:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


def curl(command: str, *, host: str, web: WebProcess, env: dict | None = None) -> Answer:
    """Run a reference's curl line with bash, the host swapped for the live server."""
    with tempfile.TemporaryDirectory() as folder:
        head, body = Path(folder) / "headers", Path(folder) / "body"
        line = command.replace(host, web.url) + f" -sS --max-time 120 -D {head} -o {body}"
        done = subprocess.run(["bash", "-c", line], env={**os.environ, **(env or {})}, capture_output=True,
                              timeout=150, check=False)
        assert done.returncode == 0, done.stderr.decode()
        lines = head.read_text().strip().splitlines()
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:]) if k}
        return Answer(status, headers, body.read_bytes())


def download(url: str) -> httpx.Response:
    response = httpx.get(url, timeout=60)
    assert response.status_code == 200, (url, response.status_code)
    return response


def assert_image(data: bytes, kind: str = "PNG") -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == kind
    return image


def assert_mp4(data: bytes):
    assert data[4:8] == b"ftyp" and len(data) > 1000


def assert_mp3(data: bytes):
    assert (data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")) and len(data) > 1000


# ---- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture
def user(transactional_db, make_user, catalog):
    user = make_user("examples@example.com")
    user_onboard(user=user)
    wallet_grant(wallet=Wallet.objects.get(workspace=user.current_workspace), amount=1_000_000, reason="examples")
    return user


@pytest.fixture
def key(user):
    return api_key_create(user=user, workspace=user.current_workspace, name="examples").secret


@pytest.fixture
def web(transactional_db, catalog, fake_upstream):
    worker = WorkerProcess(extra_env={"SAFE_FETCH_ALLOW_HOSTS": fake_upstream.host})
    server = WebProcess(extra_env={**web_env_for_tests(), "API_SYNC_WAIT_SECONDS": "90"})
    yield server
    # The data is thrown away with the test: no graceful drain (it costs seconds per test).
    server.stop()
    worker.kill()
    worker.stop()


def poll(fetch, done, *, timeout=120.0, message="the job"):
    return wait_until(lambda: (value := fetch()) and done(value) and value, timeout=timeout, interval=0.3,
                      message=message)


# ---- the tests --------------------------------------------------------------------------------------
def test_reference_000_polyforge(web, key, user):
    env = {"POLYFORGE_API_KEY": key}
    quick = curl(POLYFORGE_QUICKSTART, host=POLYFORGE, web=web, env=env)
    assert quick.status == 200, quick.body
    answer = quick.json()
    assert answer["model"] == "nano-banana-2" and answer["data"] and float(answer["credits"]) > 0
    assert set(answer["routing"]) >= {"upstream", "failover"} and answer["routing"]["failover"] is False
    assert assert_image(download(answer["data"][0]["url"]).content).size == (1024, 1024)
    # Section 04's body: "optional size, steps and seed"; a model without steps says it ignored them.
    body = httpx.post(f"{web.url}/v1/images/generations", content=POLYFORGE_IMAGE_BODY, timeout=120,
                      headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"}).json()
    assert body["data"][0]["url"] and body["ignored_params"] == ["steps"]
    assert_image(download(body["data"][0]["url"]).content)
    # Video is asynchronous: submit, then poll the job id until status is succeeded.
    job = httpx.post(f"{web.url}/v1/videos/generations", timeout=30, headers={"Authorization": f"Bearer {key}"},
                     json={"model": "sandbox-video", "prompt": "a drink poured in slow motion", "duration": 2,
                           "resolution": "480p"}).json()
    polled = poll(lambda: curl(POLYFORGE_VIDEO_POLL, host=POLYFORGE, web=web, env={**env, "JOB_ID": job["id"]})
                  .json(), lambda j: j["status"] in ("succeeded", "failed"), message="the video job")
    assert polled["status"] == "succeeded" and polled["object"] == "video.job", polled
    assert_mp4(download(polled["video_url"]).content)
    # Errors: a machine-readable code and a human-readable message.
    unknown = curl(POLYFORGE_QUICKSTART.replace("nano-banana-2", "nano-banana-9"), host=POLYFORGE, web=web, env=env)
    assert unknown.status == 404 and unknown.json()["error"]["code"] == "invalid_model"
    assert unknown.json()["error"]["message"]
    assert wallet_audit() == []


def test_reference_002_pollinations(web, key, user):
    def run(command, **kw):
        return curl(command.replace("YOUR_API_KEY", key), host=POLLINATIONS, web=web, **kw)

    wallet = Wallet.objects.get(workspace=user.current_workspace)
    image = run(POLLINATIONS_IMAGE)
    # pollinations' flux answers JPEG (reference 002 lists image/jpeg first, then image/png)
    assert image.status == 200 and image.headers["content-type"] == "image/jpeg"
    assert_image(image.body, "JPEG")
    spent = Wallet.objects.get(pk=wallet.pk).balance
    again = run(POLLINATIONS_IMAGE)  # identical GET: the stored result, no new charge
    assert again.body == image.body and again.headers["x-atelier-replayed"] == "true"
    assert Wallet.objects.get(pk=wallet.pk).balance == spent

    chat = run(POLLINATIONS_CHAT).json()
    assert chat["object"] == "chat.completion" and chat["choices"][0]["message"]["content"]
    # The vision example's https://example.com/image.jpg cannot be reached here: a loopback copy.
    picture = fake_state.file_url(png_bytes(product_shot(64)), "image/png", ".jpg")
    vision = run(POLLINATIONS_VISION.replace("https://example.com/image.jpg", picture))
    assert vision.status == 200 and vision.json()["choices"][0]["message"]["content"]
    text = run(POLLINATIONS_TEXT)
    assert text.status == 200 and text.headers["content-type"].startswith("text/plain") and text.body.strip()
    stream = run(POLLINATIONS_STREAM)
    events = stream.body.decode()
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert '"object":"chat.completion.chunk"' in events and events.rstrip().endswith("data: [DONE]")

    balance, profile, usage = (run(command) for command in POLLINATIONS_ACCOUNT)
    assert isinstance(balance.json()["balance"], int | float)
    assert set(profile.json()) >= {"name", "email", "githubUsername", "tier", "createdAt", "nextResetAt"}
    records = usage.json()
    assert records["count"] == len(records["usage"]) >= 5
    assert set(records["usage"][0]) >= {"timestamp", "type", "model", "api_key", "api_key_type", "meter_source",
                                        "input_text_tokens", "output_image_tokens", "cost_usd", "response_time_ms"}
    # Model discovery.
    assert httpx.get(f"{web.url}/v1/models").json()["object"] == "list"
    assert {"name", "aliases", "pricing"} <= set(httpx.get(f"{web.url}/image/models").json()[0])
    assert httpx.get(f"{web.url}/text/models").json()
    assert Generation.objects.filter(model__modality="image").count() == 1
    assert wallet_audit() == []


def test_reference_003_per_model_endpoints(web, key, user):
    env = {"SEEDANCE_API_KEY": key}
    submitted = {}
    for name, command in SEEDANCE_SUBMITS.items():
        answer = curl(command, host=SEEDANCE_HOST, web=web, env=env)
        assert answer.status == 200, answer.body
        task = answer.json()
        assert task["status"] in ("queued", "processing") and task["model"] == name, task
        submitted[name] = task["id"]
        replay = curl(command, host=SEEDANCE_HOST, web=web, env=env)  # the same Idempotency-Key: the same task
        assert replay.json()["id"] == task["id"] and replay.headers["idempotent-replayed"] == "true"
    for name, task_id in submitted.items():
        # sd2_xxxxx is the document's placeholder for the id the submit returned.
        task = poll(lambda task_id=task_id: curl(SEEDANCE_TASK.replace("sd2_xxxxx", task_id), host=SEEDANCE_HOST,
                                                 web=web, env=env).json(),
                    lambda t: t["status"] in ("completed", "failed"),
                    message=f"the {name} task")
        assert task["status"] == "completed", task
        assert {"id", "status", "model", "output", "credits_used"} <= set(task)
        assert task["model"] == name and isinstance(task["credits_used"], int | float) and task["credits_used"] > 0
        if name == "seedance":
            assert_mp4(download(task["output"]["video_url"]).content)
        else:
            assert assert_image(download(task["output"]["image_url"]).content).size[0] >= 1000
    missing = curl(SEEDANCE_TASK, host=SEEDANCE_HOST, web=web, env=env)
    assert missing.status == 404 and missing.json()["error"]["code"] == "not_found"
    unauthorized = curl(SEEDANCE_TASK, host=SEEDANCE_HOST, web=web, env={"SEEDANCE_API_KEY": "sk_live_nope"})
    assert unauthorized.status == 401 and unauthorized.json()["error"]["code"] == "unauthorized"
    assert wallet_audit() == []


def test_reference_001_music_and_ads_workflows(web, key, user):
    headers = {"Authorization": f"Bearer {key}"}
    # get_balance and get_models first, as 001 advises.
    assert float(httpx.get(f"{web.url}/v1/balance", headers=headers).json()["available"]) > 0
    assert any(m["id"] == "ace-step" for m in httpx.get(f"{web.url}/v1/models?modality=music").json()["data"])
    song = httpx.post(f"{web.url}/v1/music", headers=headers, timeout=30, json={
        "prompt": "a lighthouse keeper waiting for the boats", "style": "folk, warm", "title": "Keeper of the Light",
        "duration": 15}).json()
    assert song["status"] == "queued" and song["generation_id"] and song["model"] == "ace-step"
    assert song["ignored_params"] == ["title"]  # ACE-Step names its own songs; the answer says so
    # The ad: the reference and the product are served on loopback (001 expects user-uploaded URLs).
    product = product_shot()
    ad = httpx.post(f"{web.url}/v1/ads", headers=headers, timeout=60, json={
        "reference_image_url": fake_state.file_url(png_bytes(reference_ad()), "image/png", ".png"),
        "product_image_url": fake_state.file_url(png_bytes(product), "image/png", ".png"),
        "variants": 3, "aspect_ratio": "1:1", "language": "English", "tone": "playful"})
    assert ad.status_code == 202, ad.text
    campaign = ad.json()
    assert len(campaign["generation_ids"]) == 3 and len({v["headline"] for v in campaign["variants"]}) == 3

    done = poll(lambda: httpx.get(f"{web.url}/v1/generations/{song['generation_id']}", headers=headers).json(),
                lambda g: g["status"] in ("succeeded", "failed"), message="the song")
    assert done["status"] == "succeeded", done["error"]
    (track,) = done["songs"]
    assert track["title"].strip() and track["lyrics"].strip()
    assert_mp3(download(track["audio_url"]).content)
    cover = Image.open(io.BytesIO(download(track["image_url"]).content))
    assert cover.size[0] >= 256
    task = httpx.get(f"{web.url}/api/v1/tasks/{song['generation_id']}", headers=headers).json()
    assert task["status"] == "completed" and task["output"]["songs"][0]["audio_url"] == track["audio_url"]

    images = []
    for generation_id in campaign["generation_ids"]:
        variant = poll(lambda generation_id=generation_id: httpx.get(
                           f"{web.url}/v1/generations/{generation_id}", headers=headers).json(),
                       lambda g: g["status"] in ("succeeded", "failed"), message="an ad variant")
        assert variant["status"] == "succeeded", variant["error"]
        images.append(assert_image(download(variant["outputs"][0]["url"]).content))
        download(variant["outputs"][0]["thumbnail_url"])
    assert len({image.tobytes() for image in images}) == 3
    for image in images:
        assert template_match(image, product)[0] > 0.9
    assert wallet_audit() == []
