"""A short-lived, per-process cache of rendered storefront fragments.

Catalog pages are read far more often than the catalog changes, and rendering a product
(queries, Markdown, money formatting) costs most of a page view. Fragments are cached per
(page, price tier, locale) for ``PAGE_CACHE_SECONDS``; anything personal (the user's name,
CSRF tokens, flash messages) is rendered around them on every request. A change to the
catalog clears the cache in every worker once it commits (shop/caching.py). Stock shown on a
page may lag by that many seconds; placing an order always checks the real stock.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from flask import g, session
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf as csrf_token
from markupsafe import Markup

from shop import caching

CSRF_SLOT = Markup("<csrf-token-slot>")  # user text is escaped, so only our templates hold this
QUOTA_SLOT = Markup("<quota-left-slot>")  # where the buyer's own quota panel goes
BANNER_SLOT = Markup("<home-banner-slot>")  # the home page's festival banner, fresh per request

_fragments = caching.declare(
    "storefront", "PAGE_CACHE_SECONDS", _l("storefront fragments and whole pages per user, per tier and locale")
)


def cached_fragment(key: Hashable, render: Callable[[], Markup | None]) -> Markup | None:
    """The fragment for ``key``, rendered by ``render`` when missing. ``None`` is not cached."""
    return _fragments.get_or_compute(key, render)


def cached_value(key: Hashable, compute: Callable[[], object]):
    """Plain data that personal parts of a page are built from, cached like the fragments."""
    return cached_fragment(key, compute)


def fill_slot(fragment: Markup, slot: Markup, content: Markup) -> Markup:
    return Markup(fragment.replace(slot, content))


def fill_csrf(fragment: Markup, token: str) -> Markup:
    return Markup(fragment.replace(CSRF_SLOT, Markup('<input type="hidden" name="csrf_token" value="%s">') % token))


def with_csrf(fragment: Markup) -> Markup:
    """``fragment`` with this session's CSRF token in its slots; left as it is while a whole
    personal page is being rendered for the cache (the page is filled once, at the end)."""
    return fragment if g.get("csrf_deferred") else fill_csrf(fragment, csrf_token())


def personal_page(key: Hashable, render: Callable[[], str]) -> str:
    """A whole page for one user, cached like the fragments when nothing in it is one-off
    (no flash messages waiting), with the CSRF token filled in per request. ``key`` must hold
    everything the page depends on, the user included."""
    if not _fragments.enabled or session.get("_flashes"):
        return render()

    def render_with_slots() -> Markup:
        g.csrf_deferred = True
        try:
            return Markup(render())
        finally:
            g.csrf_deferred = False

    return fill_csrf(cached_fragment(("page", key), render_with_slots), csrf_token())


def forget_after_commit() -> None:
    """The catalog changed: every worker forgets the pages once this commits."""
    _fragments.forget_after_commit()


def clear() -> None:
    _fragments.clear()
