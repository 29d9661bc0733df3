"""Derivatives of video and audio outputs: poster frame, thumbnail, size and duration read
from the file itself, and a clear ValueError for files that do not decode."""
import io
from datetime import datetime, timezone

import av
import numpy as np
import pytest
from PIL import Image

from apps.generations.media import audio_duration, derivatives_for, video_probe
from apps.generations.models import Generation, Output
from apps.providers.base import OutputFile
from apps.providers.sandbox.music import encode_mp3


def ramp_video(width=320, height=240, frames=48, fps=24) -> bytes:
    """Frame i is a flat grey of level 5*i: the poster's brightness says which frame it is."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "g": "12"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((height, width, 3), 5 * index, np.uint8), format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def tone_mp3(seconds: float, rate=44100) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return encode_mp3(np.stack([wave, wave]), rate)


@pytest.fixture
def output_of(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    def make(kind: str, mime: str) -> Output:
        generation = Generation(created_at=datetime(2026, 1, 2, tzinfo=timezone.utc))
        return Output(generation=generation, index=0, kind=kind, mime=mime)

    return make


def test_video_probe_reads_size_duration_and_takes_the_middle_frame():
    info = video_probe(ramp_video())
    assert (info.width, info.height) == (320, 240) and info.duration == pytest.approx(2.0, abs=0.05)
    level = np.asarray(info.poster.convert("L"), dtype=float).mean()
    assert abs(level - 5 * 24) <= 6  # frame 24 of 48, not the first (0) or the last (235)


def test_video_derivatives_are_a_webp_poster_and_thumbnail(output_of):
    output = output_of("video", "video/mp4")
    # The upstream's claims are wrong on purpose: the file is what counts.
    derivatives_for(output, OutputFile(mime="video/mp4", data=ramp_video(640, 360), width=1, height=1, duration=99))
    assert (output.width, output.height) == (640, 360) and output.duration == pytest.approx(2.0, abs=0.05)
    output.cover.open("rb")
    with Image.open(output.cover) as poster:
        assert poster.format == "WEBP" and poster.size == (640, 360)
    output.thumbnail.open("rb")
    with Image.open(output.thumbnail) as thumbnail:
        assert thumbnail.format == "WEBP" and max(thumbnail.size) == 384
    assert output.cover.name.endswith("0-poster.webp")


def test_audio_duration_is_decoded_not_claimed(output_of):
    assert audio_duration(tone_mp3(3.0)) == pytest.approx(3.0, abs=0.06)
    output = output_of("audio", "audio/mpeg")
    derivatives_for(output, OutputFile(mime="audio/mpeg", data=tone_mp3(2.5), duration=60))
    assert output.duration == pytest.approx(2.5, abs=0.06)


@pytest.mark.parametrize("data", [
    b"",
    b"\x00" * 4096,
    b"not a video at all" * 100,
    b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n",  # a playlist would make FFmpeg open other files
    b"ffconcat version 1.0\nfile /etc/passwd\n",
])
def test_bad_video_and_audio_are_value_errors(data):
    with pytest.raises(ValueError, match="unreadable|empty|without"):
        video_probe(data)
    with pytest.raises(ValueError, match="unreadable|empty|without|no decodable"):
        audio_duration(data)


def test_a_truncated_video_is_a_value_error():
    with pytest.raises(ValueError):
        video_probe(ramp_video()[:3000])


def test_an_audio_file_sent_as_video_is_refused():
    with pytest.raises(ValueError, match="without a video stream|unreadable"):
        video_probe(tone_mp3(1.0))


def test_headerless_pcm_keeps_the_stated_duration(output_of):
    output = output_of("audio", "audio/pcm")
    derivatives_for(output, OutputFile(mime="audio/pcm", data=b"\x00\x01" * 24000, duration=1.0))
    assert output.duration is None  # untouched: outputs_store already took the stated 1.0


@pytest.mark.parametrize("codec, container_format, mime", [("pcm_s16le", "wav", "audio/wav"),
                                                           ("aac", "adts", "audio/aac"),
                                                           ("flac", "flac", "audio/flac")])
def test_common_audio_formats_are_measured(output_of, codec, container_format, mime):
    rate = 24000
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        sample_format = stream.codec_context.format.name
        tone = np.sin(np.arange(rate * 2) / rate * 2 * np.pi * 330) * 0.3
        data = (tone * 32767).astype(np.int16) if sample_format.startswith("s16") else tone.astype(np.float32)
        frame = av.AudioFrame.from_ndarray(data.reshape(1, -1), format=sample_format, layout="mono")
        frame.sample_rate, frame.pts = rate, 0
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    output = output_of("audio", mime)
    derivatives_for(output, OutputFile(mime=mime, data=buffer.getvalue()))
    assert output.duration == pytest.approx(2.0, abs=0.05)


def test_video_in_a_codec_outside_the_allowlist_is_refused():
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="matroska") as container:
        stream = container.add_stream("mpeg2video", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for index in range(4):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with pytest.raises(ValueError, match="unsupported codec"):
        video_probe(buffer.getvalue())
