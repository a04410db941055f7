"""Every cache the shop keeps, declared here, and the one discipline they follow.

- Declared once, at import, by ``declare(name, seconds_key, description)``; ``caches()`` lists
  them for the operators' page (``/ops/caches``: entries, hits and misses, per worker). The
  add-ons declare theirs the same way (the core never imports them). Entries live in this
  worker's memory, or, with ``store=FileStore(...)``, as files under the instance folder that
  every worker on the host shares (the share posters).
- A cache answers pages only. Nothing that decides an order (stock, quotas, the buyer) is read
  from a cache: placing an order reads the database under its locks (shop/checkout/placing.py).
- Invalidated after the commit that changed what it holds, never before (a read between the
  forget and the commit would cache the old rows again): ``Cache.forget_after_commit()``.
- Across processes: with ``REDIS_URL`` set, forgetting bumps the cache's generation in Redis,
  and every worker reads the generations once per request and drops what an older one holds.
  Without Redis (one process: the demo, the tests) the forgetting is local; entries also
  expire after ``config[seconds_key]`` seconds whatever happens.
- Switched off all together by ``CACHES_ENABLED = False``, one by one by
  ``CACHES_DISABLED`` (names), or by ``config[seconds_key] = 0``.

Not a cache in this sense: a SQL statement built once per process (``functools.cache`` on the
function that builds it, e.g. ``shop/quotas/engine.py``). It holds the statement's text and
bind parameters, no rows, so there is nothing to forget when data changes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import redis
from cachetools import TTLCache
from flask import current_app, g, has_request_context
from sqlalchemy.orm import Session

from shop.database import after_commit

logger = logging.getLogger(__name__)

_GENERATION_KEY = "neigou:cache-generation:{}"


class Store(Protocol):
    """Where a cache keeps its entries: a ``TTLCache`` in memory, or a ``FileStore``."""

    ttl: float

    def get(self, key: Hashable) -> Any: ...
    def __setitem__(self, key: Hashable, value: Any) -> None: ...
    def clear(self) -> None: ...
    def __len__(self) -> int: ...


@dataclass
class Cache:
    name: str
    seconds_key: str
    description: str
    maxsize: int = 4096
    # (maxsize, seconds) -> the store; None: a TTLCache in this worker's memory
    make_store: Callable[[int, int], Store] | None = field(default=None, repr=False)
    hits: int = 0
    misses: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _store: Store | None = field(default=None, repr=False)
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

    def forget_after_commit(self, session: Session | None = None) -> None:
        """Once the caller's transaction (of ``session``, by default the request's) commits:
        forget everything here, in every process."""
        after_commit(self.forget_everywhere, session)

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

    def _current_store(self) -> Store:
        seconds = current_app.config[self.seconds_key]
        generation = _shared_generations().get(self.name, self._generation)
        with self._lock:
            if self._store is None or self._store.ttl != seconds or generation != self._generation:
                if self._store is not None:
                    self._store.clear()  # what an older generation holds (files outlive the object)
                make = self.make_store or (lambda maxsize, ttl: TTLCache(maxsize=maxsize, ttl=ttl))
                self._store = make(self.maxsize, seconds)
                self._generation = generation
            return self._store


_declared: dict[str, Cache] = {}


def declare(
    name: str,
    seconds_key: str,
    description: str,
    *,
    maxsize: int = 4096,
    make_store: Callable[[int, int], Store] | None = None,
) -> Cache:
    """The cache called ``name`` (one per name, however often its module is imported).
    ``description`` is shown to operators: pass it through ``lazy_gettext``. ``make_store``:
    where the entries live, when not in this worker's memory (``FileStore.factory``)."""
    if name not in _declared:
        _declared[name] = Cache(name, seconds_key, description, maxsize, make_store)
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


class FileStore:
    """Entries (bytes) as files in ``instance/cache/<folder>``, named by a digest of their key:
    every worker on the host shares them. Reading one marks it used; one unused for ``ttl``
    seconds is a miss; past ``config[max_files_key]`` files the least recently used are deleted
    (a tenth of room at a time, not a deletion per entry). Files are written under a temporary
    name and renamed, so a concurrent reader sees all of one or nothing."""

    def __init__(self, folder: str, max_files_key: str, ttl: int, suffix: str = ".bin"):
        self.folder_name, self.max_files_key, self.ttl, self.suffix = folder, max_files_key, ttl, suffix

    @classmethod
    def factory(cls, folder: str, max_files_key: str, suffix: str = ".bin") -> Callable[[int, int], FileStore]:
        """For ``declare(make_store=...)``: the number of files is read from the config."""
        return lambda _maxsize, ttl: cls(folder, max_files_key, ttl, suffix)

    @property
    def folder(self) -> Path:
        path = Path(current_app.instance_path) / "cache" / self.folder_name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def path_of(self, key: Hashable) -> Path:
        return self.folder / f"{hashlib.sha256(repr(key).encode()).hexdigest()}{self.suffix}"

    def get(self, key: Hashable) -> bytes | None:
        path = self.path_of(key)
        try:
            if time.time() - path.stat().st_mtime > self.ttl:
                return None
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        os.utime(path)  # recently used: pruned last
        return data

    def __setitem__(self, key: Hashable, value: bytes) -> None:
        folder = self.folder
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as tmp:
            tmp.write(value)
        os.replace(tmp.name, self.path_of(key))
        self._prune(folder, current_app.config[self.max_files_key])

    def clear(self) -> None:
        for path in self.folder.glob(f"*{self.suffix}"):
            path.unlink(missing_ok=True)

    def __len__(self) -> int:
        return sum(1 for _path in self.folder.glob(f"*{self.suffix}"))

    def _prune(self, folder: Path, keep: int) -> None:
        entries = [entry for entry in os.scandir(folder) if entry.name.endswith(self.suffix)]
        if len(entries) <= keep:
            return
        entries.sort(key=lambda entry: entry.stat().st_mtime)
        for entry in entries[: len(entries) - keep * 9 // 10]:
            Path(entry.path).unlink(missing_ok=True)
