"""Pick the channels that can serve a model, in the order to try them.

Highest priority first; weighted random among equal priorities; channels whose circuit
is open are skipped (see health.py), and so are routes that cannot take the params."""
from __future__ import annotations

import random
from dataclasses import dataclass

from apps.catalog.cache import TTLCache
from apps.catalog.models import AIModel, Channel, ModelRoute
from apps.catalog.schema import condition_matches

from .base import ChannelConfig
from .health import channels_healthy


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


def _route_refuses(route, params: dict) -> bool:
    if any(params.get(name) not in (None, "", []) for name in route.unsupported):
        return True
    return any(condition_matches(rule.get("if", {}), params) for rule in route.rules)


def route_choices(*, model: AIModel, params: dict, rng: random.Random | None = None) -> list[RouteChoice]:
    rng = rng or random.Random()
    routes = {route.adapter: route for route in _routes(model) if not _route_refuses(route, params)}
    by_priority: dict[int, list[_EnabledChannel]] = {}
    for channel in _enabled():
        if channel.config.adapter in routes:
            by_priority.setdefault(channel.priority, []).append(channel)
    ordered: list[ChannelConfig] = []
    for priority in sorted(by_priority, reverse=True):
        group = list(by_priority[priority])
        while group:  # weighted shuffle: draw without replacement by weight
            pick = rng.choices(group, weights=[max(1, c.weight) for c in group])[0]
            group.remove(pick)
            ordered.append(pick.config)
    healthy = channels_healthy([c.name for c in ordered])
    # If every channel's circuit is open, still try them: failing fast everywhere helps nobody.
    chosen = [c for c in ordered if c.name in healthy] or ordered
    choices = []
    for config in chosen:
        route = routes[config.adapter]
        upstream = config.options.get("model_map", {}).get(model.slug, route.upstream_model)
        choices.append(RouteChoice(channel=config, upstream_model=upstream))
    return choices


def unroutable_reason(*, model: AIModel, params: dict) -> str | None:
    """Why no channel can take these params (for a validation message), or None."""
    routes = _routes(model)
    if not routes:
        return "No channel serves this model."
    usable = [r for r in routes if not _route_refuses(r, params)]
    if usable:
        return None
    messages = [rule.get("message") for r in routes for rule in r.rules if condition_matches(rule.get("if", {}), params)]
    unsupported = sorted({n for r in routes for n in r.unsupported if params.get(n) not in (None, "", [])})
    if messages:
        return messages[0]
    return f"No channel for this model accepts: {', '.join(unsupported)}."
