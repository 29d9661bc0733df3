"""The model catalog as data. Each module contributes MODELS; sync_catalog loads them all.

An entry: slug, name, vendor, modality, description, capabilities, schema (see
apps/catalog/schema.py), pricing (see apps/catalog/pricing.py), limits, aliases, is_local,
sort_order, routes: [{"adapter": "openai", "model": "gpt-image-1", "unsupported": [...], "rules": [...]}]."""
from . import audio, image, sandbox, text, video

SOURCES = [sandbox, image, video, audio, text]


def all_models() -> list[dict]:
    models: list[dict] = []
    for module in SOURCES:
        models.extend(module.MODELS)
    return models
