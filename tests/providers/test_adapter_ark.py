"""The Ark (BytePlus ModelArk, Seedance) adapter against the fake Ark task API over real HTTP."""
from __future__ import annotations

import time

import httpx
import pytest

from apps.providers.base import (
    AuthError,
    ChannelConfig,
    ContentFiltered,
    InvalidInput,
    Job,
    NotFound,
    PermanentError,
    ProviderResult,
    RateLimited,
    TransientError,
    UpstreamTimeout,
)
from apps.providers.registry import get_adapter

SEEDANCE_PRO = "seedance-1-5-pro-251215"
SEEDANCE_1 = "seedance-1-0-pro-250528"
SEEDANCE_2 = "dreamina-seedance-2-0-260128"


def adapter_for(fake, api_key="ark-key-0000-4242", **options):
    channel = ChannelConfig(name="ark-test", adapter="ark", base_url=fake.url + "/api/v3", api_key=api_key,
                            options={"timeout": 2, **options})
    return get_adapter(channel)


def job(model=SEEDANCE_PRO, **params):
    return Job(id="gen-1", modality="video", upstream_model=model,
               params={"prompt": "a glass train on a snowy bridge", **params}, channel=None)


def test_text_to_video_with_body_fields(fake_upstream):
    fake_upstream.config(instant=True)
    adapter = adapter_for(fake_upstream)
    # The Seedance parameter table of reference 003: aspect_ratio, duration as a string, fixed_lens...
    the_job = job(aspect_ratio="9:16", duration="8", resolution="1080p", seed=17, fixed_lens=True,
                  generate_audio=True)
    submitted = adapter.submit(the_job)
    assert submitted.status == ProviderResult.PENDING and submitted.upstream_id.startswith("cgt-")
    assert submitted.poll_after == 5.0
    done = adapter.poll(the_job, submitted.upstream_id)
    assert done.status == ProviderResult.SUCCEEDED
    [video] = done.outputs
    assert video.mime == "video/mp4" and video.duration == 8 and video.meta["ratio"] == "9:16"
    assert httpx.get(video.url).content[4:8] == b"ftyp"
    assert done.usage["completion_tokens"] == 108900

    sent = fake_upstream.requests("ark.create")[0]
    assert sent["path"] == "/api/v3/contents/generations/tasks"
    assert sent["auth"]["authorization"] == "Bearer ...4242"
    assert sent["json"] == {
        "model": SEEDANCE_PRO, "ratio": "9:16", "resolution": "1080p", "duration": 8, "seed": 17,
        "camera_fixed": True, "generate_audio": True,
        "content": [{"type": "text", "text": "a glass train on a snowy bridge"}],
    }


def test_seedance_1_0_gets_text_commands_and_image_roles(fake_upstream):
    fake_upstream.config(instant=True)
    adapter = adapter_for(fake_upstream, watermark=False)
    the_job = job(SEEDANCE_1, aspect_ratio="16:9", duration=5, resolution="720p", fixed_lens=False,
                  generate_audio=True, image_url="https://example.com/first.png",
                  end_image_url="https://example.com/last.png")
    assert adapter.poll(the_job, adapter.submit(the_job).upstream_id).status == ProviderResult.SUCCEEDED
    sent = fake_upstream.requests("ark.create")[0]["json"]
    assert sent == {"model": SEEDANCE_1, "content": [
        {"type": "text", "text": "a glass train on a snowy bridge --ratio 16:9 --resolution 720p --duration 5 "
                                 "--watermark false"},
        {"type": "image_url", "image_url": {"url": "https://example.com/first.png"}, "role": "first_frame"},
        {"type": "image_url", "image_url": {"url": "https://example.com/last.png"}, "role": "last_frame"},
    ]}


def test_media_to_video_references_by_kind(fake_upstream):
    adapter = adapter_for(fake_upstream, param_style="body")
    adapter.submit(job(SEEDANCE_2, media_urls=["https://example.com/a.png", "https://example.com/b.mp4",
                                               "https://example.com/c.mp3"]))
    content = fake_upstream.requests("ark.create")[0]["json"]["content"]
    assert [(item["type"], item["role"]) for item in content[1:]] == [
        ("image_url", "reference_image"), ("video_url", "reference_video"), ("audio_url", "reference_audio")]


