"""The elevenlabs adapter against the fake ElevenLabs API over real HTTP."""
from __future__ import annotations

import io

import av
import pytest

from apps.providers.base import (
    AuthError, ChannelConfig, ContentFiltered, InvalidInput, Job, NotFound, RateLimited, TransientError,
    UpstreamTimeout,
)
from apps.providers.registry import get_adapter


def run(fake, modality="speech", model="eleven_multilingual_v2", key="xi-test-4321", options=None, **params):
    channel = ChannelConfig(name="el", adapter="elevenlabs", base_url=fake.url, api_key=key, options=options or {})
    return get_adapter(channel).submit(Job(id="g", modality=modality, upstream_model=model, params=params,
                                           channel=channel))


def test_speech_sends_the_documented_request(fake_upstream):
    result = run(fake_upstream, input="Hello from Atelier", voice="Adam", stability=0.4, similarity_boost=0.8,
                 speed=1.1, seed=7)
    [output] = result.outputs
    assert output.mime == "audio/mpeg"
    assert av.open(io.BytesIO(output.data)).streams.audio  # a real MP3
    assert result.usage == {"characters": len("Hello from Atelier")}
    sent = fake_upstream.requests("elevenlabs.tts")[-1]
    assert sent["path"] == "/v1/text-to-speech/pNInz6obpgDQGcFmaJgB"
    assert sent["query"] == {"output_format": ["mp3_44100_128"]}
    assert sent["auth"] == {"xi-api-key": "...4321"}
    assert "authorization" not in sent["headers"]
    assert sent["json"] == {"text": "Hello from Atelier", "model_id": "eleven_multilingual_v2", "seed": 7,
                            "voice_settings": {"stability": 0.4, "similarity_boost": 0.8, "speed": 1.1}}


def test_voice_ids_voice_map_and_formats(fake_upstream):
    result = run(fake_upstream, text="hi", voice="narrator", response_format="wav",
                 options={"voice_map": {"narrator": "TxGEqnHWrfWFTfGW9XTc"}})
    assert result.outputs[0].mime == "audio/wav" and result.outputs[0].data[:4] == b"RIFF"
    sent = fake_upstream.requests("elevenlabs.tts")[-1]
    assert sent["path"].endswith("/TxGEqnHWrfWFTfGW9XTc") and sent["query"]["output_format"] == ["wav_44100"]


def test_unknown_voice_name_is_refused_locally(fake_upstream):
    with pytest.raises(InvalidInput):
        run(fake_upstream, input="hi", voice="../../v1/user")
    assert fake_upstream.requests("elevenlabs") == []


def test_unknown_voice_id_is_not_found(fake_upstream):
    with pytest.raises(NotFound) as caught:
        run(fake_upstream, input="hi", voice="AAAAAAAAAAAAAAAAAAAA")
    assert "was not found" in caught.value.message


def test_validation_error_message(fake_upstream):
    with pytest.raises(InvalidInput) as caught:
        run(fake_upstream, input="hi", stability=3)
    assert "voice_settings.stability" in caught.value.message


def test_music_and_sound_effects(fake_upstream):
    result = run(fake_upstream, modality="music", model="music_v1", prompt="lofi beat", duration=30,
                 instrumental=True)
    assert result.outputs[0].mime == "audio/mpeg" and result.outputs[0].duration == 30.0
    assert fake_upstream.requests("elevenlabs.music")[-1]["json"] == {
        "prompt": "lofi beat", "model_id": "music_v1", "music_length_ms": 30000, "force_instrumental": True}
    run(fake_upstream, modality="music", model="sound-effects", prompt="door creak", duration=2)
    assert fake_upstream.requests("elevenlabs.sound")[-1]["json"] == {"text": "door creak", "duration_seconds": 2.0}


def test_music_policy_block_is_content_filtered(fake_upstream):
    with pytest.raises(ContentFiltered):
        run(fake_upstream, modality="music", model="music_v1", prompt="forbidden song")


@pytest.mark.parametrize("key", ["bad-key", "broke-key"])
def test_invalid_key_and_quota_are_auth_errors(fake_upstream, key):
    with pytest.raises(AuthError):
        run(fake_upstream, key=key, input="hi")


@pytest.mark.parametrize("fault, error", [
    ({"status": 500}, TransientError), ({"status": 429, "retry_after": 2}, RateLimited),
])
def test_fault_mapping(fake_upstream, fault, error):
    fake_upstream.faults("elevenlabs", **fault)
    with pytest.raises(error) as caught:
        run(fake_upstream, input="hi")
    if "retry_after" in fault:
        assert caught.value.retry_after == 2.0


def test_malformed_answer_is_transient(fake_upstream):
    fake_upstream.faults("elevenlabs.tts", malformed=True)  # JSON where audio belongs
    with pytest.raises(TransientError) as caught:
        run(fake_upstream, input="hi")
    assert caught.value.code == "upstream_bad_response"


def test_timeout(fake_upstream):
    fake_upstream.faults("elevenlabs", timeout=True)
    with pytest.raises(UpstreamTimeout):
        run(fake_upstream, input="hi", options={"timeout": 0.3})


def test_catalog_voice_names_and_format_names(fake_upstream):
    """The catalog offers premade voice names and ElevenLabs' own output_format names."""
    run(fake_upstream, input="hi", voice="George", response_format="mp3_22050_32")
    sent = fake_upstream.requests("elevenlabs.tts")[-1]
    assert sent["path"] == "/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb"
    assert sent["query"]["output_format"] == ["mp3_22050_32"]
