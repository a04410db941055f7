"""Every cache the shop keeps, declared here, and the one discipline they follow.

- Declared once, at import, by ``declare(name, seconds_key, description)``; ``caches()`` lists
  them for the operators' page (``/ops/caches``: entries, hits and misses, per worker).
- A cache answers pages only. Nothing that decides an order (stock, quotas, the buyer) is read
  from a cache: placing an order reads the database under its locks (shop/orders/placing.py).
- Invalidated after the commit that changed what it holds, never before (a read between the
  forget and the commit would cache the old rows again): ``Cache.forget_after_commit()``.
- Across processes: with ``REDIS_URL`` set, forgetting bumps the cache's generation in Redis,
  and every worker reads the generations once per request and drops what an older one holds.
  Without Redis (one process: the demo, the tests) the forgetting is local; entries also
  expire after ``config[seconds_key]`` seconds whatever happens.
- Switched off all together by ``CACHES_ENABLED = False``, one by one by
  ``CACHES_DISABLED`` (names), or by ``config[seconds_key] = 0``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import redis
from cachetools import TTLCache
from flask import current_app, g, has_request_context

from shop.database import after_commit

logger = logging.getLogger(__name__)

_GENERATION_KEY = "neigou:cache-generation:{}"


@dataclass
class Cache:
    name: str
    seconds_key: str
    description: str
    maxsize: int = 4096
    hits: int = 0
    misses: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _store: TTLCache | None = field(default=None, repr=False)
    _generation: int = 0  # the shared generation the entries were made under

    @property
    def enabled(self) -> bool:
        config = current_app.config
        return (
            config.get("CACHES_ENABLED", True)
            and self.name not in config.get("CACHES_DISABLED", ())
            and config.get(self.seconds_key, 0) > 0
        )

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The value kept for ``key``, or ``compute()`` kept (None is never kept)."""
        if not self.enabled:
            return compute()
        value = self.get(key)
        if value is None:
            value = compute()
            if value is not None:
                self.set(key, value)
        return value

    def get(self, key: Hashable) -> Any:
        if not self.enabled:
            return None
        store = self._current_store()
        with self._lock:
            value = store.get(key)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
        return value

    def set(self, key: Hashable, value: Any) -> None:
        if self.enabled:
            store = self._current_store()
            with self._lock:
                store[key] = value

    def forget_after_commit(self) -> None:
        """Once the caller's transaction commits: forget everything here, in every process."""
        after_commit(self.forget_everywhere)

    def forget_everywhere(self) -> None:
        self.clear()
        client = _redis()
        if client is not None:
            try:
                client.incr(_GENERATION_KEY.format(self.name))
            except redis.RedisError:
                logger.warning("cache %s: could not tell the other workers to forget", self.name, exc_info=True)

    def clear(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.clear()

    def entries(self) -> int:
        return len(self._store) if self._store is not None else 0

    def _current_store(self) -> TTLCache:
        seconds = current_app.config[self.seconds_key]
        generation = _shared_generations().get(self.name, self._generation)
        with self._lock:
            if self._store is None or self._store.ttl != seconds or generation != self._generation:
                self._store = TTLCache(maxsize=self.maxsize, ttl=seconds)
                self._generation = generation
            return self._store


_declared: dict[str, Cache] = {}


def declare(name: str, seconds_key: str, description: str, *, maxsize: int = 4096) -> Cache:
    """The cache called ``name`` (one per name, however often its module is imported)."""
    if name not in _declared:
        _declared[name] = Cache(name, seconds_key, description, maxsize)
    return _declared[name]


def caches() -> list[Cache]:
    return [_declared[name] for name in sorted(_declared)]


def forget_all() -> None:
    """Every cache, in this process (tests, and operators after a manual database change)."""
    for cache in _declared.values():
        cache.clear()


def _redis() -> redis.Redis | None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("neigou_cache_redis")
    if client is None:
        client = current_app.extensions["neigou_cache_redis"] = redis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5
        )
    return client


def _shared_generations() -> dict[str, int]:
    """{cache name: generation} as Redis holds them, read once per request (none without Redis)."""
    if has_request_context() and "cache_generations" in g:
        return g.cache_generations
    generations: dict[str, int] = {}
    client = _redis()
    if client is not None and _declared:
        names = sorted(_declared)
        try:
            values = client.mget([_GENERATION_KEY.format(name) for name in names])
            generations = {name: int(value or 0) for name, value in zip(names, values, strict=True)}
        except redis.RedisError:
            logger.warning("caches: Redis cannot be read; entries expire by their time only", exc_info=True)
    if has_request_context():
        g.cache_generations = generations
    return generations
