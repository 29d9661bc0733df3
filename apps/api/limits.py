"""Rate limits: a moving (sliding) window per key, per workspace, per model and per client IP,
through the `limits` library's MovingWindowRateLimiter. A sliding log admits at most N requests
in ANY 60 seconds, unlike a fixed window (2N across a boundary) or a token bucket (N + burst).

Storage: Redis when REDIS_URL is set (the library's storage, its two moving-window scripts run
as one, RedisWindowStorage); on the embedded
default the database (DatabaseWindowStorage below), which every web process shares: a write
transaction per check, serialised by SQLite's IMMEDIATE transactions or, on PostgreSQL without
Redis, by a transaction-scoped advisory lock on the window's key.

Every API answer carries X-RateLimit-Limit / -Remaining / -Reset for the key's window (added by
ApiMiddleware from request.rate_limit); a refusal is 429 rate_limit_exceeded with Retry-After."""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from limits import RateLimitItemPerMinute
from limits.storage import RedisStorage, Storage
from limits.storage.base import MovingWindowSupport
from limits.strategies import MovingWindowRateLimiter

from apps.core.errors import Kind

from .errors import ApiError

WINDOW_SECONDS = 60


class DatabaseWindowStorage(Storage, MovingWindowSupport):
    """A moving-window store in the project's database (the embedded default's shared store)."""

    STORAGE_SCHEME = ["atelierdb"]

    def __init__(self, uri: str = "atelierdb://", wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        from django.db import DatabaseError

        return DatabaseError

    def _lock(self, key: str):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        return self.acquire_with_window(key, limit, expiry, amount)[0]

    def acquire_with_window(self, key: str, limit: int, expiry: int, amount: int = 1) -> tuple[bool, float, int]:
        """(admitted, start of the window, entries in it) in one transaction: the API answers
        with the window's headers, and on SQLite every statement here costs a write lock."""
        from django.db.models import Count, Min

        from .models import RateLimitHit

        with transaction.atomic():
            self._lock(key)
            now = time.time()
            RateLimitHit.objects.filter(key=key, at__lte=now - expiry).delete()
            window = RateLimitHit.objects.filter(key=key).aggregate(first=Min("at"), count=Count("id"))
            count, first = window["count"], window["first"] or now
            if amount > limit or count + amount > limit:
                return False, first, count
            RateLimitHit.objects.bulk_create([RateLimitHit(key=key, at=now) for _ in range(amount)])
            return True, first, count + amount

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        from django.db.models import Count, Min

        from .models import RateLimitHit

        window = RateLimitHit.objects.filter(key=key, at__gt=time.time() - expiry).aggregate(
            first=Min("at"), count=Count("id"))
        return (window["first"] or time.time()), window["count"]

    # The counter API of Storage is not used by the moving window strategy.
    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError

    def get(self, key: str) -> int:
        return self.get_moving_window(key, 0, WINDOW_SECONDS)[1]

    def get_expiry(self, key: str) -> float:
        return self.get_moving_window(key, 0, WINDOW_SECONDS)[0] + WINDOW_SECONDS

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        from .models import RateLimitHit

        return RateLimitHit.objects.all().delete()[0]

    def clear(self, key: str) -> None:
        from .models import RateLimitHit

        RateLimitHit.objects.filter(key=key).delete()


# The library's two moving-window scripts (acquire, then read the window) in one call, on the
# same data (a list of timestamps, newest first, trimmed to the limit): every API request pays
# one Redis round trip for its window instead of two.
ACQUIRE_WITH_WINDOW = """
local timestamp = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local expiry = tonumber(ARGV[3])
local amount = tonumber(ARGV[4])
local admitted = 0
if amount <= limit then
    local entry = redis.call('lindex', KEYS[1], limit - amount)
    if not (entry and tonumber(entry) >= timestamp - expiry) then
        for i = 1, amount do
            redis.call('lpush', KEYS[1], timestamp)
        end
        redis.call('ltrim', KEYS[1], 0, limit - 1)
        redis.call('expire', KEYS[1], expiry)
        admitted = 1
    end
end
local low, high, found = 0, redis.call('llen', KEYS[1]) - 1, nil
while low <= high do
    local mid = math.floor((low + high) / 2)
    local value = tonumber(redis.call('lindex', KEYS[1], mid))
    if value and value >= timestamp - expiry then
        found = mid
        low = mid + 1
    else
        high = mid - 1
    end
end
if found == nil then
    return {admitted, tostring(timestamp), 0}
end
return {admitted, tostring(redis.call('lindex', KEYS[1], found)), found + 1}
"""


class RedisWindowStorage(RedisStorage):
    """limits' Redis storage with the acquire and the window read in one script call."""

    STORAGE_SCHEME = ["atelierredis"]

    def initialize_storage(self, _uri: str) -> None:
        super().initialize_storage(_uri)
        self.lua_acquire_with_window = self.get_connection().register_script(ACQUIRE_WITH_WINDOW)

    def acquire_with_window(self, key: str, limit: int, expiry: int, amount: int = 1) -> tuple[bool, float, int]:
        admitted, first, count = self.lua_acquire_with_window([self.prefixed_key(key)],
                                                              [time.time(), limit, expiry, amount])
        return bool(admitted), float(first), int(count)


_limiter: MovingWindowRateLimiter | None = None
_limiter_lock = threading.Lock()


def limiter() -> MovingWindowRateLimiter:
    global _limiter
    if _limiter is None:
        with _limiter_lock:
            if _limiter is None:
                store = (RedisWindowStorage(settings.REDIS_URL, key_prefix="atelier-rl") if settings.REDIS_URL
                         else DatabaseWindowStorage())
                _limiter = MovingWindowRateLimiter(store)
    return _limiter


def forget_limiter() -> None:
    """Tests switch storages (Redis on, off); the next check builds the limiter again."""
    global _limiter
    _limiter = None


@dataclass(frozen=True)
class Window:
    limit: int
    remaining: int
    reset: int  # seconds until the window frees a request

    def headers(self) -> dict:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": str(self.reset)}


def rate_hit(*, scope: str, identity: str, per_minute: int | None, what: str) -> Window | None:
    """Take one request from the window `scope:identity`; 429 rate_limit_exceeded when it is full.
    None when the limit is off."""
    if not per_minute:
        return None
    item = RateLimitItemPerMinute(per_minute)
    strategy = limiter()
    if isinstance(strategy.storage, (DatabaseWindowStorage, RedisWindowStorage)):
        admitted, first, count = strategy.storage.acquire_with_window(item.key_for(scope, identity), per_minute,
                                                                      item.get_expiry())
        remaining, reset_at = per_minute - count, first + item.get_expiry()
    else:
        admitted = strategy.hit(item, scope, identity)
        stats = strategy.get_window_stats(item, scope, identity)
        remaining, reset_at = stats.remaining, stats.reset_time
    window = Window(limit=per_minute, remaining=max(0, remaining), reset=max(0, math.ceil(reset_at - time.time())))
    if not admitted:
        error = ApiError("rate_limit_exceeded", f"Rate limit of {per_minute} {what} per minute reached; retry in "
                         f"{max(1, window.reset)} s.", kind=Kind.RATE_LIMITED, headers=window.headers(),
                         retry_after=max(1, window.reset))
        raise error
    return window
