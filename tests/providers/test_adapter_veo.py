"""The Veo adapter against the fake Gemini API long-running operations over real HTTP."""
from __future__ import annotations

import base64
import time

import pytest

from apps.providers.base import (
    AuthError,
    ChannelConfig,
    ContentFiltered,
    InvalidInput,
    Job,
    PermanentError,
    ProviderResult,
    RateLimited,
    TransientError,
    UpstreamTimeout,
)
from apps.providers.registry import get_adapter
from tests.fakes import media

START = "data:image/png;base64," + base64.b64encode(media.png(16, 16, "start")).decode()


@pytest.fixture
def storage_allowed(fake_upstream, settings):
    """The fake's storage host is `localhost:<port>`, another origin than the API's 127.0.0.1."""
    storage_host = fake_upstream.host.replace("127.0.0.1", "localhost")
    settings.SAFE_FETCH_ALLOW_HOSTS = [*settings.SAFE_FETCH_ALLOW_HOSTS, storage_host]
    return fake_upstream


def adapter_for(fake, api_key="AIzaVeoKey-5555", **options):
    channel = ChannelConfig(name="veo-test", adapter="veo", base_url=fake.url + "/v1beta", api_key=api_key,
                            options={"timeout": 2, **options})
    return get_adapter(channel)


def job(model="veo-3.0-generate-001", **params):
    return Job(id="gen-1", modality="video", upstream_model=model, params={"prompt": "waves at night", **params},
               channel=None)


def test_text_to_video_operation_then_download_with_the_key_only_at_google(storage_allowed):
    fake = storage_allowed
    fake.config(instant=True)
    adapter = adapter_for(fake)
    the_job = job(aspect_ratio="9:16", duration=8, resolution="720p", negative_prompt="blur")
    submitted = adapter.submit(the_job)
    assert submitted.status == ProviderResult.PENDING and submitted.poll_after == 10.0
    assert submitted.upstream_id.startswith("models/veo-3.0-generate-001/operations/")
    done = adapter.poll(the_job, submitted.upstream_id)
    assert done.status == ProviderResult.SUCCEEDED
    [video] = done.outputs
    assert video.url is None and video.mime == "video/mp4" and video.data == media.mp4(36, 64)

    sent = fake.requests("veo.predict")[0]
    assert sent["path"] == "/v1beta/models/veo-3.0-generate-001:predictLongRunning"
    assert sent["auth"]["x-goog-api-key"] == "...5555"
    assert sent["json"] == {"instances": [{"prompt": "waves at night"}], "parameters": {
        "aspectRatio": "9:16", "negativePrompt": "blur", "resolution": "720p", "durationSeconds": 8}}
    assert fake.requests("veo.operation")[0]["path"] == "/v1beta/" + submitted.upstream_id
    assert fake.requests("veo.download")[0]["auth"]["x-goog-api-key"] == "...5555"
    storage = fake.requests("veo.storage")
    assert len(storage) == 1 and storage[0]["auth"] == {}


def test_image_to_video_sends_inline_frames(storage_allowed):
    storage_allowed.config(instant=True)
    adapter = adapter_for(storage_allowed)
    the_job = job(image_url=START, end_image_url=START)
    adapter.poll(the_job, adapter.submit(the_job).upstream_id)
    instance = storage_allowed.requests("veo.predict")[0]["json"]["instances"][0]
    assert instance["image"]["mimeType"] == "image/png"
    assert base64.b64decode(instance["image"]["bytesBase64Encoded"]) == media.png(16, 16, "start")
    assert instance["lastFrame"] == instance["image"]


def test_pending_until_done(storage_allowed):
    storage_allowed.config(job_seconds=0.3)
    adapter = adapter_for(storage_allowed, poll_after=2)
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    pending = adapter.poll(the_job, upstream_id)
    assert pending.status == ProviderResult.PENDING and pending.poll_after == 2.0
    time.sleep(0.35)
    assert adapter.poll(the_job, upstream_id).status == ProviderResult.SUCCEEDED


def test_never_finish_stays_pending(fake_upstream):
    fake_upstream.config(job_seconds=0.01)
    fake_upstream.faults("veo.predict", never_finish=True)
    adapter = adapter_for(fake_upstream)
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    time.sleep(0.05)
    assert all(adapter.poll(the_job, upstream_id).status == ProviderResult.PENDING for _ in range(3))


