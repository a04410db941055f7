"""Stripe events, from the webhook or the reconciliation: verified, stored once by id, and acted
on from the PaymentIntent's current state as read from the API (events arrive late, twice and
out of order, so the event's own copy of the object is never trusted)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import stripe
from flask import current_app
from sqlalchemy.exc import IntegrityError

from shop.extensions import db
from shop.payments.card import apply_intent, as_dict
from shop.payments.models import StripeEvent
from shop.payments.stripe_client import client

HANDLED = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "charge.refunded",
    }
)


@dataclass(frozen=True)
class EventInfo:
    id: str
    type: str
    created: datetime
    payment_intent_id: str | None


def verify(payload: bytes, signature: str | None) -> stripe.Event:
    """The event in ``payload`` if its signature is good and recent; raises
    ``stripe.SignatureVerificationError`` (or ``ValueError`` for a body that is not an event)."""
    config = current_app.config
    return client().construct_event(
        payload, signature, config["STRIPE_WEBHOOK_SECRET"], tolerance=config["STRIPE_WEBHOOK_TOLERANCE"]
    )


def describe(event) -> EventInfo:
    obj = as_dict(event["data"]["object"])
    # A payment_intent.* event carries the PaymentIntent; charge.refunded carries the charge.
    intent_id = obj.get("id") if event["type"].startswith("payment_intent.") else obj.get("payment_intent")
    return EventInfo(event["id"], event["type"], datetime.fromtimestamp(int(event["created"]), UTC), intent_id)


def current_intent(info: EventInfo):
    """The PaymentIntent as Stripe has it now, for a handled event; None for any other event.
    Called before the database transaction, so no lock is held during the API call."""
    if info.type not in HANDLED or not info.payment_intent_id:
        return None
    return client().v1.payment_intents.retrieve(info.payment_intent_id, {"expand": ["latest_charge"]})


def already_seen(event_id: str) -> bool:
    return db.session.get(StripeEvent, event_id) is not None


def process(info: EventInfo, intent, *, source: str) -> str:
    """Store the event and apply ``intent`` in the caller's transaction, once per event id:
    a second delivery, even one racing the first, returns "duplicate" and changes nothing."""
    if already_seen(info.id):
        return "duplicate"
    stored = StripeEvent(
        id=info.id,
        type=info.type,
        payment_intent_id=info.payment_intent_id,
        source=source,
        outcome="received",
        created_at=info.created,
    )
    try:
        with db.session.begin_nested():
            db.session.add(stored)
            db.session.flush()
    except IntegrityError:
        return "duplicate"
    stored.outcome = apply_intent(intent) if intent is not None else "ignored"
    return stored.outcome
