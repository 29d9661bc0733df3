"""The pollinations adapter against the fake gen.pollinations.ai over real HTTP."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from apps.providers.base import (
    AuthError, ChannelConfig, ContentFiltered, InvalidInput, Job, RateLimited, TransientError, UpstreamTimeout,
)
from apps.providers.registry import get_adapter


def run(fake, modality, model, key="sk_test_5678", options=None, **params):
    channel = ChannelConfig(name="pol", adapter="pollinations", base_url=fake.url, api_key=key, options=options or {})
    return get_adapter(channel).submit(Job(id="g", modality=modality, upstream_model=model, params=params,
                                           channel=channel))


def test_image_bytes_and_query(fake_upstream):
    result = run(fake_upstream, "image", "flux", prompt="a cat / on a mat?", size="1024x768", seed=42,
                 negative_prompt="blurry")
    [output] = result.outputs
    assert output.mime == "image/jpeg" and (output.width, output.height) == (1024, 768)
    assert Image.open(io.BytesIO(output.data)).size == (64, 48)
    sent = fake_upstream.requests("pollinations.image")[-1]
    assert sent["path"] == "/image/a%20cat%20%2F%20on%20a%20mat%3F"  # the whole prompt is one path segment
    assert sent["auth"]["authorization"] == "Bearer ...5678"
    assert {k: v[0] for k, v in sent["query"].items()} == {
        "model": "flux", "width": "1024", "height": "768", "seed": "42", "negative_prompt": "blurry",
        "private": "true", "nologo": "true"}


def test_reference_images_and_png_model(fake_upstream):
    result = run(fake_upstream, "image", "gptimage", prompt="logo", aspect_ratio="16:9",
                 image_urls=["https://example.com/a.png", "https://example.com/b.png"])
    assert result.outputs[0].mime == "image/png"
    query = fake_upstream.requests("pollinations.image")[-1]["query"]
    assert query["image"] == ["https://example.com/a.png|https://example.com/b.png"]
    assert (query["width"], query["height"]) == (["1344"], ["768"])


def test_video_model_returns_mp4(fake_upstream):
    result = run(fake_upstream, "video", "seedance", prompt="waves", duration=5, aspect_ratio="16:9",
                 generate_audio=True)
    [output] = result.outputs
    assert output.mime == "video/mp4" and output.duration == 5.0
    query = fake_upstream.requests("pollinations.image")[-1]["query"]
    assert query["duration"] == ["5"] and query["aspectRatio"] == ["16:9"] and query["audio"] == ["true"]


def test_simple_text_endpoint(fake_upstream):
    result = run(fake_upstream, "text", "openai", prompt="hello world", system="terse",
                 options={"text_endpoint": "simple"})
    assert result.text == "[terse] Echo: hello world"
    assert fake_upstream.requests("pollinations.text")[-1]["path"] == "/text/hello%20world"


def test_chat_goes_through_the_openai_compatible_endpoint_with_usage(fake_upstream):
    messages = [{"role": "user", "content": "first"}, {"role": "assistant", "content": "ok"},
                {"role": "user", "content": "second turn"}]
    result = run(fake_upstream, "text", "openai", messages=messages, max_tokens=100)
    assert result.text == "Echo: second turn"
    assert result.usage == {"input_tokens": 4, "output_tokens": 3}
    sent = fake_upstream.requests("openai.chat")[-1]
    assert sent["path"] == "/v1/chat/completions" and sent["json"]["messages"] == messages
    assert sent["json"]["max_tokens"] == 100
    assert sent["auth"]["authorization"] == "Bearer ...5678"


def test_chat_streams(fake_upstream):
    channel = ChannelConfig(name="pol", adapter="pollinations", base_url=fake_upstream.url, api_key="sk_x")
    job = Job(id="g", modality="text", upstream_model="openai", params={"prompt": "a b"}, channel=channel)
    chunks = list(get_adapter(channel).stream_chat(job))
    assert "".join(c.delta for c in chunks) == "Echo: a b" and chunks[-1].usage == {"input_tokens": 2,
                                                                                   "output_tokens": 3}


def test_speech_through_the_text_endpoint(fake_upstream):
    result = run(fake_upstream, "speech", "openai-audio", input="good night", voice="nova")
    [output] = result.outputs
    assert output.mime == "audio/mpeg" and result.usage == {"characters": 10}
    sent = fake_upstream.requests("pollinations.text")[-1]
    assert sent["path"] == "/text/good%20night"
    assert sent["query"]["model"] == ["openai-audio"] and sent["query"]["voice"] == ["nova"]


def test_400_message_and_safety(fake_upstream):
    with pytest.raises(InvalidInput) as caught:
        run(fake_upstream, "image", "flux", prompt="x", size="4096x4096")
    assert "check the details" in caught.value.message
    assert "width: Expected an integer between 16 and 2048" in caught.value.message  # the field errors come along
    with pytest.raises(ContentFiltered):
        run(fake_upstream, "image", "flux", prompt="forbidden", options={"safe": True})


@pytest.mark.parametrize("key", ["bad-key", "broke-key"])
def test_refused_and_unfunded_keys_are_auth_errors(fake_upstream, key):
    with pytest.raises(AuthError):
        run(fake_upstream, "image", "flux", key=key, prompt="x")


@pytest.mark.parametrize("fault, error", [
    ({"status": 500}, TransientError), ({"status": 429, "retry_after": 6}, RateLimited),
])
def test_fault_mapping(fake_upstream, fault, error):
    fake_upstream.faults("pollinations", **fault)
    with pytest.raises(error) as caught:
        run(fake_upstream, "image", "flux", prompt="x")
    if "retry_after" in fault:
        assert caught.value.retry_after == 6.0


def test_malformed_answer_is_transient(fake_upstream):
    fake_upstream.faults("pollinations.image", malformed=True)  # a JSON-ish body where an image belongs
    with pytest.raises(TransientError) as caught:
        run(fake_upstream, "image", "flux", prompt="x")
    assert caught.value.code == "upstream_bad_response"


def test_timeout(fake_upstream):
    fake_upstream.faults("pollinations", timeout=True)
    with pytest.raises(UpstreamTimeout):
        run(fake_upstream, "image", "flux", prompt="x", options={"timeout": 0.3})


# ---- the gateway coerces flags: "false" is true ----------------------------------------------------
def test_flags_that_are_off_are_left_out_because_the_gateway_reads_false_as_true(fake_upstream):
    from tests.fakes.pollinations import interpret

    result = run(fake_upstream, "image", "flux", prompt="something forbidden in a museum",
                 options={"safe": False, "enhance": False})
    assert result.outputs  # safe stayed off: the old "safe=false" switched the filter on and blocked it
    flags = interpret(fake_upstream.requests("pollinations.image")[-1]["query"])
    assert flags["safe"] is False and flags["enhance"] is False
    assert flags["private"] is True and flags["nologo"] is True


def test_a_flag_that_is_on_is_sent_as_true(fake_upstream):
    with pytest.raises(ContentFiltered):
        run(fake_upstream, "image", "flux", prompt="something forbidden", options={"safe": True})


def test_video_without_audio_sends_no_audio_flag(fake_upstream):
    from tests.fakes.pollinations import interpret

    run(fake_upstream, "video", "veo", prompt="waves", duration=4, generate_audio=False)
    assert interpret(fake_upstream.requests("pollinations.image")[-1]["query"])["audio"] is False
