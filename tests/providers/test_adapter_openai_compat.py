"""The openai_compat adapter: OpenAI's wire format on any base URL, key optional."""
from __future__ import annotations

import pytest

from apps.providers.base import (
    AuthError, ChannelConfig, InvalidInput, Job, PermanentError, RateLimited, TransientError, UpstreamTimeout,
)
from apps.providers.registry import get_adapter


def compat(fake, base_path="/open/v1", key="", **options):
    channel = ChannelConfig(name="local", adapter="openai_compat", base_url=fake.url + base_path, api_key=key,
                            options=options)
    return channel, get_adapter(channel)


def job(channel, modality="text", model="llama3.2", **params):
    return Job(id="g", modality=modality, upstream_model=model, params=params, channel=channel)


def test_keyless_local_server_with_classic_max_tokens(fake_upstream):
    channel, adapter = compat(fake_upstream)
    result = adapter.submit(job(channel, prompt="hello", max_tokens=64))
    assert result.text == "Echo: hello"
    sent = fake_upstream.requests("openai.chat")[-1]
    assert sent["path"] == "/open/v1/chat/completions"
    assert sent["auth"] == {}  # no key configured: no Authorization header at all
    assert sent["json"]["max_tokens"] == 64 and "max_completion_tokens" not in sent["json"]


def test_gateway_with_key_and_extra_headers(fake_upstream):
    channel, adapter = compat(fake_upstream, base_path="/api/v1", key="or-key-9876",
                              headers={"HTTP-Referer": "https://atelier.example", "X-Title": "Atelier"})
    adapter.submit(job(channel, model="meta-llama/llama-3.1-8b-instruct", prompt="hi"))
    sent = fake_upstream.requests("openai.chat")[-1]
    assert sent["path"] == "/api/v1/chat/completions"
    assert sent["auth"]["authorization"] == "Bearer ...9876"
    assert sent["headers"]["http-referer"] == "https://atelier.example"


def test_streaming(fake_upstream):
    channel, adapter = compat(fake_upstream)
    chunks = list(adapter.stream_chat(job(channel, messages=[{"role": "user", "content": "a b"}])))
    assert "".join(c.delta for c in chunks) == "Echo: a b"
    assert chunks[-1].usage == {"input_tokens": 2, "output_tokens": 3}


def test_images_ask_for_base64(fake_upstream):
    channel, adapter = compat(fake_upstream)
    result = adapter.submit(job(channel, modality="image", model="dall-e-2", prompt="x", size="512x512"))
    assert result.outputs[0].data[:8] == b"\x89PNG\r\n\x1a\n"
    assert fake_upstream.requests("openai.images")[-1]["json"]["response_format"] == "b64_json"


def test_no_base_url_is_misconfigured():
    channel = ChannelConfig(name="x", adapter="openai_compat", base_url="")
    with pytest.raises(PermanentError) as caught:
        get_adapter(channel).submit(job(channel, prompt="hi"))
    assert caught.value.code == "channel_misconfigured"


@pytest.mark.parametrize("fault, error", [
    ({"status": 503}, TransientError),
    ({"status": 429, "retry_after": 3}, RateLimited),
    ({"status": 401}, AuthError),
    ({"status": 400, "message": "model 'llama9' not found, try pulling it first"}, InvalidInput),
    ({"malformed": True}, TransientError),
])
def test_error_mapping(fake_upstream, fault, error):
    fake_upstream.faults("openai.chat", **fault)
    channel, adapter = compat(fake_upstream)
    with pytest.raises(error) as caught:
        adapter.submit(job(channel, prompt="hi"))
    if "message" in fault:
        assert fault["message"] in caught.value.message
    if "retry_after" in fault:
        assert caught.value.retry_after == 3.0


def test_timeout(fake_upstream):
    fake_upstream.faults("openai.chat", timeout=True)
    channel, adapter = compat(fake_upstream, timeout=0.3)
    with pytest.raises(UpstreamTimeout):
        adapter.submit(job(channel, prompt="hi"))
