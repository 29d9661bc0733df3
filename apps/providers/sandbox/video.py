"""The sandbox video engine: H.264 MP4 clips at the requested size, length and frame rate.

Text-to-video renders the prompt's picture (sandbox/image.py) larger than the frame and
flies a camera over it (zoom and pan), with soft shapes in the prompt's colours drifting in
front for depth. Image-to-video does the same camera move over the given start frame and,
with an end frame, cross-fades into it so the last frame is the end frame itself.

Deterministic: every choice comes from a hash of (prompt, seed, size, duration, fps), and
x264 runs with a fixed thread count, so the same request gives the same bytes."""
from __future__ import annotations

import hashlib
import math
import os
import random
import re
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from .image import render_image
from .music import ambient_track
from .sources import load_image

ASPECT_RATIOS = ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"]
MAX_SECONDS = 30
FPS_RANGE = (4, 60)
MAX_SHORT_SIDE = 1080  # the sandbox renders 4K requests at 1080p: it shows the result, not the pixels
MAX_LONG_SIDE = 2560
# Room around the frame for the camera to move in; the source is rendered this much larger.
OVERSCAN = 1.3
AUDIO_RATE = 48000


@dataclass(frozen=True)
class VideoSpec:
    width: int
    height: int
    frame_count: int
    fps: int

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def _ratio(text: str) -> tuple[float, float] | None:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*[:x]\s*(\d+(?:\.\d+)?)\s*", text or "")
    if not match or not float(match.group(1)) or not float(match.group(2)):
        return None
    return float(match.group(1)), float(match.group(2))


def _short_side(resolution: str) -> int:
    text = str(resolution or "720p").strip().lower()
    if text in {"4k", "2160p", "2k", "1440p"}:
        return MAX_SHORT_SIDE
    match = re.fullmatch(r"(\d{3,4})p?", text)
    return min(MAX_SHORT_SIDE, max(144, int(match.group(1)))) if match else 720


def frame_size(aspect_ratio: str = "16:9", resolution: str = "720p", size: str = "") -> tuple[int, int]:
    """(width, height). `size` ("1280x720") wins; else the resolution names the short side of
    the aspect ratio. Both sides are even (yuv420p) and within the sandbox's limits."""
    exact = _ratio(size) if size else None
    if exact and exact[0] >= 16 and exact[1] >= 16:
        width, height = exact
        scale = min(1.0, MAX_SHORT_SIDE / min(width, height), MAX_LONG_SIDE / max(width, height))
        return _even(width * scale), _even(height * scale)
    a, b = _ratio(aspect_ratio) or (16, 9)
    short = _short_side(resolution)
    long = min(MAX_LONG_SIDE, short * max(a, b) / min(a, b))
    return (_even(long), _even(short)) if a >= b else (_even(short), _even(long))


def spec_from_params(params: dict) -> VideoSpec:
    """The clip to make. Accepts the parameter names of the real video models the sandbox
    stands in for (duration or num_frames, fps or frames_per_second, size or aspect_ratio +
    resolution); raises ValueError for values no clip can have."""
    width, height = frame_size(str(params.get("aspect_ratio") or "16:9"), str(params.get("resolution") or "720p"),
                               str(params.get("size") or ""))
    try:
        fps = round(float(params.get("fps") or params.get("frames_per_second") or 24))
        duration = params.get("duration")
        if duration in (None, "") and params.get("num_frames"):
            frame_count = int(params["num_frames"])
        else:
            frame_count = round(float(5 if duration in (None, "") else duration) * fps)
    except (TypeError, ValueError):
        raise ValueError("Duration, frame count and frame rate must be numbers.") from None
    if not FPS_RANGE[0] <= fps <= FPS_RANGE[1]:
        raise ValueError(f"Frame rate must be {FPS_RANGE[0]} to {FPS_RANGE[1]} fps.")
    if not 1 <= frame_count <= MAX_SECONDS * fps:
        raise ValueError(f"Duration must be more than 0 and at most {MAX_SECONDS} seconds.")
    return VideoSpec(width, height, frame_count, fps)


def _rng(*parts) -> random.Random:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def _smoothstep(t: float) -> float:
    t = min(1.0, max(0.0, t))
    return t * t * (3 - 2 * t)


def _cover(image: Image.Image, width: int, height: int) -> Image.Image:
    """Scale and centre-crop to exactly width x height (no bars)."""
    return ImageOps.fit(image, (width, height), method=Image.Resampling.BICUBIC)


