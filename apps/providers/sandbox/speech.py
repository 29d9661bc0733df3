"""The sandbox speech engine: espeak-ng, a small formant synthesizer, behind OpenAI-style params.

The text goes to espeak-ng on stdin, never on the command line, so no text can become an
option and no length limit applies. espeak-ng writes a WAV stream whose header sizes are
placeholders; we decode it with PyAV and write a proper WAV or an MP3."""
from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import wave
from dataclasses import dataclass

import av
import numpy as np

from ..base import InvalidInput, ModelUnavailable, TransientError

ESPEAK = "espeak-ng"
# OpenAI's voice names mapped to espeak-ng voice+variant pairs of a similar character.
VOICES = {
    "alloy": "en-us", "ash": "en-us+m2", "coral": "en-us+f2", "echo": "en-us+m3", "fable": "en-gb",
    "onyx": "en-us+m7", "nova": "en-us+f3", "sage": "en-gb-x-rp+f4", "shimmer": "en-us+f4",
}
BASE_WPM = 175  # espeak-ng's default rate: speed 1.0
MIN_WPM, MAX_WPM = 80, 450  # what espeak-ng accepts
MAX_CHARACTERS = 4096
TIMEOUT_SECONDS = 60


@dataclass
class Speech:
    data: bytes
    mime: str
    duration: float
    sample_rate: int
    characters: int


def espeak_path() -> str | None:
    return shutil.which(ESPEAK)


def _rate_and_gap(speed: float) -> tuple[int, int]:
    """espeak-ng's words per minute, plus a pause between words (10 ms units) for speeds
    slower than espeak-ng goes on its own."""
    wpm = round(BASE_WPM * speed)
    if wpm >= MIN_WPM:
        return min(wpm, MAX_WPM), 0
    # Each word at MIN_WPM takes 60/MIN_WPM s; stretch it to 60/wpm s with silence.
    gap_seconds = 60 / wpm - 60 / MIN_WPM
    return MIN_WPM, round(gap_seconds * 100)


def _espeak_wav(text: str, voice: str, speed: float) -> bytes:
    binary = espeak_path()
    if binary is None:
        raise ModelUnavailable("Speech synthesis needs espeak-ng, which is not installed on this server "
                               "(Debian/Ubuntu: apt-get install espeak-ng).", code="model_unavailable")
    wpm, gap = _rate_and_gap(speed)
    command = [binary, "-v", voice, "-s", str(wpm), "--stdin", "--stdout"]
    if gap:
        command += ["-g", str(gap)]
    try:
        completed = subprocess.run(command, input=text.encode("utf-8"), capture_output=True,
                                   timeout=TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise TransientError("espeak-ng took too long.", code="upstream_timeout") from exc
    if completed.returncode != 0 or len(completed.stdout) <= 44:
        detail = completed.stderr.decode("utf-8", "replace").strip()[:200]
        raise TransientError(f"espeak-ng failed: {detail or 'no audio produced'}")
    return completed.stdout


def _samples(wav: bytes) -> tuple[np.ndarray, int]:
    """Mono int16 samples and the sample rate of espeak-ng's WAV stream."""
    with av.open(io.BytesIO(wav), format="wav") as container:
        stream = container.streams.audio[0]
        chunks = [frame.to_ndarray().reshape(-1) for frame in container.decode(stream)]
        return (np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)).astype(np.int16), stream.rate


def _wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def _mp3_bytes(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout="mono")
        stream.bit_rate = 64_000
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16p", layout="mono")
        frame.sample_rate = rate
        frame.pts = 0
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def espeak_voice(name: str) -> str:
    """The espeak-ng voice for a voice name. Other providers' voices (the sandbox also stands
    in for ElevenLabs, Gemini, Kokoro...) get a fixed one of ours, picked by their name."""
    if name in VOICES:
        return VOICES[name]
    ours = sorted(VOICES)
    return VOICES[ours[int(hashlib.sha256(name.encode()).hexdigest(), 16) % len(ours)]]


def synthesize_speech(params: dict) -> Speech:
    text = str(params.get("input") or params.get("text") or params.get("prompt") or "").strip()
    if not text:
        raise InvalidInput("There is no text to speak (input is empty).")
    if len(text) > MAX_CHARACTERS:
        raise InvalidInput(f"The text is too long: {len(text)} characters, {MAX_CHARACTERS} at most.")
    try:
        speed = float(params.get("speed") or 1.0)
    except (TypeError, ValueError):
        raise InvalidInput("Speed must be a number.") from None
    if not 0.25 <= speed <= 4.0:
        raise InvalidInput("Speed must be between 0.25 and 4.0.")
    # "wav", or another provider's format names ("mp3_44100_128", "opus"...): WAV only when asked.
    wants_wav = str(params.get("response_format") or params.get("output_format") or "mp3").startswith(("wav", "pcm"))
    samples, rate = _samples(_espeak_wav(text, espeak_voice(str(params.get("voice") or "alloy")), speed))
    duration = len(samples) / rate
    if wants_wav:
        return Speech(_wav_bytes(samples, rate), "audio/wav", duration, rate, len(text))
    return Speech(_mp3_bytes(samples, rate), "audio/mpeg", duration, rate, len(text))
