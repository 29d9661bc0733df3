"""Per-process caches of the catalog rows every step of every job reads.

A worker tracking a thousand jobs reads the same model, routes and channels on each submit
and status poll; reading and decoding them from the database every time was a third of a
poll's cost. Entries live for TTL seconds: an admin's edit reaches this process at once
(post_save/post_delete call `forget_catalog_caches`, see apps.py) and other processes within
TTL seconds. Values are shared between threads, so callers must not mutate them."""
from __future__ import annotations

import time
from typing import Callable, Generic, Hashable, TypeVar

T = TypeVar("T")

TTL = 5.0  # seconds an admin's change may take to reach running workers
_caches: list["TTLCache"] = []


class TTLCache(Generic[T]):
    def __init__(self, ttl: float = TTL):
        self.ttl = ttl
        self._entries: dict[Hashable, tuple[float, T]] = {}
        _caches.append(self)

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        value = load()
        self._entries[key] = (now, value)  # a plain dict store: atomic, last writer wins
        return value

    def clear(self) -> None:
        self._entries.clear()


def forget_catalog_caches(**_signal_kwargs) -> None:
    for cache in _caches:
        cache.clear()


_models: TTLCache = TTLCache()


def cached_model(pk: int):
    """The AIModel with this pk (read-only), or DoesNotExist."""
    from .models import AIModel

    return _models.get(pk, lambda: AIModel.objects.get(pk=pk))


_model_index: TTLCache = TTLCache()


def cached_model_index() -> dict:
    """Every slug and alias -> its AIModel (read-only), loaded with one query per TTL.

    The API resolves a model id on every request; scanning the models for their aliases there
    was a query and a loop per call. The catalog is about a hundred rows: holding them all is
    cheaper than one round trip each."""
    from .models import AIModel

    def load():
        models = list(AIModel.objects.all())
        index = {}
        for model in models:
            for alias in model.aliases or []:
                index.setdefault(alias, model)
        for model in models:
            index[model.slug] = model  # a slug wins over an alias (sync refuses such catalogs anyway)
        return index

    return _model_index.get("all", load)
