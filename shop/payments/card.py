"""Pay an order by card through Stripe.

One PaymentIntent per order at a time, created with an idempotency key derived from the order
and reused when the buyer comes back. After a declined card the buyer pays with another card
on a new PaymentIntent: the declined one is cancelled at Stripe and a new one is created under
the next attempt's idempotency key (Stripe would let the declined one be confirmed again, but
the fake Stripe server cannot, and one path for both keeps the tests honest). The order becomes paid only from what Stripe's API says
about the PaymentIntent (read by the webhook handler or the reconciliation), never from the
browser. A payment that succeeds after its order was cancelled or expired is refunded at once.
Calls to Stripe that change something happen after the database commit.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import stripe
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shop.accounts.models import User
from shop.audit.services import record
from shop.database import after_commit, utcnow
from shop.errors import DomainError, NotAllowed
from shop.extensions import db
from shop.i18n import format_money, in_language_of
from shop.mail import queue_mail
from shop.orders.lifecycle import became_paid
from shop.orders.locks import lock_order
from shop.orders.models import Order, OrderStatus, PaymentMethod
from shop.payments import declines
from shop.payments.models import CardPayment
from shop.payments.stripe_client import card_payments_enabled, client

logger = logging.getLogger(__name__)

# PaymentIntent statuses that can still be cancelled (no money has moved).
CANCELLABLE = frozenset({"requires_payment_method", "requires_confirmation", "requires_action", "requires_capture"})
CLOSED_ORDER = frozenset({OrderStatus.cancelled, OrderStatus.expired})


class CardPaymentError(DomainError):
    pass


def card_payment_for(order: Order) -> CardPayment | None:
    return db.session.scalar(select(CardPayment).where(CardPayment.order_id == order.id))


def idempotency_key(order: Order, attempt: int) -> str:
    """Stable for one order and attempt, and distinct across databases that reuse order ids."""
    return f"neigou-order-{order.id}-{int(order.created_at.timestamp())}-intent-{attempt}"


def _unavailable(exc: Exception) -> CardPaymentError:
    logger.warning("Stripe call failed: %s", exc)
    return CardPaymentError(_("Card payment cannot be reached right now; please try again in a moment."))


def start_card_payment(buyer: User, order: Order, *, now: datetime | None = None) -> stripe.PaymentIntent:
    """The order's PaymentIntent for the card form: created once, reused on every retry."""
    now = now or utcnow()
    if not card_payments_enabled():
        raise CardPaymentError(_("Card payment is not available in this shop."))
    if order.buyer_id != buyer.id:
        raise NotAllowed(_("Only the buyer can pay this order."))
    if order.display_status(now) != OrderStatus.pending_payment:
        raise NotAllowed(_("This order can no longer be paid."))
    payment = card_payment_for(order)
    hold_reservation(order, now)
    try:
        if payment is not None:
            intent = client().v1.payment_intents.retrieve(payment.payment_intent_id)
            if declined(intent):
                # Cancelled first: should the cancel fail (it was confirmed meanwhile in another
                # tab), no second PaymentIntent is opened.
                client().v1.payment_intents.cancel(intent.id)
            elif intent.status != "canceled":
                _note(payment, intent, now)
                return intent
            attempt = payment.attempt + 1  # cancelled (or declined) while the order is still open
        else:
            attempt = 1
        intent = client().v1.payment_intents.create(
            {
                "amount": order.total_amount,
                "currency": order.currency.lower(),
                "payment_method_types": ["card"],
                "metadata": {"order_id": str(order.id), "order_number": order.number},
            },
            {"idempotency_key": idempotency_key(order, attempt)},
        )
    except stripe.StripeError as exc:
        raise _unavailable(exc) from exc
    return _keep_intent(buyer, order, payment, intent, attempt, now)


def declined(intent) -> bool:
    """The PaymentIntent's last card was declined and no other card was given since."""
    return intent.status == "requires_payment_method" and bool(as_dict(intent).get("last_payment_error"))


def hold_reservation(order: Order, now: datetime) -> None:
    """A buyer starting a card payment keeps the reservation for CARD_PAYMENT_HOLD_MINUTES
    from now, so that it does not lapse while they type the card or pass their bank's check;
    never beyond twice the normal reservation from when the order was placed."""
    config = current_app.config
    latest = order.created_at + timedelta(minutes=2 * config["RESERVATION_MINUTES"])
    held = min(max(order.expires_at, now + timedelta(minutes=config["CARD_PAYMENT_HOLD_MINUTES"])), latest)
    if held > order.expires_at:
        record(
            "order.hold_extended",
            order,
            actor=order.buyer_id,
            before={"expires_at": order.expires_at.isoformat()},
            after={"expires_at": held.isoformat()},
        )
        order.expires_at = held


