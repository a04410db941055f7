"""The Stripe SDK, configured per call from the app's config (keys, and the API base so tests
and the demo can point it at a local fake Stripe server)."""

from __future__ import annotations

from urllib.parse import urlsplit

import stripe
from flask import current_app

STRIPE_JS_URL = "https://js.stripe.com/v3/"


def card_payments_enabled() -> bool:
    """Card payments need the secret and publishable keys and the webhook secret."""
    config = current_app.config
    return bool(
        config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_PUBLISHABLE_KEY") and config.get("STRIPE_WEBHOOK_SECRET")
    )


def client() -> stripe.StripeClient:
    config = current_app.config
    base = config.get("STRIPE_API_BASE")
    return stripe.StripeClient(
        config["STRIPE_SECRET_KEY"],
        base_addresses={"api": base.rstrip("/")} if base else None,
        max_network_retries=2,  # safe: every write we make carries an idempotency key
    )


def js_url() -> str:
    """Stripe.js; a local fake Stripe server serves its own stand-in under the same path."""
    base = current_app.config.get("STRIPE_API_BASE")
    return f"{base.rstrip('/')}/js.stripe.com/v3/" if base else STRIPE_JS_URL


def csp_additions() -> dict[str, list[str]]:
    """What the card page's Content-Security-Policy must allow for Stripe.js and its frames."""
    base = current_app.config.get("STRIPE_API_BASE")
    if base:
        origin = _origin(base)
        return {"script-src": [origin], "connect-src": [origin], "frame-src": [origin]}
    return {
        "script-src": ["https://js.stripe.com"],
        "connect-src": ["https://api.stripe.com"],
        "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
    }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
