"""OpenAI-compatible media: images (sync or async tasks, edits), speech and video.

Every call is one Generation through generation_submit (the same validator, price, hold and
worker path as POST /v1/generations); these views translate shapes only (translate.py).

Choices where the references are silent or disagree (also in the README's API section):
- images answer with Atelier URLs by default (reference 000: "one or more URLs"); with
  response_format=b64_json the bytes come inline. gpt-image models answer both, because
  OpenAI's own gpt-image answers always carry b64_json and code written for it reads that.
- synchronous calls wait for the job up to API_SYNC_WAIT_SECONDS; past it the answer is 504
  `generation_pending` with the task id to poll (the job goes on and is charged as usual).
- video has three shapes over one job: OpenAI's /videos (status queued, in_progress,
  completed, failed), reference 004's /videos/generations + /videos/tasks/{id} (the same
  words) and reference 000's /videos/jobs/{id} (queued, running, succeeded, failed)."""
from __future__ import annotations

import base64
import io
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, JsonResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field
from PIL import Image, UnidentifiedImageError

from apps.core.errors import Kind
from apps.generations.models import Generation
from apps.generations.services import generation_submit
from apps.generations.storage import media_url
from apps.generations.waiting import generation_wait

from .catalog import resolve_model
from .errors import ApiError, invalid
from .idempotency import idempotency_key, idempotent
from .native import own_generation, submit_with_webhook
from .parsing import parse_json
from .presenters import absolute, credits, generation_routing, status_word
from .translate import image_params, speech_params, video_params

router = Router(tags=["OpenAI-compatible"])

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # per input file of images/edits and videos
UPLOAD_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
FAILED_KIND = {"content_filtered": Kind.FORBIDDEN, "invalid_input": Kind.INVALID, "invalid_source_url": Kind.INVALID,
               "canceled": Kind.CONFLICT, "deadline_exceeded": Kind.TIMEOUT}


def _model_of(request, model_id: str, *modalities: str):
    model = resolve_model(model_id, request)
    if model.modality not in modalities:
        raise invalid(f"{model.slug} is a {model.modality} model; this endpoint takes {' or '.join(modalities)} "
                      "models.", param="model")
    return model


def _submit(request, model, params: dict, webhook_url=None) -> Generation:
    principal = request.auth
    key = idempotency_key(request)
    generation, _ = submit_with_webhook(lambda: generation_submit(
        user=principal.user, workspace=principal.workspace, model=model, raw_params=params, source="api",
        api_key_id=principal.key_id, budget_id=principal.budget_id,
        idempotency_key=f"api:{key}" if key else None), webhook_url)
    return generation


def _finished(request, generation: Generation, poll_path: str) -> Generation:
    """Wait for the job (up to the configured bound); a failure becomes the API error it names."""
    if not generation_wait(generation_id=generation.pk, timeout=settings.API_SYNC_WAIT_SECONDS):
        error = ApiError("generation_pending", f"The job is still running; poll {poll_path}{generation.pk}.",
                         kind=Kind.TIMEOUT)
        error.extra = {"task_id": str(generation.pk), "poll_url": absolute(f"{poll_path}{generation.pk}")}
        raise error
    generation = own_generation(request, generation.pk)
    if generation.status != Generation.Status.SUCCEEDED:
        raise _failure(generation)
    return generation


def _failure(generation: Generation) -> ApiError:
    code = generation.error_code or "generation_failed"
    kind = FAILED_KIND.get(code, Kind.UPSTREAM)
    error = ApiError(code, generation.error_message or "The generation failed.", kind=kind)
    error.extra = {"task_id": str(generation.pk)}
    return error


