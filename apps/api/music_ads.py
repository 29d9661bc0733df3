"""Reference 001's music and ad workflows over HTTP (the paths are Atelier's; 001 names tools).

- POST /v1/music {prompt, style?, lyrics? | instrumental?, title?, duration?, model?} -> 202 with
  the generation (its id is what generate_music returns); GET /v1/generations/{id} and
  GET /api/v1/tasks/{id} list its `songs` (audio_url, title, lyrics, image_url) when done.
- POST /v1/ads {reference_image_url, product_image_url | product_text, variants?, aspect_ratio?,
  language?, tone?, copy_model?, image_model?} -> 202 with one generation id per variant (and the
  copy each one got); poll each like any generation for its image URL.

Both are thin: apps.generations.music.music_submit and apps.generations.ads.ads_create do the
work (the MCP tools call the same services). Models go through the key's allowlist as anywhere."""
from __future__ import annotations

from django.http import JsonResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field, StrictBool, StrictInt

from apps.generations.ads import DEFAULT_COPY_MODEL, DEFAULT_IMAGE_MODEL, ads_create
from apps.generations.music import DEFAULT_MUSIC_MODEL, music_submit

from .catalog import resolve_model
from .idempotency import idempotency_key, idempotent
from .presenters import generation_json

router = Router(tags=["Music and ads (reference 001)"])


class MusicBody(Schema):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field("", max_length=3000, description="What the song is about")
    style: str = Field("", max_length=300, description="Genre and mood")
    lyrics: str = Field("", max_length=10_000)
    instrumental: StrictBool = False
    title: str = Field("", max_length=120)
    duration: StrictInt | None = Field(None, ge=1, le=600, description="Seconds, where the model takes a length")
    model: str = Field(DEFAULT_MUSIC_MODEL, min_length=1, max_length=200)


class AdsBody(Schema):
    model_config = ConfigDict(extra="forbid")

    reference_image_url: str = Field(min_length=1, max_length=4096)
    product_image_url: str | None = Field(None, max_length=4096)
    product_text: str | None = Field(None, max_length=300)
    variants: StrictInt = Field(3, ge=1, le=6)
    aspect_ratio: str = Field("1:1", max_length=10)
    language: str = Field("English", max_length=40)
    tone: str = Field("confident", max_length=60)
    copy_model: str = Field(DEFAULT_COPY_MODEL, min_length=1, max_length=200)
    image_model: str = Field(DEFAULT_IMAGE_MODEL, min_length=1, max_length=200)


def _scoped_key(request) -> str | None:
    key = idempotency_key(request)
    return f"api:{key}" if key else None


@router.post("/music", summary="Generate a song (reference 001's generate_music)", response={202: dict})
def music(request, body: MusicBody):
    return idempotent(request, lambda: _music(request, body))


def _music(request, body: MusicBody):
    principal = request.auth
    submitted = music_submit(user=principal.user, workspace=principal.workspace, prompt=body.prompt,
                             style=body.style, lyrics=body.lyrics, instrumental=body.instrumental, title=body.title,
                             duration=body.duration, model=resolve_model(body.model, request), source="api",
                             idempotency_key=_scoped_key(request), api_key_id=principal.key_id,
                             budget_id=principal.budget_id)
    generation = submitted.generation
    answer = {**generation_json(generation, fresh=submitted.created), "generation_id": str(generation.pk),
              "ignored_params": submitted.ignored}
    response = JsonResponse(answer, status=202 if submitted.created else 200)
    response["Location"] = f"/v1/generations/{generation.pk}"
    return response


@router.post("/ads", summary="Ad variants from a reference ad and a product (reference 001's create_ad_copy)",
             response={202: dict})
def ads(request, body: AdsBody):
    return idempotent(request, lambda: _ads(request, body))


def _ads(request, body: AdsBody):
    principal = request.auth
    campaign = ads_create(
        user=principal.user, workspace=principal.workspace, reference_image_url=body.reference_image_url,
        product_image_url=body.product_image_url, product_text=body.product_text, variants=body.variants,
        aspect_ratio=body.aspect_ratio, language=body.language, tone=body.tone,
        copy_model=resolve_model(body.copy_model, request), image_model=resolve_model(body.image_model, request),
        source="api", idempotency_key=_scoped_key(request), api_key_id=principal.key_id,
        budget_id=principal.budget_id)
    variants = [{
        "index": variant.index, "generation_id": str(variant.generation.pk), "status": variant.generation.status,
        "angle": variant.angle, "headline": variant.copy.headline, "body": variant.copy.body,
        "call_to_action": variant.copy.call_to_action, "copy_generation_id": variant.copy_generation_id,
    } for variant in campaign.variants]
    return JsonResponse({"object": "ad_campaign", "generation_ids": campaign.generation_ids, "variants": variants,
                         "copy_model": campaign.copy_model.slug, "image_model": campaign.image_model.slug},
                        status=202 if campaign.created else 200)
