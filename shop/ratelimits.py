"""Rate limits (Flask-Limiter) on the few views that have one, and none paid for by the others.

Flask-Limiter checks every request in a ``before_request`` hook, for default and application
limits, which this shop does not set: a view's own limits are checked by its decorator. Its
public request filter (``Limiter.request_filter``) lets a request to a view without limits skip
that work. A view gets its limits through ``rate_limit``, which records the views it decorates;
``limiter.limit`` used anywhere else would be skipped by the filter, so ruff bans importing the
limiter outside this module (ruff.toml, TID251)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from flask import current_app, request

from shop.extensions import limiter

_limited_views: set[Callable] = set()


def rate_limit(limit_value, **options: Any) -> Callable[[Callable], Callable]:
    """``limiter.limit(limit_value, **options)`` for a view (same arguments)."""
    decorate = limiter.limit(limit_value, **options)

    def decorator(view: Callable) -> Callable:
        limited = decorate(view)
        _limited_views.add(limited)
        _has_limits.cache_clear()
        return limited

    return decorator


def current_limits():
    """The limits checked for this request (Flask-Limiter's ``current_limits``)."""
    return limiter.current_limits


@lru_cache(maxsize=1024)
def _has_limits(view: Callable) -> bool:
    """Whether ``view`` or a view it wraps (``functools.wraps``' ``__wrapped__``) was decorated by ``rate_limit``."""
    seen = view
    while seen is not None:
        if seen in _limited_views:
            return True
        seen = getattr(seen, "__wrapped__", None)
    return False


@limiter.request_filter
def _view_without_limits() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return view is not None and not _has_limits(view)
