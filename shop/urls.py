"""URLs that leave the request: absolute links on the configured ``PUBLIC_URL``, and the
paths a form may send the browser back to."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def public_url(endpoint: str, **values) -> str:
    """An absolute link to ``endpoint`` on ``PUBLIC_URL``, the site's configured address.

    Every link that leaves the request (mail, share links and their QR codes, Open Graph tags)
    is built here, never from the request: the ``Host`` header is the client's to choose, so a
    link built from it (Flask's external ``url_for``) can point a victim's reset mail at an
    attacker's site. Works inside a request and outside one (commands)."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def public_host(url: str) -> str:
    """The host name of an absolute URL (no port), as ``TRUSTED_HOSTS`` compares it."""
    host = urlsplit(url).hostname
    if not host:
        raise ValueError(f"not an absolute URL: {url!r}")
    return host


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
