"""Reference 003's per-model surface, under /api/v1 only: its endpoints, its parameter tables, its
task object and (through dialects.py) its error table.

- POST /api/v1/video/seedance, /api/v1/image/gpt-image-2, /api/v1/image/nano-banana-pro take
  exactly the names, types and ranges of 003's tables (a field it does not list is a 400) and are
  mapped onto the catalog model that serves each one (ENDPOINTS: the first slug the catalog has).
  An option the catalog model does not offer is accepted at 003's default (it asks for the
  model's own behaviour) and refused by name otherwise, never silently dropped.
- POST /api/v1/{modality}/{model}: every other catalog model, its own parameter names at the
  top level of the body.
- GET /api/v1/tasks/{id}: {id, status, model, output, credits_used}; status queued, processing,
  completed or failed (presenters.status_word "tasks"); another owner's task is 404 not_found.

Every submit is one generation_submit (the same validator, price, hold and worker as every
surface) and honours Idempotency-Key (scoped to the key's workspace; a different body under a
used key is 409 idempotency_conflict). Choices where 003 is silent are in the README."""
from __future__ import annotations

from decimal import Decimal
from typing import Literal
from urllib.parse import urlsplit

from django.conf import settings
from django.http import JsonResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field, StrictBool, StrictInt, field_validator, model_validator

from apps.catalog.models import AIModel
from apps.catalog.services import model_find
from apps.core.errors import Kind
from apps.generations.models import Generation
from apps.generations.services import generation_submit
from apps.generations.storage import media_url

from .catalog import resolve_model
from .errors import ApiError, invalid
from .idempotency import idempotency_key, idempotent
from .native import own_generation
from .parsing import parse_json
from .presenters import songs_json, status_word
from .translate import ParamMapper, image_count_field

router = Router(tags=["Per-model endpoints (reference 003)"])

# Each endpoint of 003 and the catalog model behind it (a slug or an alias; the first found).
ENDPOINTS = {
    "seedance": ("seedance-2-0", "seedance-2"),
    "gpt-image-2": ("gpt-image-2",),
    "nano-banana-pro": ("nano-banana-pro",),
}
MODALITIES = ("image", "video", "music", "speech", "text")


def endpoint_model(name: str, request) -> AIModel:
    """The catalog model behind a 003 endpoint (allowlist and per-model limits as everywhere)."""
    for slug in ENDPOINTS[name]:
        model = model_find(slug_or_alias=slug)
        if model is not None:
            return resolve_model(model.slug, request)
    raise ApiError("not_found", f"This server has no model for {name}.", kind=Kind.NOT_FOUND)


# ---- shared field checks ----------------------------------------------------------------------
def _allowed_plain_hosts() -> set[str]:
    site = urlsplit(settings.SITE_URL)
    hosts = set(getattr(settings, "SAFE_FETCH_ALLOW_HOSTS", []) or [])
    if site.hostname:
        hosts |= {site.netloc, site.hostname}
    return hosts


def public_url(value: str) -> str:
    """003's "public https URL": https (plain http only for this site's own media and the hosts
    an operator allows); the address itself is checked when the worker fetches it."""
    parts = urlsplit(value.strip())
    if not parts.netloc or len(value) > 4096:
        raise ValueError("must be a URL")
    if parts.scheme == "https":
        return value.strip()
    if parts.scheme == "http" and (parts.netloc in _allowed_plain_hosts() or parts.hostname in _allowed_plain_hosts()):
        return value.strip()
    raise ValueError("must be a public https URL")


def public_urls(value: list[str] | None) -> list[str] | None:
    return None if value is None else [public_url(item) for item in value]


def check_image_type(kind: str, urls: list[str] | None, name: str):
    """003's `type`: image-to-image needs the input images, text-to-image takes none."""
    if kind == "image-to-image" and not urls:
        raise ValueError(f"{name} are required for image-to-image")
    if kind == "text-to-image" and urls:
        raise ValueError(f"{name} are for image-to-image; set type to image-to-image")


class ReferenceBody(Schema):
    model_config = ConfigDict(extra="forbid")


