"""The fal adapter against the fake fal queue API over real HTTP on loopback."""
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
    PermanentError,
    ProviderResult,
    RateLimited,
    TransientError,
    UpstreamTimeout,
)
from apps.providers.registry import get_adapter


def adapter_for(fake, api_key="fal-key-abcd1234", **options):
    channel = ChannelConfig(name="fal-test", adapter="fal", base_url=fake.url + "/fal", api_key=api_key,
                            options={"timeout": 2, **options})
    return get_adapter(channel)


def job(model="fal-ai/flux/dev", modality="image", **params):
    return Job(id="gen-1", modality=modality, upstream_model=model, params={"prompt": "a lighthouse", **params},
               channel=None)


def test_image_success_through_the_queue(fake_upstream):
    fake_upstream.config(instant=True)
    adapter = adapter_for(fake_upstream)
    the_job = job(n=2, size="1024x768", seed=3)
    submitted = adapter.submit(the_job)
    assert submitted.status == ProviderResult.PENDING and submitted.upstream_id and submitted.poll_after == 1.0
    done = adapter.poll(the_job, submitted.upstream_id)
    assert done.status == ProviderResult.SUCCEEDED
    assert [(o.mime, o.width, o.height) for o in done.outputs] == [("image/png", 64, 64)] * 2
    assert httpx.get(done.outputs[1].url).content.startswith(b"\x89PNG")
    assert done.usage == {"inference_time": 0.5}

    sent = fake_upstream.requests("fal.submit")[0]
    assert sent["path"] == "/fal/fal-ai/flux/dev"
    assert sent["auth"]["authorization"] == "Key ...1234"
    assert sent["json"] == {"prompt": "a lighthouse", "num_images": 2, "image_size": {"width": 1024, "height": 768},
                            "seed": 3}
    # Status and result live under owner/app, without the endpoint path.
    paths = [r["path"] for r in fake_upstream.requests("fal") if r["method"] == "GET"]
    assert paths == [f"/fal/fal-ai/flux/requests/{submitted.upstream_id}/status",
                     f"/fal/fal-ai/flux/requests/{submitted.upstream_id}"]


def test_video_from_a_deep_endpoint_path(fake_upstream):
    fake_upstream.config(instant=True)
    adapter = adapter_for(fake_upstream)
    the_job = job("fal-ai/kling-video/v2.1/master/image-to-video", modality="video",
                  image_url="https://example.com/a.png", duration="5", aspect_ratio="16:9")
    submitted = adapter.submit(the_job)
    assert submitted.poll_after == 5.0
    done = adapter.poll(the_job, submitted.upstream_id)
    assert [o.mime for o in done.outputs] == ["video/mp4"]
    assert fake_upstream.requests("fal.submit")[0]["json"]["image_url"] == "https://example.com/a.png"


def test_pending_while_queued_and_running_then_completed(fake_upstream):
    fake_upstream.config(job_seconds=0.4)
    adapter = adapter_for(fake_upstream)
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    queued = adapter.poll(the_job, upstream_id)
    running = adapter.poll(the_job, upstream_id)
    assert queued.status == running.status == ProviderResult.PENDING
    assert running.progress is not None and 0 <= running.progress < 100
    time.sleep(0.45)
    assert adapter.poll(the_job, upstream_id).status == ProviderResult.SUCCEEDED


def test_never_finish_stays_pending(fake_upstream):
    fake_upstream.config(job_seconds=0.01)
    fake_upstream.faults("fal.submit", never_finish=True)
    adapter = adapter_for(fake_upstream)
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    time.sleep(0.05)
    assert all(adapter.poll(the_job, upstream_id).status == ProviderResult.PENDING for _ in range(3))


def test_fail_late_is_permanent_with_fal_error(fake_upstream):
    fake_upstream.config(instant=True)
    fake_upstream.faults("fal.submit", fail_late=True)
    adapter = adapter_for(fake_upstream)
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    with pytest.raises(PermanentError) as caught:
        adapter.poll(the_job, upstream_id)
    assert caught.value.code == "upstream_failed" and "Runner disconnected" in caught.value.message


def test_nsfw_flags_drop_images_and_all_flagged_is_content_filtered(fake_upstream):
    fake_upstream.config(instant=True)
    adapter = adapter_for(fake_upstream)
    two = job(n=2, fake_flag_first=True)
    assert len(adapter.poll(two, adapter.submit(two).upstream_id).outputs) == 1
    one = job(n=1, fake_flag_first=True)
    with pytest.raises(ContentFiltered):
        adapter.poll(one, adapter.submit(one).upstream_id)


