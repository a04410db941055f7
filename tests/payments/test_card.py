"""Paying an order by card against localstripe: the PaymentIntent, retries, declines, expiry,
and a payment that arrives after its order closed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import stripe
from sqlalchemy import func, select

from referrals.models import EventKind, FunnelEvent
from shop.database import utcnow
from shop.extensions import db
from shop.orders.expiry import expire_overdue
from shop.orders.models import OrderStatus, PaymentMethod
from shop.payments.models import CardPayment
from tests.conftest import login, outbox
from tests.payments.conftest import audit_count, event_payload, post_event


def text(response) -> str:
    body = response.get_data(as_text=True)
    response.close()
    return body


def start_card(client, order):
    return client.post_form(f"/orders/{order.id}/card", token_from=f"/orders/{order.id}")


def card_payment(order) -> CardPayment:
    return db.session.scalar(select(CardPayment).where(CardPayment.order_id == order.id))


def confirm_at_stripe(stripe_client, intent_id: str, payment_method: str = "pm_card_visa"):
    """What Stripe.js does with the card typed into the Element: attach it and confirm."""
    stripe_client.v1.payment_intents.update(intent_id, {"payment_method": payment_method})
    return stripe_client.v1.payment_intents.confirm(intent_id)


def deliver(client, intent_id: str, event_type: str, event_id: str):
    return post_event(client, event_payload(event_id, event_type, {"id": intent_id, "object": "payment_intent"}))


# ---- without keys ----------------------------------------------------------------------------


def test_without_keys_card_payment_is_hidden_and_payroll_still_works(client, employee, product, place):
    order = place(employee, product.variants[0], 1)
    login(client, employee)
    html = text(client.get(f"/orders/{order.id}"))
    assert "Card payment is not available in this shop." in html
    assert f'action="/orders/{order.id}/card"' not in html
    html = text(client.post_form(f"/orders/{order.id}/card", token_from=f"/orders/{order.id}", follow_redirects=True))
    assert "Card payment is not available in this shop." in html
    assert card_payment(order) is None
    assert client.get(f"/orders/{order.id}/card").status_code == 302
    client.post_form(f"/orders/{order.id}/pay", token_from=f"/orders/{order.id}")
    db.session.refresh(order)
    assert order.status == OrderStatus.paid and order.payment_method == PaymentMethod.payroll


# ---- paying ----------------------------------------------------------------------------------


def test_a_contact_pays_by_card_and_the_order_is_paid_only_from_stripe(
    client, stripe_on, contact, pending_order, localstripe_url
):
    login(client, contact)
    html = text(client.get(f"/orders/{pending_order.id}"))
    assert f'action="/orders/{pending_order.id}/card"' in html and "Pay by card" in html
    assert "Pay by payroll deduction" not in html  # contacts pay by card only

    response = start_card(client, pending_order)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/orders/{pending_order.id}/card")
    payment = card_payment(pending_order)
    intent = stripe_on.v1.payment_intents.retrieve(payment.payment_intent_id)
    assert (intent.amount, intent.currency) == (pending_order.total_amount, "cny")
    assert intent.metadata["order_id"] == str(pending_order.id)

    page = client.get(f"/orders/{pending_order.id}/card")
    html = text(page)
    assert page.status_code == 200
    assert f'data-client-secret="{intent.client_secret}"' in html
    assert f'src="{localstripe_url}/js.stripe.com/v3/"' in html
    csp = page.headers["Content-Security-Policy"]
    assert f"script-src 'self' {localstripe_url}" in csp and f"connect-src 'self' {localstripe_url}" in csp
    assert localstripe_url not in client.get("/").headers["Content-Security-Policy"]

    confirm_at_stripe(stripe_on, intent.id)
    # The browser comes back saying it worked: that alone changes nothing.
    html = text(client.get(f"/orders/{pending_order.id}?confirming=1"))
    assert "being confirmed by Stripe" in html and 'http-equiv="refresh"' in html
    db.session.refresh(pending_order)
    assert pending_order.status == OrderStatus.pending_payment

    assert deliver(client, intent.id, "payment_intent.succeeded", "evt_paid_1").status_code == 200
    db.session.refresh(pending_order)
    assert pending_order.status == OrderStatus.paid
    assert pending_order.payment_method == PaymentMethod.card and pending_order.paid_at is not None
    assert audit_count("order.paid") == 1
    kinds = db.session.scalars(select(FunnelEvent.kind).where(FunnelEvent.order_id == pending_order.id)).all()
    assert kinds == [EventKind.first_order]
    html = text(client.get(f"/orders/{pending_order.id}"))
    assert "Paid" in html and "card" in html and 'http-equiv="refresh"' not in html


def test_a_retried_checkout_reuses_the_orders_payment_intent(client, stripe_on, contact, pending_order):
    login(client, contact)
    start_card(client, pending_order)
    first = card_payment(pending_order).payment_intent_id
    start_card(client, pending_order)
    start_card(client, pending_order)
    assert db.session.scalar(select(func.count(CardPayment.id))) == 1
    assert card_payment(pending_order).payment_intent_id == first
    assert audit_count("payment.card_started") == 1


def test_a_declined_card_leaves_the_order_payable_and_says_why(client, stripe_on, contact, pending_order):
    login(client, contact)
    start_card(client, pending_order)
    intent_id = card_payment(pending_order).payment_intent_id
    with pytest.raises(stripe.CardError):
        confirm_at_stripe(stripe_on, intent_id, "pm_card_chargeCustomerFail")
    deliver(client, intent_id, "payment_intent.payment_failed", "evt_failed_1")
    db.session.refresh(pending_order)
    assert pending_order.status == OrderStatus.pending_payment
    payment = card_payment(pending_order)
    assert (payment.last_error, payment.last_error_code) == ("Your card was declined.", "card_declined")
    html = text(client.get(f"/orders/{pending_order.id}"))
    assert "Your card payment did not go through: Your card was declined." in html
    page = client.get(f"/orders/{pending_order.id}/card")  # the buyer can try again (another card: below)
    assert page.status_code == 200 and "Your card was declined." in text(page)


def test_a_decline_is_explained_in_the_buyers_language(client, stripe_on, contact, pending_order):
    """Stripe explains in English; a buyer who reads Chinese is told why in Chinese, on the
    order and on the card page, and the operator sees the reason and Stripe's code."""
    contact.preferred_locale = "zh_CN"
    db.session.commit()
    login(client, contact)
    start_card(client, pending_order)
    intent_id = card_payment(pending_order).payment_intent_id
    with pytest.raises(stripe.CardError):
        confirm_at_stripe(stripe_on, intent_id, "pm_card_chargeCustomerFail")
    deliver(client, intent_id, "payment_intent.payment_failed", "evt_failed_zh")
    for path in (f"/orders/{pending_order.id}", f"/orders/{pending_order.id}/card"):
        page = text(client.get(path))
        assert "你的银行卡被拒绝了。" in page and "declined" not in page, path