def _uploaded_image(upload: UploadedFile, field: str) -> str:
    """An uploaded image as a data: URI the catalog's url fields take (checked by content)."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise ApiError("request_too_large", f"{field} is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
                       kind=Kind.TOO_LARGE, param=field)
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as image:
            mime = UPLOAD_FORMATS.get(image.format or "")
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError):
        mime = None
    if mime is None:
        raise invalid(f"{field} must be a PNG, JPEG or WebP image.", param=field)
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _form_or_json(request) -> tuple[dict, dict]:
    """(values, files) of a multipart form (what the SDKs send for uploads) or a JSON body."""
    if (request.content_type or "").startswith("multipart/form-data"):
        values = {}
        for name in request.POST:
            items = request.POST.getlist(name)
            values[name.removesuffix("[]")] = items if name.endswith("[]") or len(items) > 1 else items[0]
        files = {name.removesuffix("[]"): request.FILES.getlist(name) for name in request.FILES}
        return values, files
    body = parse_json(request.body or b"{}")
    if not isinstance(body, dict):
        raise ApiError("invalid_json", "The request body must be a JSON object.")
    return body, {}


def _number(values: dict, name: str, kind=int):
    value = values.get(name)
    if value in (None, ""):
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise invalid(f"{name} must be a number.", param=name) from None


# ---- images ---------------------------------------------------------------------------------------
class ImagesBody(Schema):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    model: str = Field(min_length=1, max_length=200)
    prompt: str = Field(min_length=1, max_length=100_000)
    n: int | None = Field(None, ge=1, le=16)
    size: str | None = Field(None, max_length=20, description='"1024x1024", an aspect ratio ("16:9") or "auto"')
    resolution: str | None = Field(None, max_length=8, description="1K, 2K or 4K (reference 004)")
    quality: str | None = Field(None, max_length=20)
    response_format: str | None = Field(None, pattern="^(url|b64_json)$")
    background: str | None = None
    output_format: str | None = None
    output_compression: int | None = Field(None, ge=0, le=100)
    moderation: str | None = None
    style: str | None = None
    negative_prompt: str | None = None
    steps: int | None = Field(None, ge=1, le=1000, description="Reference 000: used where the model has steps")
    seed: int | None = Field(None, description="Reference 000: used where the model takes a seed")
    user: str | None = Field(None, max_length=256)
    run_async: bool = Field(False, alias="async", description="Answer at once with a task id (reference 004)")
    webhook_url: str | None = Field(None, max_length=2000, description="Called (signed) when the job ends.")


IMAGE_KEYS = set(ImagesBody.model_fields) | {"async"}


def _image_item(output, response_format: str | None, inline_default: bool) -> dict:
    item = {}
    if response_format != "b64_json":
        item["url"] = media_url(output.file)
    if response_format == "b64_json" or (response_format is None and inline_default):
        with output.file.open("rb") as handle:
            item["b64_json"] = base64.b64encode(handle.read()).decode()
    revised = (output.meta or {}).get("revised_prompt")
    if revised:
        item["revised_prompt"] = revised
    return item


def images_json(generation: Generation, *, response_format: str | None = None, ignored: list | None = None) -> dict:
    inline = generation.model.slug.startswith("gpt-image") or generation.upstream_model.startswith("gpt-image")
    images = [o for o in generation.outputs.all() if o.kind == "image"]
    body = {
        "created": int(generation.created_at.timestamp()),
        "data": [_image_item(o, response_format, inline) for o in images],
        "id": str(generation.pk), "model": generation.model.slug,
        "credits": credits(generation.charged), "routing": generation_routing(generation),
    }
    if images and images[0].width and images[0].height:
        body["size"] = f"{images[0].width}x{images[0].height}"
    if generation.params.get("output_format"):
        body["output_format"] = generation.params["output_format"]
    if generation.usage:
        body["usage"] = generation.usage
    if ignored:
        body["ignored_params"] = ignored
    return body


def task_json(generation: Generation, kind: str) -> dict:
    """A task of reference 004's /images/tasks and /videos/tasks, in OpenAI's status words."""
    body = {"id": str(generation.pk), "object": f"{kind}.task", "model": generation.model.slug,
            "status": status_word(generation, "openai"), "progress": generation.progress or 0,
            "created": int(generation.created_at.timestamp()), "price": credits(generation.price),
            "credits": credits(generation.charged), "routing": generation_routing(generation), "error": None}
    if generation.status == Generation.Status.SUCCEEDED:
        outputs = list(generation.outputs.all())
        if kind == "image":
            body["data"] = [_image_item(o, None, False) for o in outputs if o.kind == "image"]
        else:
            videos = [o for o in outputs if o.kind == "video"]
            body["video_url"] = media_url(videos[0].file) if videos else None
            body["data"] = [{"url": media_url(o.file), "cover_url": media_url(o.cover) or None} for o in videos]
    elif generation.status in (Generation.Status.FAILED, Generation.Status.CANCELED):
        body["error"] = {"code": generation.error_code or "generation_failed", "message": generation.error_message}
    return body


@router.post("/images/generations", summary="Create images (OpenAI images API; async tasks of reference 004)")
def images_generations(request, body: ImagesBody):
    return idempotent(request, lambda: _images_generations(request, body))


def _images_generations(request, body: ImagesBody):
    model = _model_of(request, body.model, "image")
    values = body.model_dump(exclude_none=True, exclude={"run_async", "webhook_url"})
    extra = {k: v for k, v in (body.model_extra or {}).items() if k not in IMAGE_KEYS}
    params, ignored = image_params(model, values)
    for name, value in extra.items():  # the model's own parameters by their catalog names
        params[name] = value
    generation = _submit(request, model, params, body.webhook_url)
    if body.run_async:
        task = own_generation(request, generation.pk)
        return JsonResponse({**task_json(task, "image"), "ignored_params": ignored}, status=202)
    finished = _finished(request, generation, "/v1/images/tasks/")
    return JsonResponse(images_json(finished, response_format=body.response_format, ignored=ignored))


@router.get("/images/tasks/{task_id}", summary="An async image task (reference 004)")
def images_task(request, task_id: str):
    return JsonResponse(task_json(own_generation(request, task_id), "image"))


@router.post("/images/edits", summary="Edit images (OpenAI images API, multipart)",
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
                 "type": "object", "required": ["model", "prompt", "image"],
                 "properties": {"model": {"type": "string"}, "prompt": {"type": "string"},
                                "image": {"type": "array", "items": {"type": "string", "format": "binary"}},
                                "mask": {"type": "string", "format": "binary"}, "n": {"type": "integer"},
                                "size": {"type": "string"}, "response_format": {"type": "string"}}}}}}})
def images_edits(request):
    return idempotent(request, lambda: _images_edits(request))


def _images_edits(request):
    values, files = _form_or_json(request)
    for name in ("model", "prompt"):
        if not isinstance(values.get(name), str) or not values[name].strip():
            raise invalid(f"Missing required parameter: {name}.", param=name)
    model = _model_of(request, values["model"], "image")
    images = [_uploaded_image(upload, "image") for upload in files.get("image", [])]
    urls = values.get("image_url") or values.get("image_urls") or []
    images += [urls] if isinstance(urls, str) else list(urls)
    if not images:
        raise invalid("Send at least one image to edit.", param="image")
    mask = files.get("mask")
    response_format = values.get("response_format")
    if response_format not in (None, "url", "b64_json"):
        raise invalid("response_format must be url or b64_json.", param="response_format")
    request_values = {
        "prompt": values["prompt"], "n": _number(values, "n"), "size": values.get("size"),
        "quality": values.get("quality"), "background": values.get("background"),
        "output_format": values.get("output_format"),
        "output_compression": _number(values, "output_compression"),
        "input_fidelity": values.get("input_fidelity"),
        "mask": _uploaded_image(mask[0], "mask") if mask else None,
    }
    params, ignored = image_params(model, {k: v for k, v in request_values.items() if v is not None}, images)
    generation = _submit(request, model, params)
    finished = _finished(request, generation, "/v1/images/tasks/")
    return JsonResponse(images_json(finished, response_format=response_format, ignored=ignored))


# ---- speech ---------------------------------------------------------------------------------------
class SpeechBody(Schema):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=200)
    input: str = Field(min_length=1, max_length=100_000)
    voice: str | dict[str, Any] = Field(description="A voice the model lists (GET /v1/models/{id})")
    response_format: str | None = Field(None, max_length=32)
    speed: float | None = Field(None, gt=0, le=10)
    instructions: str | None = Field(None, max_length=10_000)
    stream_format: str | None = Field(None, pattern="^(audio|sse)$")


def _file_response(output, filename: str) -> FileResponse:
    response = FileResponse(output.file.open("rb"), content_type=output.mime)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@router.post("/audio/speech", summary="Text to speech (OpenAI): the audio bytes")
def audio_speech(request, body: SpeechBody):
    model = _model_of(request, body.model, "speech")
    if body.stream_format == "sse":
        raise invalid("stream_format=sse is not supported; the answer is the audio file.", param="stream_format")
    voice = body.voice.get("id") if isinstance(body.voice, dict) else body.voice
    params, ignored = speech_params(model, {**body.model_dump(exclude_none=True), "voice": voice})
    generation = _submit(request, model, params)
    finished = _finished(request, generation, "/v1/generations/")
    audio = next((o for o in finished.outputs.all() if o.kind == "audio"), None)
    if audio is None:
        raise ApiError("output_missing", "The speech job produced no audio.", kind=Kind.UPSTREAM)
    response = _file_response(audio, f"speech-{finished.pk}{_extension(audio.file.name)}")
    response["X-Atelier-Generation-Id"] = str(finished.pk)
    response["X-Atelier-Credits"] = credits(finished.charged)
    if ignored:
        response["X-Atelier-Ignored-Params"] = ",".join(ignored)
    return response


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:] if dot > name.rfind("/") else ""


# ---- video ----------------------------------------------------------------------------------------
def _size_of(generation: Generation, video) -> str:
    if generation.params.get("size"):
        return str(generation.params["size"])
    if video is not None and video.width and video.height:
        return f"{video.width}x{video.height}"
    return ""


def video_object(generation: Generation) -> dict:
    """OpenAI's Video object for a video generation (any model of the catalog)."""
    outputs = list(generation.outputs.all()) if generation.status == Generation.Status.SUCCEEDED else []
    video = next((o for o in outputs if o.kind == "video"), None)
    error = None
    if generation.status in (Generation.Status.FAILED, Generation.Status.CANCELED):
        error = {"code": generation.error_code or "generation_failed", "message": generation.error_message}
    duration = generation.params.get("duration")
    return {
        "id": str(generation.pk), "object": "video", "model": generation.model.slug,
        "status": status_word(generation, "openai"), "progress": 100 if video else (generation.progress or 0),
        "created_at": int(generation.created_at.timestamp()),
        "completed_at": int(generation.finished_at.timestamp()) if generation.finished_at else None,
        "expires_at": None, "prompt": generation.prompt, "seconds": str(duration) if duration is not None else None,
        "size": _size_of(generation, video), "remixed_from_video_id": None, "error": error,
        "video_url": media_url(video.file) if video else None, "price": credits(generation.price),
        "credits": credits(generation.charged), "routing": generation_routing(generation),
    }


