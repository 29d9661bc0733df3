"""The catalog as the API reads it on every request: from the per-process catalog cache."""
from __future__ import annotations

from apps.catalog.cache import TTLCache
from apps.catalog.models import AIModel
from apps.catalog.services import model_find
from apps.core.errors import Kind

from .errors import ApiError, unknown_model
from .limits import rate_hit

_enabled: TTLCache[list[AIModel]] = TTLCache()


def enabled_models(modalities: list[str] | None = None) -> list[AIModel]:
    """Offered models (enabled, not retired) in catalog order, routes prefetched (shared, read-only)."""
    models = _enabled.get("all", lambda: list(AIModel.objects.offered().prefetch_related("routes")))
    return [m for m in models if m.modality in modalities] if modalities else models


def resolve_model(model_id: str, request) -> AIModel:
    """An enabled model by slug or alias that the request's key may use.

    404 `invalid_model` for an unknown id; 403 `api_key_model_not_allowed` outside the key's
    allowlist; the plan's per-model window (429) when it has one."""
    model = model_find(slug_or_alias=model_id) or model_by_pollinations_name(model_id)
    if model is None:
        raise unknown_model(model_id)
    principal = getattr(request, "auth", None)
    if principal is not None:
        if not principal.may_use(model.slug):
            raise ApiError("api_key_model_not_allowed", f"This API key may not use {model.slug}.",
                           kind=Kind.FORBIDDEN, param="model")
        rate_hit(scope="model", identity=f"{principal.workspace.pk}:{model.slug}",
                 per_minute=principal.plan.model_requests_per_minute, what=f"requests to {model.slug}")
    return model


def model_by_pollinations_name(name: str) -> AIModel | None:
    """The model pollinations.ai serves under `name` ("openai", "flux", "seedance"...): reference
    002's clients send pollinations' own names. The first enabled model in catalog order whose
    pollinations route carries that name (from the cached catalog: no query)."""
    for model in enabled_models():
        if any(route.adapter == "pollinations" and route.upstream_model == name for route in model.routes.all()):
            return model
    return None


def visible_models(request, modalities: list[str] | None = None) -> list[AIModel]:
    """The enabled models, narrowed to the key's allowlist when a key was sent."""
    models = enabled_models(modalities)
    principal = getattr(request, "auth", None)
    return [m for m in models if principal.may_use(m.slug)] if principal is not None else models

