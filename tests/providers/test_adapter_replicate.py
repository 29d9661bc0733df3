"""The Replicate adapter against the fake Replicate API over real HTTP on loopback."""
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

VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"


def adapter_for(fake, api_key="r8_secretkey_9876", **options):
    channel = ChannelConfig(name="replicate-test", adapter="replicate", base_url=fake.url + "/v1", api_key=api_key,
                            options={"timeout": 2, **options})
    return get_adapter(channel)


def job(model="black-forest-labs/flux-schnell", modality="image", **params):
    return Job(id="gen-1", modality=modality, upstream_model=model, params={"prompt": "a red fox", **params},
               channel=None)


def run_to_end(adapter, the_job, result, polls=50):
    for _ in range(polls):
        if result.status == ProviderResult.SUCCEEDED:
            return result
        result = adapter.poll(the_job, result.upstream_id)
    raise AssertionError("the prediction never finished")


def test_official_model_success_downloads_real_pngs(fake_upstream):
    fake_upstream.config(instant=True)
    adapter = adapter_for(fake_upstream)
    the_job = job(n=2, aspect_ratio="16:9", seed=7)
    submitted = adapter.submit(the_job)
    assert submitted.status == ProviderResult.PENDING
    assert submitted.upstream_id and submitted.poll_after == 1.0
    done = adapter.poll(the_job, submitted.upstream_id)
    assert done.status == ProviderResult.SUCCEEDED
    assert len(done.outputs) == 2 and all(o.mime == "image/png" for o in done.outputs)
    assert "predict_time" in done.usage
    body = httpx.get(done.outputs[0].url).content
    assert body.startswith(b"\x89PNG")

    sent = fake_upstream.requests("replicate.create_model")[0]
    assert sent["path"] == "/v1/models/black-forest-labs/flux-schnell/predictions"
    assert sent["auth"]["authorization"] == "Bearer ...9876"
    assert sent["json"] == {"input": {"prompt": "a red fox", "num_outputs": 2, "aspect_ratio": "16:9", "seed": 7}}
    assert "prefer" not in sent["headers"]


def test_versioned_model_posts_version_and_maps_image_input(fake_upstream):
    fake_upstream.config(instant=True)
    adapter = adapter_for(fake_upstream, input_map={"acme/animator": {"image_url": "start_image"}})
    the_job = job(f"acme/animator:{VERSION}", modality="video", image_url="https://example.com/a.png", duration=5)
    result = run_to_end(adapter, the_job, adapter.submit(the_job))
    assert [o.mime for o in result.outputs] == ["video/mp4"]
    sent = fake_upstream.requests("replicate.create")[0]
    assert sent["path"] == "/v1/predictions"
    assert sent["json"]["version"] == VERSION
    assert sent["json"]["input"] == {"prompt": "a red fox", "start_image": "https://example.com/a.png", "duration": 5}


def test_async_completion_reports_progress_then_succeeds(fake_upstream):
    fake_upstream.config(job_seconds=0.4)
    adapter = adapter_for(fake_upstream)
    the_job = job()
    submitted = adapter.submit(the_job)
    first = adapter.poll(the_job, submitted.upstream_id)
    assert first.status == ProviderResult.PENDING and first.progress is not None and first.progress < 100
    time.sleep(0.45)
    assert adapter.poll(the_job, submitted.upstream_id).status == ProviderResult.SUCCEEDED


def test_prefer_wait_returns_the_finished_prediction_from_submit(fake_upstream):
    fake_upstream.config(job_seconds=0.1)
    adapter = adapter_for(fake_upstream, prefer_wait=5)
    result = adapter.submit(job())
    assert result.status == ProviderResult.SUCCEEDED and len(result.outputs) == 1
    assert fake_upstream.requests("replicate.create_model")[0]["headers"]["prefer"] == "wait=5"


def test_never_finish_stays_pending(fake_upstream):
    fake_upstream.config(job_seconds=0.01)
    fake_upstream.faults("replicate", never_finish=True)
    adapter = adapter_for(fake_upstream)
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    for _ in range(3):
        assert adapter.poll(the_job, upstream_id).status == ProviderResult.PENDING