def _video_submit(request, values: dict, files: dict) -> tuple[Generation, list[str]]:
    if not isinstance(values.get("prompt"), str) or not values["prompt"].strip():
        raise invalid("Missing required parameter: prompt.", param="prompt")
    if not isinstance(values.get("model"), str) or not values["model"].strip():
        raise invalid("Missing required parameter: model.", param="model")
    model = _model_of(request, values.pop("model"), "video")
    references = files.get("input_reference") or []
    if references:
        values["input_reference"] = _uploaded_image(references[0], "input_reference")
    elif isinstance(values.get("input_reference"), dict):
        values["input_reference"] = values["input_reference"].get("image_url")
    values.pop("async", None)
    webhook_url = values.pop("webhook_url", None)
    params, ignored = video_params(model, values)
    return _submit(request, model, params, webhook_url), ignored


VIDEO_FORM = {"requestBody": {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["prompt"],
    "properties": {"model": {"type": "string"}, "prompt": {"type": "string"}, "seconds": {"type": "string"},
                   "size": {"type": "string"}, "input_reference": {"type": "string", "format": "binary"},
                   "webhook_url": {"type": "string", "description": "Called (signed) when the job ends."}}}},
    "application/json": {"schema": {"type": "object", "required": ["model", "prompt"]}}}}}