def test_queued_then_running_then_succeeded(fake_upstream):
    fake_upstream.config(job_seconds=0.3)
    adapter = adapter_for(fake_upstream)
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    assert adapter.poll(the_job, upstream_id).status == ProviderResult.PENDING
    time.sleep(0.35)
    assert adapter.poll(the_job, upstream_id).status == ProviderResult.SUCCEEDED


def test_never_finish_stays_pending(fake_upstream):
    fake_upstream.config(job_seconds=0.01)
    fake_upstream.faults("ark.create", never_finish=True)
    adapter = adapter_for(fake_upstream)
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    time.sleep(0.05)
    assert all(adapter.poll(the_job, upstream_id).status == ProviderResult.PENDING for _ in range(3))


def test_fail_late_is_permanent_with_ark_code(fake_upstream):
    fake_upstream.config(instant=True)
    fake_upstream.faults("ark.create", fail_late=True)
    adapter = adapter_for(fake_upstream)
    the_job = job()
    with pytest.raises(PermanentError) as caught:
        adapter.poll(the_job, adapter.submit(the_job).upstream_id)
    assert caught.value.code == "upstream_failed" and "InternalServiceError" in caught.value.message


def test_output_moderation_failure_is_content_filtered(fake_upstream):
    fake_upstream.config(instant=True)
    adapter = adapter_for(fake_upstream)
    the_job = job(prompt="an unsafe video")
    with pytest.raises(ContentFiltered) as caught:
        adapter.poll(the_job, adapter.submit(the_job).upstream_id)
    assert "OutputVideoSensitiveContentDetected" in caught.value.message


def test_input_moderation_400_is_content_filtered(fake_upstream):
    with pytest.raises(ContentFiltered) as caught:
        adapter_for(fake_upstream).submit(job(prompt="something forbidden"))
    assert "InputTextSensitiveContentDetected" in caught.value.message


def test_invalid_parameter_is_invalid_input_with_ark_message(fake_upstream):
    with pytest.raises(InvalidInput) as caught:
        adapter_for(fake_upstream).submit(job(duration=30))
    assert "`duration`" in caught.value.message and caught.value.status == 400


def test_cancel_of_a_queued_task_reaches_the_fake(fake_upstream):
    fake_upstream.config(job_seconds=30)
    adapter = adapter_for(fake_upstream)
    assert adapter.supports_cancel
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    adapter.cancel(the_job, upstream_id)
    assert [(r["method"], r["path"]) for r in fake_upstream.requests("ark.cancel")] == [
        ("DELETE", f"/api/v3/contents/generations/tasks/{upstream_id}")]
    with pytest.raises(PermanentError) as caught:
        adapter.poll(the_job, upstream_id)
    assert caught.value.code == "upstream_canceled"


def test_cancel_of_a_running_task_is_refused_upstream_and_ignored(fake_upstream):
    fake_upstream.config(job_seconds=30)
    adapter = adapter_for(fake_upstream)
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    adapter.poll(the_job, upstream_id)
    adapter.cancel(the_job, upstream_id)  # 400 from Ark: nothing to do, no exception
    assert len(fake_upstream.requests("ark.cancel")) == 1
    assert adapter.poll(the_job, upstream_id).status == ProviderResult.PENDING


def test_refused_key_is_auth_error(fake_upstream):
    with pytest.raises(AuthError) as caught:
        adapter_for(fake_upstream, api_key="invalid").submit(job())
    assert caught.value.code == "upstream_auth" and "missing or invalid" in caught.value.message


def test_unknown_model_is_not_found(fake_upstream):
    with pytest.raises(NotFound):
        adapter_for(fake_upstream).submit(job("seedance-missing-1"))


def test_server_error_is_transient(fake_upstream):
    fake_upstream.faults("ark.create", status=500, count=1)
    with pytest.raises(TransientError) as caught:
        adapter_for(fake_upstream).submit(job())
    assert not caught.value.permanent


def test_rate_limited_with_retry_after(fake_upstream):
    fake_upstream.faults("ark.create", status=429, retry_after=20, count=1)
    with pytest.raises(RateLimited) as caught:
        adapter_for(fake_upstream).submit(job())
    assert caught.value.retry_after == 20


