"""A short-lived, per-process cache of rendered storefront fragments.

Catalog pages are read far more often than the catalog changes, and rendering a product
(queries, Markdown, money formatting) costs most of a page view. Fragments are cached per
(page, price tier, locale) for ``PAGE_CACHE_SECONDS``; anything personal (the user's name,
CSRF tokens, flash messages) is rendered around them on every request. A change to the
catalog in this process clears the cache when it commits; other worker processes see it
when their entries expire. Stock shown on a page may therefore lag by that many seconds;
placing an order always checks the real stock.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from cachetools import TTLCache
from flask import current_app
from markupsafe import Markup

CSRF_SLOT = Markup("<csrf-token-slot>")  # user text is escaped, so only our templates hold this

_lock = threading.Lock()
_cache: TTLCache | None = None


def _store() -> TTLCache | None:
    global _cache
    seconds = current_app.config.get("PAGE_CACHE_SECONDS", 0)
    if seconds <= 0:
        return None
    if _cache is None or _cache.ttl != seconds:
        with _lock:
            if _cache is None or _cache.ttl != seconds:
                _cache = TTLCache(maxsize=current_app.config.get("PAGE_CACHE_ENTRIES", 4096), ttl=seconds)
    return _cache


def cached_fragment(key: Hashable, render: Callable[[], Markup | None]) -> Markup | None:
    """The fragment for ``key``, rendered by ``render`` when missing. ``None`` is not cached."""
    store = _store()
    if store is None:
        return render()
    with _lock:
        hit = store.get(key)
    if hit is not None:
        return hit
    fragment = render()
    if fragment is not None:
        with _lock:
            store[key] = fragment
    return fragment


def fill_csrf(fragment: Markup, token: str) -> Markup:
    return Markup(fragment.replace(CSRF_SLOT, Markup('<input type="hidden" name="csrf_token" value="%s">') % token))


def clear() -> None:
    with _lock:
        if _cache is not None:
            _cache.clear()
