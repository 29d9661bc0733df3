"""A generation through a real upstream adapter over HTTP (the fake OpenAI API), end to end:
submit -> eager run -> adapter -> download -> storage -> capture, with the Attempt rows."""
from __future__ import annotations

import io

import av
import pytest
from django.core.cache import cache
from PIL import Image

from apps.catalog.models import AIModel, Channel
from apps.catalog.pricing import token_cost
from apps.generations.models import Generation
from apps.generations.services import generation_poll, generation_run, generation_submit
from apps.wallet.audit import wallet_audit
from apps.wallet.models import Hold
from tests.conftest import personal_wallet
from tests.fakes.core import state as fake_state
from tests.fakes.fixtures import fake_upstream  # noqa: F401

pytestmark = pytest.mark.django_db

TOKEN_PRICING = {"unit": "1k_tokens", "input": "0.5", "output": "1.5", "max_output": "max_tokens",
                 "default_max_output": 1024}


@pytest.fixture(autouse=True)
def fresh_circuits():
    cache.clear()  # circuit-breaker state must not leak between tests
    yield
    cache.clear()


def make_channel(fake, name="openai-main", adapter="openai", priority=0, key="sk-e2e-0001", **options):
    channel = Channel.objects.create(name=name, adapter=adapter, base_url=fake.url + "/v1", priority=priority,
                                     options={"timeout": 5, **options})
    channel.api_key = key
    channel.save()
    return channel


def make_model(slug, modality, fields, pricing, adapter, upstream_model):
    model = AIModel.objects.create(slug=slug, name=slug, vendor="OpenAI", modality=modality,
                                   schema={"fields": fields}, pricing=pricing)
    model.routes.create(adapter=adapter, upstream_model=upstream_model)
    return model


@pytest.fixture
def chat_model(db):
    return make_model("e2e-chat", "text", [
        {"name": "prompt", "type": "text", "required": True, "max_length": 4000},
        {"name": "max_tokens", "type": "integer", "min": 1, "max": 4096, "default": 256},
    ], TOKEN_PRICING, "openai", "gpt-4o-mini")


@pytest.fixture
def image_model(db):
    return make_model("e2e-dalle", "image", [
        {"name": "prompt", "type": "text", "required": True, "max_length": 4000},
        {"name": "size", "type": "enum", "choices": ["1024x1024", "1792x1024"], "default": "1024x1024"},
    ], {"unit": "image", "credits": "4"}, "openai", "dall-e-3")


def submit_eager(user, model, django_capture_on_commit_callbacks, **params) -> Generation:
    with django_capture_on_commit_callbacks(execute=True):
        generation, created = generation_submit(user=user, workspace=user.current_workspace, model=model,
                                                raw_params=params)
    assert created
    generation.refresh_from_db()
    return generation


def test_chat_through_openai_captures_actual_tokens(owner, chat_model, fake_upstream, eager,
                                                    django_capture_on_commit_callbacks):
    make_channel(fake_upstream)
    generation = submit_eager(owner, chat_model, django_capture_on_commit_callbacks,
                              prompt="tell me about foxes", max_tokens=200)
    assert generation.status == "succeeded", generation.error_message
    assert generation.result_text == "Echo: tell me about foxes"
    assert generation.usage == {"input_tokens": 4, "output_tokens": 5}
    # The hold covered 200 output tokens; the capture is what the upstream reported.
    assert generation.charged == token_cost(TOKEN_PRICING, 4, 5) < generation.price
    hold = Hold.objects.get(generation=generation)
    assert (hold.state, hold.captured_amount, hold.amount) == ("captured", generation.charged, generation.price)
    wallet = personal_wallet(owner)
    assert wallet.balance == 100_000 - generation.charged and wallet.held == 0
    [attempt] = generation.attempts.all()
    assert (attempt.channel_name, attempt.adapter, attempt.phase, attempt.outcome) == (
        "openai-main", "openai", "submit", "ok")
    assert (generation.channel_name, generation.upstream_model) == ("openai-main", "gpt-4o-mini")
    sent = fake_upstream.requests("openai.chat")[-1]
    assert sent["auth"]["authorization"] == "Bearer ...0001"  # the key was decrypted and sent
    assert sent["json"]["max_completion_tokens"] == 200
    assert wallet_audit() == []


def test_dalle_url_output_is_downloaded_stored_and_thumbnailed(owner, image_model, fake_upstream, eager,
                                                               django_capture_on_commit_callbacks):
    make_channel(fake_upstream)
    generation = submit_eager(owner, image_model, django_capture_on_commit_callbacks, prompt="a lighthouse",
                              size="1792x1024")
    assert generation.status == "succeeded", generation.error_message
    assert generation.charged == generation.price == 4_000
    output = generation.outputs.get()
    assert output.mime == "image/png"
    data = output.file.read()
    assert Image.open(io.BytesIO(data)).format == "PNG"
    assert output.thumbnail.read()[8:12] == b"WEBP"
    assert wallet_audit() == []


