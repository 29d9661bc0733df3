"""The Gemini image (Nano Banana) adapter against the fake Gemini API over real HTTP."""
from __future__ import annotations

import base64

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

SOURCE_PNG = "data:image/png;base64," + base64.b64encode(media.png(16, 16, "source")).decode()


def adapter_for(fake, api_key="AIzaFakeKey-7777", **options):
    channel = ChannelConfig(name="gemini-test", adapter="gemini", base_url=fake.url + "/v1beta", api_key=api_key,
                            options={"timeout": 2, **options})
    return get_adapter(channel)


def job(model="gemini-3.1-flash-image", **params):
    return Job(id="gen-1", modality="image", upstream_model=model,
               params={"prompt": "a harbour at dawn", **params}, channel=None)


def test_text_to_image_is_synchronous_and_returns_png_bytes(fake_upstream):
    result = adapter_for(fake_upstream).submit(job(aspect_ratio="16:9", seed=5))
    assert result.status == ProviderResult.SUCCEEDED and result.upstream_id is None
    [image] = result.outputs
    assert image.mime == "image/png" and image.data.startswith(b"\x89PNG") and (image.width, image.height) == (64, 36)
    assert result.usage == {"input_tokens": 12, "output_tokens": 1290}

    sent = fake_upstream.requests("gemini.generate")[0]
    assert sent["path"] == "/v1beta/models/gemini-3.1-flash-image:generateContent"
    assert sent["auth"]["x-goog-api-key"] == "...7777" and "key" not in sent["query"]
    assert sent["json"] == {
        "contents": [{"role": "user", "parts": [{"text": "a harbour at dawn"}]}],
        "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "16:9"}, "seed": 5},
    }


def test_input_images_are_sent_inline_and_pro_tiers_map_to_image_size(fake_upstream):
    # 003's Nano Banana Pro table: image_size is the aspect ratio, resolution the 1K/2K/4K tier.
    result = adapter_for(fake_upstream).submit(
        job("gemini-3-pro-image", image_urls=[SOURCE_PNG], image_size="4:3", resolution="2k"))
    assert len(result.outputs) == 1 and (result.outputs[0].width, result.outputs[0].height) == (64, 48)
    sent = fake_upstream.requests("gemini.generate")[0]["json"]
    inline = sent["contents"][0]["parts"][0]["inline_data"]
    assert inline["mime_type"] == "image/png"
    assert base64.b64decode(inline["data"]) == media.png(16, 16, "source")
    assert sent["generationConfig"]["imageConfig"] == {"aspectRatio": "4:3", "imageSize": "2K"}


def test_thought_images_are_not_outputs(fake_upstream):
    result = adapter_for(fake_upstream).submit(job("gemini-3-pro-image"))
    assert [(o.width, o.height) for o in result.outputs] == [(64, 64)]


def test_n_images_are_n_calls(fake_upstream):
    result = adapter_for(fake_upstream).submit(job(n=3))
    assert len(result.outputs) == 3 and len(fake_upstream.requests("gemini.generate")) == 3
    assert result.usage["output_tokens"] == 3 * 1290


def test_blocked_prompt_is_content_filtered(fake_upstream):
    with pytest.raises(ContentFiltered) as caught:
        adapter_for(fake_upstream).submit(job(prompt="something forbidden"))
    assert "PROHIBITED_CONTENT" in caught.value.message


def test_blocked_image_is_content_filtered(fake_upstream):
    with pytest.raises(ContentFiltered) as caught:
        adapter_for(fake_upstream).submit(job(prompt="an unsafe image"))
    assert "IMAGE_SAFETY" in caught.value.message


def test_text_only_answer_is_a_permanent_no_output_error_with_the_text(fake_upstream):
    with pytest.raises(PermanentError) as caught:
        adapter_for(fake_upstream).submit(job(prompt="just talk to me"))
    assert caught.value.code == "upstream_no_output" and "describe it instead" in caught.value.message


