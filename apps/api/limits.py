"""Rate limits: a moving (sliding) window per key, per workspace, per model and per client IP,
through the `limits` library's MovingWindowRateLimiter. A sliding log admits at most N requests
in ANY 60 seconds, unlike a fixed window (2N across a boundary) or a token bucket (N + burst).

Storage: Redis when REDIS_URL is set (the library's storage, its two moving-window scripts run
as one, for the key's and the workspace's windows together: RedisWindowStorage); on the embedded
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


# The library's two moving-window scripts (acquire, then read the window) in one, on the same
# data (a list of timestamps, newest first, trimmed to the limit), for several windows at once
# (a key's and its workspace's): one round trip per API request, and a request enters every
# window or none, so a refusal by one does not use up another. Returns the index of the first
# full window (0: admitted), then per key the start of its window and the entries in it.
ACQUIRE_ALL_WITH_WINDOWS = """
local timestamp = tonumber(ARGV[1])
local expiry = tonumber(ARGV[2])
local refused = 0
for k = 1, #KEYS do
    local limit = tonumber(ARGV[2 + k])
    local entry = redis.call('lindex', KEYS[k], limit - 1)
    if refused == 0 and entry and tonumber(entry) >= timestamp - expiry then
        refused = k
    end
end
if refused == 0 then
    for k = 1, #KEYS do
        redis.call('lpush', KEYS[k], timestamp)
        redis.call('ltrim', KEYS[k], 0, tonumber(ARGV[2 + k]) - 1)
        redis.call('expire', KEYS[k], expiry)
    end
end
local out = {refused}
for k = 1, #KEYS do
    local low, high, found = 0, redis.call('llen', KEYS[k]) - 1, nil
    while low <= high do
        local mid = math.floor((low + high) / 2)
        local value = tonumber(redis.call('lindex', KEYS[k], mid))
        if value and value >= timestamp - expiry then
            found = mid
            low = mid + 1
        else
            high = mid - 1
        end
    end
    if found == nil then
        table.insert(out, tostring(timestamp))
        table.insert(out, 0)
    else
        table.insert(out, tostring(redis.call('lindex', KEYS[k], found)))
        table.insert(out, found + 1)
    end
end
return out
"""


class RedisWindowStorage(RedisStorage):
    """limits' Redis storage with the acquire and the window read in one script call."""

    STORAGE_SCHEME = ["atelierredis"]

    def initialize_storage(self, _uri: str) -> None:
        super().initialize_storage(_uri)
        self.lua_acquire_all = self.get_connection().register_script(ACQUIRE_ALL_WITH_WINDOWS)

    def acquire_with_window(self, key: str, limit: int, expiry: int, amount: int = 1) -> tuple[bool, float, int]:
        if amount != 1:
            raise ValueError("The API takes one request at a time from a window.")
        refused, [(first, count)] = self.acquire_all_with_windows([key], [limit], expiry)
        return not refused, first, count

    def acquire_all_with_windows(self, keys: list[str], limits: list[int], expiry: int
                                 ) -> tuple[int, list[tuple[float, int]]]:
        """One request into every window or none: (index of the first full window, counted from 1,
        or 0 when admitted; each window's (start, entries))."""
        out = self.lua_acquire_all([self.prefixed_key(key) for key in keys], [time.time(), expiry, *limits])
        return int(out[0]), [(float(out[i]), int(out[i + 1])) for i in range(1, len(out), 2)]


def redis_pool(url: str):
    """A pool every web thread can take a connection from at once (settings.REDIS_POOL_SIZE)."""
    import redis

    return redis.BlockingConnectionPool.from_url(url, max_connections=settings.REDIS_POOL_SIZE, timeout=10)


_limiter: MovingWindowRateLimiter | None = None
_limiter_lock = threading.Lock()


def limiter() -> MovingWindowRateLimiter:
    global _limiter
    if _limiter is None:
        with _limiter_lock:
            if _limiter is None:
                store = (RedisWindowStorage(settings.REDIS_URL, key_prefix="atelier-rl",
                                            connection_pool=redis_pool(settings.REDIS_URL))
                         if settings.REDIS_URL else DatabaseWindowStorage())
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


@dataclass(frozen=True)
class Hit:
    """One request into the window `scope:identity` of `per_minute` (None: no limit)."""
    scope: str
    identity: str
    per_minute: int | None
    what: str  # for the refusal: "requests", "status reads", ...


def _refusal(hit: Hit, window: Window) -> ApiError:
    return ApiError("rate_limit_exceeded", f"Rate limit of {hit.per_minute} {hit.what} per minute reached; retry in "
                    f"{max(1, window.reset)} s.", kind=Kind.RATE_LIMITED, headers=window.headers(),
                    retry_after=max(1, window.reset))


def _window(per_minute: int, first: float, count: int) -> Window:
    return Window(limit=per_minute, remaining=max(0, per_minute - count),
                  reset=max(0, math.ceil(first + WINDOW_SECONDS - time.time())))


def rate_hits(hits: list[Hit]) -> list[Window | None]:
    """Take one request from each window (those with a limit); 429 rate_limit_exceeded naming
    the first that is full. On Redis one call enters all of them or none; elsewhere they are
    taken one by one (a refusal by a later one leaves the earlier ones taken)."""
    limited = [hit for hit in hits if hit.per_minute]
    storage = limiter().storage
    if len(limited) < 2 or not isinstance(storage, RedisWindowStorage):
        return [rate_hit(scope=hit.scope, identity=hit.identity, per_minute=hit.per_minute, what=hit.what)
                for hit in hits]
    items = [RateLimitItemPerMinute(hit.per_minute) for hit in limited]
    refused, stats = storage.acquire_all_with_windows(
        [item.key_for(hit.scope, hit.identity) for item, hit in zip(items, limited)],
        [int(hit.per_minute or 0) for hit in limited], WINDOW_SECONDS)
    windows = {hit: _window(int(hit.per_minute or 0), first, count) for hit, (first, count) in zip(limited, stats)}
    if refused:
        hit = limited[refused - 1]
        raise _refusal(hit, windows[hit])
    return [windows.get(hit) for hit in hits]


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
        raise _refusal(Hit(scope, identity, per_minute, what), window)
    return window