@router.post("/videos", summary="Create a video (OpenAI videos API)", openapi_extra=VIDEO_FORM)
def videos_create(request):
    return idempotent(request, lambda: _videos_create(request))


def _videos_create(request):
    values, files = _form_or_json(request)
    values.setdefault("model", "")
    generation, _ = _video_submit(request, values, files)
    return JsonResponse(video_object(own_generation(request, generation.pk)))


# Literal paths come before /videos/{video_id}: Django tries URL patterns in order.
@router.get("/videos", summary="Recent videos (OpenAI videos API)")
def videos_list(request, limit: int = 20):
    rows = (Generation.objects.filter(workspace_id=request.auth.workspace.pk, model__modality="video")
            .select_related("model").prefetch_related("outputs", "attempts")[: max(1, min(limit, 100))])
    data = [video_object(g) for g in rows]
    return JsonResponse({"object": "list", "data": data, "has_more": False,
                         "first_id": data[0]["id"] if data else None, "last_id": data[-1]["id"] if data else None})


class VideoGenerationBody(Schema):
    """Reference 004's video task: the catalog model's own parameter names, at the top level."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=200)
    prompt: str = Field(min_length=1, max_length=100_000)
    duration: int | str | None = None
    aspect_ratio: str | None = None
    resolution: str | None = None
    image_url: str | None = None
    webhook_url: str | None = Field(None, max_length=2000, description="Called (signed) when the job ends.")


@router.post("/videos/generations", summary="Submit a video task (reference 004)", response={202: dict})
def videos_generations(request, body: VideoGenerationBody):
    return idempotent(request, lambda: _videos_generations(request, body))


def _videos_generations(request, body: VideoGenerationBody):
    values = {**body.model_dump(exclude_none=True), **(body.model_extra or {})}
    generation, ignored = _video_submit(request, values, {})
    task = task_json(own_generation(request, generation.pk), "video")
    return JsonResponse({**task, "ignored_params": ignored} if ignored else task, status=202)


@router.get("/videos/tasks/{task_id}", summary="A video task (reference 004)")
def videos_task(request, task_id: str):
    return JsonResponse(task_json(_own_video(request, task_id), "video"))


@router.get("/videos/jobs/{job_id}", summary="A video job (reference 000's words: succeeded)")
def videos_job(request, job_id: str):
    generation = _own_video(request, job_id)
    task = task_json(generation, "video")
    return JsonResponse({**task, "object": "video.job", "status": status_word(generation, "polyforge")})


def _own_video(request, video_id: str) -> Generation:
    generation = own_generation(request, video_id)
    if generation.model.modality != "video":
        raise ApiError("not_found", "No such video.", kind=Kind.NOT_FOUND)
    return generation


@router.get("/videos/{video_id}", summary="A video's status (OpenAI videos API)")
def videos_retrieve(request, video_id: str):
    return JsonResponse(video_object(_own_video(request, video_id)))


@router.get("/videos/{video_id}/content", summary="The video file, its poster (thumbnail)")
def videos_content(request, video_id: str, variant: str = "video"):
    generation = _own_video(request, video_id)
    if variant not in ("video", "thumbnail", "spritesheet"):
        raise invalid("variant must be video, thumbnail or spritesheet.", param="variant")
    if generation.status != Generation.Status.SUCCEEDED:
        raise ApiError("video_not_ready", f"The video is {status_word(generation, 'openai')}; poll "
                       f"GET /v1/videos/{generation.pk} until it is completed.", kind=Kind.CONFLICT)
    video = next((o for o in generation.outputs.all() if o.kind == "video"), None)
    if video is None:
        raise ApiError("not_found", "This video has no file.", kind=Kind.NOT_FOUND)
    if variant == "video":
        return _file_response(video, f"video-{generation.pk}.mp4")
    if variant == "spritesheet" or not (video.cover or video.thumbnail):
        raise ApiError("not_found", f"No {variant} for this video.", kind=Kind.NOT_FOUND)
    poster = video.cover or video.thumbnail
    response = FileResponse(poster.open("rb"), content_type="image/webp" if poster.name.endswith(".webp")
                            else "image/png" if poster.name.endswith(".png") else "image/jpeg")
    return response