def test_invalid_argument_is_invalid_input_with_google_message(fake_upstream):
    with pytest.raises(InvalidInput) as caught:
        adapter_for(fake_upstream).submit(job(aspect_ratio="7:3"))
    assert "Unsupported aspect ratio: 7:3" in caught.value.message and caught.value.status == 400


def test_invalid_key_400_is_auth_error_not_invalid_input(fake_upstream):
    with pytest.raises(AuthError) as caught:
        adapter_for(fake_upstream, api_key="invalid-key").submit(job())
    assert "API key not valid" in caught.value.message


def test_injected_401_is_auth_error(fake_upstream):
    fake_upstream.faults("gemini", status=401, count=1)
    with pytest.raises(AuthError):
        adapter_for(fake_upstream).submit(job())


def test_quota_429_uses_retry_info_from_the_body(fake_upstream):
    with pytest.raises(RateLimited) as caught:
        adapter_for(fake_upstream).submit(job(prompt="over quota"))
    assert caught.value.retry_after == 3.0


def test_429_with_retry_after_header(fake_upstream):
    fake_upstream.faults("gemini", status=429, retry_after=9, count=1)
    with pytest.raises(RateLimited) as caught:
        adapter_for(fake_upstream).submit(job())
    assert caught.value.retry_after == 9


def test_500_is_transient(fake_upstream):
    fake_upstream.faults("gemini", status=500, count=1)
    with pytest.raises(TransientError) as caught:
        adapter_for(fake_upstream).submit(job())
    assert not caught.value.permanent


def test_timeout(fake_upstream):
    fake_upstream.config(timeout_seconds=1.0)
    fake_upstream.faults("gemini", timeout=True, count=1)
    with pytest.raises(UpstreamTimeout):
        adapter_for(fake_upstream, timeout=0.3).submit(job())


def test_malformed_body_is_transient(fake_upstream):
    fake_upstream.faults("gemini", malformed=True, count=1)
    with pytest.raises(TransientError) as caught:
        adapter_for(fake_upstream).submit(job())
    assert caught.value.code == "upstream_bad_response"


def test_private_source_url_is_refused_before_calling_gemini(fake_upstream):
    with pytest.raises(InvalidInput) as caught:
        adapter_for(fake_upstream).submit(job(image_url="http://10.0.0.8/cat.png"))
    assert "cannot be fetched" in caught.value.message
    assert fake_upstream.requests("gemini") == []


def test_source_that_is_not_an_image_is_invalid_input(fake_upstream):
    with pytest.raises(InvalidInput):
        adapter_for(fake_upstream).submit(job(image_url="data:image/png;base64," + base64.b64encode(b"nope").decode()))


@pytest.mark.django_db
def test_a_generation_runs_through_atelier_in_one_call(owner, fake_upstream, monkeypatch):
    from apps.catalog.models import AIModel, Channel
    from apps.generations.models import Generation
    from apps.generations.services import generation_run, generation_submit

    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)
    monkeypatch.setattr("apps.generations.services._enqueue_poll", lambda gid, countdown: None)
    model = AIModel.objects.create(
        slug="nano-banana-test", name="Nano Banana test", vendor="Google", modality="image",
        schema={"fields": [{"name": "prompt", "type": "text", "required": True},
                           {"name": "aspect_ratio", "type": "enum", "choices": ["1:1", "16:9"], "default": "1:1"}]},
        pricing={"unit": "image", "credits": "4"},
    )
    model.routes.create(adapter="gemini", upstream_model="gemini-3.1-flash-image")
    channel = Channel.objects.create(name="gemini-main", adapter="gemini", base_url=fake_upstream.url + "/v1beta",
                                     options={"timeout": 5})
    channel.api_key = "AIzaMain-4444"
    channel.save()
    generation, _ = generation_submit(user=owner, workspace=owner.current_workspace, model=model,
                                      raw_params={"prompt": "a harbour", "aspect_ratio": "16:9"})
    generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED, generation.error_message
    [output] = generation.outputs.all()
    assert (output.kind, output.mime, output.width, output.height) == ("image", "image/png", 64, 36)
    assert generation.upstream_id == "" and generation.charged == 4_000