def test_content_policy_422_is_content_filtered(fake_upstream):
    with pytest.raises(ContentFiltered) as caught:
        adapter_for(fake_upstream).submit(job(prompt="a forbidden thing"))
    assert "content checker" in caught.value.message


def test_validation_422_is_invalid_input_with_the_field(fake_upstream):
    with pytest.raises(InvalidInput) as caught:
        adapter_for(fake_upstream).submit(job(prompt=""))
    assert "prompt" in caught.value.message and "field required" in caught.value.message


def test_cancel_reaches_the_fake_and_the_request_ends_canceled(fake_upstream):
    fake_upstream.config(job_seconds=30)
    adapter = adapter_for(fake_upstream)
    assert adapter.supports_cancel
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    adapter.cancel(the_job, upstream_id)
    sent = fake_upstream.requests("fal.cancel")
    assert [(r["method"], r["path"]) for r in sent] == [("PUT", f"/fal/fal-ai/flux/requests/{upstream_id}/cancel")]
    with pytest.raises(PermanentError) as caught:
        adapter.poll(the_job, upstream_id)
    assert caught.value.code == "upstream_canceled"
    adapter.cancel(the_job, upstream_id)  # already completed: answered 400, nothing to do


def test_server_error_is_transient(fake_upstream):
    fake_upstream.faults("fal.submit", status=503, count=1)
    with pytest.raises(TransientError) as caught:
        adapter_for(fake_upstream).submit(job())
    assert not caught.value.permanent


def test_server_error_while_polling_status_stays_transient(fake_upstream):
    adapter = adapter_for(fake_upstream)
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    fake_upstream.faults("fal.status", status=500, count=1)
    with pytest.raises(TransientError):
        adapter.poll(the_job, upstream_id)


def test_timeout(fake_upstream):
    fake_upstream.config(timeout_seconds=1.0)
    fake_upstream.faults("fal.submit", timeout=True, count=1)
    with pytest.raises(UpstreamTimeout):
        adapter_for(fake_upstream, timeout=0.3).submit(job())


def test_rate_limited_with_retry_after(fake_upstream):
    fake_upstream.faults("fal.submit", status=429, retry_after=12, count=1)
    with pytest.raises(RateLimited) as caught:
        adapter_for(fake_upstream).submit(job())
    assert caught.value.retry_after == 12


def test_bad_key_is_auth_error(fake_upstream):
    with pytest.raises(AuthError):
        adapter_for(fake_upstream, api_key="invalid").submit(job())


def test_malformed_status_body_is_transient(fake_upstream):
    adapter = adapter_for(fake_upstream)
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    fake_upstream.faults("fal.status", malformed=True, count=1)
    with pytest.raises(TransientError) as caught:
        adapter.poll(the_job, upstream_id)
    assert caught.value.code == "upstream_bad_response"


def test_request_ids_are_checked_before_they_reach_a_url(fake_upstream):
    with pytest.raises(InvalidInput):
        adapter_for(fake_upstream).poll(job(), "../../v1/predictions")
    assert fake_upstream.requests("fal") == []


