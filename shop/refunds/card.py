"""The one place that asks Stripe for a refund (stripe SDK, app config STRIPE_SECRET_KEY and
STRIPE_API_BASE). It knows nothing of our tables: it takes plain values and returns Stripe's
answer, or raises one of two errors that say whether anything may have happened at Stripe."""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from flask import current_app
from flask_babel import gettext as _

METADATA_KEY = "neigou_refund_id"

# Stripe did not answer, or answered that it could not decide now: a refund may exist there.
_UNKNOWN_OUTCOME = (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError)


@dataclass(frozen=True)
class StripeRefund:
    id: str
    status: str  # Stripe's: pending, requires_action, succeeded, failed, canceled


class CardRefundRefused(Exception):
    """Stripe refused: no refund was made there."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class CardRefundUnknown(Exception):
    """No answer from Stripe: the refund may or may not exist there; ask again with the same key."""


def stripe_client() -> stripe.StripeClient:
    key = current_app.config.get("STRIPE_SECRET_KEY")
    if not key:
        raise CardRefundRefused(_("Card refunds need STRIPE_SECRET_KEY; nothing was sent to Stripe."))
    base = current_app.config.get("STRIPE_API_BASE")
    return stripe.StripeClient(key, base_addresses={"api": base} if base else None)


def issue_card_refund(
    payment_intent_id: str, amount: int, idempotency_key: str, *, refund_id: int, look_first: bool = False
) -> StripeRefund:
    """Refund ``amount`` (minor units) of a PaymentIntent. Every attempt for one of our refunds
    sends the same idempotency key and carries our refund id in the metadata. ``look_first``
    (a retry after an unknown outcome) first looks for a refund an earlier attempt made, so a
    retry never refunds twice even where the key is not honoured (localstripe ignores it)."""
    client = stripe_client()
    try:
        if look_first:
            earlier = _made_earlier(client, payment_intent_id, refund_id)
            if earlier is not None:
                return earlier
        made = client.v1.refunds.create(
            params={"payment_intent": payment_intent_id, "amount": amount, "metadata": {METADATA_KEY: str(refund_id)}},
            options={"idempotency_key": idempotency_key},
        )
    except _UNKNOWN_OUTCOME as exc:
        raise CardRefundUnknown(str(exc)) from exc
    except stripe.StripeError as exc:
        raise CardRefundRefused(exc.user_message or _("Stripe refused the refund.")) from exc
    return StripeRefund(made.id, made.status)


def _made_earlier(client: stripe.StripeClient, payment_intent_id: str, refund_id: int) -> StripeRefund | None:
    for made in client.v1.refunds.list(params={"payment_intent": payment_intent_id, "limit": 100}).auto_paging_iter():
        metadata = made.metadata.to_dict() if made.metadata else {}
        if metadata.get(METADATA_KEY) == str(refund_id):
            return StripeRefund(made.id, made.status)
    return None