def fake_intent_to_confirm(buyer: User, order: Order) -> str:
    """Only against a local fake Stripe server (STRIPE_API_BASE set), whose stand-in for Stripe.js
    cannot confirm a PaymentIntent with the card typed into its Element: the PaymentIntent to
    confirm with the card (``confirm_on_fake_stripe``), a new one stored when the last was
    declined. Against Stripe itself Stripe.js confirms, and this refuses."""
    if not current_app.config.get("STRIPE_API_BASE"):
        raise NotAllowed(_("Card payments are confirmed by Stripe.js."))
    payment = card_payment_for(order)
    if payment is None or order.buyer_id != buyer.id:
        raise NotAllowed(_("Start the card payment first."))
    try:
        if declined(client().v1.payment_intents.retrieve(payment.payment_intent_id)):  # another card
            return start_card_payment(buyer, order).id
    except stripe.StripeError as exc:
        raise _unavailable(exc) from exc
    return payment.payment_intent_id


def confirm_on_fake_stripe(intent_id: str, token_id: str) -> stripe.PaymentIntent:
    """Confirm the PaymentIntent with the token the fake Stripe.js made from the card; writes
    nothing. The order still becomes paid only from the webhook or the reconciliation."""
    api = client()
    try:
        token = api.v1.tokens.retrieve(token_id)
        api.v1.payment_intents.update(intent_id, {"payment_method": token.card.id})
        return api.v1.payment_intents.confirm(intent_id)
    except stripe.CardError as exc:
        error = {"code": exc.code, "decline_code": getattr(exc.error, "decline_code", None)}
        raise CardPaymentError(declines.reason(declines.code_of(error))) from exc
    except stripe.StripeError as exc:
        raise _unavailable(exc) from exc


def _keep_intent(
    buyer: User, order: Order, payment: CardPayment | None, intent, attempt: int, now: datetime
) -> stripe.PaymentIntent:
    """Store the new PaymentIntent on the order. When a parallel request stored another one
    first (possible only where idempotency keys are ignored), keep theirs and cancel ours."""
    try:
        with db.session.begin_nested():
            if payment is None:
                payment = CardPayment(
                    order_id=order.id,
                    amount=order.total_amount,
                    currency=order.currency,
                    payment_intent_id=intent.id,
                    status=intent.status,
                    attempt=attempt,
                )
                db.session.add(payment)
            else:
                payment.payment_intent_id, payment.attempt = intent.id, attempt
                payment.last_error = payment.last_error_code = None
                payment.status = intent.status
            payment.checked_at = now
            db.session.flush()
    except IntegrityError:
        cancel_intents_after_commit([intent.id])
        winner = card_payment_for(order)
        return client().v1.payment_intents.retrieve(winner.payment_intent_id)
    record(
        "payment.card_started",
        order,
        actor=buyer,
        after={"payment_intent": intent.id, "amount": order.total_amount, "attempt": attempt},
    )
    return intent


def as_dict(stripe_object) -> dict:
    """A plain (recursive) dict of a Stripe object, so optional fields read with ``.get``."""
    return stripe_object.to_dict() if hasattr(stripe_object, "to_dict") else dict(stripe_object)


def error_message(intent) -> str | None:
    """Stripe's own words for the PaymentIntent's last failure (English: for operators)."""
    error = as_dict(intent).get("last_payment_error")
    return (error.get("message") or error.get("code")) if error else None


def error_code(intent) -> str | None:
    """The code of the PaymentIntent's last failure, as ``declines.code_of`` keeps it."""
    return declines.code_of(as_dict(intent).get("last_payment_error"))


def _note(payment: CardPayment, intent, now: datetime) -> None:
    """Keep what Stripe's API just said about the PaymentIntent."""
    data = as_dict(intent)
    payment.status = data["status"]
    payment.checked_at = now
    payment.last_error, payment.last_error_code = error_message(intent), error_code(intent)
    charge = data.get("latest_charge")
    if isinstance(charge, dict):  # expanded
        payment.amount_refunded = int(charge.get("amount_refunded") or 0)


