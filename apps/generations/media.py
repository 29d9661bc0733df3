"""Turn provider outputs into stored files: the original, a thumbnail and a web version."""
from __future__ import annotations

import io
import mimetypes
from dataclasses import dataclass

import av
from django.core.files.base import ContentFile
from PIL import Image

from apps.providers.base import OutputFile

from .models import Generation, Output

THUMB_SIZE = (384, 384)
WEB_MAX = 1600
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "video/mp4": "mp4",
              "audio/mpeg": "mp3", "audio/wav": "wav", "audio/x-wav": "wav", "audio/ogg": "ogg"}


def _extension(mime: str) -> str:
    return EXTENSIONS.get(mime) or (mimetypes.guess_extension(mime) or ".bin").lstrip(".")


def _kind(mime: str) -> str:
    return mime.split("/", 1)[0] if mime.split("/", 1)[0] in {"image", "video", "audio"} else "image"


def webp_bytes(image: Image.Image, *, max_side: int, quality: int = 80) -> bytes:
    image = image.copy()
    image.thumbnail((max_side, max_side))
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=quality, method=4)
    return buffer.getvalue()


def image_derivatives(data: bytes) -> tuple[bytes, bytes, int, int]:
    """(thumbnail webp, web webp, width, height) of an image; raises ValueError if it is not one."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            width, height = image.size
            return webp_bytes(image, max_side=THUMB_SIZE[0]), webp_bytes(image, max_side=WEB_MAX, quality=85), width, height
    except (OSError, Image.DecompressionBombError) as exc:
        raise ValueError(f"The upstream returned an unreadable image: {exc}") from exc


def outputs_prepare(*, generation: Generation, files: list[OutputFile]) -> list[Output]:
    """Write every main output and its derivatives to storage and return the Output rows,
    unsaved; a 'cover' file becomes the previous output's cover.

    This is the slow part of finishing a job (decoding, encoding, storage writes), so it runs
    before generation_finish's transaction, never inside it: a database write lock is never
    held for an encode. If anything fails here, or the transaction later does not commit,
    the files written are deleted again (outputs_discard); nothing is left without a row.
    Numbering starts at 0: a job has no outputs before it succeeds."""
    prepared: list[Output] = []
    try:
        for produced in files:
            if produced.data is None:
                raise ValueError("Output has no bytes; URLs must be downloaded before storing.")
            if produced.role == "cover" and prepared:
                last = prepared[-1]
                last.cover.save(f"cover-{last.index}.webp", ContentFile(_to_webp_cover(produced.data)), save=False)
                continue
            output = Output(
                generation=generation, index=len(prepared), kind=_kind(produced.mime), mime=produced.mime,
                size_bytes=len(produced.data), width=produced.width, height=produced.height,
                duration=produced.duration, meta=produced.meta,
            )
            prepared.append(output)
            output.file.save(f"{output.index}.{_extension(produced.mime)}", ContentFile(produced.data), save=False)
            derivatives_for(output, produced)
    except BaseException:
        outputs_discard(prepared)
        raise
    return prepared


def outputs_discard(outputs: list[Output]) -> None:
    """Delete the stored files of outputs that will not be saved (through the storage API, so
    it works the same on local disk and object storage)."""
    for output in outputs:
        for field in (output.file, output.thumbnail, output.web, output.cover):
            if field.name:
                field.storage.delete(field.name)


def derivatives_for(output: Output, produced: OutputFile) -> None:
    """Images: a thumbnail and an optimized WebP. Videos: a poster frame (the cover) and a
    thumbnail, with size and duration read from the file. Audio: the duration read from the
    file (a song's artwork arrives separately as a role="cover" file).

    What the file says wins over what the upstream claimed; a file that does not decode
    raises ValueError, which fails the job and releases its hold."""
    if output.kind == "image":
        thumb, web, width, height = image_derivatives(produced.data)
        output.width, output.height = width, height
        output.thumbnail.save(f"{output.index}-thumb.webp", ContentFile(thumb), save=False)
        output.web.save(f"{output.index}-web.webp", ContentFile(web), save=False)
    elif output.kind == "video":
        info = video_probe(produced.data)
        output.width, output.height, output.duration = info.width, info.height, info.duration
        thumb = webp_bytes(info.poster, max_side=THUMB_SIZE[0])
        output.thumbnail.save(f"{output.index}-thumb.webp", ContentFile(thumb), save=False)
        output.cover.save(f"{output.index}-poster.webp",
                          ContentFile(webp_bytes(info.poster, max_side=WEB_MAX, quality=85)), save=False)
    elif output.kind == "audio" and output.mime.split(";")[0].strip().lower() not in RAW_AUDIO:
        output.duration = audio_duration(produced.data)


# ---- video and audio: decoded with FFmpeg (PyAV), defensively -----------------------------
# Only these demuxers may read upstream bytes: FFmpeg's playlist and concat demuxers would
# open the files and URLs a crafted input names.
SAFE_DEMUXERS = {
    "video": "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm",
    "audio": "mp3,wav,ogg,flac,aac,mov,mp4,m4a,3gp,3g2,mj2,matroska,webm",
}
# Decoders allowed on upstream bytes: the codecs real providers deliver, not FFmpeg's hundreds.
SAFE_CODECS = {
    "video": {"h264", "hevc", "vp8", "vp9", "av1", "libdav1d", "mpeg4", "prores", "mjpeg"},
    "audio": {"mp3", "mp3float", "aac", "flac", "vorbis", "libvorbis", "opus", "libopus", "alac", "pcm_s16le",
              "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_u8", "pcm_mulaw", "pcm_alaw"},
}
# Headerless sample streams (OpenAI/ElevenLabs "pcm", μ-law): nothing to probe, so the
# upstream's stated duration stands.
RAW_AUDIO = {"audio/pcm", "audio/l16", "audio/basic", "audio/raw"}
MAX_VIDEO_SIDE = 8192
MAX_POSTER_DECODE_FRAMES = 600  # enough to reach the middle frame after a keyframe seek
MAX_AUDIO_SECONDS = 4 * 3600


@dataclass
class VideoInfo:
    width: int
    height: int
    duration: float | None
    poster: Image.Image


def _open_media(data: bytes, kind: str):
    if not data:
        raise ValueError(f"The upstream returned an empty {kind} file.")
    try:
        return av.open(io.BytesIO(data), mode="r", options={"format_whitelist": SAFE_DEMUXERS[kind]})
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise ValueError(f"The upstream returned an unreadable {kind} file: {exc}") from exc


def _seconds(stream, container) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _check_codec(stream, kind: str) -> None:
    name = stream.codec_context.name
    if name not in SAFE_CODECS[kind]:
        raise ValueError(f"The upstream returned {kind} in an unsupported codec ({name}).")


def _poster_frame(container, stream, target: float):
    """The first frame at or after `target` seconds (the last one decoded if the clip is shorter)."""
    if target > 0 and stream.time_base:
        try:
            container.seek(int(target / stream.time_base), stream=stream, backward=True, any_frame=False)
        except av.error.FFmpegError:
            container.seek(0)  # no usable index: decode from the start instead
    chosen = None
    for count, frame in enumerate(container.decode(stream)):
        chosen = frame
        if frame.time is None or frame.time >= target - 1e-6 or count >= MAX_POSTER_DECODE_FRAMES:
            break
    return chosen


def video_probe(data: bytes) -> VideoInfo:
    """Size, duration and a poster frame (the middle of the clip) of an untrusted video."""
    container = _open_media(data, "video")
    try:
        if not container.streams.video:
            raise ValueError("The upstream returned a video file without a video stream.")
        stream = container.streams.video[0]
        _check_codec(stream, "video")
        width, height = stream.codec_context.width, stream.codec_context.height
        if not (0 < width <= MAX_VIDEO_SIDE and 0 < height <= MAX_VIDEO_SIDE):
            raise ValueError(f"The upstream returned a video of unusable size {width}x{height}.")
        duration = _seconds(stream, container)
        frame = _poster_frame(container, stream, (duration or 0) / 2)
        if frame is None and duration:
            # Seeking failed on this file; the first frame is still a fair poster.
            container.seek(0, stream=stream)
            frame = _poster_frame(container, stream, 0)
        if frame is None:
            raise ValueError("The upstream returned a video with no decodable frame.")
        return VideoInfo(width, height, round(duration, 3) if duration else None, frame.to_image())
    except (av.error.FFmpegError, OSError, MemoryError) as exc:
        raise ValueError(f"The upstream returned an unreadable video: {exc}") from exc
    finally:
        container.close()


def audio_duration(data: bytes) -> float:
    """Seconds of audio in an untrusted file, counted by decoding it (headers can lie)."""
    container = _open_media(data, "audio")
    try:
        if not container.streams.audio:
            raise ValueError("The upstream returned an audio file without an audio stream.")
        stream = container.streams.audio[0]
        _check_codec(stream, "audio")
        samples, rate = 0, stream.rate or 0
        for frame in container.decode(stream):
            samples += frame.samples
            rate = frame.sample_rate or rate
            if rate and samples / rate > MAX_AUDIO_SECONDS:
                raise ValueError("The upstream returned an audio file longer than 4 hours.")
        if not samples or not rate:
            raise ValueError("The upstream returned an audio file with no decodable sound.")
        return round(samples / rate, 3)
    except (av.error.FFmpegError, OSError, MemoryError) as exc:
        raise ValueError(f"The upstream returned an unreadable audio file: {exc}") from exc
    finally:
        container.close()


def _to_webp_cover(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return webp_bytes(image, max_side=WEB_MAX, quality=85)