@pytest.mark.django_db
def test_a_generation_runs_through_atelier_and_stores_every_image(owner, fake_upstream, monkeypatch):
    from apps.catalog.models import AIModel, Channel
    from apps.generations.models import Generation
    from apps.generations.services import generation_poll, generation_run, generation_submit

    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)
    monkeypatch.setattr("apps.generations.services._enqueue_poll", lambda gid, countdown: None)
    fake_upstream.config(instant=True)
    model = AIModel.objects.create(
        slug="flux-dev-test", name="FLUX dev test", vendor="BFL", modality="image",
        schema={"fields": [{"name": "prompt", "type": "text", "required": True},
                           {"name": "n", "type": "integer", "min": 1, "max": 4, "default": 1}]},
        pricing={"unit": "image", "credits": "2", "count": "n"},
    )
    model.routes.create(adapter="fal", upstream_model="fal-ai/flux/dev")
    channel = Channel.objects.create(name="fal-main", adapter="fal", base_url=fake_upstream.url + "/fal",
                                     options={"timeout": 5})
    channel.api_key = "fal-main-2222"
    channel.save()
    generation, _ = generation_submit(user=owner, workspace=owner.current_workspace, model=model,
                                      raw_params={"prompt": "a lighthouse", "n": 2})
    generation_run(generation_id=generation.pk)
    Generation.objects.filter(pk=generation.pk).update(next_check_at=generation.created_at)
    generation_poll(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED, generation.error_message
    outputs = list(generation.outputs.all())
    assert [(o.kind, o.mime, o.width) for o in outputs] == [("image", "image/png", 64)] * 2
    assert all(o.thumbnail for o in outputs) and generation.charged == 4_000


@pytest.mark.parametrize("model, params, endpoint, expected", [
    ("fal-ai/flux/dev", {"aspect_ratio": "16:9", "guidance": 3.5, "output_format": "webp", "n": 2, "seed": -1},
     "fal-ai/flux/dev", {"image_size": "landscape_16_9", "guidance_scale": 3.5, "num_images": 2}),
    ("fal-ai/flux/schnell", {"aspect_ratio": "21:9", "output_format": "jpg"},
     "fal-ai/flux/schnell", {"image_size": {"width": 1568, "height": 672}, "output_format": "jpeg"}),
    ("fal-ai/bytedance/seedance/v1/pro/text-to-video",
     {"image_url": "https://e.com/s.png", "duration": 5, "camera_fixed": True, "fps": 24},
     "fal-ai/bytedance/seedance/v1/pro/image-to-video",
     {"image_url": "https://e.com/s.png", "duration": "5", "camera_fixed": True}),
    ("fal-ai/veo3.1", {"image_url": "https://e.com/s.png", "end_image_url": "https://e.com/e.png", "duration": 8},
     "fal-ai/veo3.1/first-last-frame-to-video",
     {"first_frame_url": "https://e.com/s.png", "last_frame_url": "https://e.com/e.png", "duration": "8s"}),
    ("fal-ai/veo3/fast", {"duration": 6, "generate_audio": False},
     "fal-ai/veo3/fast", {"duration": "6s", "generate_audio": False}),
    ("fal-ai/kling-video/v2.1/master/text-to-video",
     {"image_url": "https://e.com/s.png", "end_image_url": "https://e.com/e.png", "cfg_scale": 0.5},
     "fal-ai/kling-video/v2.1/master/image-to-video",
     {"image_url": "https://e.com/s.png", "tail_image_url": "https://e.com/e.png", "cfg_scale": 0.5}),
    ("fal-ai/nano-banana", {"image_urls": ["https://e.com/a.png"], "aspect_ratio": "1:1"},
     "fal-ai/nano-banana/edit", {"image_urls": ["https://e.com/a.png"], "aspect_ratio": "1:1"}),
    ("fal-ai/flux-pro/kontext", {"aspect_ratio": "match_input_image", "safety_tolerance": 2},
     "fal-ai/flux-pro/kontext/text-to-image", {"safety_tolerance": "2"}),
    ("fal-ai/flux-pro/kontext", {"input_image": "https://e.com/a.png"},
     "fal-ai/flux-pro/kontext", {"image_url": "https://e.com/a.png"}),
    ("fal-ai/bytedance/seedream/v4/text-to-image", {"size": "4K", "image_urls": ["https://e.com/a.png"],
                                                    "sequential_image_generation": "auto", "max_images": 3},
     "fal-ai/bytedance/seedream/v4/edit",
     {"image_size": "auto_4K", "image_urls": ["https://e.com/a.png"], "max_images": 3}),
    ("fal-ai/imagen4/preview", {"image_size": "2K", "n": 1}, "fal-ai/imagen4/preview",
     {"resolution": "2K", "num_images": 1}),
])
def test_endpoints_and_inputs_follow_each_model_family(fake_upstream, model, params, endpoint, expected):
    fake_upstream.config(instant=True)
    adapter = adapter_for(fake_upstream)
    the_job = job(model, **params)
    upstream_id = adapter.submit(the_job).upstream_id
    sent = fake_upstream.requests("fal.submit")[0]
    assert sent["path"] == "/fal/" + endpoint
    assert sent["json"] == {"prompt": "a lighthouse", **expected}
    # Status and result stay under owner/app whatever endpoint took the request.
    assert adapter.poll(the_job, upstream_id).status == ProviderResult.SUCCEEDED


def test_speech_and_music_inputs_and_audio_outputs(fake_upstream):
    fake_upstream.config(instant=True)
    adapter = adapter_for(fake_upstream)
    speech = Job(id="gen-6", modality="speech", upstream_model="fal-ai/elevenlabs/tts/multilingual-v2",
                 params={"input": "Good evening.", "voice": "Rachel", "stability": 0.5}, channel=None)
    done = adapter.poll(speech, adapter.submit(speech).upstream_id)
    assert [o.mime for o in done.outputs] == ["audio/mpeg"]
    music = Job(id="gen-7", modality="music", upstream_model="fal-ai/minimax-music/v1.5",
                params={"prompt": "lofi", "lyrics": "[verse] la la la"}, channel=None)
    adapter.submit(music)
    sent = [r["json"] for r in fake_upstream.requests("fal.submit")]
    assert sent[0] == {"text": "Good evening.", "voice": "Rachel", "stability": 0.5}
    assert sent[1] == {"prompt": "lofi", "lyrics_prompt": "[verse] la la la"}


# ---- the fake refuses what fal's endpoint schemas refuse -------------------------------------------
@pytest.mark.parametrize("model, payload, problem", [
    ("fal-ai/flux/dev", {"image_size": "16:9"}, "ImageSize"),
    ("fal-ai/flux/dev", {"output_format": "webp"}, "Input should be 'jpeg', 'png'"),
    ("fal-ai/flux/dev", {"num_images": 5}, "between 1 and 4"),
    ("fal-ai/veo3.1", {"duration": 8}, "Input should be '4s', '6s', '8s'"),
    ("fal-ai/veo3/fast", {"resolution": "4k"}, "Input should be '720p', '1080p'"),
])
def test_the_fake_refuses_inputs_outside_the_endpoint_schema(fake_upstream, model, payload, problem):
    from apps.providers import http

    channel = ChannelConfig(name="f", adapter="fal", base_url=fake_upstream.url + "/fal", api_key="k")
    with pytest.raises(InvalidInput, match=problem):
        http.request(channel, "POST", f"{fake_upstream.url}/fal/{model}", headers={"Authorization": "Key k"},
                     provider="fal", json={"prompt": "a lighthouse", **payload})


def test_atelier_values_reach_fal_in_its_own_types(fake_upstream):
    """Aspect ratios become FLUX's image_size presets, jpg becomes jpeg, Veo durations "8s": each of
    these would be a 422 upstream as Atelier names them."""
    adapter = adapter_for(fake_upstream)
    adapter.submit(job(aspect_ratio="16:9", output_format="jpg", n=4))
    adapter.submit(job("fal-ai/veo3.1", modality="video", duration=8, resolution="4k", generate_audio=True))
    flux, veo = [r["json"] for r in fake_upstream.requests("fal.submit")]
    assert flux == {"prompt": "a lighthouse", "image_size": "landscape_16_9", "output_format": "jpeg",
                    "num_images": 4}
    assert veo == {"prompt": "a lighthouse", "duration": "8s", "resolution": "4k", "generate_audio": True}


def test_flux_dev_image_to_image_goes_to_its_endpoint_with_strength(fake_upstream):
    """FLUX.1 [dev]'s text endpoint has no source image or strength (fal drops them, so the image was
    ignored); with a source image the job goes to fal-ai/flux/dev/image-to-image."""
    adapter = adapter_for(fake_upstream)
    adapter.submit(job(prompt_strength=0.8, n=1))
    adapter.submit(job(image_url="https://example.com/src.png", prompt_strength=0.6))
    text, image = fake_upstream.requests("fal.submit")
    assert text["path"] == "/fal/fal-ai/flux/dev" and "prompt_strength" not in text["json"]
    assert image["path"] == "/fal/fal-ai/flux/dev/image-to-image"
    assert image["json"] == {"prompt": "a lighthouse", "image_url": "https://example.com/src.png", "strength": 0.6}


def test_minimax_speech_takes_its_voice_under_voice_setting(fake_upstream):
    """fal's MiniMax speech schema nests voice_id, speed, vol, pitch and emotion in voice_setting and
    the encoding in audio_setting; flat fields were dropped, so every job spoke as the default voice."""
    adapter_for(fake_upstream).submit(Job(
        id="s", modality="speech", upstream_model="fal-ai/minimax/speech-02-hd", channel=None,
        params={"input": "Hello there.", "voice": "Deep_Voice_Man", "speed": 1.2, "pitch": -2, "volume": 2,
                "emotion": "happy", "sample_rate": 44100}))
    [sent] = fake_upstream.requests("fal.submit")
    assert sent["json"] == {"text": "Hello there.", "output_format": "url",
                            "voice_setting": {"voice_id": "Deep_Voice_Man", "speed": 1.2, "pitch": -2, "vol": 2,
                                              "emotion": "happy"},
                            "audio_setting": {"sample_rate": 44100}}