def apply_intent(intent, *, now: datetime | None = None) -> str:
    """Act on the PaymentIntent's current state, as just read from Stripe's API. Returns what
    happened. Safe to call any number of times, in any order, from parallel transactions: the
    order row is locked and the transition from pending_payment is checked."""

    now = now or utcnow()
    payment = db.session.scalar(select(CardPayment).where(CardPayment.payment_intent_id == intent.id))
    if payment is None:
        return "unknown_payment_intent"
    order = lock_order(payment.order)
    db.session.refresh(payment)
    refunded_before, error_before = payment.amount_refunded, payment.last_error
    _note(payment, intent, now)
    if payment.amount_refunded != refunded_before:
        record(
            "payment.refunded_at_stripe",
            order,
            actor=None,
            before={"refunded": refunded_before},
            after={"refunded": payment.amount_refunded, "payment_intent": intent.id},
        )
    if intent.status == "succeeded":
        return _succeeded(order, payment, intent, now)
    if intent.status == "canceled":
        return "canceled"
    if payment.last_error and intent.status == "requires_payment_method":
        if payment.last_error != error_before:  # the same failure seen again is not a new one
            record(
                "payment.failed", order, actor=None, after={"payment_intent": intent.id, "error": payment.last_error}
            )
        return "failed"
    return "updated"


def _succeeded(order: Order, payment: CardPayment, intent, now: datetime) -> str:
    if intent.amount != order.total_amount or intent.currency.upper() != order.currency:
        record(
            "payment.mismatch",
            order,
            actor=None,
            after={"payment_intent": intent.id, "amount": intent.amount, "currency": intent.currency},
        )
        return "amount_mismatch"  # shown on the operators' reconciliation page
    if order.status == OrderStatus.pending_payment:
        _mark_paid(order, intent, now)
        return "paid"
    if order.status in CLOSED_ORDER:
        if payment.late_refund_requested_at is None:
            payment.late_refund_requested_at = now
            record(
                "payment.late_refund",
                order,
                actor=None,
                before={"status": order.status.value},
                after={"payment_intent": intent.id, "amount": intent.amount},
                reason="paid after the order was closed",
            )
            _tell_buyer_of_late_refund(order)
            refund_after_commit(payment.payment_intent_id)  # the reconciliation retries a failed one
        return "late_refund"
    return "already_applied"


def _mark_paid(order: Order, intent, now: datetime) -> None:

    order.status = OrderStatus.paid
    order.payment_method = PaymentMethod.card
    order.paid_at = now
    record(
        "order.paid",
        order,
        actor=None,
        before={"status": "pending_payment"},
        after={"status": "paid", "method": "card", "amount": order.total_amount, "payment_intent": intent.id},
    )
    became_paid(order)


def _tell_buyer_of_late_refund(order: Order) -> None:

    with in_language_of(order.buyer):
        queue_mail(
            order.buyer.email,
            _("Your payment for order %(number)s was refunded", number=order.number),
            _(
                "Your card payment of %(amount)s arrived after order %(number)s had been closed, so its items "
                "were no longer reserved for you. We have refunded the payment in full; your bank shows it "
                "within a few days.",
                amount=format_money(order.total_amount, order.currency),
                number=order.number,
            ),
        )


# ---- calls to Stripe after the commit ------------------------------------------------------


def on_orders_closed(order_ids: list[int], **_signal) -> None:
    """``shop.orders.signals.orders_closed``, subscribed at app creation."""
    cancel_intents_for_orders_after_commit(order_ids)


def cancel_intents_for_orders_after_commit(order_ids: list[int]) -> None:
    """The orders were closed unpaid: cancel their PaymentIntents at Stripe once that commits."""
    if not order_ids or not card_payments_enabled():
        return
    ids = db.session.scalars(
        select(CardPayment.payment_intent_id).where(
            CardPayment.order_id.in_(order_ids), CardPayment.status.in_(CANCELLABLE)
        )
    ).all()
    cancel_intents_after_commit(list(ids))


def cancel_intents_after_commit(intent_ids: list[str]) -> None:
    if intent_ids:
        _after_commit_with_app(lambda: [_cancel(intent_id) for intent_id in intent_ids])


def _cancel(intent_id: str) -> None:
    try:
        client().v1.payment_intents.cancel(intent_id)
    except stripe.StripeError as exc:
        # Already succeeded or cancelled, or Stripe is unreachable: the webhook or the
        # reconciliation sees the real state, and a late success is refunded.
        logger.info("PaymentIntent %s not cancelled: %s", intent_id, exc)


def refund_after_commit(intent_id: str) -> None:
    _after_commit_with_app(lambda: request_refund(intent_id))


def request_refund(intent_id: str) -> bool:
    """Refund a PaymentIntent in full; the idempotency key makes a repeated request harmless."""
    try:
        client().v1.refunds.create(
            {"payment_intent": intent_id}, {"idempotency_key": f"neigou-late-refund-{intent_id}"}
        )
    except stripe.StripeError as exc:
        logger.warning("refund of %s failed, the reconciliation retries it: %s", intent_id, exc)
        return False
    return True


def _after_commit_with_app(callback) -> None:
    app = current_app._get_current_object()

    def run():
        with app.app_context():
            callback()

    after_commit(run)
