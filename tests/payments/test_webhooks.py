"""POST /stripe/webhook: signatures checked on the raw body, events stored once by id, and the
PaymentIntent's state read from the API whatever the event's own copy says."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from referrals.models import FunnelEvent
from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.payments.models import CardPayment, StripeEvent
from tests.conftest import login
from tests.payments.conftest import audit_count, event_payload, post_event, sign, wait_for
from tests.payments.test_card import card_payment, confirm_at_stripe, start_card


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def paid_event(intent_id: str, event_id: str = "evt_1", *, created: int | None = None) -> str:
    return event_payload(
        event_id, "payment_intent.succeeded", {"id": intent_id, "object": "payment_intent"}, created=created
    )


def paid_at_stripe(client, stripe_on, contact, order) -> str:
    login(client, contact)
    start_card(client, order)
    intent_id = card_payment(order).payment_intent_id
    confirm_at_stripe(stripe_on, intent_id)
    return intent_id


def test_a_bad_signature_gets_400_and_changes_nothing(client, stripe_on, contact, pending_order):
    intent_id = paid_at_stripe(client, stripe_on, contact, pending_order)
    payload = paid_event(intent_id)
    for signature in (sign(payload, secret="whsec_someone_else"), "t=1,v1=deadbeef", ""):
        response = client.post("/stripe/webhook", data=payload, headers={"Stripe-Signature": signature})
        assert response.status_code == 400
    tampered = payload.replace("evt_1", "evt_2")
    assert post_event(client, tampered, sign(payload)).status_code == 400
    assert count(StripeEvent) == 0
    db.session.refresh(pending_order)
    assert pending_order.status == OrderStatus.pending_payment


def test_a_stale_timestamp_gets_400(client, stripe_on, contact, pending_order):
    intent_id = paid_at_stripe(client, stripe_on, contact, pending_order)
    old = int(time.time()) - 301
    payload = paid_event(intent_id, created=old)
    assert post_event(client, payload, sign(payload, timestamp=old)).status_code == 400
    assert count(StripeEvent) == 0
    recent = int(time.time()) - 290
    assert post_event(client, payload, sign(payload, timestamp=recent)).status_code == 200
    db.session.refresh(pending_order)
    assert pending_order.status == OrderStatus.paid


def test_a_duplicate_delivery_is_acknowledged_and_ignored(client, stripe_on, contact, pending_order):
    intent_id = paid_at_stripe(client, stripe_on, contact, pending_order)
    payload = paid_event(intent_id)
    first, second = post_event(client, payload), post_event(client, payload)
    assert (first.status_code, first.json["outcome"]) == (200, "paid")
    assert (second.status_code, second.json["outcome"]) == (200, "duplicate")
    assert count(StripeEvent) == 1 and audit_count("order.paid") == 1
    assert db.session.scalar(select(func.count(FunnelEvent.id)).where(FunnelEvent.order_id == pending_order.id)) == 1


def test_out_of_order_events_end_in_the_state_stripe_has(client, stripe_on, contact, pending_order):
    intent_id = paid_at_stripe(client, stripe_on, contact, pending_order)
    obj = {"id": intent_id, "object": "payment_intent", "status": "requires_payment_method"}
    succeeded = post_event(client, paid_event(intent_id, "evt_b"))
    created = post_event(client, event_payload("evt_a", "payment_intent.created", obj))
    # A failure that happened before the success, delivered after it: its copy of the object
    # says "requires_payment_method", but Stripe now says "succeeded".
    failed_late = post_event(client, event_payload("evt_0", "payment_intent.payment_failed", obj))
    assert [r.json["outcome"] for r in (succeeded, created, failed_late)] == ["paid", "ignored", "already_applied"]
    db.session.refresh(pending_order)
    assert pending_order.status == OrderStatus.paid
    assert audit_count("order.paid") == 1 and audit_count("payment.failed") == 0
    assert card_payment(pending_order).status == "succeeded"


def test_an_unknown_event_type_is_acknowledged_and_ignored(client, stripe_on):
    payload = event_payload("evt_x", "customer.created", {"id": "cus_1", "object": "customer"})
    response = post_event(client, payload)
    assert (response.status_code, response.json["outcome"]) == (200, "ignored")
    assert db.session.get(StripeEvent, "evt_x").outcome == "ignored"


def test_an_event_for_someone_elses_payment_intent_changes_nothing(client, stripe_on):
    intent = stripe_on.v1.payment_intents.create({"amount": 500, "currency": "cny"})
    response = post_event(client, paid_event(intent.id, "evt_other"))
    assert (response.status_code, response.json["outcome"]) == (200, "unknown_payment_intent")
    assert count(CardPayment) == 0


def test_a_refund_made_at_stripe_is_recorded_and_shown_to_operators(
    client, stripe_on, contact, operator, pending_order
):
    intent_id = paid_at_stripe(client, stripe_on, contact, pending_order)
    post_event(client, paid_event(intent_id))
    charge = stripe_on.v1.payment_intents.retrieve(intent_id).to_dict()["latest_charge"]
    charge = charge["id"] if isinstance(charge, dict) else charge  # localstripe always expands it
    stripe_on.v1.refunds.create({"payment_intent": intent_id, "amount": 3_000})
    payload = event_payload(
        "evt_refund", "charge.refunded", {"id": charge, "object": "charge", "payment_intent": intent_id}
    )
    assert post_event(client, payload).json["outcome"] == "already_applied"
    assert card_payment(pending_order).amount_refunded == 3_000
    assert audit_count("payment.refunded_at_stripe") == 1
    login(client, operator)
    html = client.get("/ops/card-payments").get_data(as_text=True)
    assert pending_order.number in html and "Refunded at Stripe: CN¥30.00; refunded on the order: CN¥0.00." in html


def test_localstripe_delivers_its_own_signed_webhook_to_the_app(client, live_server, stripe_on, contact, pending_order):
    intent_id = paid_at_stripe(client, stripe_on, contact, pending_order)
    assert wait_for(lambda: db.session.get(type(pending_order), pending_order.id).status == OrderStatus.paid)
    stored = db.session.scalar(select(StripeEvent).where(StripeEvent.payment_intent_id == intent_id))
    assert (stored.type, stored.source, stored.outcome) == ("payment_intent.succeeded", "webhook", "paid")


# ---- hardening: bodies that are signed but not events, intents Stripe does not have --------


MALFORMED = (
    "{}",
    "[1,2,3]",
    '"an event"',
    "null",
    '{"id": "evt_m1", "object": "event", "type": "payment_intent.succeeded", "created": 1767225600}',
    '{"id": "evt_m2", "type": "payment_intent.succeeded", "created": 1767225600, "data": {}}',
    '{"id": "evt_m3", "type": "payment_intent.succeeded", "created": 1767225600, "data": []}',
    '{"id": "evt_m4", "created": 1767225600, "data": {"object": {"id": "pi_1"}}}',
    '{"type": "payment_intent.succeeded", "created": 1767225600, "data": {"object": {"id": "pi_1"}}}',
    '{"id": "evt_m5", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1"}}}',
    '{"id": "evt_m6", "type": "payment_intent.succeeded", "created": "soon", "data": {"object": {"id": "pi_1"}}}',
    '{"id": 7, "type": "payment_intent.succeeded", "created": 1767225600, "data": {"object": {"id": "pi_1"}}}',
    '{"id": "evt_m7", "type": "payment_intent.succeeded", "created": 1767225600, "data": {"object": {"id": 5}}}',
    '{"id": "evt_m8", "type": "payment_intent.succeeded", "created": 1e300, "data": {"object": {"id": "pi_1"}}}',
    "not json at all",
)


def test_signed_bodies_that_are_not_complete_events_get_400_and_change_nothing(
    client, stripe_on, contact, pending_order
):
    intent_id = paid_at_stripe(client, stripe_on, contact, pending_order)
    for body in (*MALFORMED, MALFORMED[4].replace("pi_1", intent_id)):
        response = post_event(client, body)
        assert response.status_code == 400, body
        assert response.json == {"error": "not a complete event"}, body
    assert count(StripeEvent) == 0 and audit_count("order.paid") == 0
    db.session.refresh(pending_order)
    assert pending_order.status == OrderStatus.pending_payment


def test_an_event_for_an_intent_stripe_does_not_have_is_recorded_and_acknowledged(client, stripe_on):
    response = post_event(client, paid_event("pi_never_made_at_stripe", "evt_ghost"))
    assert (response.status_code, response.json["outcome"]) == (200, "intent_not_found")
    stored = db.session.get(StripeEvent, "evt_ghost")
    assert (stored.outcome, stored.payment_intent_id) == ("intent_not_found", "pi_never_made_at_stripe")
    again = post_event(client, paid_event("pi_never_made_at_stripe", "evt_ghost"))
    assert (again.status_code, again.json["outcome"]) == (200, "duplicate")


def test_event_ids_of_any_length_are_stored(client, stripe_on, contact, pending_order):
    intent_id = paid_at_stripe(client, stripe_on, contact, pending_order)
    long_id = "evt_" + "x" * 600
    payload = event_payload(long_id, "payment_intent.succeeded." + "y" * 300, {"id": intent_id})
    assert post_event(client, payload).json["outcome"] == "ignored"
    assert post_event(client, paid_event(intent_id, long_id.replace("x", "z"))).json["outcome"] == "paid"
    assert {len(event_id) for event_id in db.session.scalars(select(StripeEvent.id))} == {604}
