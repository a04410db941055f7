"""The share-poster cache: drawn posters kept as PNG files under ``instance/cache/posters``.

Drawing a poster decodes the product picture, draws text and a QR code and compresses a PNG:
tens of milliseconds and megabytes of memory that a member tapping "share" again should not
cost. A poster is a pure function of what it shows, so its file is named by a digest of
everything drawn on it: the link (its owner's code and the product), the language, the product's
name and picture, the sharer's name, the font and the layout version. When the product or
the user changes, the name changes and the old file is simply never asked for again: nothing
has to be forgotten after a commit, in this process or any other, and every worker on the host
shares the files. Old files are pruned, least recently used first, past ``POSTER_CACHE_FILES``.
``POSTER_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import current_app

# Bump when poster.py draws differently, so that posters of the old layout are not served.
LAYOUT_VERSION = 3  # 2: no price on posters; 3: phone-sized, portrait


def cache_dir() -> Path:
    path = Path(current_app.instance_path) / "cache" / "posters"
    path.mkdir(parents=True, exist_ok=True)
    return path


def key_of(inputs: dict) -> str:
    described = {name: str(value) if isinstance(value, Path) else value for name, value in inputs.items()}
    described["layout"] = LAYOUT_VERSION
    return hashlib.sha256(json.dumps(described, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def cached(inputs: dict, draw: Callable[[], bytes]) -> bytes:
    """The poster for ``inputs`` (everything it shows) from the cache, or ``draw()`` kept there."""
    if not current_app.config["POSTER_CACHE"]:
        return draw()
    folder = cache_dir()
    path = folder / f"{key_of(inputs)}.png"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        pass
    else:
        os.utime(path)  # recently used: pruned last
        return data
    data = draw()
    # Written under a temporary name and renamed: a concurrent reader sees all of it or nothing.
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, path)
    _prune(folder, current_app.config["POSTER_CACHE_FILES"])
    return data


def _prune(folder: Path, keep: int) -> None:
    entries = [entry for entry in os.scandir(folder) if entry.name.endswith(".png")]
    if len(entries) <= keep:
        return
    entries.sort(key=lambda entry: entry.stat().st_mtime)
    for entry in entries[: len(entries) - keep * 9 // 10]:  # a tenth of room, not a prune per poster
        Path(entry.path).unlink(missing_ok=True)