@dataclass(frozen=True)
class Camera:
    """A zoom from `zoom_from` to `zoom_to` drifting towards (focus_x, focus_y), 0..1 coordinates."""

    zoom_from: float
    zoom_to: float
    focus_x: float
    focus_y: float

    def box(self, t: float, source_w: int, source_h: int) -> tuple[float, float, float, float]:
        eased = _smoothstep(t)
        zoom = self.zoom_from + (self.zoom_to - self.zoom_from) * eased
        # The drift grows with the zoom so a zoom of 1 always shows the whole source.
        reach = (zoom - 1.0) / max(1e-6, max(self.zoom_from, self.zoom_to) - 1.0)
        cx = 0.5 + (self.focus_x - 0.5) * reach
        cy = 0.5 + (self.focus_y - 0.5) * reach
        box_w, box_h = source_w / zoom, source_h / zoom
        left = min(max(cx * source_w - box_w / 2, 0.0), source_w - box_w)
        top = min(max(cy * source_h - box_h / 2, 0.0), source_h - box_h)
        return left, top, left + box_w, top + box_h


def _camera(rng: random.Random, *, starts_wide: bool) -> Camera:
    depth = 1.12 + rng.random() * (OVERSCAN - 1.12)
    focus = (0.25 + rng.random() * 0.5, 0.25 + rng.random() * 0.5)
    zoom_in = starts_wide or rng.random() < 0.6
    return Camera(1.0 if zoom_in else depth, depth if zoom_in else 1.0, *focus)


@dataclass
class _Sprite:
    # Blending in 8.8 fixed point: out = (pixel * keep + tint + 128) >> 8, with keep = 256 - alpha
    # and tint = colour * alpha precomputed, so a frame costs two integer multiply-adds per pixel.
    keep: np.ndarray  # (size, size, 1) uint16
    tint: np.ndarray  # (size, size, 3) uint16
    x: float
    y: float
    vx: float
    vy: float


