"""The built-in sandbox adapter: real media made locally, no network, no keys.

Image, speech and text answer at once. Video and music behave like the asynchronous
upstreams they stand in for: submit answers `pending` with a task id, and the first poll
at or after the task's ready time renders the file and answers `succeeded`. The task id
carries everything a poll needs (engine, ready time, a digest of the job), and the params
come back with the job, so a restarted worker or a second poll renders the same bytes and
no worker ever sleeps."""
from __future__ import annotations

import hashlib
import io
import json
import time
from typing import Iterator

from PIL import Image, ImageOps

from ..base import Adapter, ChatChunk, InvalidInput, Job, NotFound, OutputFile, ProviderResult
from ..inputs import inline_sources, stable_params
from ..registry import register
from ..sandbox import text as text_engine
from ..sandbox.compose import compose_png
from ..sandbox.image import render_image, render_png
from ..sandbox.music import render_song
from ..sandbox.sources import MAX_SOURCE_BYTES, load_image
from ..sandbox.speech import synthesize_speech
from ..sandbox.video import render_video, spec_from_params

ASYNC_ENGINES = {"video", "music"}
# How long an asynchronous sandbox task stays "queued" before the first poll renders it.
READY_AFTER_SECONDS = 1.0


IMAGE_BASES = {"1k": 1024, "2k": 2048, "4k": 2048}  # the sandbox draws 4K requests at 2K
MAX_IMAGE_SIDE = 2048
MAX_IMAGES = 10


def _image_size(params: dict) -> tuple[int, int]:
    """Width and height from the size names of the image models the sandbox stands in for:
    "1024x1024", "2K", or aspect_ratio ("16:9") with resolution/image_size; "auto" is square."""
    size = str(params.get("size") or "").lower()
    width, _, height = size.partition("x")
    if width.isdigit() and height.isdigit() and int(width) >= 16 and int(height) >= 16:
        w, h = int(width), int(height)
        scale = min(1.0, MAX_IMAGE_SIDE / max(w, h))
        return max(16, round(w * scale)), max(16, round(h * scale))
    named = str(params.get("resolution") or params.get("image_size") or "").lower()
    base = IMAGE_BASES.get(size) or IMAGE_BASES.get(named, 1024)
    a, _, b = str(params.get("aspect_ratio") or "1:1").partition(":")
    try:
        ratio = float(a) / float(b)
    except (ValueError, ZeroDivisionError):
        ratio = 1.0  # "auto", "match_input_image"
    ratio = min(4.0, max(0.25, ratio))
    if ratio >= 1:
        return base, max(16, round(base / ratio))
    return max(16, round(base * ratio)), base


SOURCE_IMAGE_FIELDS = ("image_url", "input_image", "image_prompt")
DEFAULT_PROMPT_STRENGTH = 0.35


def _source_image(params: dict) -> str | None:
    """The image an edit or image-to-image request starts from, under any model's field name."""
    for name in SOURCE_IMAGE_FIELDS:
        if params.get(name):
            return params[name]
    urls = params.get("image_urls")
    return urls[0] if isinstance(urls, list) and urls else None


def _edited_png(source: Image.Image, prompt: str, *, seed: int, width: int, height: int, strength: float) -> bytes:
    """The source image (cover-fitted) with the prompt's picture laid over it at `strength`:
    the result visibly comes from the source and still changes with the prompt."""
    source = ImageOps.fit(source, (width, height), method=Image.Resampling.BICUBIC)
    painted = render_image(prompt, seed=seed, width=width, height=height).convert("RGB")
    buffer = io.BytesIO()
    Image.blend(source, painted, min(1.0, max(0.0, strength))).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _image_count(params: dict) -> int:
    for name in ("n", "num_images", "num_outputs"):
        if params.get(name):
            return max(1, min(MAX_IMAGES, int(params[name])))
    return 1


