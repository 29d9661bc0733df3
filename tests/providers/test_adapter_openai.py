"""The openai adapter against the fake OpenAI API over real HTTP."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from apps.providers.base import (
    AuthError,
    ChannelConfig,
    ContentFiltered,
    InvalidInput,
    Job,
    ModelUnavailable,
    NotFound,
    PermanentError,
    RateLimited,
    TransientError,
    UpstreamTimeout,
)
from apps.providers.registry import get_adapter
from tests.fakes import media
from tests.fakes.core import state


def make_channel(fake, adapter="openai", key="sk-test-1234", base_path="/v1", **options) -> ChannelConfig:
    return ChannelConfig(name=f"{adapter}-test", adapter=adapter, base_url=fake.url + base_path, api_key=key,
                         options=options)


def make_job(channel, modality, model, **params) -> Job:
    return Job(id="gen-1", modality=modality, upstream_model=model, params=params, channel=channel)


def run(fake, modality, model, adapter="openai", key="sk-test-1234", options=None, **params):
    channel = make_channel(fake, adapter=adapter, key=key, **(options or {}))
    return get_adapter(channel).submit(make_job(channel, modality, model, **params))


# ---- chat ---------------------------------------------------------------------------------------
def test_chat_answer_and_usage(fake_upstream):
    result = run(fake_upstream, "text", "gpt-4o-mini", prompt="hello there", system="be brief", max_tokens=50,
                 temperature=0.2)
    assert result.status == "succeeded"
    assert result.text == "Echo: hello there"
    assert result.usage == {"input_tokens": 4, "output_tokens": 3}
    sent = fake_upstream.requests("openai.chat")[-1]
    assert sent["auth"]["authorization"] == "Bearer ...1234"
    assert sent["json"] == {"model": "gpt-4o-mini", "max_completion_tokens": 50, "temperature": 0.2,
                            "messages": [{"role": "system", "content": "be brief"},
                                         {"role": "user", "content": "hello there"}]}


def test_chat_messages_and_vision_parts(fake_upstream):
    messages = [{"role": "user", "content": "what is this"}]
    run(fake_upstream, "text", "gpt-4o-mini", messages=messages, image_url="https://example.com/cat.png")
    sent = fake_upstream.requests("openai.chat")[-1]["json"]
    assert sent["messages"][0]["content"] == [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]
    assert messages == [{"role": "user", "content": "what is this"}]  # the job's params are not mutated


def test_chat_bare_origin_gets_v1_and_org_headers(fake_upstream):
    result = run(fake_upstream, "text", "gpt-4o-mini", prompt="hi",
                 options={"base_path": "", "organization": "org-1", "project": "proj-9"})
    assert result.text == "Echo: hi"
    sent = fake_upstream.requests("openai.chat")[-1]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["openai-organization"] == "org-1"
    assert sent["headers"]["openai-project"] == "proj-9"


def test_chat_stream_chunks_and_usage(fake_upstream):
    channel = make_channel(fake_upstream)
    chunks = list(get_adapter(channel).stream_chat(make_job(channel, "text", "gpt-4o-mini", prompt="one two three")))
    assert "".join(c.delta for c in chunks) == "Echo: one two three"
    assert len([c for c in chunks if c.delta]) == 4  # one chunk per word: it really streamed
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
    assert chunks[-1].usage == {"input_tokens": 3, "output_tokens": 4}
    sent = fake_upstream.requests("openai.chat")[-1]["json"]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


def test_chat_stream_error_status_maps(fake_upstream):
    fake_upstream.faults("openai.chat", status=429, retry_after=4)
    channel = make_channel(fake_upstream)
    with pytest.raises(RateLimited) as caught:
        list(get_adapter(channel).stream_chat(make_job(channel, "text", "gpt-4o-mini", prompt="x")))
    assert caught.value.retry_after == 4.0


def test_chat_truncated_by_max_tokens(fake_upstream):
    result = run(fake_upstream, "text", "gpt-4o-mini", prompt="a b c d e f", max_tokens=2)
    assert result.text == "Echo: a"
    assert result.usage["output_tokens"] == 2


def test_chat_without_prompt_is_invalid_before_any_request(fake_upstream):
    with pytest.raises(InvalidInput):
        run(fake_upstream, "text", "gpt-4o-mini")
    assert fake_upstream.requests("openai") == []


# ---- errors -------------------------------------------------------------------------------------
def test_500_is_transient(fake_upstream):
    fake_upstream.faults("openai.chat", status=500, count=1)
    with pytest.raises(TransientError) as caught:
        run(fake_upstream, "text", "gpt-4o-mini", prompt="hi")
    assert not caught.value.permanent
    assert run(fake_upstream, "text", "gpt-4o-mini", prompt="hi").text == "Echo: hi"  # count=1: next one works


def test_timeout_is_upstream_timeout(fake_upstream):
    fake_upstream.faults("openai.images", timeout=True)
    with pytest.raises(UpstreamTimeout):
        run(fake_upstream, "image", "gpt-image-1", prompt="slow", options={"timeout": 0.3})


def test_429_is_rate_limited_with_retry_after(fake_upstream):
    fake_upstream.faults("openai", status=429, retry_after=12, message="Rate limit reached for requests")
    with pytest.raises(RateLimited) as caught:
        run(fake_upstream, "speech", "tts-1", input="hi")
    assert caught.value.retry_after == 12.0
    assert "Rate limit reached" in caught.value.message


def test_400_carries_the_providers_message(fake_upstream):
    with pytest.raises(InvalidInput) as caught:
        run(fake_upstream, "text", "gpt-4o-mini", prompt="hi", temperature=5)
    assert "Invalid 'temperature'" in caught.value.message


def test_401_is_auth_error(fake_upstream):
    with pytest.raises(AuthError) as caught:
        run(fake_upstream, "text", "gpt-4o-mini", key="bad-key-0000", prompt="hi")
    assert "Incorrect API key" in caught.value.message


def test_missing_key_is_refused_before_sending(fake_upstream):
    with pytest.raises(PermanentError) as caught:
        run(fake_upstream, "text", "gpt-4o-mini", key="", prompt="hi")
    assert caught.value.code == "channel_misconfigured"
    assert fake_upstream.requests("openai") == []


def test_unknown_model_is_not_found(fake_upstream):
    with pytest.raises(NotFound):
        run(fake_upstream, "text", "does-not-exist", prompt="hi")


def test_malformed_body_is_transient(fake_upstream):
    fake_upstream.faults("openai.chat", malformed=True)
    with pytest.raises(TransientError) as caught:
        run(fake_upstream, "text", "gpt-4o-mini", prompt="hi")
    assert caught.value.code == "upstream_bad_response"


def test_unsupported_modality(fake_upstream):
    with pytest.raises(ModelUnavailable):
        run(fake_upstream, "video", "sora-2", prompt="hi")


# ---- images -------------------------------------------------------------------------------------
def test_gpt_image_returns_base64_bytes(fake_upstream):
    result = run(fake_upstream, "image", "gpt-image-1", prompt="a red fox", n=2, size="1536x1024", quality="high",
                 background="transparent", output_format="webp")
    assert result.status == "succeeded"
    assert len(result.outputs) == 2
    first = result.outputs[0]
    assert first.mime == "image/webp" and first.url is None
    assert Image.open(io.BytesIO(first.data)).format == "WEBP"
    assert (first.width, first.height) == (1536, 1024)
    sent = fake_upstream.requests("openai.images")[-1]["json"]
    assert sent == {"model": "gpt-image-1", "prompt": "a red fox", "n": 2, "size": "1536x1024", "quality": "high",
                    "background": "transparent", "output_format": "webp"}
    assert "response_format" not in sent  # gpt-image-1 refuses it


def test_dalle_returns_a_url_to_download(fake_upstream):
    result = run(fake_upstream, "image", "dall-e-3", prompt="a lighthouse", size="1792x1024", quality="hd")
    [output] = result.outputs
    assert output.data is None and output.url.startswith(fake_upstream.url + "/_fake/files/")
    assert output.meta["revised_prompt"].endswith("a lighthouse")
    assert fake_upstream.requests("openai.images")[-1]["json"]["response_format"] == "url"


def test_aspect_ratio_becomes_size(fake_upstream):
    run(fake_upstream, "image", "gpt-image-1", prompt="x", aspect_ratio="2:3")
    assert fake_upstream.requests("openai.images")[-1]["json"]["size"] == "1024x1536"


def test_image_safety_block_is_content_filtered(fake_upstream):
    with pytest.raises(ContentFiltered):
        run(fake_upstream, "image", "gpt-image-1", prompt="something forbidden")


def test_image_edit_uploads_the_sources(fake_upstream):
    source = state.file_url(media.png(32, 32, "src"), "image/png")
    result = run(fake_upstream, "image", "gpt-image-1", prompt="make it blue", image_urls=[source, source])
    assert len(result.outputs) == 1
    sent = fake_upstream.requests("openai.images_edit")[-1]
    assert sent["headers"]["content-type"].startswith("multipart/form-data")
    assert sent["body_size"] > 2 * len(media.png(32, 32, "src"))


def test_image_edit_refuses_private_sources(fake_upstream, settings):
    settings.SAFE_FETCH_ALLOW_HOSTS = []
    with pytest.raises(InvalidInput) as caught:
        run(fake_upstream, "image", "gpt-image-1", prompt="x", image_url=fake_upstream.url + "/_fake/files/nope")
    assert caught.value.code == "invalid_source_url"
    assert fake_upstream.requests("openai.images_edit") == []


# ---- speech -------------------------------------------------------------------------------------
def test_speech_returns_audio_bytes(fake_upstream):
    result = run(fake_upstream, "speech", "gpt-4o-mini-tts", input="Good morning", voice="coral", speed=1.25,
                 response_format="wav", instructions="cheerful")
    [output] = result.outputs
    assert output.mime == "audio/wav"
    assert output.data[:4] == b"RIFF"
    assert result.usage == {"characters": len("Good morning")}
    sent = fake_upstream.requests("openai.speech")[-1]["json"]
    assert sent == {"model": "gpt-4o-mini-tts", "input": "Good morning", "voice": "coral", "response_format": "wav",
                    "speed": 1.25, "instructions": "cheerful"}


def test_speech_unknown_voice_is_invalid(fake_upstream):
    with pytest.raises(InvalidInput) as caught:
        run(fake_upstream, "speech", "tts-1", input="hi", voice="robot")
    assert "'robot'" in caught.value.message


def test_speech_malformed_answer_is_transient(fake_upstream):
    fake_upstream.faults("openai.speech", malformed=True)  # JSON where audio belongs
    with pytest.raises(TransientError) as caught:
        run(fake_upstream, "speech", "tts-1", input="hi")
    assert caught.value.code == "upstream_bad_response"


def test_stream_cut_before_the_end_is_transient(fake_upstream):
    from tests.fakes.core import FakeResponse, route, sse

    @route("POST", r"^/cut-v9/chat/completions$", name="openai.chat_cut")
    def _cut(req):
        chunk = {"choices": [{"index": 0, "delta": {"content": "half"}, "finish_reason": None}]}
        return FakeResponse(stream=sse([chunk], done=False))

    channel = make_channel(fake_upstream, base_path="/cut-v9")  # a path the openai.chat route does not match
    stream = get_adapter(channel).stream_chat(make_job(channel, "text", "gpt-4o-mini", prompt="x"))
    assert next(stream).delta == "half"
    with pytest.raises(TransientError) as caught:
        next(stream)
    assert caught.value.code == "upstream_bad_response"


# ---- GPT Image 2 and what the strict fake refuses ----------------------------------------------------
def test_gpt_image_2_sizes_for_every_catalog_aspect_and_tier_pass_the_fake(fake_upstream):
    """gpt-image-2 takes free WIDTHxHEIGHT sizes (multiples of 16, 1:3 to 3:1, pixel limits); every
    aspect ratio and resolution tier the catalog offers must come out as one OpenAI accepts."""
    from apps.catalog.data import all_models

    [entry] = [m for m in all_models() if m["slug"] == "gpt-image-2"]
    choices = {f["name"]: f.get("choices") for f in entry["schema"]["fields"]}
    for aspect in choices["aspect_ratio"]:
        for tier in (["1K"] if aspect == "auto" else choices["resolution"]):
            result = run(fake_upstream, "image", "gpt-image-2", prompt="a red fox", aspect_ratio=aspect,
                         resolution=tier)
            assert result.status == "succeeded", (aspect, tier)
    sizes = {r["json"]["size"] for r in fake_upstream.requests("openai.images")}
    assert "auto" in sizes and len(sizes) > 10


@pytest.mark.parametrize("params, problem", [
    ({"style": "vivid"}, "Unknown parameter: 'style'"),          # a DALL-E 3 field
    ({"response_format": "url"}, "Unknown parameter"),           # GPT Image answers base64 only
    ({"quality": "hd"}, "Supported values are"),                  # DALL-E 3's quality names
    ({"output_format": "png", "output_compression": 80}, "only supported for the jpeg and webp"),
    ({"background": "transparent", "output_format": "jpeg"}, "not supported for jpeg"),
])
def test_the_fake_refuses_what_openai_refuses_for_gpt_image(fake_upstream, params, problem):
    from apps.providers import http

    channel = make_channel(fake_upstream)
    with pytest.raises(InvalidInput, match=problem):
        http.request(channel, "POST", "images/generations", headers=http.bearer("sk-test-1234"), provider="openai",
                     json={"model": "gpt-image-2", "prompt": "a red fox", **params})