def _sprites(picture: np.ndarray, rng: random.Random, spec: VideoSpec) -> list[_Sprite]:
    """Soft discs in colours taken from the picture, each with its own drift across the frame."""
    small = np.asarray(Image.fromarray(picture).resize((16, 16), Image.Resampling.BILINEAR))
    unit = min(spec.width, spec.height)
    sprites = []
    for _ in range(5 + rng.randrange(5)):
        colour = small[rng.randrange(16), rng.randrange(16)].astype(np.uint16)
        radius = max(4, int(unit * (0.03 + rng.random() * 0.09)))
        pad = radius // 2
        disc = Image.new("L", (2 * (radius + pad),) * 2, 0)
        ImageDraw.Draw(disc).ellipse([pad, pad, pad + 2 * radius, pad + 2 * radius], fill=int(70 + rng.random() * 90))
        disc = disc.filter(ImageFilter.GaussianBlur(radius=max(1, radius // 3)))
        speed = unit * (0.04 + rng.random() * 0.12)  # pixels per second
        angle = rng.random() * 2 * math.pi
        alpha = (np.asarray(disc, dtype=np.uint16) * 256 // 255)[:, :, None]
        sprites.append(_Sprite(256 - alpha, alpha * colour, rng.random() * spec.width, rng.random() * spec.height,
                               speed * math.cos(angle), speed * math.sin(angle)))
    return sprites


def _paste_sprites(crop: np.ndarray, sprites: list[_Sprite], seconds: float, scale: float) -> None:
    """Blend the discs into a crop of the source; `scale` is crop pixels per output pixel."""
    height, width = crop.shape[:2]
    span_w, span_h = width / scale, height / scale
    for sprite in sprites:
        size = sprite.keep.shape[0]
        # Wrap around the frame (plus the sprite's size) so discs leave one side and come back on the other.
        x = int(((sprite.x + sprite.vx * seconds) % (span_w + size) - size) * scale)
        y = int(((sprite.y + sprite.vy * seconds) % (span_h + size) - size) * scale)
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + size, width), min(y + size, height)
        if x0 >= x1 or y0 >= y1:
            continue
        inside = (slice(y0 - y, y1 - y), slice(x0 - x, x1 - x))
        region = crop[y0:y1, x0:x1]
        region[:] = (region * sprite.keep[inside] + sprite.tint[inside] + 128) >> 8


def _crop(source: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    left, top, right, bottom = (int(round(v)) for v in box)
    # Always a copy: sprites are painted into it, and a full-width slice would be the source itself.
    return source[top:max(bottom, top + 2), left:max(right, left + 2)].copy()


def _scaled(crop: np.ndarray, spec: VideoSpec) -> av.VideoFrame:
    # FFmpeg's scaler resizes and converts to the encoder's pixel format in one pass, about
    # twice as fast as resizing with Pillow first. Crops are whole pixels; the source is
    # rendered OVERSCAN times larger, so the rounding is under half an output pixel.
    return av.VideoFrame.from_ndarray(crop, format="rgb24").reformat(
        width=spec.width, height=spec.height, format="yuv420p", interpolation="BILINEAR")


def _frames(spec: VideoSpec, start: np.ndarray, end: np.ndarray | None, camera: Camera,
            end_camera: Camera | None, sprites: list[_Sprite]) -> Iterator[av.VideoFrame]:
    last = max(1, spec.frame_count - 1)
    start_h, start_w = start.shape[:2]
    for index in range(spec.frame_count):
        t = index / last
        # The end frame fades in over the second half of the clip and is reached on the last frame.
        weight = _smoothstep((t - 0.35) / 0.65) if end is not None else 0.0
        if end is None or weight <= 0.0:
            crop = _crop(start, camera.box(t, start_w, start_h))
            if sprites:
                _paste_sprites(crop, sprites, index / spec.fps, crop.shape[1] / spec.width)
            yield _scaled(crop, spec)
            continue
        late = _scaled(_crop(end, end_camera.box(t, end.shape[1], end.shape[0])), spec)
        if weight >= 1.0:
            yield late
            continue
        # Blending the YUV planes equals blending RGB (the conversion is affine) at half the bytes.
        early = _scaled(_crop(start, camera.box(t, start_w, start_h)), spec).to_ndarray()
        share = int(round(weight * 256))
        mixed = (early.astype(np.uint16) * (256 - share) + late.to_ndarray().astype(np.uint16) * share + 128) >> 8
        yield av.VideoFrame.from_ndarray(mixed.astype(np.uint8), format="yuv420p")


def _encode(frames: Iterator[av.VideoFrame], spec: VideoSpec, audio: np.ndarray | None) -> bytes:
    # faststart moves the index in front of the media so browsers can play while downloading;
    # the muxer rewrites the file to do it, which needs a real file rather than a BytesIO.
    with tempfile.TemporaryDirectory(prefix="atelier-video-") as folder:
        path = os.path.join(folder, "clip.mp4")
        _mux(path, frames, spec, audio)
        with open(path, "rb") as handle:
            return handle.read()


def _mux(path: str, frames: Iterator[av.VideoFrame], spec: VideoSpec, audio: np.ndarray | None) -> None:
    with av.open(path, "w", format="mp4", options={"movflags": "+faststart"}) as container:
        # ultrafast encodes three times faster than veryfast for files about twice the size
        # (some 100 KB a second at 1080p): the right trade for a shared worker's CPU. A fixed
        # thread count keeps x264's output identical from one machine to the next.
        stream = container.add_stream("libx264", rate=spec.fps,
                                      options={"preset": "ultrafast", "crf": "23", "threads": "2"})
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        audio_stream = None
        if audio is not None:
            audio_stream = container.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
            audio_stream.bit_rate = 128_000
        for index, frame in enumerate(frames):
            frame.pts, frame.time_base = index, Fraction(1, spec.fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if audio_stream is not None:
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio, dtype=np.float32), format="fltp",
                                               layout="stereo")
            frame.sample_rate = AUDIO_RATE
            frame.pts = 0
            for packet in audio_stream.encode(frame):
                container.mux(packet)
            for packet in audio_stream.encode():
                container.mux(packet)


def render_video(params: dict) -> tuple[bytes, VideoSpec]:
    """The MP4 bytes and the spec they were made to. Raises InvalidInput for bad source images."""
    spec = spec_from_params(params)
    prompt = str(params.get("prompt") or "")
    seed = int(params.get("seed") or 0)
    rng = _rng("video", prompt.strip().lower(), seed, spec.width, spec.height, spec.frame_count, spec.fps)
    source_size = (round(spec.width * OVERSCAN), round(spec.height * OVERSCAN))
    end = end_camera = None
    sprites: list[_Sprite] = []
    if params.get("image_url"):
        start = np.asarray(_cover(load_image(params["image_url"], label="Start frame (image_url)"), *source_size))
        camera = _camera(rng, starts_wide=True)
        if params.get("end_image_url"):
            end = np.asarray(_cover(load_image(params["end_image_url"], label="End frame (end_image_url)"),
                                    *source_size))
            forward = _camera(rng, starts_wide=True)
            # Played backwards, so the end frame settles on the whole picture.
            end_camera = Camera(forward.zoom_to, forward.zoom_from, forward.focus_x, forward.focus_y)
    else:
        start = np.asarray(render_image(prompt, seed=seed, width=source_size[0], height=source_size[1]).convert("RGB"))
        camera = _camera(rng, starts_wide=False)
        sprites = _sprites(start, rng, spec)
    audio = None
    if params.get("generate_audio"):
        audio = ambient_track(prompt, seed=seed, seconds=spec.duration, rate=AUDIO_RATE)
    return _encode(_frames(spec, start, end, camera, end_camera, sprites), spec, audio), spec