def test_imagen_models_use_predict_with_sample_count(fake_upstream):
    result = adapter_for(fake_upstream).submit(
        job("imagen-4.0-generate-001", n=2, aspect_ratio="4:3", image_size="2K", person_generation="dont_allow"))
    assert [(o.mime, o.width, o.height) for o in result.outputs] == [("image/png", 64, 48)] * 2
    sent = fake_upstream.requests("gemini.predict")[0]
    assert sent["path"] == "/v1beta/models/imagen-4.0-generate-001:predict"
    assert sent["auth"]["x-goog-api-key"] == "...7777"
    assert sent["json"] == {"instances": [{"prompt": "a harbour at dawn"}], "parameters": {
        "sampleCount": 2, "aspectRatio": "4:3", "sampleImageSize": "2K", "personGeneration": "dont_allow"}}


def test_imagen_with_every_image_filtered_is_content_filtered(fake_upstream):
    with pytest.raises(ContentFiltered):
        adapter_for(fake_upstream).submit(job("imagen-4.0-fast-generate-001", prompt="a forbidden thing"))


def test_imagen_invalid_parameter_is_invalid_input(fake_upstream):
    with pytest.raises(InvalidInput) as caught:
        adapter_for(fake_upstream).submit(job("imagen-4.0-generate-001", aspect_ratio="21:9"))
    assert "Unsupported aspect ratio" in caught.value.message


def chat_job(**params):
    return Job(id="gen-3", modality="text", upstream_model="gemini-3-flash-preview", params=params, channel=None)


def test_chat_from_prompt_and_system(fake_upstream):
    result = adapter_for(fake_upstream).submit(chat_job(prompt="hello there", system="Pirate voice.",
                                                        max_tokens=50, temperature=0.2, stop="END"))
    assert result.status == ProviderResult.SUCCEEDED and result.outputs == []
    assert result.text == "[Pirate] You said: hello there"  # the thought part is left out
    assert result.usage == {"input_tokens": 2, "output_tokens": 5 + 3}  # thinking tokens count as output
    sent = fake_upstream.requests("gemini.generate")[0]["json"]
    assert sent == {"contents": [{"role": "user", "parts": [{"text": "hello there"}]}],
                    "systemInstruction": {"parts": [{"text": "Pirate voice."}]},
                    "generationConfig": {"maxOutputTokens": 50, "temperature": 0.2, "stopSequences": ["END"]}}


def test_chat_messages_map_roles_and_inline_images(fake_upstream):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello"},
                {"role": "user", "content": [{"type": "text", "text": "what is this"},
                                             {"type": "image_url", "image_url": {"url": SOURCE_PNG}}]}]
    result = adapter_for(fake_upstream).submit(chat_job(messages=messages))
    assert result.text == "[Be] You said: what is this (and 1 image)"
    sent = fake_upstream.requests("gemini.generate")[0]["json"]
    assert [c["role"] for c in sent["contents"]] == ["user", "model", "user"]
    assert sent["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert sent["contents"][2]["parts"][1]["inline_data"]["mime_type"] == "image/png"


def test_chat_blocked_prompt_is_content_filtered(fake_upstream):
    with pytest.raises(ContentFiltered):
        adapter_for(fake_upstream).submit(chat_job(prompt="something forbidden"))


def test_chat_streams_over_sse_with_usage_at_the_end(fake_upstream):
    chunks = list(adapter_for(fake_upstream).stream_chat(chat_job(prompt="stream me please")))
    assert "".join(c.delta for c in chunks) == "You said: stream me please"
    assert len([c for c in chunks if c.delta]) == 5
    assert chunks[-1].finish_reason == "stop" and chunks[-1].usage == {"input_tokens": 3, "output_tokens": 8}
    sent = fake_upstream.requests("gemini.stream")[0]
    assert sent["query"] == {"alt": ["sse"]} and sent["auth"]["x-goog-api-key"] == "...7777"


def test_stream_errors_use_google_error_details(fake_upstream):
    with pytest.raises(AuthError):
        list(adapter_for(fake_upstream, api_key="invalid-key").stream_chat(chat_job(prompt="hi")))


def test_tts_wraps_pcm_in_wav(fake_upstream):
    the_job = Job(id="gen-4", modality="speech", upstream_model="gemini-2.5-flash-preview-tts", channel=None,
                  params={"input": "Good evening.", "voice": "Puck", "instructions": "Say warmly:"})
    result = adapter_for(fake_upstream).submit(the_job)
    [audio] = result.outputs
    assert audio.mime == "audio/wav" and audio.data[:4] == b"RIFF" and audio.duration == 0.5
    assert result.usage == {"characters": len("Good evening.")}
    sent = fake_upstream.requests("gemini.generate")[0]["json"]
    assert sent["contents"] == [{"parts": [{"text": "Say warmly:\nGood evening."}]}]
    assert sent["generationConfig"] == {"responseModalities": ["AUDIO"], "speechConfig": {
        "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Puck"}}}}


