"""The model catalog as data. Each module contributes MODELS; sync_catalog loads them all.

An entry: slug, name, vendor, modality, description, capabilities, schema (see
apps/catalog/schema.py), pricing (see apps/catalog/pricing.py), limits, aliases, is_local,
sort_order, routes: [{"adapter": "openai", "model": "gpt-image-1", "unsupported": [...], "rules": [...]}]."""
from . import sandbox

SOURCES = [sandbox]


def all_models() -> list[dict]:
    models: list[dict] = []
    for module in SOURCES:
        models.extend(module.MODELS)
    return models