def test_fail_late_is_a_permanent_error_with_the_upstream_message(fake_upstream):
    fake_upstream.config(instant=True)
    fake_upstream.faults("replicate", fail_late=True)
    adapter = adapter_for(fake_upstream)
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    with pytest.raises(PermanentError) as caught:
        adapter.poll(the_job, upstream_id)
    assert caught.value.code == "upstream_failed" and "illegal memory access" in caught.value.message
    assert not isinstance(caught.value, ContentFiltered)


def test_nsfw_failure_is_content_filtered(fake_upstream):
    fake_upstream.config(instant=True)
    adapter = adapter_for(fake_upstream)
    the_job = job(prompt="something forbidden")
    with pytest.raises(ContentFiltered) as caught:
        adapter.poll(the_job, adapter.submit(the_job).upstream_id)
    assert "NSFW" in caught.value.message


def test_cancel_reaches_the_fake_and_a_canceled_prediction_is_final(fake_upstream):
    fake_upstream.config(job_seconds=30)
    adapter = adapter_for(fake_upstream)
    assert adapter.supports_cancel
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    adapter.cancel(the_job, upstream_id)
    sent = fake_upstream.requests("replicate.cancel")
    assert [r["path"] for r in sent] == [f"/v1/predictions/{upstream_id}/cancel"]
    with pytest.raises(PermanentError) as caught:
        adapter.poll(the_job, upstream_id)
    assert caught.value.code == "upstream_canceled"


def test_server_error_is_transient(fake_upstream):
    fake_upstream.faults("replicate.create_model", status=500, count=1)
    with pytest.raises(TransientError) as caught:
        adapter_for(fake_upstream).submit(job())
    assert not caught.value.permanent and caught.value.status == 500


def test_timeout_is_upstream_timeout(fake_upstream):
    fake_upstream.config(timeout_seconds=1.0)
    fake_upstream.faults("replicate.create_model", timeout=True, count=1)
    with pytest.raises(UpstreamTimeout):
        adapter_for(fake_upstream, timeout=0.3).submit(job())


def test_rate_limit_carries_retry_after(fake_upstream):
    fake_upstream.faults("replicate.create_model", status=429, retry_after=7, count=1)
    with pytest.raises(RateLimited) as caught:
        adapter_for(fake_upstream).submit(job())
    assert caught.value.retry_after == 7


def test_validation_error_is_invalid_input_with_replicate_detail(fake_upstream):
    with pytest.raises(InvalidInput) as caught:
        adapter_for(fake_upstream).submit(job(n=9))
    assert "num_outputs" in caught.value.message and caught.value.status == 422


def test_refused_token_is_auth_error(fake_upstream):
    with pytest.raises(AuthError) as caught:
        adapter_for(fake_upstream, api_key="invalid-token").submit(job())
    assert "authentication token" in caught.value.message


def test_unknown_model_is_not_found(fake_upstream):
    with pytest.raises(NotFound):
        adapter_for(fake_upstream).submit(job("acme/missing-model"))


def test_malformed_body_is_transient(fake_upstream):
    fake_upstream.faults("replicate.get", malformed=True, count=1)
    adapter = adapter_for(fake_upstream)
    the_job = job()
    upstream_id = adapter.submit(the_job).upstream_id
    with pytest.raises(TransientError) as caught:
        adapter.poll(the_job, upstream_id)
    assert caught.value.code == "upstream_bad_response"


def test_bad_model_name_is_refused_before_any_request(fake_upstream):
    with pytest.raises(InvalidInput):
        adapter_for(fake_upstream).submit(job("not a model"))
    assert fake_upstream.requests("replicate") == []