def test_tts_unknown_voice_is_invalid_input(fake_upstream):
    the_job = Job(id="gen-4", modality="speech", upstream_model="gemini-2.5-flash-preview-tts", channel=None,
                  params={"input": "Hi.", "voice": "Nobody"})
    with pytest.raises(InvalidInput):
        adapter_for(fake_upstream).submit(the_job)


@pytest.mark.django_db
def test_a_chat_generation_stores_the_text_and_charges_the_reported_tokens(owner, fake_upstream, monkeypatch):
    from apps.catalog.models import AIModel, Channel
    from apps.generations.models import Generation
    from apps.generations.services import generation_run, generation_submit

    monkeypatch.setattr("apps.generations.services._enqueue_run", lambda gid, countdown=None: None)
    monkeypatch.setattr("apps.generations.services._enqueue_poll", lambda gid, countdown: None)
    model = AIModel.objects.create(
        slug="gemini-flash-test", name="Gemini Flash test", vendor="Google", modality="text",
        schema={"fields": [{"name": "prompt", "type": "text", "required": True},
                           {"name": "max_tokens", "type": "integer", "min": 1, "max": 1000, "default": 500}]},
        pricing={"unit": "1k_tokens", "input": "1", "output": "2", "max_output": "max_tokens"},
    )
    model.routes.create(adapter="gemini", upstream_model="gemini-3-flash-preview")
    channel = Channel.objects.create(name="gemini-chat", adapter="gemini", base_url=fake_upstream.url + "/v1beta",
                                     options={"timeout": 5})
    channel.api_key = "AIzaChat-5555"
    channel.save()
    generation, _ = generation_submit(user=owner, workspace=owner.current_workspace, model=model,
                                      raw_params={"prompt": "hello world"})
    generation_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED, generation.error_message
    assert generation.result_text == "You said: hello world"
    assert generation.usage == {"input_tokens": 2, "output_tokens": 7}
    assert 0 < generation.charged < generation.price  # what was used, not the hold for 500 output tokens


def test_shut_down_models_answer_404_which_fails_over(fake_upstream):
    from apps.providers.base import NotFound

    with pytest.raises(NotFound) as caught:
        adapter_for(fake_upstream).submit(job("gemini-2.5-flash-image"))
    assert caught.value.fails_over and "is not found for API version v1beta" in caught.value.message


def test_nano_banana_2_takes_its_extra_wide_ratios(fake_upstream):
    result = adapter_for(fake_upstream).submit(job("gemini-3.1-flash-image", aspect_ratio="4:1", resolution="2K"))
    assert (result.outputs[0].width, result.outputs[0].height) == (64, 16)
    config = fake_upstream.requests("gemini.generate")[-1]["json"]["generationConfig"]
    assert config["imageConfig"] == {"aspectRatio": "4:1", "imageSize": "2K"}
    with pytest.raises(InvalidInput, match="Unsupported aspect ratio"):
        adapter_for(fake_upstream).submit(job("gemini-3-pro-image", aspect_ratio="4:1"))
