"""pollinations.ai's paths at the site root (reference 002): model listings and the simple GETs.

Not under /api/v1, where /api/v1/image/... belongs to reference 003's per-model endpoints.

- GET /image/{prompt}: the image (or, for a video model, the MP4) itself. pollinations' query
  parameters (its gateway's documented list) map onto the catalog model's own parameters where
  the model has them: width/height (exact pixels, else the nearest aspect ratio and tier; for video
  the aspect ratio and resolution), seed (-1 random), negative_prompt, enhance, safe, quality
  (hd = high), image (reference URLs, `|` or `,` separated: edit inputs, or a video's start and
  end frame), transparent, guidance_scale, duration, aspectRatio, audio. A hint the model cannot
  use is ignored, as pollinations does, and named in `X-Atelier-Ignored-Params`; nologo, private,
  nofeed and referrer change nothing here (Atelier adds no logo and keeps every output private).
- GET /text/{prompt}: the answer as text/plain, or SSE chunks with stream=true (the chat service,
  as /v1/chat/completions); system, seed, temperature, top_p, penalties and json=true as above.

Both wait for the job up to API_SYNC_WAIT_SECONDS; past it the answer is 504 generation_pending
with the task id and the URL to poll. Identical GETs (same key, model, prompt, parameters and
seed) within STORE_HOURS answer the stored result without a new charge, so link previews and
retries never pay twice; `no-cache=true` asks for a new one. The stored lookup is the job's
per-workspace idempotency key, derived from the request."""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Literal

from django.db import IntegrityError
from django.http import FileResponse, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from apps.catalog.models import AIModel
from apps.core.errors import Kind
from apps.generations.chat import chat_complete, chat_open, chat_stream_start
from apps.generations.models import Generation
from apps.generations.services import generation_submit

from .auth import optional_principal, simple_get_auth
from .catalog import resolve_model, visible_models
from .errors import ApiError, invalid
from .native import own_generation
from .openai_chat import _completion_chunks, event_stream, sse
from .openai_media import _finished
from .presenters import credits, pollinations_item
from .translate import ParamMapper

router = Router(tags=["pollinations"])

STORE_HOURS = 24
DEFAULT_IMAGE_MODEL = "flux"  # pollinations' defaults, by their names
DEFAULT_TEXT_MODEL = "openai"
ENHANCE_FIELDS = ("enhance_prompt", "prompt_extend", "prompt_upsampling", "enhance")
GUIDANCE_FIELDS = ("guidance_scale", "guidance", "cfg_scale")


@router.get("/image/models", auth=None, summary="Image and video models (pollinations format)")
def image_models(request):
    optional_principal(request)
    return JsonResponse([pollinations_item(m) for m in visible_models(request, ["image", "video"])], safe=False)


@router.get("/text/models", auth=None, summary="Text and speech models (pollinations format)")
def text_models(request):
    """Text models, and the speech models (audio output, with their voices)."""
    optional_principal(request)
    return JsonResponse([pollinations_item(m) for m in visible_models(request, ["text", "speech"])], safe=False)


# ---- query parameters (pollinations' gateway schema) -------------------------------------------
class ImageQuery(Schema):
    model_config = ConfigDict(populate_by_name=True)

    model: str = Field(DEFAULT_IMAGE_MODEL, max_length=200)
    width: int | None = Field(None, ge=16, le=8192)
    height: int | None = Field(None, ge=16, le=8192)
    seed: int | None = Field(None, ge=-1, le=2_147_483_647, description="-1: random")
    enhance: bool = False
    negative_prompt: str | None = Field(None, max_length=4000)
    safe: bool = False
    quality: Literal["low", "medium", "high", "hd"] | None = None
    # A request line may be at most 64 KB (the HTTP server answers 414 past it): query values stay well inside.
    image: str | None = Field(None, max_length=8000, description="Reference image URLs, | or , separated")
    transparent: bool = False
    guidance_scale: float | None = Field(None, ge=0, le=100)
    duration: int | None = Field(None, ge=1, le=120)
    aspectRatio: str | None = Field(None, max_length=10)
    audio: bool | None = None
    nologo: bool = False
    private: bool = False
    nofeed: bool = False
    referrer: str | None = Field(None, max_length=500)
    no_cache: bool = Field(False, alias="no-cache")


class TextQuery(Schema):
    model_config = ConfigDict(populate_by_name=True)

    model: str = Field(DEFAULT_TEXT_MODEL, max_length=200)
    system: str | None = Field(None, max_length=8000, description="A system prompt (it travels in the URL; "
                               "POST /v1/chat/completions takes longer ones)")
    seed: int | None = None
    temperature: float | None = Field(None, ge=0, le=3)
    top_p: float | None = Field(None, ge=0, le=1)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    json_mode: bool = Field(False, alias="json")
    stream: bool = False
    private: bool = False
    referrer: str | None = Field(None, max_length=500)
    no_cache: bool = Field(False, alias="no-cache")