def test_fail_late_operation_error_is_permanent(fake_upstream):
    fake_upstream.config(instant=True)
    fake_upstream.faults("veo.predict", fail_late=True)
    adapter = adapter_for(fake_upstream)
    the_job = job()
    with pytest.raises(PermanentError) as caught:
        adapter.poll(the_job, adapter.submit(the_job).upstream_id)
    assert caught.value.code == "upstream_failed" and "internal error" in caught.value.message


def test_filtered_video_is_content_filtered(fake_upstream):
    fake_upstream.config(instant=True)
    adapter = adapter_for(fake_upstream)
    the_job = job(prompt="a forbidden scene")
    with pytest.raises(ContentFiltered) as caught:
        adapter.poll(the_job, adapter.submit(the_job).upstream_id)
    assert "usage guidelines" in caught.value.message


def test_oversized_video_is_refused(storage_allowed):
    storage_allowed.config(instant=True)
    adapter = adapter_for(storage_allowed, max_download_bytes=100)
    the_job = job()
    with pytest.raises(PermanentError) as caught:
        adapter.poll(the_job, adapter.submit(the_job).upstream_id)
    assert caught.value.code == "output_too_large"


def test_storage_host_not_allowed_is_refused_not_fetched(fake_upstream):
    """Without localhost in SAFE_FETCH_ALLOW_HOSTS, safe_http refuses the loopback storage host."""
    fake_upstream.config(instant=True)
    adapter = adapter_for(fake_upstream)
    the_job = job()
    with pytest.raises(PermanentError) as caught:
        adapter.poll(the_job, adapter.submit(the_job).upstream_id)
    assert caught.value.code == "upstream_bad_output"
    assert fake_upstream.requests("veo.storage") == []


def test_invalid_parameter_is_invalid_input_with_google_message(fake_upstream):
    with pytest.raises(InvalidInput) as caught:
        adapter_for(fake_upstream).submit(job(duration=7))
    assert "durationSeconds must be one of" in caught.value.message


def test_invalid_key_is_auth_error(fake_upstream):
    with pytest.raises(AuthError):
        adapter_for(fake_upstream, api_key="invalid").submit(job())


def test_injected_errors_map_by_status(fake_upstream):
    fake_upstream.faults("veo.predict", status=500, count=1)
    with pytest.raises(TransientError):
        adapter_for(fake_upstream).submit(job())
    fake_upstream.faults("veo.predict", status=429, retry_after=4, count=1)
    with pytest.raises(RateLimited) as caught:
        adapter_for(fake_upstream).submit(job())
    assert caught.value.retry_after == 4
    fake_upstream.faults("veo.predict", status=401, count=1)
    with pytest.raises(AuthError):
        adapter_for(fake_upstream).submit(job())


def test_timeout_while_polling(fake_upstream):
    fake_upstream.config(timeout_seconds=1.0)
    adapter = adapter_for(fake_upstream, timeout=0.3)
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    fake_upstream.faults("veo.operation", timeout=True, count=1)
    with pytest.raises(UpstreamTimeout):
        adapter.poll(the_job, upstream_id)


def test_malformed_operation_is_transient(fake_upstream):
    adapter = adapter_for(fake_upstream)
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    fake_upstream.faults("veo.operation", malformed=True, count=1)
    with pytest.raises(TransientError) as caught:
        adapter.poll(the_job, upstream_id)
    assert caught.value.code == "upstream_bad_response"


def test_operation_names_are_checked_so_the_key_cannot_be_sent_elsewhere(fake_upstream):
    with pytest.raises(InvalidInput):
        adapter_for(fake_upstream).poll(job(), "https://attacker.example/models/x/operations/y")
    assert not adapter_for(fake_upstream).supports_cancel


