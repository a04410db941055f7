"""Response headers that every page gets."""

from __future__ import annotations

from flask import g

DEFAULT_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def allow_in_csp(additions: dict[str, list[str]]) -> None:
    """Let this response's Content-Security-Policy also allow ``additions`` (directive -> sources),
    e.g. Stripe.js on the card payment page only."""
    extra = g.setdefault("csp_additions", {})
    for directive, sources in additions.items():
        extra.setdefault(directive, []).extend(sources)


def _with_additions(csp: str, additions: dict[str, list[str]]) -> str:
    directives = {}
    for part in csp.split(";"):
        name, _, sources = part.strip().partition(" ")
        if name:
            directives[name] = sources.split()
    for name, sources in additions.items():
        current = directives.setdefault(name, list(directives.get("default-src", [])))
        current.extend(s for s in sources if s not in current)
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def init_security_headers(app) -> None:
    @app.after_request
    def _headers(response):
        csp = app.config.get("CONTENT_SECURITY_POLICY", DEFAULT_CSP)
        if g.get("csp_additions"):
            csp = _with_additions(csp, g.csp_additions)
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not app.debug and app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
