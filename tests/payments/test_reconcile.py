"""`flask shop stripe-reconcile` and the operators' page: what the webhook missed is applied,
once; and a webhook racing the reconciliation applies the payment once (real threads)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import stripe
from sqlalchemy import func, select

from referrals.models import FunnelEvent
from shop.database import utcnow
from shop.extensions import db
from shop.orders.expiry import expire_overdue
from shop.orders.models import Order, OrderStatus
from shop.payments import reconcile, webhooks
from shop.payments.models import StripeEvent
from tests.conftest import login
from tests.payments.conftest import audit_count, wait_for
from tests.payments.test_card import card_payment, confirm_at_stripe, deliver, start_card
from tests.test_concurrency import run_together


def listed_event(stripe_on, intent_id: str, event_type: str = "payment_intent.succeeded"):
    """The event localstripe recorded for ``intent_id`` (it lists every event it made)."""

    def find():
        for event in stripe_on.v1.events.list({"limit": 100}).auto_paging_iter():
            if event["type"] == event_type and event["data"]["object"]["id"] == intent_id:
                return event
        return None

    deadline = time.monotonic() + 5
    while (event := find()) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return event


def test_reconcile_applies_what_the_webhook_missed_once(app, client, stripe_on, contact, pending_order):
    login(client, contact)
    start_card(client, pending_order)
    intent_id = card_payment(pending_order).payment_intent_id
    confirm_at_stripe(stripe_on, intent_id)  # no webhook reaches the app

    runner = app.test_cli_runner()
    result = runner.invoke(args=["shop", "stripe-reconcile", "--hours", "2"])
    assert result.exit_code == 0, result.output
    assert "paid 1" in result.output
    db.session.expire_all()
    assert db.session.get(Order, pending_order.id).status == OrderStatus.paid
    stored = db.session.scalar(select(StripeEvent).where(StripeEvent.payment_intent_id == intent_id))
    assert (stored.source, stored.outcome) == ("reconcile", "paid")

    again = runner.invoke(args=["shop", "stripe-reconcile"])
    assert again.exit_code == 0 and "already handled 1" in again.output
    assert audit_count("order.paid") == 1
    assert db.session.scalar(select(func.count(FunnelEvent.id)).where(FunnelEvent.order_id == pending_order.id)) == 1


def test_reconcile_without_keys_says_so(app):
    result = app.test_cli_runner().invoke(args=["shop", "stripe-reconcile"])
    assert result.exit_code != 0 and "card payments are not configured" in result.output


def test_the_operators_page_lists_disagreements_and_checks_with_stripe(
    client, stripe_on, contact, operator, pending_order
):
    login(client, contact)
    start_card(client, pending_order)
    intent_id = card_payment(pending_order).payment_intent_id
    confirm_at_stripe(stripe_on, intent_id)
    expire_overdue(now=utcnow() + timedelta(minutes=20))
    db.session.commit()
    # We saw the success (say, the expiry job raced it) but the late refund did not go out.
    payment = card_payment(pending_order)
    payment.status, payment.late_refund_requested_at = "succeeded", utcnow()
    db.session.commit()

    login(client, operator)
    html = client.get("/ops/card-payments").get_data(as_text=True)
    assert pending_order.number in html and "the refund is not confirmed yet" in html
    response = client.post_form("/ops/card-payments", token_from="/ops/card-payments", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Checked with Stripe" in html and "late refund retried 1" in html
    refunded = stripe_on.v1.payment_intents.retrieve(intent_id, {"expand": ["latest_charge"]})
    assert refunded.latest_charge.amount_refunded == pending_order.total_amount
    client.post_form("/ops/card-payments", token_from="/ops/card-payments")  # now Stripe confirms it
    html = client.get("/ops/card-payments").get_data(as_text=True)
    assert "Every card payment agrees with Stripe." in html
    assert card_payment(pending_order).amount_refunded == pending_order.total_amount


@pytest.mark.slow
def test_a_webhook_and_a_reconciliation_at_once_apply_the_payment_once(app, client, stripe_on, contact, pending_order):
    login(client, contact)
    start_card(client, pending_order)
    intent_id = card_payment(pending_order).payment_intent_id
    confirm_at_stripe(stripe_on, intent_id)
    event = listed_event(stripe_on, intent_id)
    assert event is not None
    since = utcnow() - timedelta(hours=1)

    def webhook():  # what POST /stripe/webhook does once the signature is verified
        info = webhooks.describe(event)
        return webhooks.process(info, webhooks.current_intent(info), source="webhook")

    def reconciliation():
        return reconcile.reconcile(since=since).outcomes

    outcomes = run_together(app, [webhook, reconciliation, webhook, reconciliation])
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert wait_for(lambda: db.session.get(Order, pending_order.id).status == OrderStatus.paid)
    assert audit_count("order.paid") == 1
    assert db.session.scalar(select(func.count(StripeEvent.id))) == 1
    assert db.session.scalar(select(func.count(FunnelEvent.id)).where(FunnelEvent.order_id == pending_order.id)) == 1


def test_reconcile_rereads_open_payments_and_records_a_failure_once(app, client, stripe_on, contact, pending_order):
    login(client, contact)
    start_card(client, pending_order)
    intent_id = card_payment(pending_order).payment_intent_id
    with pytest.raises(stripe.CardError):
        confirm_at_stripe(stripe_on, intent_id, "pm_card_chargeCustomerFail")
    since = utcnow() - timedelta(hours=1)
    first = reconcile.reconcile(since=since)
    second = reconcile.reconcile(since=since)
    assert first.outcomes["failed"] >= 1 and second.outcomes["already handled"] == 1
    assert second.outcomes["failed"] == 1  # the open payment was read again ...
    assert audit_count("payment.failed") == 1  # ... and the same failure recorded once
    db.session.expire_all()
    assert db.session.get(Order, pending_order.id).status == OrderStatus.pending_payment
    assert card_payment(pending_order).last_error == "Your card was declined."


def paid_by_card(client, stripe_on, contact, order, event_id: str) -> str:
    login(client, contact)
    start_card(client, order)
    intent_id = card_payment(order).payment_intent_id
    confirm_at_stripe(stripe_on, intent_id)
    deliver(client, intent_id, "payment_intent.succeeded", event_id)
    return intent_id


def refund_one_unit(client, operator, order):
    login(client, operator)
    line = order.lines[0]
    data = {f"line_{line.id}": "1", "reason": "One arrived broken"}
    response = client.post_form(f"/ops/orders/{order.id}/refund", data, token_from=f"/ops/orders/{order.id}")
    assert response.status_code == 302


def test_reconcile_clears_a_confirmed_partial_refund_without_any_refund_webhook(
    client, stripe_on, contact, operator, pending_order
):
    paid_by_card(client, stripe_on, contact, pending_order, "evt_paid_partial")
    refund_one_unit(client, operator, pending_order)  # Stripe confirms it; no charge.refunded comes
    db.session.refresh(pending_order)
    refunded = pending_order.refunded_amount
    assert 0 < refunded < pending_order.total_amount
    html = client.get("/ops/card-payments").get_data(as_text=True)
    assert pending_order.number in html and "Refunded at Stripe: CN¥0.00" in html

    client.post_form("/ops/card-payments", token_from="/ops/card-payments")
    html = client.get("/ops/card-payments").get_data(as_text=True)
    assert "Every card payment agrees with Stripe." in html
    assert card_payment(pending_order).amount_refunded == refunded
    assert audit_count("payment.refunded_at_stripe") == 1
    assert "refunds confirmed" not in reconcile.reconcile(since=utcnow() - timedelta(hours=1)).summary()


def test_a_stripe_error_on_one_payment_is_recorded_and_the_run_goes_on(
    client, stripe_on, contact, operator, product, place, pending_order
):
    other = place(contact, product.variants[0], 1)
    for order, event_id in ((pending_order, "evt_paid_one"), (other, "evt_paid_two")):
        paid_by_card(client, stripe_on, contact, order, event_id)
        refund_one_unit(client, operator, order)
    # Stripe no longer knows the second order's PaymentIntent: reading it fails.
    broken = card_payment(other)
    broken.payment_intent_id = "pi_gone_from_stripe"
    late = card_payment(pending_order)
    db.session.commit()

    report = reconcile.reconcile(since=utcnow() - timedelta(hours=1))
    assert [error.split(":")[0] for error in report.errors] == ["pi_gone_from_stripe"]
    db.session.expire_all()
    assert card_payment(pending_order).amount_refunded == db.session.get(Order, pending_order.id).refunded_amount > 0
    assert card_payment(other).amount_refunded == 0

    # The late-refund retries go on past an error too.
    broken.late_refund_requested_at = late.late_refund_requested_at = utcnow()
    db.session.commit()
    runner = client.application.test_cli_runner()
    result = runner.invoke(args=["shop", "stripe-reconcile", "--hours", "2"])
    assert result.exit_code == 1 and "error: pi_gone_from_stripe" in result.output
    assert "late refund retried 1" in result.output
