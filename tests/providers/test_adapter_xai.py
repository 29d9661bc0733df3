"""The xai (Grok Imagine Video) adapter against the fake xAI video API over real HTTP."""
from __future__ import annotations

import pytest

from apps.providers.base import AuthError, ChannelConfig, ContentFiltered, InvalidInput, Job, NotFound, ProviderResult
from apps.providers.registry import get_adapter

MODEL = "grok-imagine-video-1.5"


def adapter_for(fake, key="xai-key-2468"):
    channel = ChannelConfig(name="xai", adapter="xai", base_url=fake.url + "/xai", api_key=key)
    return get_adapter(channel)


def job(model=MODEL, **params):
    return Job(id="g", modality="video", upstream_model=model, params={"prompt": "neon city at night", **params},
               channel=None)


def test_text_to_video_then_the_video_url(fake_upstream):
    fake_upstream.config(instant=True)
    adapter = adapter_for(fake_upstream)
    the_job = job(duration=5, aspect_ratio="16:9", resolution="720p", generate_audio=True)
    submitted = adapter.submit(the_job)
    assert submitted.status == ProviderResult.PENDING and submitted.upstream_id.startswith("vid_")
    sent = fake_upstream.requests("xai.create")[-1]
    assert sent["auth"]["authorization"] == "Bearer ...2468"
    assert sent["json"] == {"model": MODEL, "prompt": "neon city at night", "duration": 5, "aspect_ratio": "16:9",
                            "resolution": "720p"}
    done = adapter.poll(the_job, submitted.upstream_id)
    [video] = done.outputs
    assert done.status == ProviderResult.SUCCEEDED and video.mime == "video/mp4" and video.duration == 5


def test_a_start_image_travels_as_an_image_object(fake_upstream):
    adapter_for(fake_upstream).submit(job(image_url="https://example.com/start.png"))
    assert fake_upstream.requests("xai.create")[-1]["json"]["image"] == {"url": "https://example.com/start.png"}


def test_pending_then_moderation_failure(fake_upstream):
    fake_upstream.config(job_seconds=30)
    adapter = adapter_for(fake_upstream)
    the_job = job(prompt="something forbidden")
    submitted = adapter.submit(the_job)
    assert adapter.poll(the_job, submitted.upstream_id).status == ProviderResult.PENDING
    fake_upstream.config(instant=True)
    submitted = adapter.submit(the_job)
    with pytest.raises(ContentFiltered):
        adapter.poll(the_job, submitted.upstream_id)


@pytest.mark.parametrize("params, message", [
    ({"duration": 20}, "between 1 and 15"),
    ({"aspect_ratio": "21:9"}, "aspect_ratio"),
    ({"resolution": "1080p"}, "not supported by grok-imagine-video-1.5-lite"),
])
def test_the_fake_refuses_what_the_api_does_not_take(fake_upstream, params, message):
    with pytest.raises(InvalidInput, match=message):
        adapter_for(fake_upstream).submit(job("grok-imagine-video-1.5-lite", **params))


def test_unknown_model_and_bad_key(fake_upstream):
    with pytest.raises(NotFound):
        adapter_for(fake_upstream).submit(job("grok-imagine-video-9"))
    with pytest.raises(AuthError):
        adapter_for(fake_upstream, key="bad-key").submit(job())


def test_contract_the_documented_answers_parse():
    """The answers xAI's clients read: {"request_id"} on submit; pending, then done with video.url."""
    from apps.providers.adapters.xai import XAIAdapter

    adapter = XAIAdapter(ChannelConfig(name="x", adapter="xai"))
    adapter._json = lambda method, path, **kw: {"status": "done", "model": MODEL,
                                                 "video": {"url": "https://vidgen.x.ai/v/1.mp4", "duration": 8}}
    result = adapter.poll(job(), "d6a4f3c2-0000-4000-8000-000000000000")
    assert result.outputs[0].url == "https://vidgen.x.ai/v/1.mp4" and result.outputs[0].duration == 8.0
