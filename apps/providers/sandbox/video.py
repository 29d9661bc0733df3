"""The sandbox video engine: H.264 MP4 clips at the requested size, length and frame rate.

Text-to-video renders the prompt's picture (sandbox/image.py) larger than the frame and
flies a camera over it (zoom and pan), with soft shapes in the prompt's colours drifting in
front for depth. Image-to-video does the same camera move over the given start frame and,
with an end frame, cross-fades into it so the last frame is the end frame itself.

Deterministic: every choice comes from a hash of (prompt, seed, size, duration, fps), and
x264 runs with a fixed thread count, so the same request gives the same bytes."""
from __future__ import annotations

import io
import math
from fractions import Fraction
import random
from dataclasses import dataclass
from typing import Iterator

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from .image import _rng, render_image
from .music import ambient_track
from .sources import load_image

RESOLUTIONS = {"480p": 480, "720p": 720, "1080p": 1080}
ASPECT_RATIOS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1), "4:3": (4, 3), "3:4": (3, 4), "21:9": (21, 9)}
MAX_DURATION = 30
FPS_RANGE = (8, 60)
# Room around the frame for the camera to move in; the source is rendered this much larger.
OVERSCAN = 1.3
AUDIO_RATE = 48000


@dataclass(frozen=True)
class VideoSpec:
    width: int
    height: int
    duration: int
    fps: int

    @property
    def frame_count(self) -> int:
        return self.duration * self.fps


def frame_size(aspect_ratio: str = "16:9", resolution: str = "720p") -> tuple[int, int]:
    """(width, height): the resolution names the short side; both sides even for yuv420p."""
    try:
        a, b = ASPECT_RATIOS[aspect_ratio]
        short = RESOLUTIONS[resolution]
    except KeyError as exc:
        raise ValueError(f"Unsupported aspect ratio or resolution: {exc.args[0]!r}") from None
    if a >= b:
        return 2 * round(short * a / b / 2), short
    return short, 2 * round(short * b / a / 2)


def spec_from_params(params: dict) -> VideoSpec:
    width, height = frame_size(str(params.get("aspect_ratio") or "16:9"), str(params.get("resolution") or "720p"))
    duration = int(params.get("duration") or 5)
    fps = int(params.get("fps") or 24)
    if not 1 <= duration <= MAX_DURATION:
        raise ValueError(f"Duration must be 1 to {MAX_DURATION} seconds.")
    if not FPS_RANGE[0] <= fps <= FPS_RANGE[1]:
        raise ValueError(f"Frame rate must be {FPS_RANGE[0]} to {FPS_RANGE[1]} fps.")
    return VideoSpec(width, height, duration, fps)


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
    image: Image.Image
    x: float
    y: float
    vx: float
    vy: float


