"""The sandbox speech engine: espeak-ng behind OpenAI-style params."""
import io
import shutil
import wave

import av
import pytest

from apps.providers.adapters.sandbox import SandboxAdapter
from apps.providers.base import ChannelConfig, InvalidInput, Job, ModelUnavailable
from apps.providers.sandbox.speech import _rate_and_gap, synthesize_speech

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


def speak(**params):
    adapter = SandboxAdapter(ChannelConfig(name="sandbox", adapter="sandbox"))
    return adapter.submit(Job(id="t", modality="speech", upstream_model="speech", params=params,
                              channel=adapter.channel))


def mp3_seconds(data: bytes) -> float:
    container = av.open(io.BytesIO(data))
    stream = container.streams.audio[0]
    assert stream.codec_context.name in {"mp3", "mp3float"}
    return sum(frame.samples for frame in container.decode(stream)) / stream.rate


@needs_espeak
def test_speech_is_decodable_mp3_with_its_duration():
    result = speak(input="The quick brown fox jumps over the lazy dog.", voice="nova")
    assert result.status == "succeeded"
    output = result.outputs[0]
    assert output.mime == "audio/mpeg" and output.duration > 1.0
    assert mp3_seconds(output.data) == pytest.approx(output.duration, abs=0.1)
    assert result.usage == {"characters": 44}


@needs_espeak
def test_wav_has_honest_headers():
    output = speak(input="Hello there.", response_format="wav").outputs[0]
    assert output.mime == "audio/wav"
    with wave.open(io.BytesIO(output.data)) as audio:
        assert audio.getnframes() / audio.getframerate() == pytest.approx(output.duration, abs=0.01)


@needs_espeak
def test_speed_and_voice_change_the_audio():
    normal = synthesize_speech({"input": "Counting one two three four five six seven."})
    fast = synthesize_speech({"input": "Counting one two three four five six seven.", "speed": 2.0})
    slow = synthesize_speech({"input": "Counting one two three four five six seven.", "speed": 0.25})
    assert fast.duration < normal.duration * 0.75 and slow.duration > normal.duration * 2.5
    other_voice = synthesize_speech({"input": "Counting one two three four five six seven.", "voice": "onyx"})
    assert other_voice.data != normal.data


@needs_espeak
def test_text_that_looks_like_options_is_spoken_not_obeyed():
    output = speak(input="--version -w /tmp/owned.wav").outputs[0]
    assert output.duration > 0.5 and output.data[:3] in {b"ID3", b"\xff\xfb"}


def test_without_espeak_the_model_is_unavailable(monkeypatch):
    monkeypatch.setattr("apps.providers.sandbox.speech.shutil.which", lambda name: None)
    with pytest.raises(ModelUnavailable) as error:
        speak(input="Hello")
    assert error.value.code == "model_unavailable" and error.value.permanent
    assert "espeak-ng" in error.value.message


@pytest.mark.parametrize("params", [{"input": "   "}, {"input": "x" * 5000}, {"input": "hi", "speed": 9}])
def test_bad_requests_are_invalid_input(params):
    with pytest.raises(InvalidInput):
        speak(**params)


def test_speeds_below_espeaks_minimum_become_pauses_between_words():
    assert _rate_and_gap(1.0) == (175, 0)
    assert _rate_and_gap(4.0) == (450, 0)
    rate, gap = _rate_and_gap(0.25)
    assert rate == 80 and gap > 0


@needs_espeak
def test_other_providers_voice_names_get_a_fixed_voice_of_ours():
    # The sandbox also stands in for ElevenLabs, Gemini and others when no channel is configured.
    first = synthesize_speech({"text": "Hello from a borrowed voice.", "voice": "Rachel"})
    assert first.duration > 0.5
    assert synthesize_speech({"text": "Hello from a borrowed voice.", "voice": "Rachel"}).data == first.data