class SeedanceBody(ReferenceBody):
    mode: Literal["text-to-video", "image-to-video", "media-to-video"] = "text-to-video"
    quality_tier: Literal["standard", "pro"] = "standard"
    channel: Literal["standard", "real", "wild"] = "standard"
    prompt: str = Field(min_length=3, max_length=10000)
    aspect_ratio: Literal["1:1", "21:9", "4:3", "3:4", "16:9", "9:16"] = "16:9"
    duration: str = Field("5", description="4 to 15 (seconds), as a string")
    resolution: Literal["720p", "1080p"] = "720p"
    image_url: str | None = None
    end_image_url: str | None = None
    media_urls: list[str] | None = Field(None, max_length=12)
    generate_audio: StrictBool = True
    fixed_lens: StrictBool = False
    seed: StrictInt | None = Field(None, ge=-1, le=4_294_967_295)

    @field_validator("duration")
    @classmethod
    def _seconds(cls, value: str) -> str:
        if not value.isdigit() or not 4 <= int(value) <= 15:
            raise ValueError("duration is a string of 4 to 15 (seconds)")
        return value

    @field_validator("image_url", "end_image_url")
    @classmethod
    def _url(cls, value):
        return None if value is None else public_url(value)

    @field_validator("media_urls")
    @classmethod
    def _urls(cls, value):
        return public_urls(value)

    @model_validator(mode="after")
    def _modes(self):
        if self.mode == "image-to-video" and not self.image_url:
            raise ValueError("image_url (the start frame) is required for image-to-video")
        if self.mode == "media-to-video" and not self.media_urls:
            raise ValueError("media_urls are required for media-to-video")
        if self.channel == "real" and self.seed is not None:
            raise ValueError("seed is not supported on the real channel")
        return self


GPT_IMAGE_RATIOS = Literal["auto", "1:1", "5:4", "9:16", "21:9", "16:9", "4:3", "3:2", "4:5", "3:4", "2:3", "2:1",
                           "1:2", "3:1", "1:3", "9:21"]


class GptImage2Body(ReferenceBody):
    type: Literal["text-to-image", "image-to-image"]
    channel: Literal["standard", "economy"] = "standard"
    prompt: str = Field(min_length=3, max_length=20000)
    resolution: Literal["1K", "2K", "4K"]
    aspectRatio: GPT_IMAGE_RATIOS
    batchCount: StrictInt = Field(1, ge=1, le=4)
    imageUrls: list[str] | None = Field(None, min_length=1, max_length=10)

    @field_validator("imageUrls")
    @classmethod
    def _urls(cls, value):
        return public_urls(value)

    @model_validator(mode="after")
    def _rules(self):
        check_image_type(self.type, self.imageUrls, "imageUrls")
        if self.aspectRatio == "auto" and self.resolution != "1K":
            raise ValueError("aspectRatio auto only supports resolution 1K")
        if self.aspectRatio == "1:1" and self.resolution == "4K" and self.channel == "standard":
            raise ValueError("1:1 cannot use 4K on the standard channel")
        return self


class NanoBananaProBody(ReferenceBody):
    type: Literal["text-to-image", "image-to-image"]
    prompt: str = Field(min_length=3, max_length=10000)
    image_size: Literal["1:1", "9:16", "16:9", "3:4", "4:3", "3:2", "2:3", "5:4", "4:5", "21:9", "auto"] = "auto"
    output_format: Literal["png", "jpeg"] = "png"
    resolution: Literal["1K", "2K", "4K"] = "1K"
    image_urls: list[str] | None = Field(None, min_length=1, max_length=8)

    @field_validator("image_urls")
    @classmethod
    def _urls(cls, value):
        return public_urls(value)

    @model_validator(mode="after")
    def _rules(self):
        check_image_type(self.type, self.image_urls, "image_urls")
        return self