def test_an_intent_cancelled_at_stripe_is_replaced_on_retry(client, stripe_on, contact, pending_order):
    login(client, contact)
    start_card(client, pending_order)
    old = card_payment(pending_order).payment_intent_id
    stripe_on.v1.payment_intents.cancel(old)
    deliver(client, old, "payment_intent.canceled", "evt_cancel_1")
    assert card_payment(pending_order).status == "canceled"
    db.session.refresh(pending_order)
    assert pending_order.status == OrderStatus.pending_payment
    start_card(client, pending_order)
    payment = card_payment(pending_order)
    assert payment.payment_intent_id != old and payment.attempt == 2 and payment.status == "requires_payment_method"


def test_cancelling_or_expiring_an_order_cancels_its_intent_after_the_commit(
    client, stripe_on, contact, product, place
):
    login(client, contact)
    cancelled, expiring = place(contact, product.variants[0], 1), place(contact, product.variants[0], 1)
    for order in (cancelled, expiring):
        start_card(client, order)
    client.post_form(f"/orders/{cancelled.id}/cancel", token_from=f"/orders/{cancelled.id}")
    intent_of = {o.id: card_payment(o).payment_intent_id for o in (cancelled, expiring)}
    assert stripe_on.v1.payment_intents.retrieve(intent_of[cancelled.id]).status == "canceled"

    expire_overdue(now=utcnow() + timedelta(minutes=20))
    assert stripe_on.v1.payment_intents.retrieve(intent_of[expiring.id]).status == "requires_payment_method"
    db.session.rollback()  # nothing is cancelled at Stripe for a transaction that did not commit
    assert stripe_on.v1.payment_intents.retrieve(intent_of[expiring.id]).status == "requires_payment_method"
    expire_overdue(now=utcnow() + timedelta(minutes=20))
    db.session.commit()
    assert stripe_on.v1.payment_intents.retrieve(intent_of[expiring.id]).status == "canceled"


