"""Pick the channels that can serve a model, in the order to try them.

Highest priority first; weighted random among equal priorities; channels whose circuit
is open are skipped (see health.py), and so are routes that cannot take the params.

Honest sandbox: the local sandbox engine serves a model only while no real channel is
configured for it. Once one is (an enabled channel whose adapter has a route for the model),
the sandbox route is out of that model's choices entirely: a real channel that fails, is
down or cannot take the params fails over to another real channel or fails the job; it never
turns into a sandbox result. Retired models have no choices at all."""
from __future__ import annotations

import random
from dataclasses import dataclass

from apps.catalog.cache import TTLCache
from apps.catalog.models import AIModel, Channel, ModelRoute
from apps.catalog.schema import condition_matches

from .base import ChannelConfig
from .health import channels_healthy


SANDBOX = "sandbox"  # the adapter name of the local engine


@dataclass
class RouteChoice:
    channel: ChannelConfig
    upstream_model: str


@dataclass(frozen=True)
class _EnabledChannel:
    config: ChannelConfig
    priority: int
    weight: int


_channel_configs: TTLCache[ChannelConfig | None] = TTLCache()
_enabled_channels: TTLCache[list[_EnabledChannel]] = TTLCache()
_model_routes: TTLCache[list[ModelRoute]] = TTLCache()


def _config(channel: Channel) -> ChannelConfig:
    return ChannelConfig(name=channel.name, adapter=channel.adapter, base_url=channel.base_url,
                         api_key=channel.api_key, options=channel.options or {},
                         max_concurrent=channel.max_concurrent)


def channel_config(name: str) -> ChannelConfig | None:
    """A channel's settings with its key decrypted (cached in-process, see catalog/cache.py).

    Every status poll of every job needs them; re-reading the row and re-decrypting the key
    each time was a fifth of a poll's cost."""
    def load():
        channel = Channel.objects.filter(name=name).first()
        return _config(channel) if channel else None

    return _channel_configs.get(name, load)


def _enabled() -> list[_EnabledChannel]:
    return _enabled_channels.get("all", lambda: [
        _EnabledChannel(config=_config(c), priority=c.priority, weight=c.weight)
        for c in Channel.objects.filter(enabled=True)
    ])


def _routes(model: AIModel) -> list[ModelRoute]:
    return _model_routes.get(model.pk, lambda: list(model.routes.all()))


def _defaults(model: AIModel) -> dict:
    return {spec["name"]: spec.get("default") for spec in model.schema.get("fields", [])}


def _set(params: dict, name: str, defaults: dict) -> bool:
    """A parameter the request sets to something other than the schema's default: a route that
    cannot take it must not serve the request (one that makes one image still serves n=1)."""
    value = params.get(name)
    return value not in (None, "", []) and value != defaults.get(name)


def _route_refuses(route, params: dict, defaults: dict) -> bool:
    if any(_set(params, name, defaults) for name in route.unsupported):
        return True
    return any(condition_matches(rule.get("if", {}), params) for rule in route.rules)


def _serves(channel: ChannelConfig, model: AIModel) -> bool:
    """options["models"] (slugs) limits a channel to the models its account or box really has
    (a ComfyUI box with only SDXL on disk); without it the channel serves every routed model."""
    only = (channel.options or {}).get("models")
    return not only or model.slug in only


def _real_adapters(model: AIModel, routes: list[ModelRoute]) -> set[str]:
    """Adapters of this model's routes that an enabled real (non-sandbox) channel serves it with."""
    adapters = {route.adapter for route in routes if route.adapter != SANDBOX}
    return {channel.config.adapter for channel in _enabled()
            if channel.config.adapter in adapters and _serves(channel.config, model)}


def served_by_sandbox(*, model: AIModel) -> bool:
    """True when no real channel is configured for the model: the sandbox serves it, if anything.
    Cached reads only: the quote on every submit asks this."""
    return not _real_adapters(model, _routes(model))


def _live_routes(model: AIModel) -> list[ModelRoute]:
    """The routes that may serve the model now: the real ones with a channel or, only when
    there are none, the sandbox's."""
    if model.retired_at is not None:
        return []
    routes = _routes(model)
    real = _real_adapters(model, routes)
    if real:
        return [route for route in routes if route.adapter in real]
    return [route for route in routes if route.adapter == SANDBOX]


def route_choices(*, model: AIModel, params: dict, rng: random.Random | None = None) -> list[RouteChoice]:
    rng = rng or random.Random()
    defaults = _defaults(model)
    routes = {route.adapter: route for route in _live_routes(model) if not _route_refuses(route, params, defaults)}
    by_priority: dict[int, list[_EnabledChannel]] = {}
    for channel in _enabled():
        if channel.config.adapter in routes and _serves(channel.config, model):
            by_priority.setdefault(channel.priority, []).append(channel)
    ordered: list[ChannelConfig] = []
    for priority in sorted(by_priority, reverse=True):
        group = list(by_priority[priority])
        while group:  # weighted shuffle: draw without replacement by weight
            pick = rng.choices(group, weights=[max(1, c.weight) for c in group])[0]
            group.remove(pick)
            ordered.append(pick.config)
    # If every channel's circuit is open, still try them: failing fast everywhere helps nobody.
    # So with one channel its circuit changes nothing, and the health read is skipped.
    healthy = channels_healthy([c.name for c in ordered]) if len(ordered) > 1 else {c.name for c in ordered}
    chosen = [c for c in ordered if c.name in healthy] or ordered
    choices = []
    for config in chosen:
        route = routes[config.adapter]
        upstream = config.options.get("model_map", {}).get(model.slug, route.upstream_model)
        choices.append(RouteChoice(channel=config, upstream_model=upstream))
    return choices


def unroutable_reason(*, model: AIModel, params: dict) -> str | None:
    """Why no channel can take these params (for a validation message), or None.

    Only the routes that may serve the model now count: with a real channel configured, a
    combination only the sandbox (or an unconfigured provider) would take is refused here,
    before any credit is held."""
    if model.retired_at is not None:
        return f"This model was retired on {model.retired_at:%Y-%m-%d} and no longer runs."
    routes = _live_routes(model)
    if not routes:
        return "No channel serves this model."
    defaults = _defaults(model)
    usable = [r for r in routes if not _route_refuses(r, params, defaults)]
    if usable:
        return None
    messages = [rule.get("message") for r in routes for rule in r.rules if condition_matches(rule.get("if", {}), params)]
    unsupported = sorted({n for r in routes for n in r.unsupported if _set(params, n, defaults)})
    if messages:
        return messages[0]
    return f"No channel for this model accepts: {', '.join(unsupported)}."