def _image_urls(text: str | None) -> list[str]:
    if not text:
        return []
    urls = [u.strip() for u in (text.split("|") if "|" in text else text.split(",")) if u.strip()]
    if any(not u.startswith(("http://", "https://")) for u in urls):
        raise invalid("Invalid image URL. Put image= last in your URL, or URL-encode it.", param="image")
    return urls


def image_get_params(model: AIModel, prompt: str, query: ImageQuery) -> tuple[dict, list[str]]:
    """pollinations' query -> the catalog model's params, and the hints the model ignores."""
    mapper = ParamMapper(model)
    mapper.put("prompt", prompt)
    width, height = query.width, query.height
    urls = _image_urls(query.image)
    if model.modality == "video":
        if width or height:
            mapper.set_video_size(f"{width or 1024}x{height or 1024}", param="width")
        if query.aspectRatio:
            mapper.put("aspect_ratio", query.aspectRatio, param="aspectRatio")
        mapper.put("duration", query.duration)
        if query.audio is not None:
            mapper.put("generate_audio", query.audio, param="audio", hint=True)
        if urls:
            mapper.put("image_url", urls[0], param="image")
        if len(urls) > 1:
            mapper.put("end_image_url", urls[1], param="image", hint=True)
    else:
        if width or height:
            mapper.set_size(f"{width or 1024}x{height or 1024}", param="width")
        for name in ("duration", "aspectRatio", "audio"):
            if getattr(query, name) is not None:
                mapper.ignored.append(name)
        if query.quality:
            quality = "high" if query.quality == "hd" else query.quality
            if quality in map(str, mapper.choices("quality")):
                mapper.params["quality"] = quality
            else:
                mapper.ignored.append("quality")
        if query.transparent:
            mapper.put("background", "transparent", param="transparent", hint=True)
        mapper.set_images(urls, param="image")
        _documented_format(mapper, transparent=bool(query.transparent))
    if query.seed is not None and query.seed != -1:
        mapper.put("seed", query.seed, hint=True)
    mapper.put("negative_prompt", query.negative_prompt, hint=True)
    if query.enhance:
        mapper.put("enhance", True, hint=True, target=mapper.first(ENHANCE_FIELDS) or "enhance")
    if query.guidance_scale is not None:
        mapper.put("guidance_scale", query.guidance_scale, hint=True,
                   target=mapper.first(GUIDANCE_FIELDS) or "guidance_scale")
    if query.safe:
        _strict_safety(mapper)
    return mapper.params, mapper.ignored


def _documented_format(mapper: ParamMapper, *, transparent: bool) -> None:
    """pollinations answers image/jpeg or image/png (reference 002), JPEG for its flux: where the
    model lets the caller pick a format, ask for one of those (PNG to keep a transparent background)."""
    choices = [str(choice) for choice in mapper.choices("output_format")]
    for wanted in ("png",) if transparent else ("jpeg", "jpg", "png"):
        if wanted in choices:
            mapper.params["output_format"] = wanted
            return


def _strict_safety(mapper: ParamMapper):
    """safe=true: the model's strictest safety setting, where it has one."""
    if mapper.has("enable_safety_checker"):
        mapper.params["enable_safety_checker"] = True
    elif mapper.has("safety_tolerance"):
        mapper.params["safety_tolerance"] = mapper.fields["safety_tolerance"].get("min", 1)
    elif "auto" in map(str, mapper.choices("moderation")):
        mapper.params["moderation"] = "auto"
    else:
        mapper.ignored.append("safe")


def text_get_params(model: AIModel, prompt: str, query: TextQuery) -> tuple[dict, list[str]]:
    mapper = ParamMapper(model)
    mapper.put("prompt", prompt)
    mapper.put("system", query.system)
    for name in ("seed", "temperature", "top_p", "presence_penalty", "frequency_penalty"):
        mapper.put(name, getattr(query, name), hint=True)
    if query.json_mode:
        mapper.put("json", {"type": "json_object"}, hint=True, target="response_format")
    return mapper.params, mapper.ignored


# ---- the stored result ----------------------------------------------------------------------------
def _store_key(principal, model: AIModel, params: dict) -> str:
    """The lookup key of a GET: one per key, model and parameters (prompt and seed included)."""
    body = json.dumps([principal.key_id, model.slug, params], sort_keys=True, default=str)
    return "pollinations:" + hashlib.sha256(body.encode()).hexdigest()


def _stored(principal, key: str, fresh: bool) -> Generation | None:
    """The earlier job under `key` if it can answer now (not failed, younger than STORE_HOURS);
    otherwise its key is freed for the new job (the old one keeps its history)."""
    earlier = Generation.objects.filter(workspace_id=principal.workspace.pk, idempotency_key=key).first()
    if earlier is None:
        return None
    usable = earlier.status not in (Generation.Status.FAILED, Generation.Status.CANCELED) and \
        earlier.created_at >= timezone.now() - timedelta(hours=STORE_HOURS)
    if usable and not fresh:
        return earlier
    Generation.objects.filter(pk=earlier.pk, idempotency_key=key).update(idempotency_key=f"{key}:{earlier.pk.hex}")
    return None


