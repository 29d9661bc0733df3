"""Real, tiny media files for the fake to return, made once per process and cached.

Atelier's output pipeline decodes what it receives (thumbnails, poster frames, type checks),
so the fake returns genuine PNG/JPEG/MP4/MP3/WAV bytes rather than placeholders."""
from __future__ import annotations

import io
import math
from functools import lru_cache

import av
import numpy as np
from PIL import Image


def _color(seed: str) -> tuple[int, int, int]:
    value = sum(ord(c) * (i + 1) for i, c in enumerate(seed or "x"))
    return (value * 37 % 200 + 30, value * 91 % 200 + 30, value * 53 % 200 + 30)


@lru_cache(maxsize=64)
def png(width: int = 64, height: int = 64, seed: str = "") -> bytes:
    image = Image.new("RGB", (width, height), _color(seed))
    # A diagonal band so thumbnails are not a flat colour (and a decoder really has work to do).
    for x in range(min(width, height)):
        image.putpixel((x, x), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@lru_cache(maxsize=16)
def jpeg(width: int = 64, height: int = 64, seed: str = "") -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(png(width, height, seed))).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


@lru_cache(maxsize=8)
def mp4(width: int = 64, height: int = 64, seconds: float = 1.0, fps: int = 8) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for index in range(max(1, int(seconds * fps))):
            frame = np.zeros((height, width, 3), dtype=np.uint8)
            frame[:, :, 0] = (index * 25) % 256
            frame[:, : width // 2, 1] = 180
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def _tone(seconds: float, rate: int) -> np.ndarray:
    samples = np.arange(int(seconds * rate))
    return (0.3 * np.sin(2 * math.pi * 440 * samples / rate)).astype(np.float32)


@lru_cache(maxsize=8)
def audio(fmt: str = "mp3", seconds: float = 0.5, rate: int = 22050) -> bytes:
    """A short 440 Hz tone as mp3, wav, aac (ADTS), flac, opus (in ogg) or raw 16-bit pcm."""
    if fmt == "opus":
        rate = 48000  # the only rates Opus takes are divisors of 48 kHz; 48k keeps it simple
    tone = _tone(seconds, rate)
    if fmt == "pcm":
        return (tone * 32767).astype("<i2").tobytes()
    codec, container_format, sample_fmt = {
        "mp3": ("libmp3lame", "mp3", "fltp"),
        "wav": ("pcm_s16le", "wav", "s16"),
        "aac": ("aac", "adts", "fltp"),
        "flac": ("flac", "flac", "s16"),
        "opus": ("libopus", "ogg", "flt"),
    }[fmt]
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        chunk = 960 if fmt == "opus" else 1152  # Opus frames are 20 ms
        for start in range(0, len(tone), chunk):
            piece = tone[start:start + chunk]
            data = (piece * 32767).astype(np.int16).reshape(1, -1) if sample_fmt == "s16" else piece.reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(data, format=sample_fmt, layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


MIME = {"mp3": "audio/mpeg", "wav": "audio/wav", "aac": "audio/aac", "pcm": "audio/pcm", "flac": "audio/flac",
        "opus": "audio/ogg",
        "png": "image/png", "jpeg": "image/jpeg", "mp4": "video/mp4"}