def test_a_payment_that_succeeds_after_the_order_expired_is_refunded(
    client, app, stripe_on, contact, pending_order, product
):
    login(client, contact)
    start_card(client, pending_order)
    intent_id = card_payment(pending_order).payment_intent_id
    confirm_at_stripe(stripe_on, intent_id)  # paid at Stripe, but the webhook is late
    expire_overdue(now=utcnow() + timedelta(minutes=20))
    db.session.commit()  # its PaymentIntent cannot be cancelled any more: it succeeded
    stock_after_expiry = product.variants[0].stock

    deliver(client, intent_id, "payment_intent.succeeded", "evt_late_1")
    db.session.refresh(pending_order)
    assert pending_order.status == OrderStatus.expired and pending_order.paid_at is None
    refunded = stripe_on.v1.payment_intents.retrieve(intent_id, {"expand": ["latest_charge"]})
    assert refunded.latest_charge.amount_refunded == pending_order.total_amount
    assert audit_count("payment.late_refund") == 1 and audit_count("order.paid") == 0
    db.session.refresh(product.variants[0])
    assert product.variants[0].stock == stock_after_expiry
    assert any("was refunded" in message and contact.email in message for message in outbox(app))

    deliver(client, intent_id, "payment_intent.succeeded", "evt_late_2")  # another copy: no second refund
    refunds = stripe_on.v1.refunds.list({"limit": 100})
    assert [r.payment_intent for r in refunds.data].count(intent_id) == 1
    assert audit_count("payment.late_refund") == 1


def test_on_a_fake_stripe_server_the_typed_card_is_confirmed_through_the_server(
    client, stripe_on, contact, pending_order
):
    login(client, contact)
    start_card(client, pending_order)
    url = f"/orders/{pending_order.id}/card/fake-confirm"
    token = client.csrf_token(f"/orders/{pending_order.id}/card")

    def typed(number: str) -> str:
        return stripe_on.v1.tokens.create(
            {"card": {"number": number, "exp_month": "12", "exp_year": "2030", "cvc": "123"}}
        ).id

    declined = client.post(url, json={"token": typed("4000000000000341")}, headers={"X-CSRFToken": token})
    assert declined.status_code == 402 and declined.json["error"]["message"] == "Your card was declined."
    assert client.post("/language", data={"locale": "zh_CN", "csrf_token": token}).status_code == 302
    in_chinese = client.post(url, json={"token": typed("4000000000000341")}, headers={"X-CSRFToken": token})
    assert in_chinese.status_code == 402 and in_chinese.json["error"]["message"] == "你的银行卡被拒绝了。"
    assert client.post(url, json={"token": typed("4242424242424242")}).status_code == 400  # no CSRF token
    db.session.refresh(pending_order)
    assert pending_order.status == OrderStatus.pending_payment