def test_inputs_are_renamed_per_model_family_and_sizes_translated(fake_upstream):
    adapter = adapter_for(fake_upstream)
    adapter.submit(job("kwaivgi/kling-v2.1-master", modality="video", image_url="https://example.com/s.png",
                       end_image_url="https://example.com/e.png", duration=5, mode="image-to-video"))
    adapter.submit(job("bytedance/seedream-4", size="2K", image_urls=["https://example.com/r.png"]))
    adapter.submit(job(SDXL, size="1024x768", negative_prompt="blur"))
    sent = [r["json"]["input"] for r in fake_upstream.requests("replicate.create_model")]
    assert sent[0] == {"prompt": "a red fox", "start_image": "https://example.com/s.png",
                       "end_image": "https://example.com/e.png", "duration": 5}
    assert sent[1] == {"prompt": "a red fox", "size": "2K", "image_input": ["https://example.com/r.png"]}
    [by_version] = fake_upstream.requests("replicate.create")
    assert by_version["json"]["input"] == {"prompt": "a red fox", "width": 1024, "height": 768,
                                           "negative_prompt": "blur"}


SDXL = "stability-ai/sdxl:39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b"


@pytest.mark.parametrize("upstream, modality, params", [
    (SDXL, "image", {"prompt": "a red fox", "scheduler": "K_EULER"}),
    ("meta/musicgen:671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb", "music",
     {"prompt": "lofi", "duration": 8, "model_version": "stereo-large"}),
    ("jaaari/kokoro-82m:f559560eb822dc509045f3921a1921234918b91739db4bf3daab2169b71c7a13", "speech",
     {"input": "Hello there.", "voice": "af_bella", "speed": 1}),
])
def test_community_models_run_by_version_on_the_predictions_endpoint(fake_upstream, upstream, modality, params):
    adapter = adapter_for(fake_upstream)
    assert adapter.submit(Job(id="g", modality=modality, upstream_model=upstream, params=params,
                              channel=None)).status == ProviderResult.PENDING
    [sent] = fake_upstream.requests("replicate.create")
    assert sent["json"]["version"] == upstream.partition(":")[2]
    assert fake_upstream.requests("replicate.create_model") == []


def test_a_community_model_without_its_version_is_refused_by_the_models_endpoint(fake_upstream):
    with pytest.raises(NotFound) as caught:
        adapter_for(fake_upstream).submit(job("stability-ai/sdxl"))
    assert "not an official model" in caught.value.message and caught.value.fails_over


def test_the_catalog_routes_community_models_by_version():
    from apps.catalog.data import all_models

    community = {"stability-ai/sdxl", "meta/musicgen", "jaaari/kokoro-82m", "lightricks/ltx-video"}
    for entry in all_models():
        for route in entry["routes"]:
            if route["adapter"] == "replicate" and route["model"].partition(":")[0] in community:
                assert ":" in route["model"], f"{entry['slug']} routes {route['model']} without a version"


def test_kokoro_on_replicate_refuses_a_voice_it_does_not_have(fake_upstream):
    with pytest.raises(InvalidInput, match="voice must be one of"):
        adapter_for(fake_upstream).submit(Job(
            id="g", modality="speech", params={"input": "hi", "voice": "af_heart"}, channel=None,
            upstream_model="jaaari/kokoro-82m:f559560eb822dc509045f3921a1921234918b91739db4bf3daab2169b71c7a13"))


# ---- OpenAI's models on Replicate run on the caller's OpenAI key -----------------------------------
@pytest.fixture
def openai_channel(db):
    from apps.catalog.models import Channel

    channel = Channel(name="OpenAI", adapter="openai")
    channel.api_key = "sk-openai-own-9999"
    channel.save()
    return channel


def gpt_image_job(**params):
    return Job(id="g", modality="image", upstream_model="openai/gpt-image-1", channel=None,
               params={"prompt": "a red fox", "size": "1536x1024", "quality": "high", "n": 2,
                       "image_urls": ["https://example.com/r.png"], **params})


def test_gpt_image_on_replicate_gets_the_openai_key_and_its_own_input_names(fake_upstream, openai_channel):
    adapter = adapter_for(fake_upstream, openai_key_channel="OpenAI")
    assert adapter.submit(gpt_image_job()).status == ProviderResult.PENDING
    sent = fake_upstream.requests("replicate.create_model")[-1]["json"]["input"]
    assert sent == {"openai_api_key": "sk-openai-own-9999", "prompt": "a red fox", "aspect_ratio": "3:2",
                    "quality": "high", "number_of_images": 2, "input_images": ["https://example.com/r.png"]}