def _model(request, name: str, modalities: tuple[str, ...]) -> AIModel:
    model = resolve_model(name.strip(), request)
    if model.modality not in modalities:
        raise invalid(f"{model.slug} is a {model.modality} model; this endpoint takes {' or '.join(modalities)} "
                      "models.", param="model")
    return model


def _headers(response: HttpResponse, generation: Generation, replayed: bool, ignored: list[str]):
    response["X-Atelier-Generation-Id"] = str(generation.pk)
    response["X-Atelier-Credits"] = credits(generation.charged) or "0"
    response["X-Atelier-Replayed"] = "true" if replayed else "false"
    if ignored:
        response["X-Atelier-Ignored-Params"] = ",".join(ignored)
    return response


# ---- GET /image/{prompt} --------------------------------------------------------------------------
@router.get("/image/{path:prompt}", auth=simple_get_auth, summary="An image or video from a prompt (bytes)")
def image(request, prompt: str, query: Query[ImageQuery]):
    principal = request.auth
    if not prompt.strip():
        raise invalid("The prompt is empty.", param="prompt")
    model = _model(request, query.model, ("image", "video"))
    params, ignored = image_get_params(model, prompt, query)
    key = _store_key(principal, model, params)
    generation = _stored(principal, key, fresh=query.no_cache)
    replayed = generation is not None
    if generation is None:
        generation, created = generation_submit(user=principal.user, workspace=principal.workspace, model=model,
                                                raw_params=params, source="api", api_key_id=principal.key_id,
                                                idempotency_key=key)
        replayed = not created  # a concurrent identical GET made it first
    finished = _finished(request, generation, "/v1/generations/")
    media = next((o for o in finished.outputs.all() if o.kind in ("image", "video")), None)
    if media is None:
        raise ApiError("output_missing", "The job produced no image.", kind=Kind.UPSTREAM)
    response = FileResponse(media.file.open("rb"), content_type=media.mime)
    response["Content-Disposition"] = f'inline; filename="{finished.pk}{_suffix(media.mime)}"'
    response["Cache-Control"] = f"private, max-age={STORE_HOURS * 3600}"
    return _headers(response, finished, replayed, ignored)


def _suffix(mime: str) -> str:
    return {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "video/mp4": ".mp4"}.get(mime, "")


# ---- GET /text/{prompt} ---------------------------------------------------------------------------
@router.get("/text/{path:prompt}", auth=simple_get_auth, summary="Text from a prompt (plain, or SSE with stream)")
def text(request, prompt: str, query: Query[TextQuery]):
    principal = request.auth
    if not prompt.strip():
        raise invalid("The prompt is empty.", param="prompt")
    model = _model(request, query.model, ("text",))
    params, ignored = text_get_params(model, prompt, query)
    key = _store_key(principal, model, params)
    stored = _stored(principal, key, fresh=query.no_cache)
    if stored is not None and stored.status == Generation.Status.SUCCEEDED:
        return _text_answer(stored, query, model, replayed=True, ignored=ignored)
    if stored is not None:  # an identical GET is still answering: this one gets its own turn
        Generation.objects.filter(pk=stored.pk).update(idempotency_key=f"{key}:{stored.pk.hex}")
    turn = chat_open(user=principal.user, workspace=principal.workspace, wallet=principal.wallet, model=model,
                     raw_params=params, api_key_id=principal.key_id)
    try:
        Generation.objects.filter(pk=turn.generation.pk).update(idempotency_key=key)
    except IntegrityError:  # a concurrent identical GET recorded its turn first; this one still answers
        pass
    if not query.stream:
        chat_complete(turn=turn)
        return _text_answer(own_generation(request, turn.generation.pk), query, model, replayed=False,
                            ignored=ignored)
    stream = chat_stream_start(turn=turn)
    completion_id = f"chatcmpl-{turn.generation.pk.hex}"
    response = event_stream(_completion_chunks(stream, completion_id, int(time.time()), model.slug, False))
    response["X-Atelier-Generation-Id"] = str(turn.generation.pk)
    return response


def _text_answer(generation: Generation, query: TextQuery, model: AIModel, *, replayed: bool, ignored: list[str]):
    if query.stream:
        response = event_stream(_replayed_chunks(generation, model))
        response["X-Atelier-Generation-Id"] = str(generation.pk)
        response["X-Atelier-Replayed"] = "true"
        return response
    content_type = "application/json" if query.json_mode else "text/plain; charset=utf-8"
    return _headers(HttpResponse(generation.result_text, content_type=content_type), generation, replayed, ignored)


def _replayed_chunks(generation: Generation, model: AIModel) -> Iterator[bytes]:
    """A stored answer as the same SSE chunks a live one streams (in one content chunk)."""
    base = {"id": f"chatcmpl-{generation.pk.hex}", "object": "chat.completion.chunk",
            "created": int(generation.created_at.timestamp()), "model": model.slug, "system_fingerprint": None}
    finish = (generation.usage or {}).get("finish_reason") or "stop"
    for delta, reason in (({"role": "assistant", "content": ""}, None), ({"content": generation.result_text}, None),
                          ({}, finish)):
        yield sse({**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}]})
    yield sse("[DONE]")


