"""Circuit breaker per channel, kept in the cache (Redis in production, shared by all workers).

After FAILURE_THRESHOLD transient failures within WINDOW seconds the circuit opens for
OPEN_SECONDS; after that one probe is let through (half-open): success closes it, failure
opens it again."""
from __future__ import annotations

import time

from django.core.cache import cache

from .metrics import UPSTREAM_ERRORS

FAILURE_THRESHOLD = 5
WINDOW = 60
OPEN_SECONDS = 30


def _key(name: str, part: str) -> str:
    return f"circuit:{name}:{part}"


def channels_open(names: list[str]) -> set[str]:
    """The channels among `names` whose circuit is open now, not yet half-open (read-only: takes
    no probe slot)."""
    opened = cache.get_many([_key(name, "opened") for name in names])
    now = time.time()
    return {name for name in names
            if opened.get(_key(name, "opened")) is not None and now - opened[_key(name, "opened")] < OPEN_SECONDS}


def channel_is_healthy(name: str) -> bool:
    return name in channels_healthy([name])


def channels_healthy(names: list[str]) -> set[str]:
    """The channels among `names` whose circuit lets a call through (one cache round trip)."""
    opened = cache.get_many([_key(name, "opened") for name in names])
    healthy = set()
    for name in names:
        opened_at = opened.get(_key(name, "opened"))
        if opened_at is None:
            healthy.add(name)
        elif time.time() - opened_at >= OPEN_SECONDS and cache.add(_key(name, "probe"), 1, timeout=OPEN_SECONDS):
            # Half-open: exactly one caller wins the probe slot; its outcome must be written.
            _cleared_until.pop(name, None)
            healthy.add(name)
    return healthy


# A success clears the channel's failure count; doing that on every call of every job was a
# cache round trip per status poll. This process clears at most once per CLEAR_INTERVAL per
# channel, unless it has seen a failure or holds the probe since (then the next success clears).
CLEAR_INTERVAL = 1.0
_cleared_until: dict[str, float] = {}


def channel_record_success(name: str) -> None:
    now = time.monotonic()
    if _cleared_until.get(name, 0.0) > now:
        return
    cache.delete_many([_key(name, "opened"), _key(name, "failures"), _key(name, "probe")])
    _cleared_until[name] = now + CLEAR_INTERVAL


def channel_record_failure(name: str) -> None:
    UPSTREAM_ERRORS.labels(channel=name).inc()
    _cleared_until.pop(name, None)
    key = _key(name, "failures")
    cache.add(key, 0, timeout=WINDOW)
    try:
        failures = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=WINDOW)
        failures = 1
    if failures >= FAILURE_THRESHOLD or cache.get(_key(name, "probe")):
        cache.set(_key(name, "opened"), time.time(), timeout=OPEN_SECONDS * 10)
        cache.delete(_key(name, "probe"))


def forget_local_health_state() -> None:
    """Forget this process's clear-throttle marks (tests that reuse channel names)."""
    _cleared_until.clear()