def test_gpt_image_on_replicate_without_an_openai_key_is_a_channel_problem(fake_upstream):
    with pytest.raises(PermanentError) as caught:
        adapter_for(fake_upstream).submit(gpt_image_job())
    assert caught.value.code == "channel_misconfigured" and caught.value.fails_over
    assert fake_upstream.requests("replicate") == []


def test_the_fake_refuses_gpt_image_without_its_required_inputs(fake_upstream):
    from apps.providers import http

    channel = ChannelConfig(name="r", adapter="replicate", base_url=fake_upstream.url + "/v1", api_key="r8_x")
    with pytest.raises(InvalidInput, match="openai_api_key is required"):
        http.request(channel, "POST", fake_upstream.url + "/v1/models/openai/gpt-image-1/predictions",
                     headers=http.bearer("r8_x"), provider="replicate",
                     json={"input": {"prompt": "x", "width": 1536, "height": 1024}})
    with pytest.raises(InvalidInput, match="aspect_ratio must be one of"):
        http.request(channel, "POST", fake_upstream.url + "/v1/models/openai/gpt-image-1/predictions",
                     headers=http.bearer("r8_x"), provider="replicate",
                     json={"input": {"prompt": "x", "openai_api_key": "sk", "aspect_ratio": "16:9"}})


def text_job(**params):
    return Job(id="gen-5", modality="text", upstream_model="deepseek-ai/deepseek-v3", params=params, channel=None)


def test_language_model_answer_is_text_with_token_usage(fake_upstream):
    fake_upstream.config(instant=True)
    adapter = adapter_for(fake_upstream)
    the_job = text_job(prompt="hello there", system="Be kind.", max_tokens=64, temperature=0.5, stop="END",
                       stream=False)
    result = adapter.poll(the_job, adapter.submit(the_job).upstream_id)
    assert result.text == "You said: hello there" and result.outputs == []
    assert result.usage == {"input_tokens": 2, "output_tokens": 4}
    sent = fake_upstream.requests("replicate.create_model")[0]["json"]
    assert sent == {"input": {"max_tokens": 64, "temperature": 0.5, "stop_sequences": "END",
                              "prompt": "hello there", "system_prompt": "Be kind."}}