@pytest.mark.django_db
def test_a_generation_runs_through_atelier_and_stores_the_downloaded_video(owner, storage_allowed, monkeypatch):
    from apps.catalog.models import AIModel, Channel
    from apps.generations.models import Generation
    from apps.generations.services import generation_poll, generation_run, generation_submit

    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)
    monkeypatch.setattr("apps.generations.services._enqueue_poll", lambda gid, countdown: None)
    storage_allowed.config(instant=True)
    model = AIModel.objects.create(
        slug="veo-test", name="Veo test", vendor="Google", modality="video",
        schema={"fields": [{"name": "prompt", "type": "text", "required": True},
                           {"name": "duration", "type": "integer", "min": 4, "max": 8, "default": 8}]},
        pricing={"unit": "second", "credits": "1", "duration": "duration"},
    )
    model.routes.create(adapter="veo", upstream_model="veo-3.0-fast-generate-001")
    channel = Channel.objects.create(name="gemini-main", adapter="veo", base_url=storage_allowed.url + "/v1beta",
                                     options={"timeout": 5})
    channel.api_key = "AIzaMain-3333"
    channel.save()
    generation, _ = generation_submit(user=owner, workspace=owner.current_workspace, model=model,
                                      raw_params={"prompt": "waves at night", "duration": 6})
    generation_run(generation_id=generation.pk)
    Generation.objects.filter(pk=generation.pk).update(next_check_at=generation.created_at)
    generation_poll(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED, generation.error_message
    [output] = generation.outputs.all()
    assert output.kind == "video" and output.size_bytes == len(media.mp4(64, 36)) and output.cover
    assert generation.charged == 6_000


# ---- what the Gemini API takes for Veo -------------------------------------------------------------
def test_the_gemini_api_refuses_allow_adult_for_text_to_video_and_allow_all_for_image_to_video(fake_upstream):
    adapter = adapter_for(fake_upstream)
    with pytest.raises(InvalidInput, match="allow_adult for personGeneration is currently not supported"):
        adapter.submit(job(model="veo-3.1-generate-preview", person_generation="allow_adult"))
    with pytest.raises(InvalidInput, match="allow_all for personGeneration is currently not supported"):
        adapter.submit(job(model="veo-3.1-generate-preview", person_generation="allow_all", image_url=START))
    assert adapter.submit(job(model="veo-3.1-generate-preview", person_generation="allow_all")).status == "pending"
    assert adapter.submit(job(model="veo-3.1-generate-preview", person_generation="allow_adult",
                              image_url=START)).status == "pending"


def test_no_person_generation_is_sent_unless_the_user_set_one(fake_upstream):
    adapter_for(fake_upstream).submit(job(model="veo-3.1-generate-preview"))
    assert "personGeneration" not in fake_upstream.requests("veo.predict")[-1]["json"]["parameters"]


def test_the_gemini_api_takes_no_seed_for_veo(fake_upstream):
    from apps.providers import http

    channel = ChannelConfig(name="v", adapter="veo", base_url=fake_upstream.url + "/v1beta", api_key="AIzaKey")
    with pytest.raises(InvalidInput, match="`seed` isn't supported"):
        http.request(channel, "POST", fake_upstream.url + "/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
                     json={"instances": [{"prompt": "x"}], "parameters": {"seed": 3}},
                     headers={"x-goog-api-key": "AIzaKey"}, provider="veo")
    with pytest.raises(InvalidInput) as caught:
        adapter_for(fake_upstream).submit(job(model="veo-3.1-generate-preview", seed=3))
    assert caught.value.fails_over  # another route (Vertex-backed fal, Replicate) takes a seed
    assert fake_upstream.requests("veo.predict")[-1]["json"]["parameters"] == {"seed": 3}  # only the direct call


def test_the_catalog_keeps_veo_jobs_the_gemini_api_would_refuse_off_that_route(catalog):
    from apps.catalog.models import AIModel, Channel
    from apps.catalog.schema import validate_params
    from apps.providers.router import route_choices, unroutable_reason

    Channel.objects.create(name="Gemini", adapter="veo")
    model = AIModel.objects.get(slug="veo-3.1")

    def adapters(**raw):
        return [c.channel.adapter for c in route_choices(model=model,
                                                          params=validate_params(model.schema, {"prompt": "x", **raw}))]

    assert adapters() == ["veo"]
    assert adapters(seed=5) == [] and "seed" in unroutable_reason(model=model, params={"seed": 5})
    assert adapters(person_generation="allow_adult") == []
    assert adapters(person_generation="allow_adult", image_url="https://example.com/a.png") == ["veo"]
    assert adapters(generate_audio=False) == []
    assert unroutable_reason(model=model, params={"generate_audio": False}) == (
        "The Gemini API's Veo always generates audio.")