def _sprites(picture: Image.Image, rng: random.Random, spec: VideoSpec) -> list[_Sprite]:
    """Soft discs in colours taken from the picture, each with its own drift across the frame."""
    small = np.asarray(picture.resize((16, 16), Image.Resampling.BILINEAR))
    unit = min(spec.width, spec.height)
    sprites = []
    for _ in range(5 + rng.randrange(5)):
        colour = tuple(int(c) for c in small[rng.randrange(16), rng.randrange(16)])
        radius = max(4, int(unit * (0.03 + rng.random() * 0.09)))
        pad = radius // 2
        disc = Image.new("RGBA", (2 * (radius + pad),) * 2, colour + (0,))
        ImageDraw.Draw(disc).ellipse([pad, pad, pad + 2 * radius, pad + 2 * radius],
                                     fill=colour + (int(70 + rng.random() * 90),))
        disc = disc.filter(ImageFilter.GaussianBlur(radius=max(1, radius // 3)))
        speed = unit * (0.04 + rng.random() * 0.12)  # pixels per second
        angle = rng.random() * 2 * math.pi
        sprites.append(_Sprite(disc, rng.random() * spec.width, rng.random() * spec.height,
                               speed * math.cos(angle), speed * math.sin(angle)))
    return sprites


def _paste_sprites(crop: Image.Image, sprites: list[_Sprite], seconds: float, scale: float) -> None:
    """Paste the discs onto a crop of the source; `scale` is crop pixels per output pixel."""
    span_w, span_h = crop.width / scale, crop.height / scale
    for sprite in sprites:
        size = sprite.image.width
        # Wrap around the frame (plus the sprite's size) so discs leave one side and come back on the other.
        x = (sprite.x + sprite.vx * seconds) % (span_w + size) - size
        y = (sprite.y + sprite.vy * seconds) % (span_h + size) - size
        crop.paste(sprite.image, (int(x * scale), int(y * scale)), sprite.image)


def _crop(source: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    left, top, right, bottom = (int(round(v)) for v in box)
    return source.crop((left, top, max(right, left + 2), max(bottom, top + 2)))


def _scaled(crop: Image.Image, spec: VideoSpec, pixel_format: str) -> av.VideoFrame:
    # FFmpeg's scaler resizes and converts to the encoder's pixel format in one pass, about
    # twice as fast as resizing with Pillow first. Crops are whole pixels; the source is
    # rendered OVERSCAN times larger, so the rounding is under half an output pixel.
    return av.VideoFrame.from_image(crop).reformat(width=spec.width, height=spec.height, format=pixel_format,
                                                   interpolation="BILINEAR")


def _frames(spec: VideoSpec, start: Image.Image, end: Image.Image | None, camera: Camera,
            end_camera: Camera | None, sprites: list[_Sprite]) -> Iterator[av.VideoFrame]:
    last = max(1, spec.frame_count - 1)
    for index in range(spec.frame_count):
        t = index / last
        # The end frame fades in over the second half of the clip and is reached on the last frame.
        weight = _smoothstep((t - 0.35) / 0.65) if end is not None else 0.0
        if end is None or weight <= 0.0:
            crop = _crop(start, camera.box(t, start.width, start.height))
            if sprites:
                _paste_sprites(crop, sprites, index / spec.fps, crop.width / spec.width)
            yield _scaled(crop, spec, "yuv420p")
        elif weight >= 1.0:
            yield _scaled(_crop(end, end_camera.box(t, end.width, end.height)), spec, "yuv420p")
        else:
            early = _scaled(_crop(start, camera.box(t, start.width, start.height)), spec, "rgb24").to_image()
            late = _scaled(_crop(end, end_camera.box(t, end.width, end.height)), spec, "rgb24").to_image()
            yield av.VideoFrame.from_image(Image.blend(early, late, weight)).reformat(format="yuv420p")


def _encode(frames: Iterator[av.VideoFrame], spec: VideoSpec, audio: np.ndarray | None) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        # A fixed thread count keeps x264's output identical from one machine to the next.
        stream = container.add_stream("libx264", rate=spec.fps,
                                      options={"preset": "veryfast", "crf": "23", "threads": "2"})
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
    return buffer.getvalue()


def render_video(params: dict) -> tuple[bytes, VideoSpec]:
    """The MP4 bytes and the spec they were made to. Raises InvalidInput for bad source images."""
    spec = spec_from_params(params)
    prompt = str(params.get("prompt") or "")
    seed = int(params.get("seed") or 0)
    rng = _rng("video", prompt.strip().lower(), seed, spec.width, spec.height, spec.duration, spec.fps)
    source_size = (round(spec.width * OVERSCAN), round(spec.height * OVERSCAN))
    end = end_camera = None
    sprites: list[_Sprite] = []
    if params.get("image_url"):
        start = _cover(load_image(params["image_url"], label="Start frame (image_url)"), *source_size)
        camera = _camera(rng, starts_wide=True)
        if params.get("end_image_url"):
            end = _cover(load_image(params["end_image_url"], label="End frame (end_image_url)"), *source_size)
            forward = _camera(rng, starts_wide=True)
            # Played backwards, so the end frame settles on the whole picture.
            end_camera = Camera(forward.zoom_to, forward.zoom_from, forward.focus_x, forward.focus_y)
    else:
        start = render_image(prompt, seed=seed, width=source_size[0], height=source_size[1])
        camera = _camera(rng, starts_wide=False)
        sprites = _sprites(start, rng, spec)
    audio = None
    if params.get("generate_audio"):
        audio = ambient_track(prompt, seed=seed, seconds=spec.duration, rate=AUDIO_RATE)
    return _encode(_frames(spec, start, end, camera, end_camera, sprites), spec, audio), spec
