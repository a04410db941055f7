"""The share-poster cache: drawn posters kept as PNG files under ``instance/cache/posters``,
declared through ``shop.caching`` like every other cache (``/ops/caches`` shows it; the
switches ``CACHES_ENABLED``, ``CACHES_DISABLED=posters`` and ``POSTER_CACHE_SECONDS=0`` turn it
off).

Drawing a poster decodes the product picture, draws text and a QR code and compresses a PNG:
tens of milliseconds and megabytes of memory that a member tapping "share" again should not
cost. A poster is a pure function of what it shows, so it is kept under a digest of everything
drawn on it: the link (its owner's code and the product), the language, the product's name and
picture, the sharer's name, the font and the layout version. When the product or the user
changes, the key changes and the old file is simply never asked for again: nothing has to be
forgotten after a commit, and every worker on the host shares the files. A file unused for
``POSTER_CACHE_SECONDS`` is drawn again; past ``POSTER_CACHE_FILES`` files the least recently
used are deleted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from flask_babel import lazy_gettext as _l

from shop import caching

# Bump when poster.py draws differently, so that posters of the old layout are not served.
LAYOUT_VERSION = 3  # 2: no price on posters; 3: phone-sized, portrait

posters = caching.declare(
    "posters",
    "POSTER_CACHE_SECONDS",
    _l("share posters drawn, as files every worker on the host shares"),
    make_store=caching.FileStore.factory("posters", "POSTER_CACHE_FILES", suffix=".png"),
)


def key_of(inputs: dict) -> str:
    described = {name: str(value) if isinstance(value, Path) else value for name, value in inputs.items()}
    described["layout"] = LAYOUT_VERSION
    return hashlib.sha256(json.dumps(described, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def cached(inputs: dict, draw: Callable[[], bytes]) -> bytes:
    """The poster for ``inputs`` (everything it shows) from the cache, or ``draw()`` kept there."""
    return posters.get_or_compute(key_of(inputs), draw)