def test_messages_become_a_transcript_and_a_system_prompt(fake_upstream):
    adapter_for(fake_upstream).submit(text_job(messages=[
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"}, {"role": "user", "content": [{"type": "text", "text": "and?"}]}]))
    sent = fake_upstream.requests("replicate.create_model")[0]["json"]["input"]
    assert sent == {"system_prompt": "Be brief.", "prompt": "User: hi\n\nAssistant: hello\n\nUser: and?\n\nAssistant:"}


def test_streaming_reads_the_sse_stream_without_the_key_then_usage(fake_upstream):
    chunks = list(adapter_for(fake_upstream).stream_chat(text_job(prompt="stream this")))
    assert "".join(c.delta for c in chunks) == "You said: stream this"
    assert chunks[-1].finish_reason == "stop" and chunks[-1].usage == {"input_tokens": 2, "output_tokens": 4}
    assert fake_upstream.requests("replicate.create_model")[0]["json"]["stream"] is True
    assert fake_upstream.requests("replicate.stream")[0]["auth"] == {}


def test_stream_error_event_is_a_permanent_error(fake_upstream):
    with pytest.raises(ContentFiltered):
        list(adapter_for(fake_upstream).stream_chat(text_job(prompt="forbidden words")))


# ---- Kling's own mode input, FLUX.2 and Wan 3.0 -------------------------------------------------
def test_kling_2_1_gets_the_mode_the_user_paid_for(fake_upstream):
    """Pro (1080p) costs 1.8x standard; the mode used to be dropped, so Replicate ran its default."""
    fake_upstream.config(instant=True)
    the_job = job("kwaivgi/kling-v2.1", modality="video", image_url="https://example.com/s.png",
                  end_image_url="https://example.com/e.png", mode="pro", duration=10)
    run_to_end(adapter_for(fake_upstream), the_job, adapter_for(fake_upstream).submit(the_job))
    sent = fake_upstream.requests("replicate.create_model")[0]["json"]["input"]
    assert sent == {"prompt": "a red fox", "start_image": "https://example.com/s.png",
                    "end_image": "https://example.com/e.png", "mode": "pro", "duration": 10}


def test_kling_3_sends_its_inputs_under_replicates_names(fake_upstream):
    the_job = job("kwaivgi/kling-v3-video", modality="video", image_url="https://example.com/s.png", duration=12,
                  mode="standard", generate_audio=True, negative_prompt="blur", aspect_ratio="9:16")
    assert adapter_for(fake_upstream).submit(the_job).status == ProviderResult.PENDING
    sent = fake_upstream.requests("replicate.create_model")[0]
    assert sent["path"] == "/v1/models/kwaivgi/kling-v3-video/predictions"
    assert sent["json"]["input"] == {"prompt": "a red fox", "start_image": "https://example.com/s.png",
                                     "duration": 12, "mode": "standard", "generate_audio": True,
                                     "negative_prompt": "blur", "aspect_ratio": "9:16"}


@pytest.mark.parametrize("model, params, problem", [
    ("kwaivgi/kling-v2.1", {"image": "https://example.com/s.png"}, "start_image is required"),
    ("kwaivgi/kling-v3-video", {"duration": 20}, "less than or equal to 15"),
    ("kwaivgi/kling-v3-video", {"mode": "std"}, "mode must be one of"),
    ("black-forest-labs/flux-2-pro", {"safety_tolerance": 6}, "less than or equal to 5"),
    ("alibaba/wan-3", {"resolution": "4k"}, "resolution must be one of"),
])
def test_the_fake_refuses_what_these_models_refuse(fake_upstream, model, params, problem):
    with pytest.raises(InvalidInput, match=problem):
        adapter_for(fake_upstream).submit(job(model, modality="video", **params))


def test_flux_2_pro_takes_its_references_as_input_images(fake_upstream):
    adapter_for(fake_upstream).submit(job("black-forest-labs/flux-2-pro", aspect_ratio="3:2", safety_tolerance=5,
                                          image_urls=["https://example.com/a.png", "https://example.com/b.png"]))
    sent = fake_upstream.requests("replicate.create_model")[0]["json"]["input"]
    assert sent == {"prompt": "a red fox", "aspect_ratio": "3:2", "safety_tolerance": 5,
                    "input_images": ["https://example.com/a.png", "https://example.com/b.png"]}


def test_the_new_catalog_models_route_to_replicate_with_their_schema(fake_upstream):
    """Each model's default parameters, as the catalog would send them, pass the fake's schema."""
    from apps.catalog.data import all_models

    for entry in all_models():
        if entry["slug"] not in ("kling-3", "flux-2-pro", "wan-3"):
            continue
        [route] = [r for r in entry["routes"] if r["adapter"] == "replicate"]
        params = {f["name"]: f["default"] for f in entry["schema"]["fields"] if "default" in f}
        params["prompt"] = "a red fox on a hill"
        the_job = Job(id="g", modality=entry["modality"], upstream_model=route["model"], params=params, channel=None)
        assert adapter_for(fake_upstream).submit(the_job).status == ProviderResult.PENDING, entry["slug"]


def test_minimax_speech_gets_the_voice_as_voice_id(fake_upstream):
    """Replicate's minimax/speech-02-hd names the voice voice_id; "voice" was ignored there."""
    adapter_for(fake_upstream).submit(Job(id="s", modality="speech", upstream_model="minimax/speech-02-hd",
                                          channel=None, params={"input": "Hello there.", "voice": "Calm_Woman",
                                                                "emotion": "calm", "speed": 1.1}))
    sent = fake_upstream.requests("replicate.create_model")[0]["json"]["input"]
    assert sent == {"text": "Hello there.", "voice_id": "Calm_Woman", "emotion": "calm", "speed": 1.1}