# ---- mapping onto the catalog -----------------------------------------------------------------
class Mapping:
    """003's values -> one catalog model's params. A value lands on the first catalog field that
    takes it; without one it may only be 003's default (the model's own behaviour)."""

    def __init__(self, model: AIModel):
        self.model = model
        self.mapper = ParamMapper(model)
        self.params = self.mapper.params

    def put(self, name: str, value, *candidates: str, default=None):
        if value is None:
            return
        target = next((c for c in candidates or (name,) if self.mapper.has(c)), None)
        if target is not None:
            self.params[target] = value
        elif value != default:
            raise invalid(f"{name}={value!r} is not offered by this server's {self.model.slug}; use the default "
                          f"({default!r}) or see GET /api/v1/models/{self.model.slug}.", param=name)


def seedance_params(model: AIModel, body: SeedanceBody) -> dict:
    m = Mapping(model)
    m.put("mode", body.mode, default="text-to-video")
    m.put("quality_tier", body.quality_tier, default="standard")
    m.put("channel", body.channel, default="standard")
    m.put("prompt", body.prompt)
    m.put("aspect_ratio", body.aspect_ratio, default="16:9")
    m.put("duration", int(body.duration))
    m.put("resolution", body.resolution)
    m.put("image_url", body.image_url)
    m.put("end_image_url", body.end_image_url)
    m.put("media_urls", body.media_urls)
    m.put("generate_audio", body.generate_audio, default=False)
    m.put("fixed_lens", body.fixed_lens, "fixed_lens", "camera_fixed", default=False)
    if body.seed is not None and body.seed != -1:  # -1 is "random": the model's default
        m.put("seed", body.seed)
    return m.params


def _tier(m: Mapping, resolution: str):
    """1K/2K/4K on the model's tier field; a model without tiers makes 1K only."""
    if m.mapper.first(("resolution", "image_size")) and m.mapper.tier_choice(
            m.mapper.first(("resolution", "image_size")), resolution):
        m.mapper.set_resolution(resolution)
    elif resolution != "1K":
        raise invalid(f"resolution {resolution} is not offered by this server's {m.model.slug} (1K only).",
                      param="resolution")


def _ratio(m: Mapping, ratio: str, name: str):
    if m.mapper.has("aspect_ratio") and ratio in map(str, m.mapper.choices("aspect_ratio")):
        m.params["aspect_ratio"] = ratio
        return
    try:
        m.mapper.set_size(ratio, param=name)  # a size-only model: the pixel size of that shape
    except ApiError:
        raise invalid(f"{name} {ratio} is not offered by this server's {m.model.slug}.", param=name) from None


def gpt_image_params(model: AIModel, body: GptImage2Body) -> dict:
    m = Mapping(model)
    if m.mapper.has("type"):  # a catalog entry with 003's own switch; otherwise images imply it
        m.put("type", body.type)
    m.put("channel", body.channel, default="standard")
    m.put("prompt", body.prompt)
    _ratio(m, body.aspectRatio, "aspectRatio")
    _tier(m, body.resolution)
    if body.batchCount != 1:
        count = image_count_field(m.mapper)
        if count is None:
            raise invalid(f"{model.slug} makes one image per request.", param="batchCount")
        m.params[count] = body.batchCount
    if body.imageUrls:
        m.mapper.set_images(body.imageUrls, param="imageUrls")
    return m.params


def nano_banana_params(model: AIModel, body: NanoBananaProBody) -> dict:
    m = Mapping(model)
    if m.mapper.has("type"):  # a catalog entry with 003's own switch; otherwise images imply it
        m.put("type", body.type)
    m.put("prompt", body.prompt)
    _ratio(m, body.image_size, "image_size")
    _tier(m, body.resolution)
    m.put("output_format", body.output_format, default="png")
    if body.image_urls:
        m.mapper.set_images(body.image_urls, param="image_urls")
    return m.params


# ---- the task object --------------------------------------------------------------------------
def credits_number(milli: int | None):
    """Credits as a JSON number (003 shows `"credits_used": 30`): whole when whole, exact digits."""
    if not milli:
        return 0
    value = Decimal(milli) / 1000
    return int(value) if value == value.to_integral_value() else float(value)


def public_name(generation: Generation) -> str:
    """003's name for the model of an endpoint ("seedance" for Seedance 2.0), else the slug."""
    model = generation.model
    names = {model.slug, *(model.aliases or [])}
    for name, slugs in ENDPOINTS.items():
        if names & set(slugs):
            return name
    return model.slug


