"""The catalog as the API reads it on every request: from the per-process catalog cache."""
from __future__ import annotations

from apps.catalog.cache import TTLCache
from apps.catalog.models import AIModel
from apps.catalog.presentation import upstream_adapters
from apps.catalog.services import model_find

from .errors import unknown_model

_enabled: TTLCache[list[AIModel]] = TTLCache()


def enabled_models(modalities: list[str] | None = None) -> list[AIModel]:
    """Enabled models in catalog order, routes prefetched (shared, read-only)."""
    models = _enabled.get("all", lambda: list(AIModel.objects.filter(enabled=True).prefetch_related("routes")))
    return [m for m in models if m.modality in modalities] if modalities else models


def resolve_model(model_id: str) -> AIModel:
    """An enabled model by slug or alias, or the 404 `invalid_model` error."""
    model = model_find(slug_or_alias=model_id)
    if model is None:
        raise unknown_model(model_id)
    return model


_live: TTLCache[set[str]] = TTLCache()


def live_adapters() -> set[str]:
    """Adapters with an enabled upstream channel (what decides `served_by_sandbox`), cached."""
    return _live.get("live", upstream_adapters)