def test_loopback_output_url_is_refused_without_the_allow_list(owner, image_model, fake_upstream, eager, settings,
                                                              django_capture_on_commit_callbacks):
    """The fake's URL is on 127.0.0.1: only SAFE_FETCH_ALLOW_HOSTS lets Atelier download it."""
    settings.SAFE_FETCH_ALLOW_HOSTS = []
    make_channel(fake_upstream)
    generation = submit_eager(owner, image_model, django_capture_on_commit_callbacks, prompt="a lighthouse")
    assert generation.status == "failed" and "refused" in generation.error_message
    assert generation.outputs.count() == 0
    assert personal_wallet(owner).held == 0
    assert wallet_audit() == []


def test_transient_error_fails_over_to_the_next_channel(owner, image_model, fake_upstream, eager,
                                                        django_capture_on_commit_callbacks):
    make_channel(fake_upstream, name="primary", priority=10, key="sk-primary-1111")
    make_channel(fake_upstream, name="backup", priority=0, key="sk-backup-2222")
    fake_upstream.faults("openai.images", status=503, count=1)
    generation = submit_eager(owner, image_model, django_capture_on_commit_callbacks, prompt="a lighthouse")
    assert generation.status == "succeeded", generation.error_message
    assert [(a.channel_name, a.outcome, a.error_code) for a in generation.attempts.all()] == [
        ("primary", "transient", "upstream_unavailable"), ("backup", "ok", "")]
    assert generation.channel_name == "backup"
    keys = [r["auth"]["authorization"] for r in fake_upstream.requests("openai.images")]
    assert keys == ["Bearer ...1111", "Bearer ...2222"]
    assert personal_wallet(owner).balance == 100_000 - 4_000  # charged once
    assert wallet_audit() == []


def test_content_filter_fails_without_failover_and_releases(owner, image_model, fake_upstream, eager,
                                                            django_capture_on_commit_callbacks):
    make_channel(fake_upstream, name="primary", priority=10)
    make_channel(fake_upstream, name="backup", priority=0)
    generation = submit_eager(owner, image_model, django_capture_on_commit_callbacks,
                              prompt="something forbidden")
    assert generation.status == "failed" and generation.error_code == "content_filtered"
    assert [(a.channel_name, a.outcome) for a in generation.attempts.all()] == [("primary", "permanent")]
    wallet = personal_wallet(owner)
    assert wallet.balance == 100_000 and wallet.held == 0
    assert wallet_audit() == []


def test_refused_key_fails_over(owner, image_model, fake_upstream, eager, django_capture_on_commit_callbacks):
    make_channel(fake_upstream, name="primary", priority=10, key="bad-key-0000")
    make_channel(fake_upstream, name="backup", priority=0)
    generation = submit_eager(owner, image_model, django_capture_on_commit_callbacks, prompt="a lighthouse")
    assert generation.status == "succeeded"
    assert [(a.channel_name, a.error_code) for a in generation.attempts.all()] == [
        ("primary", "upstream_auth"), ("backup", "")]


def test_sora_job_is_polled_to_a_stored_mp4(owner, fake_upstream, monkeypatch):
    """Asynchronous upstream: submit answers pending, polls follow until the MP4 is ready.

    The fake's job state, not the clock, decides when it is ready: the job would take an
    hour, and the test marks it done after a few polls, so a slow or fast machine polls the
    same number of times."""
    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)
    monkeypatch.setattr("apps.generations.services._enqueue_poll", lambda gid, countdown: None)
    fake_upstream.config(job_seconds=3600)
    make_channel(fake_upstream, name="sora", adapter="openai_video")
    model = make_model("e2e-sora", "video", [
        {"name": "prompt", "type": "text", "required": True, "max_length": 4000},
        {"name": "duration", "type": "enum", "choices": [4, 8], "default": 4},
    ], {"unit": "second", "credits": "10", "duration": "duration"}, "openai_video", "sora-2")
    generation, _ = generation_submit(user=owner, workspace=owner.current_workspace, model=model,
                                      raw_params={"prompt": "a paper boat"})
    generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == "running" and generation.upstream_id.startswith("video_")

    def poll():
        Generation.objects.filter(pk=generation.pk).update(next_check_at=generation.created_at)
        generation_poll(generation_id=generation.pk)
        generation.refresh_from_db()

    for _ in range(3):
        poll()
        assert generation.status == "running"
    fake_state.jobs[generation.upstream_id]["instant"] = True  # the upstream finishes rendering
    poll()
    assert generation.status == "succeeded", generation.error_message
    output = generation.outputs.get()
    assert output.mime == "video/mp4"
    assert av.open(io.BytesIO(output.file.read())).streams.video[0].frames > 0
    phases = [(a.phase, a.outcome) for a in generation.attempts.all()]
    assert phases[0] == ("submit", "pending") and phases[-1] == ("poll", "ok")
    assert fake_state.jobs[generation.upstream_id]["polls"] == 4  # three pending, one ready
    assert generation.charged == generation.price == 40_000
    assert wallet_audit() == []
