"""A small thread-safe, per-process cache whose lifetime comes from the app's config."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Any

from cachetools import TTLCache
from flask import current_app


class ConfiguredCache:
    """Entries live ``config[seconds_key]`` seconds; 0 or less turns the cache off."""

    def __init__(self, seconds_key: str, size_key: str, default_size: int):
        self.seconds_key, self.size_key, self.default_size = seconds_key, size_key, default_size
        self._lock = threading.Lock()
        self._cache: TTLCache | None = None

    @property
    def enabled(self) -> bool:
        return current_app.config.get(self.seconds_key, 0) > 0

    def _store(self) -> TTLCache:
        seconds = current_app.config[self.seconds_key]
        if self._cache is None or self._cache.ttl != seconds:
            self._cache = TTLCache(maxsize=current_app.config.get(self.size_key, self.default_size), ttl=seconds)
        return self._cache

    def get(self, key: Hashable) -> Any:
        with self._lock:
            return self._store().get(key)

    def set(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._store()[key] = value

    def discard(self, *keys: Hashable) -> None:
        with self._lock:
            if self._cache is not None:
                for key in keys:
                    self._cache.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            if self._cache is not None:
                self._cache.clear()
