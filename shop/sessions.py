"""The signed session cookie, opened once per worker for a few seconds, and the signed CSRF
token, made once per session for a minute.

Every request opens the session cookie (base64, HMAC check, JSON) and every page with a form
signs the session's CSRF token. Both are kept in short-lived per-process caches: a cookie
value that verified a moment ago verifies again (for any method: a write that changes the
session sends a new cookie, and the old value was valid anyway), and a token signed a minute
ago is still valid for all but a minute of its hour (signed for reads, reused by writes).
Sessions holding anything but plain values or flat lists of them (flash messages) are never
cached, and every request gets its own session object (and its own lists), so nothing one
request changes leaks into another.
"""

from __future__ import annotations

from flask import g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf

from shop.database import SAFE_METHODS
from shop.ttl_cache import ConfiguredCache

_PLAIN = (str, int, float, bool, type(None))
_opened = ConfiguredCache("SESSION_CACHE_SECONDS", "SESSION_CACHE_ENTRIES", 10_000)
_signed_tokens = ConfiguredCache("CSRF_CACHE_SECONDS", "CSRF_CACHE_ENTRIES", 10_000)


def _kept(value):
    """``value`` as the cache may hold it: plain, or a flat list of plain values (the buyer's
    facts) as a tuple; None for anything else (flash messages)."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, list) and all(isinstance(item, _PLAIN) for item in value):
        return tuple(value)
    return None


class CachedCookieSessionInterface(SecureCookieSessionInterface):
    def get_signing_serializer(self, app):
        """The cookie's serializer, built once per set of keys (Flask builds it on every request,
        and building it tries it out on an empty value)."""
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        held = getattr(self, "_serializer", None)
        if held is None or held[0] != keys:
            held = self._serializer = (keys, super().get_signing_serializer(app))
        return held[1]

    def open_session(self, app, request):
        cookie = request.cookies.get(self.get_cookie_name(app))
        cacheable = bool(cookie) and _opened.enabled
        if cacheable and (values := _opened.get(cookie)) is not None:
            # A list of its own for each request, as opening the cookie would give.
            return self.session_class(
                {key: list(value) if isinstance(value, tuple) else value for key, value in values.items()}
            )
        opened = super().open_session(app, request)
        if cacheable and opened:
            kept = {key: _kept(value) for key, value in opened.items()}
            if all(kept[key] is not None or opened[key] is None for key in kept):
                _opened.set(cookie, kept)
        return opened


def reuse_signed_csrf_token() -> None:
    """Before a write: the session's CSRF token as this worker signed it a moment ago, if it
    has it. A post builds its form to read what was sent, and the form's token field signs
    the token again for a page that is seldom shown (a redirect or a short refusal follows)."""
    if request.method not in SAFE_METHODS and _signed_tokens.enabled:
        _token_signed_before()


def _token_signed_before() -> str | None:
    """The session's token as this worker signed it a moment ago, put where flask_wtf keeps
    this request's token; None when it was not signed here (or this request has one already)."""
    raw = session.get("csrf_token")
    if raw and "csrf_token" not in g and (signed := _signed_tokens.get(raw)) is not None:
        g.csrf_token = signed
        return signed
    return None


def csrf_token() -> str:
    """This session's signed CSRF token (what ``flask_wtf.csrf.generate_csrf`` gives)."""
    if request.method not in SAFE_METHODS or not _signed_tokens.enabled:
        return generate_csrf()
    if (signed := _token_signed_before()) is not None:
        return signed
    token = generate_csrf()  # puts a raw token in a session that had none
    if raw := session.get("csrf_token"):
        _signed_tokens.set(raw, token)
    return token
