"""Stripe events, from the webhook or the reconciliation: verified, stored once by id, and acted
on from the PaymentIntent's current state as read from the API (events arrive late, twice and
out of order, so the event's own copy of the object is never trusted)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import stripe
from flask import current_app
from sqlalchemy.exc import IntegrityError

from shop.extensions import db
from shop.payments.card import apply_intent
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


class MalformedEvent(ValueError):
    """A correctly signed body that is not a complete Stripe event."""


def verify(payload: bytes, signature: str | None) -> EventInfo:
    """What the event in ``payload`` is about, if its signature is good and recent; raises
    ``stripe.SignatureVerificationError``, or ``MalformedEvent`` (a ``ValueError``) for a signed
    body that is not a complete event: Stripe's SDK builds an event from any JSON, so the shape
    is checked here, before anything is stored."""
    config = current_app.config
    stripe.WebhookSignature.verify_header(
        payload, signature, config["STRIPE_WEBHOOK_SECRET"], config["STRIPE_WEBHOOK_TOLERANCE"]
    )
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise MalformedEvent(f"not JSON: {exc}") from exc
    return describe(event)


def describe(event) -> EventInfo:
    """The parts of an event we act on; ``MalformedEvent`` when one is missing or of the wrong type
    (from the webhook or from Stripe's event list alike)."""
    if hasattr(event, "to_dict"):  # a StripeObject from Stripe's event list
        event = event.to_dict()
    if not isinstance(event, dict):
        raise MalformedEvent("the body is not a JSON object")
    event_id, event_type, created, data = (event.get(key) for key in ("id", "type", "created", "data"))
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str) or not event_type:
        raise MalformedEvent("an event needs an id and a type")
    if isinstance(created, bool) or not isinstance(created, int):
        raise MalformedEvent("an event needs its creation time")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise MalformedEvent("an event needs data.object")
    # A payment_intent.* event carries the PaymentIntent; charge.refunded carries the charge.
    intent_id = obj.get("id") if event_type.startswith("payment_intent.") else obj.get("payment_intent")
    if intent_id is not None and not isinstance(intent_id, str):
        raise MalformedEvent("the PaymentIntent's id is not a string")
    try:
        when = datetime.fromtimestamp(created, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedEvent("the creation time is out of range") from exc
    return EventInfo(event_id, event_type, when, intent_id or None)


class IntentNotFound(Exception):
    """Stripe says the event's PaymentIntent does not exist (another account's, a test's, deleted)."""


def current_intent(info: EventInfo):
    """The PaymentIntent as Stripe has it now, for a handled event; None for any other event.
    Called before the database transaction, so no lock is held during the API call. Raises
    ``IntentNotFound`` when Stripe answers that it has no such PaymentIntent (asking again would
    not change that), and ``stripe.StripeError`` for anything that may pass."""
    if info.type not in HANDLED or not info.payment_intent_id:
        return None
    try:
        return client().v1.payment_intents.retrieve(info.payment_intent_id, {"expand": ["latest_charge"]})
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            raise IntentNotFound(info.payment_intent_id) from exc
        raise


def already_seen(event_id: str) -> bool:
    return db.session.get(StripeEvent, event_id) is not None


def process(info: EventInfo, intent, *, source: str, outcome_without_intent: str = "ignored") -> str:
    """Store the event and apply ``intent`` in the caller's transaction, once per event id:
    a second delivery, even one racing the first, returns "duplicate" and changes nothing.
    Without an intent the event is stored with ``outcome_without_intent``."""
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
    stored.outcome = apply_intent(intent) if intent is not None else outcome_without_intent
    return stored.outcome