def task_output(generation: Generation) -> dict:
    if generation.status != Generation.Status.SUCCEEDED:
        return {}
    outputs = list(generation.outputs.all())
    modality = generation.model.modality
    if modality == "text":
        return {"text": generation.result_text}
    if modality == "image":
        urls = [media_url(o.file) for o in outputs if o.kind == "image"]
        return {"image_url": urls[0] if urls else None, "image_urls": urls}
    if modality == "video":
        video = next((o for o in outputs if o.kind == "video"), None)
        return {"video_url": media_url(video.file) if video else None,
                "thumbnail_url": media_url(video.cover) if video and video.cover else None}
    audio = next((o for o in outputs if o.kind == "audio"), None)
    output = {"audio_url": media_url(audio.file) if audio else None}
    if modality == "music":
        output["songs"] = songs_json(generation)
    return output


def task_json(generation: Generation) -> dict:
    body = {
        "id": str(generation.pk),
        "status": status_word(generation, "tasks"),
        "model": public_name(generation),
        "output": task_output(generation),
        "credits_used": credits_number(generation.charged) if generation.status == Generation.Status.SUCCEEDED else 0,
        "progress": 100 if generation.status == Generation.Status.SUCCEEDED else (generation.progress or 0),
        "created_at": generation.created_at.isoformat(),
    }
    if generation.is_pending:
        body["credits_held"] = credits_number(generation.price)
    if generation.status in (Generation.Status.FAILED, Generation.Status.CANCELED):
        body["error"] = {"code": generation.error_code or "generation_failed", "message": generation.error_message}
    return body


def _submitted(request, model: AIModel, params: dict) -> JsonResponse:
    key = idempotency_key(request)
    principal = request.auth
    generation, created = generation_submit(user=principal.user, workspace=principal.workspace, model=model,
                                            raw_params=params, source="api", api_key_id=principal.key_id,
                                            idempotency_key=f"api:{key}" if key else None)
    response = JsonResponse(task_json(generation))  # from what the submit wrote: no read-back
    response["Location"] = f"/api/v1/tasks/{generation.pk}"
    if not created:
        response["Idempotent-Replayed"] = "true"
    return response


# ---- endpoints ----------------------------------------------------------------------------------
@router.post("/video/seedance", summary="Seedance video (reference 003)")
def seedance(request, body: SeedanceBody):
    model = endpoint_model("seedance", request)
    return idempotent(request, lambda: _submitted(request, model, seedance_params(model, body)))


@router.post("/image/gpt-image-2", summary="GPT Image 2 (reference 003)")
def gpt_image_2(request, body: GptImage2Body):
    model = endpoint_model("gpt-image-2", request)
    return idempotent(request, lambda: _submitted(request, model, gpt_image_params(model, body)))


@router.post("/image/nano-banana-pro", summary="Nano Banana Pro (reference 003)")
def nano_banana_pro(request, body: NanoBananaProBody):
    model = endpoint_model("nano-banana-pro", request)
    return idempotent(request, lambda: _submitted(request, model, nano_banana_params(model, body)))


@router.get("/tasks/{task_id}", summary="A task's status and output (reference 003)")
def task(request, task_id: str):
    return JsonResponse(task_json(own_generation(request, task_id)))


def _catalog_model_endpoint(modality: str):
    def submit(request, model_id: str):
        model = resolve_model(model_id, request)
        if model.modality != modality:
            raise invalid(f"{model.slug} is a {model.modality} model: POST /api/v1/{model.modality}/{model.slug}.",
                          param="model")
        body = parse_json(request.body or b"{}")
        if not isinstance(body, dict):
            raise ApiError("invalid_request", "The body is a JSON object of the model's parameters.")
        return idempotent(request, lambda: _submitted(request, model, body))

    submit.__name__ = f"catalog_{modality}"
    return submit


for _modality in MODALITIES:  # after the named endpoints: Django tries patterns in order
    router.post(f"/{_modality}/{{model_id}}", summary=f"Any {_modality} model of the catalog, its own parameters",
                openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}})(
        _catalog_model_endpoint(_modality))