def _digest(job: Job, engine: str) -> str:
    body = json.dumps([job.id, engine, stable_params(job)], sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def task_id(job: Job, engine: str, ready_at: float) -> str:
    return f"sbx.{engine}.{int(ready_at * 1000)}.{_digest(job, engine)}"


@register
class SandboxAdapter(Adapter):
    name = "sandbox"

    def submit(self, job: Job) -> ProviderResult:
        engine = job.upstream_model
        if engine in ASYNC_ENGINES:
            self._check(job)
            ready_at = time.time() + READY_AFTER_SECONDS
            return ProviderResult(status=ProviderResult.PENDING, upstream_id=task_id(job, engine, ready_at),
                                  poll_after=READY_AFTER_SECONDS, progress=0)
        return self._render(job)

    def poll(self, job: Job, upstream_id: str) -> ProviderResult:
        prefix, engine, ready_ms, digest = (str(upstream_id).split(".") + ["", "", "", ""])[:4]
        if prefix != "sbx" or engine not in ASYNC_ENGINES or not ready_ms.isdigit() or digest != _digest(job, engine):
            raise NotFound(f"The sandbox has no task {upstream_id!r} for this job.")
        remaining = int(ready_ms) / 1000 - time.time()
        if remaining > 0:
            waited = 1 - remaining / READY_AFTER_SECONDS if READY_AFTER_SECONDS else 0
            return ProviderResult(status=ProviderResult.PENDING, upstream_id=upstream_id,
                                  poll_after=max(0.2, remaining), progress=max(0, min(99, int(100 * waited))))
        return self._render(job, engine=engine)

    def cancel(self, job: Job, upstream_id: str) -> None:
        return None  # nothing runs between polls, so there is nothing to stop

    def stream_chat(self, job: Job) -> Iterator[ChatChunk]:
        if job.upstream_model != "text":
            raise InvalidInput(f"The sandbox engine {job.upstream_model!r} does not chat.")
        yield from text_engine.stream(job.params)

    # ---- engines ---------------------------------------------------------------------------
    def _check(self, job: Job) -> None:
        """Reject what cannot render before accepting the task, as a real upstream would."""
        if job.upstream_model == "video":
            try:
                spec_from_params(job.params)
            except ValueError as exc:
                raise InvalidInput(str(exc)) from exc

    def _render(self, job: Job, engine: str | None = None) -> ProviderResult:
        engine = engine or job.upstream_model
        handler = getattr(self, f"_render_{engine}", None)
        if handler is None:
            raise InvalidInput(f"The sandbox has no engine named {engine!r}")
        try:
            return handler(job)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc

    def _render_image(self, job: Job) -> ProviderResult:
        width, height = _image_size(job.params)
        seed = int(job.params.get("seed") or 0)
        prompt = str(job.params.get("prompt") or "")
        source_url = _source_image(inline_sources(job, max_bytes=MAX_SOURCE_BYTES))
        source = load_image(source_url, label="Source image") if source_url else None
        if source is not None and job.params.get("aspect_ratio") == "match_input_image":
            width, height = _image_size({**job.params, "aspect_ratio": f"{source.width}:{source.height}"})
        strength = float(job.params.get("prompt_strength") or DEFAULT_PROMPT_STRENGTH)
        urls = job.params.get("image_urls")
        # Several input images: fuse them (the first is the layout, the others go into it).
        inserts = [load_image(url, label=f"Input image {n + 2}") for n, url in enumerate(urls[1:])] \
            if source is not None and isinstance(urls, list) and len(urls) > 1 else []

        def draw(index: int) -> bytes:
            if inserts:
                return compose_png(source, inserts, prompt, seed=seed + index, width=width, height=height)
            if source is not None:
                return _edited_png(source, prompt, seed=seed + index, width=width, height=height, strength=strength)
            return render_png(prompt, seed=seed + index, width=width, height=height)

        outputs = [OutputFile(mime="image/png", data=draw(index), width=width, height=height)
                   for index in range(_image_count(job.params))]
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=outputs)

    def _render_video(self, job: Job) -> ProviderResult:
        data, spec = render_video(inline_sources(job, max_bytes=MAX_SOURCE_BYTES))
        output = OutputFile(mime="video/mp4", data=data, width=spec.width, height=spec.height,
                            duration=float(spec.duration),
                            meta={"fps": spec.fps, "has_audio": bool(job.params.get("generate_audio"))})
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=[output], progress=100)

    def _render_music(self, job: Job) -> ProviderResult:
        song = render_song(job.params)
        audio = OutputFile(mime="audio/mpeg", data=song.audio, duration=float(song.seconds), meta=song.meta)
        cover = OutputFile(mime="image/png", data=song.cover, role="cover", width=1024, height=1024,
                           meta={"title": song.plan.title})
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=[audio, cover], progress=100)

    def _render_speech(self, job: Job) -> ProviderResult:
        speech = synthesize_speech(job.params)
        output = OutputFile(mime=speech.mime, data=speech.data, duration=round(speech.duration, 3),
                            meta={"voice": job.params.get("voice") or "alloy", "sample_rate": speech.sample_rate})
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=[output],
                              usage={"characters": speech.characters})

    def _render_text(self, job: Job) -> ProviderResult:
        result = text_engine.answer(job.params)
        return ProviderResult(status=ProviderResult.SUCCEEDED, text=result.text, usage=result.usage,
                              tool_calls=result.tool_calls, finish_reason=result.finish_reason)
