"""Pick the channels that can serve a model, in the order to try them.

Highest priority first; weighted random among equal priorities; channels whose circuit
is open are skipped (see health.py), and so are routes that cannot take the params."""
from __future__ import annotations

import random
import time
from dataclasses import dataclass

from apps.catalog.models import AIModel, Channel
from apps.catalog.schema import condition_matches

from .base import ChannelConfig
from .health import channel_is_healthy


@dataclass
class RouteChoice:
    channel: ChannelConfig
    upstream_model: str


CHANNEL_CONFIG_TTL = 5.0  # seconds an admin's change to a channel may take to reach running polls
_config_cache: dict[str, tuple[float, ChannelConfig | None]] = {}


def _config(channel: Channel) -> ChannelConfig:
    return ChannelConfig(name=channel.name, adapter=channel.adapter, base_url=channel.base_url,
                         api_key=channel.api_key, options=channel.options or {},
                         max_concurrent=channel.max_concurrent)


def channel_config(name: str) -> ChannelConfig | None:
    """A channel's settings with its key decrypted, cached in-process for a few seconds.

    Every status poll of every job needs them; re-reading the row and re-decrypting the key
    each time was a fifth of a poll's cost."""
    now = time.monotonic()
    cached = _config_cache.get(name)
    if cached and now - cached[0] < CHANNEL_CONFIG_TTL:
        return cached[1]
    channel = Channel.objects.filter(name=name).first()
    config = _config(channel) if channel else None
    _config_cache[name] = (now, config)
    return config


def forget_channel_configs() -> None:
    _config_cache.clear()


def _route_refuses(route, params: dict) -> bool:
    if any(params.get(name) not in (None, "", []) for name in route.unsupported):
        return True
    return any(condition_matches(rule.get("if", {}), params) for rule in route.rules)


def route_choices(*, model: AIModel, params: dict, rng: random.Random | None = None) -> list[RouteChoice]:
    rng = rng or random.Random()
    routes = {route.adapter: route for route in model.routes.all() if not _route_refuses(route, params)}
    channels = list(Channel.objects.filter(enabled=True, adapter__in=routes))
    by_priority: dict[int, list[Channel]] = {}
    for channel in channels:
        by_priority.setdefault(channel.priority, []).append(channel)
    ordered: list[Channel] = []
    for priority in sorted(by_priority, reverse=True):
        group = by_priority[priority]
        while group:  # weighted shuffle: draw without replacement by weight
            pick = rng.choices(group, weights=[max(1, c.weight) for c in group])[0]
            group.remove(pick)
            ordered.append(pick)
    healthy = [c for c in ordered if channel_is_healthy(c.name)]
    # If every channel's circuit is open, still try them: failing fast everywhere helps nobody.
    chosen = healthy or ordered
    choices = []
    for channel in chosen:
        route = routes[channel.adapter]
        upstream = (channel.options or {}).get("model_map", {}).get(model.slug, route.upstream_model)
        choices.append(RouteChoice(channel=_config(channel), upstream_model=upstream))
    return choices


def unroutable_reason(*, model: AIModel, params: dict) -> str | None:
    """Why no channel can take these params (for a validation message), or None."""
    routes = list(model.routes.all())
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
