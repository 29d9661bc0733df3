"""The openai_video adapter (Sora Videos API): submit, poll, download, cancel, faults."""
from __future__ import annotations

import io
import time

import av
import pytest

from apps.providers.base import (
    AuthError, ChannelConfig, ContentFiltered, InvalidInput, Job, PermanentError, RateLimited, TransientError,
    UpstreamTimeout,
)
from apps.providers.registry import get_adapter
from tests.fakes import media
from tests.fakes.core import state


def video(fake, key="sk-test-1234", **options):
    channel = ChannelConfig(name="sora", adapter="openai_video", base_url=fake.url + "/v1", api_key=key,
                            options=options)
    return channel, get_adapter(channel)


def job(channel, model="sora-2", **params):
    params.setdefault("prompt", "a paper boat on a river")
    return Job(id="g", modality="video", upstream_model=model, params=params, channel=channel)


def poll_until_done(adapter, the_job, upstream_id, limit=5.0):
    deadline = time.monotonic() + limit
    while True:
        result = adapter.poll(the_job, upstream_id)
        if result.status != "pending" or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def test_submit_pending_then_succeeded_with_a_real_mp4(fake_upstream):
    fake_upstream.config(job_seconds=0.3)
    channel, adapter = video(fake_upstream)
    the_job = job(channel, seconds=8, size="1280x720")
    submitted = adapter.submit(the_job)
    assert submitted.status == "pending" and submitted.upstream_id.startswith("video_")
    assert submitted.poll_after > 0
    early = adapter.poll(the_job, submitted.upstream_id)
    assert early.status == "pending" and 0 <= early.progress < 100
    done = poll_until_done(adapter, the_job, submitted.upstream_id)
    assert done.status == "succeeded"
    [output] = done.outputs
    assert output.mime == "video/mp4" and (output.width, output.height, output.duration) == (1280, 720, 8.0)
    assert av.open(io.BytesIO(output.data)).streams.video[0].frames > 0
    sent = fake_upstream.requests("openai.videos.create")[-1]
    assert sent["headers"]["content-type"].startswith("multipart/form-data")
    assert sent["auth"]["authorization"] == "Bearer ...1234"
    content = fake_upstream.requests("openai.videos.content")[-1]
    assert content["query"] == {"variant": ["video"]}


def test_aspect_ratio_and_duration_params(fake_upstream):
    fake_upstream.config(instant=True)
    channel, adapter = video(fake_upstream)
    submitted = adapter.submit(job(channel, duration=4, aspect_ratio="9:16", resolution="720p"))
    assert state.jobs[submitted.upstream_id]["size"] == "720x1280"
    assert state.jobs[submitted.upstream_id]["seconds"] == "4"
    assert adapter.poll(job(channel), submitted.upstream_id).status == "succeeded"  # instant mode


def test_image_reference_is_uploaded(fake_upstream):
    fake_upstream.config(instant=True)
    channel, adapter = video(fake_upstream)
    source = state.file_url(media.png(16, 16, "ref"), "image/png")
    submitted = adapter.submit(job(channel, image_url=source))
    assert state.jobs[submitted.upstream_id]["has_reference"] is True


def test_never_finish_stays_pending(fake_upstream):
    fake_upstream.config(job_seconds=0.05)
    fake_upstream.faults("openai.videos", never_finish=True)
    channel, adapter = video(fake_upstream)
    submitted = adapter.submit(job(channel))
    time.sleep(0.1)
    for _ in range(3):
        assert adapter.poll(job(channel), submitted.upstream_id).status == "pending"


def test_fail_late_is_a_permanent_failure(fake_upstream):
    fake_upstream.config(job_seconds=0.05)
    fake_upstream.faults("openai.videos", fail_late=True)
    channel, adapter = video(fake_upstream)
    submitted = adapter.submit(job(channel))
    time.sleep(0.1)
    with pytest.raises(PermanentError) as caught:
        adapter.poll(job(channel), submitted.upstream_id)
    assert caught.value.code == "upstream_failed"
    assert "Video generation failed" in caught.value.message


def test_cancel_deletes_the_video(fake_upstream):
    channel, adapter = video(fake_upstream)
    submitted = adapter.submit(job(channel))
    adapter.cancel(job(channel), submitted.upstream_id)
    assert fake_upstream.requests("openai.videos.delete")[-1]["method"] == "DELETE"
    adapter.cancel(job(channel), submitted.upstream_id)  # already gone: no error


def test_moderation_block_is_content_filtered(fake_upstream):
    channel, adapter = video(fake_upstream)
    with pytest.raises(ContentFiltered):
        adapter.submit(job(channel, prompt="forbidden scene"))


def test_bad_seconds_is_invalid_with_message(fake_upstream):
    channel, adapter = video(fake_upstream)
    with pytest.raises(InvalidInput) as caught:
        adapter.submit(job(channel, seconds=7))
    assert "Invalid value: '7'" in caught.value.message


@pytest.mark.parametrize("fault, error", [
    ({"status": 500}, TransientError),
    ({"status": 429, "retry_after": 9}, RateLimited),
    ({"status": 401}, AuthError),
    ({"malformed": True}, TransientError),
])
def test_submit_errors(fake_upstream, fault, error):
    fake_upstream.faults("openai.videos.create", **fault)
    channel, adapter = video(fake_upstream)
    with pytest.raises(error) as caught:
        adapter.submit(job(channel))
    if "retry_after" in fault:
        assert caught.value.retry_after == 9.0


def test_poll_timeout(fake_upstream):
    channel, adapter = video(fake_upstream, timeout=0.3)
    submitted = adapter.submit(job(channel))
    fake_upstream.faults("openai.videos.get", timeout=True)
    with pytest.raises(UpstreamTimeout):
        adapter.poll(job(channel), submitted.upstream_id)
