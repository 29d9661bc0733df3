"""JSON shapes of the public API (catalog entries, generations, balance)."""
from __future__ import annotations

from django.conf import settings

from apps.catalog.models import AIModel
from apps.providers.router import served_by_sandbox
from apps.catalog.pricing import price_summary
from apps.generations.models import Generation
from apps.generations.storage import media_url
from apps.wallet.money import format_credits

OUTPUT_MODALITY = {"image": "image", "video": "video", "music": "audio", "speech": "audio", "text": "text"}
IMAGE_INPUT = {"image-to-image", "image-to-video", "end-frame", "media-to-video", "vision"}


def credits(milli: int | None) -> str | None:
    """Money as a decimal string of credits: exact, unlike a JSON float."""
    return None if milli is None else format_credits(milli).replace(",", "")


def absolute(url: str) -> str:
    if not url or url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL.rstrip("/") + url


def _pricing(model: AIModel) -> dict:
    summary = price_summary(model.effective_pricing, model.schema)
    return {
        "currency": "credits",
        "unit": summary["unit"],
        "from": credits(summary["from"]),
        "rates": {name: credits(value) for name, value in summary["rates"].items()},
        "rule": model.effective_pricing,
    }


def model_list_item(model: AIModel) -> dict:
    created = int(model.synced_at.timestamp()) if model.synced_at else 0
    return {"id": model.slug, "object": "model", "created": created,
            "owned_by": model.vendor, "name": model.name, "modality": model.modality}


def model_detail(model: AIModel) -> dict:
    return {
        **model_list_item(model),
        "description": model.description,
        "capabilities": model.capabilities,
        "aliases": model.aliases,
        "input_modalities": input_modalities(model),
        "output_modalities": [OUTPUT_MODALITY[model.modality]],
        "schema": model.schema,
        "pricing": _pricing(model),
        "limits": model.limits,
        "routes": [route.adapter for route in model.routes.all()],
        "served_by_sandbox": served_by_sandbox(model=model),
    }


def input_modalities(model: AIModel) -> list[str]:
    found = ["text"]
    if IMAGE_INPUT & set(model.capabilities) or any(
            spec["type"] in {"url", "url_list"} and "image" in spec["name"] for spec in model.schema.get("fields", [])):
        found.append("image")
    if any(spec["name"] == "audio_url" for spec in model.schema.get("fields", [])):
        found.append("audio")
    return found


def pollinations_item(model: AIModel) -> dict:
    """One entry of GET /image/models or /text/models, in the shape pollinations.ai uses."""
    fields = {spec["name"]: spec for spec in model.schema.get("fields", [])}
    summary = price_summary(model.effective_pricing, model.schema)
    pricing = {name: credits(value) for name, value in summary["rates"].items()}
    pricing["currency"] = "credits"
    item = {
        "name": model.slug,
        "aliases": model.aliases,
        "pricing": pricing,
        "description": f"{model.name} - {model.description}",
        "input_modalities": input_modalities(model),
        "output_modalities": [OUTPUT_MODALITY[model.modality]],
        "tools": False,
        "reasoning": "reasoning" in model.capabilities,
        "is_specialized": model.modality in {"video", "speech"},
    }
    if "context_window" in model.limits:
        item["context_window"] = model.limits["context_window"]
    if "voice" in fields and fields["voice"].get("choices"):
        item["voices"] = [str(v) for v in fields["voice"]["choices"]]
    return item


# One internal state machine, each surface's words for it (README, API: status words).
STATUS_WORDS = {
    "atelier": {"queued": "queued", "running": "running", "succeeded": "succeeded", "failed": "failed",
                "canceled": "canceled"},
    "openai": {"queued": "queued", "running": "in_progress", "succeeded": "completed", "failed": "failed",
               "canceled": "failed"},
    "polyforge": {"queued": "queued", "running": "running", "succeeded": "succeeded", "failed": "failed",
                  "canceled": "failed"},
    "tasks": {"queued": "queued", "running": "processing", "succeeded": "completed", "failed": "failed",
              "canceled": "failed"},
}
STATUS_WORDS["agents"] = STATUS_WORDS["tasks"]  # reference 001's tools poll "until completed or failed"


def status_word(generation: Generation, surface: str) -> str:
    """The generation's status as `surface` says it; a canceled job is `failed` (code canceled)
    where the surface has no word for canceled."""
    return STATUS_WORDS[surface][generation.status]


def generation_routing(generation: Generation, attempts: list | None = None) -> dict:
    submits = [a for a in (generation.attempts.all() if attempts is None else attempts) if a.phase == "submit"]
    return {
        "upstream": generation.channel_name or None,
        "adapter": generation.adapter or None,
        "failover": len({a.channel_name for a in submits}) > 1,
        "attempts": len(submits),
    }


def generation_json(generation: Generation, *, fresh: bool = False) -> dict:
    """The API's view of a generation. `fresh`: it was just created, so it has no outputs or
    attempts yet and none are read (a submit answers without reading back what it wrote)."""
    error = {"code": generation.error_code, "message": generation.error_message} if generation.error_code else None
    outputs = []
    for output in ([] if fresh else generation.outputs.all()):
        outputs.append({
            "index": output.index,
            "kind": output.kind,
            "mime": output.mime,
            "url": media_url(output.file) if output.file else None,
            "thumbnail_url": media_url(output.thumbnail) if output.thumbnail else None,
            "optimized_url": media_url(output.web) if output.web else None,
            "cover_url": media_url(output.cover) if output.cover else None,
            "width": output.width,
            "height": output.height,
            "duration": output.duration,
            "size_bytes": output.size_bytes,
        })
    body = {
        "id": str(generation.pk),
        "object": "generation",
        "model": generation.model.slug,
        "status": status_word(generation, "atelier"),
        "progress": generation.progress,
        "params": generation.params,
        "price": credits(generation.price),
        "charged": credits(generation.charged),
        "currency": "credits",
        "outputs": outputs,
        "text": generation.result_text or None,
        "usage": generation.usage or None,
        "error": error,
        "routing": generation_routing(generation, attempts=[] if fresh else None),
        "created_at": generation.created_at.isoformat(),
        "started_at": generation.started_at.isoformat() if generation.started_at else None,
        "finished_at": generation.finished_at.isoformat() if generation.finished_at else None,
    }
    if generation.model.modality == "music":
        body["songs"] = [] if fresh else songs_json(generation)
    return body


def songs_json(generation: Generation) -> list[dict]:
    """The song view agents know from music tools (reference 001): audio, title, lyrics, artwork.

    Title and lyrics are what the request asked for, else what the model reported with the audio
    (the sandbox and lyric-writing models name and write their songs)."""
    songs = []
    for output in generation.outputs.all():
        if output.kind != "audio":
            continue
        meta = output.meta or {}
        songs.append({
            "audio_url": media_url(output.file) if output.file else None,
            "title": generation.params.get("title") or meta.get("title") or generation.prompt[:60],
            "lyrics": generation.params.get("lyrics") or meta.get("lyrics") or "",
            "image_url": media_url(output.cover) if output.cover else None,
            "duration": output.duration,
        })
    return songs
