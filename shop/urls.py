"""Where a form may send the browser back to: only paths on this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_local_path(target: str | None, fallback: str) -> str:
    """``target`` when it is a path on this site, else ``fallback``.

    Browsers read ``//host`` and ``/\\host`` as other sites, and drop tabs and newlines
    (``/\\t/host`` becomes ``//host``), so those are refused too.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return fallback
    parts = urlsplit(target)
    return fallback if parts.scheme or parts.netloc else target