def test_timeout(fake_upstream):
    fake_upstream.config(timeout_seconds=1.0)
    fake_upstream.faults("ark.create", timeout=True, count=1)
    with pytest.raises(UpstreamTimeout):
        adapter_for(fake_upstream, timeout=0.3).submit(job())


def test_malformed_task_body_is_transient(fake_upstream):
    adapter = adapter_for(fake_upstream)
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    fake_upstream.faults("ark.get", malformed=True, count=1)
    with pytest.raises(TransientError) as caught:
        adapter.poll(the_job, upstream_id)
    assert caught.value.code == "upstream_bad_response"


@pytest.mark.django_db
def test_a_generation_runs_through_atelier_with_a_stored_video_and_poster(owner, fake_upstream, monkeypatch):
    from apps.catalog.models import AIModel, Channel
    from apps.generations.models import Generation
    from apps.generations.services import generation_poll, generation_run, generation_submit

    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)
    monkeypatch.setattr("apps.generations.services._enqueue_poll", lambda gid, countdown: None)
    fake_upstream.config(instant=True)
    model = AIModel.objects.create(
        slug="seedance-test", name="Seedance test", vendor="ByteDance", modality="video",
        schema={"fields": [{"name": "prompt", "type": "text", "required": True},
                           {"name": "duration", "type": "integer", "min": 2, "max": 12, "default": 5}]},
        pricing={"unit": "second", "credits": "1", "duration": "duration"},
    )
    model.routes.create(adapter="ark", upstream_model=SEEDANCE_PRO)
    channel = Channel.objects.create(name="ark-main", adapter="ark", base_url=fake_upstream.url + "/api/v3",
                                     options={"timeout": 5})
    channel.api_key = "ark-key-main-1111"
    channel.save()
    generation, _ = generation_submit(user=owner, workspace=owner.current_workspace, model=model,
                                      raw_params={"prompt": "a glass train", "duration": 4})
    generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.RUNNING and generation.upstream_id.startswith("cgt-")
    # Due now rather than after the suggested poll delay.
    Generation.objects.filter(pk=generation.pk).update(next_check_at=generation.created_at)
    generation_poll(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED, generation.error_message
    [output] = generation.outputs.all()
    assert output.kind == "video" and output.mime == "video/mp4" and output.size_bytes > 0 and output.cover
    assert generation.charged == 4_000
    assert fake_upstream.requests("ark.create")[0]["json"]["duration"] == 4


def test_seedream_images_are_synchronous(fake_upstream):
    adapter = adapter_for(fake_upstream)
    the_job = Job(id="gen-2", modality="image", upstream_model="seedream-4-0-250828", channel=None,
                  params={"prompt": "a poster", "size": "2K", "image_urls": ["https://example.com/r.png"],
                          "sequential_image_generation": "auto", "max_images": 2, "watermark": False, "seed": 9})
    result = adapter.submit(the_job)
    assert result.status == ProviderResult.SUCCEEDED and result.upstream_id is None
    assert [(o.width, o.height) for o in result.outputs] == [(64, 64)] * 2
    assert httpx.get(result.outputs[0].url).headers["content-type"] == "image/jpeg"
    assert result.usage["generated_images"] == 2
    sent = fake_upstream.requests("ark.images")[0]
    assert sent["path"] == "/api/v3/images/generations" and sent["auth"]["authorization"] == "Bearer ...4242"
    assert sent["json"] == {"model": "seedream-4-0-250828", "prompt": "a poster", "response_format": "url",
                            "size": "2K", "sequential_image_generation": "auto", "seed": 9, "watermark": False,
                            "image": "https://example.com/r.png",
                            "sequential_image_generation_options": {"max_images": 2}}


def test_seedream_output_moderation_is_content_filtered(fake_upstream):
    the_job = Job(id="gen-2", modality="image", upstream_model="seedream-3-0-t2i-250415", channel=None,
                  params={"prompt": "an unsafe image"})
    with pytest.raises(ContentFiltered) as caught:
        adapter_for(fake_upstream).submit(the_job)
    assert "OutputImageSensitiveContentDetected" in caught.value.message


def test_seedream_bad_size_is_invalid_input(fake_upstream):
    the_job = Job(id="gen-2", modality="image", upstream_model="seedream-3-0-t2i-250415", channel=None,
                  params={"prompt": "a poster", "size": "huge"})
    with pytest.raises(InvalidInput) as caught:
        adapter_for(fake_upstream).submit(the_job)
    assert "`size`" in caught.value.message


# ---- Seedance 1.0 Lite is two models; Seedance 2 takes its own fields --------------------------------
LITE_T2V = "seedance-1-0-lite-t2v-250428"


@pytest.mark.parametrize("params", [
    {"image_url": "https://example.com/first.png"},
    {"image_url": "https://example.com/first.png", "end_image_url": "https://example.com/last.png"},
    {"media_urls": ["https://example.com/a.png", "https://example.com/b.png"]},
])
def test_seedance_lite_with_images_runs_on_the_image_to_video_model(fake_upstream, params):
    adapter = adapter_for(fake_upstream)
    assert adapter.submit(job(LITE_T2V, **params)).status == ProviderResult.PENDING
    assert fake_upstream.requests("ark.create")[-1]["json"]["model"] == "seedance-1-0-lite-i2v-250428"


def test_seedance_lite_text_only_stays_on_the_text_to_video_model(fake_upstream):
    adapter_for(fake_upstream).submit(job(LITE_T2V))
    assert fake_upstream.requests("ark.create")[-1]["json"]["model"] == LITE_T2V


def test_ark_refuses_images_on_the_lite_text_model_and_text_only_on_the_image_model(fake_upstream):
    from apps.providers import http

    channel = ChannelConfig(name="a", adapter="ark", base_url=fake_upstream.url + "/api/v3", api_key="ark-key")
    frame = {"type": "image_url", "image_url": {"url": "https://example.com/f.png"}, "role": "first_frame"}
    url = fake_upstream.url + "/api/v3/contents/generations/tasks"
    with pytest.raises(InvalidInput, match="does not support the first_frame role"):
        http.request(channel, "POST", url, headers=http.bearer("ark-key"), provider="ark",
                     json={"model": LITE_T2V, "content": [{"type": "text", "text": "x"}, frame]})
    with pytest.raises(InvalidInput, match="needs an image"):
        http.request(channel, "POST", url, headers=http.bearer("ark-key"), provider="ark",
                     json={"model": "seedance-1-0-lite-i2v-250428", "content": [{"type": "text", "text": "x"}]})


def test_seedance_2_sends_no_camera_fixed_and_refuses_a_fixed_lens(fake_upstream):
    adapter = adapter_for(fake_upstream)
    adapter.submit(job(SEEDANCE_2, aspect_ratio="16:9", duration=5, resolution="720p", fixed_lens=False,
                       generate_audio=True))
    sent = fake_upstream.requests("ark.create")[-1]["json"]
    assert "camera_fixed" not in sent and sent["generate_audio"] is True
    with pytest.raises(InvalidInput) as caught:
        adapter.submit(job(SEEDANCE_2, fixed_lens=True))
    assert caught.value.fails_over  # fal's Seedance 2 may take it


def test_the_fake_refuses_what_seedance_2_does_not_take(fake_upstream):
    from apps.providers import http

    channel = ChannelConfig(name="a", adapter="ark", base_url=fake_upstream.url + "/api/v3", api_key="ark-key")
    url = fake_upstream.url + "/api/v3/contents/generations/tasks"
    text = {"type": "text", "text": "x"}

    def send(**body):
        http.request(channel, "POST", url, headers=http.bearer("ark-key"), provider="ark", json=body)

    with pytest.raises(InvalidInput, match="`camera_fixed`"):
        send(model=SEEDANCE_2, content=[text], camera_fixed=True)
    with pytest.raises(InvalidInput, match="cannot be mixed"):
        send(model=SEEDANCE_2, content=[text,
             {"type": "image_url", "image_url": {"url": "https://example.com/f.png"}, "role": "first_frame"},
             {"type": "image_url", "image_url": {"url": "https://example.com/r.png"}, "role": "reference_image"}])
    with pytest.raises(InvalidInput, match="resolution"):
        send(model="dreamina-seedance-2-0-fast-260128", content=[text], resolution="1080p")