def test_the_fake_stripe_bridge_is_closed_against_stripe_itself(app, client, stripe_on, contact, pending_order):
    login(client, contact)
    start_card(client, pending_order)
    app.config["STRIPE_API_BASE"] = None
    token = client.csrf_token(f"/orders/{pending_order.id}")
    response = client.post(
        f"/orders/{pending_order.id}/card/fake-confirm", json={"token": "tok_x"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 404


def test_starting_a_card_payment_holds_the_reservation_but_not_forever(app, stripe_on, contact, pending_order):
    from shop.payments import card

    placed, deadline = pending_order.created_at, pending_order.expires_at
    near_deadline = deadline - timedelta(minutes=1)
    card.hold_reservation(pending_order, near_deadline)
    db.session.commit()
    assert pending_order.expires_at == near_deadline + timedelta(minutes=app.config["CARD_PAYMENT_HOLD_MINUTES"])
    assert audit_count("order.hold_extended") == 1
    assert expire_overdue(now=deadline + timedelta(seconds=1)) == 0  # still held

    card.hold_reservation(pending_order, placed + timedelta(minutes=29))
    db.session.commit()
    assert pending_order.expires_at == placed + timedelta(minutes=2 * app.config["RESERVATION_MINUTES"])


def test_after_a_declined_card_another_card_pays_the_order_exactly_once(client, stripe_on, contact, pending_order):
    login(client, contact)
    start_card(client, pending_order)
    declined_intent = card_payment(pending_order).payment_intent_id
    with pytest.raises(stripe.CardError):
        confirm_at_stripe(stripe_on, declined_intent, "pm_card_chargeCustomerFail")
    deliver(client, declined_intent, "payment_intent.payment_failed", "evt_declined")

    start_card(client, pending_order)  # "Pay by card" again: a new PaymentIntent, the old one cancelled
    payment = card_payment(pending_order)
    assert payment.payment_intent_id != declined_intent and payment.attempt == 2
    assert stripe_on.v1.payment_intents.retrieve(declined_intent).status == "canceled"
    confirm_at_stripe(stripe_on, payment.payment_intent_id)  # another card
    for event_id in ("evt_paid_a", "evt_paid_b"):
        assert deliver(client, payment.payment_intent_id, "payment_intent.succeeded", event_id).status_code == 200
    assert deliver(client, declined_intent, "payment_intent.canceled", "evt_old_cancelled").status_code == 200

    db.session.refresh(pending_order)
    assert pending_order.status == OrderStatus.paid and pending_order.payment_method == PaymentMethod.card
    assert audit_count("order.paid") == 1 and audit_count("payment.card_started") == 2
    assert db.session.scalar(select(func.count(FunnelEvent.id)).where(FunnelEvent.order_id == pending_order.id)) == 1
    charged = [
        intent
        for intent in stripe_on.v1.payment_intents.list({"limit": 100}).data
        if intent.to_dict()["metadata"].get("order_id") == str(pending_order.id) and intent.status == "succeeded"
    ]
    assert [intent.id for intent in charged] == [payment.payment_intent_id]


def test_on_the_fake_server_another_typed_card_after_a_decline_pays(client, stripe_on, contact, pending_order):
    login(client, contact)
    start_card(client, pending_order)
    url = f"/orders/{pending_order.id}/card/fake-confirm"
    headers = {"X-CSRFToken": client.csrf_token(f"/orders/{pending_order.id}/card")}

    def typed(number: str) -> str:
        card = {"number": number, "exp_month": "12", "exp_year": "2030", "cvc": "123"}
        return stripe_on.v1.tokens.create({"card": card}).id

    assert client.post(url, json={"token": typed("4000000000000341")}, headers=headers).status_code == 402
    first = card_payment(pending_order).payment_intent_id
    paid = client.post(url, json={"token": typed("4242424242424242")}, headers=headers)
    assert (paid.status_code, paid.json) == (200, {"status": "succeeded"})
    payment = card_payment(pending_order)
    assert payment.payment_intent_id != first and payment.attempt == 2
    deliver(client, payment.payment_intent_id, "payment_intent.succeeded", "evt_typed_paid")
    db.session.refresh(pending_order)
    assert pending_order.status == OrderStatus.paid and audit_count("order.paid") == 1
