"""Circuit breaker per channel, kept in the cache (Redis in production, shared by all workers).

After FAILURE_THRESHOLD transient failures within WINDOW seconds the circuit opens for
OPEN_SECONDS; after that one probe is let through (half-open): success closes it, failure
opens it again."""
from __future__ import annotations

import time

from django.core.cache import cache

FAILURE_THRESHOLD = 5
WINDOW = 60
OPEN_SECONDS = 30


def _key(name: str, part: str) -> str:
    return f"circuit:{name}:{part}"


def channel_is_healthy(name: str) -> bool:
    opened_at = cache.get(_key(name, "opened"))
    if opened_at is None:
        return True
    if time.time() - opened_at < OPEN_SECONDS:
        return False
    # Half-open: exactly one caller wins the probe slot.
    return cache.add(_key(name, "probe"), 1, timeout=OPEN_SECONDS)


def channel_record_success(name: str) -> None:
    cache.delete_many([_key(name, "opened"), _key(name, "failures"), _key(name, "probe")])


def channel_record_failure(name: str) -> None:
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
