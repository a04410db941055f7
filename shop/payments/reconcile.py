"""Reconciliation with Stripe: apply the events the webhook missed, re-read the open card
payments and the refunds of paid ones, retry refunds of late payments; and list where our
records disagree with Stripe.

``reconcile`` is a job (the CLI command and the operators' button run it): it commits after
each item, so one failure does not undo the rest, and calls Stripe outside any transaction.
A Stripe error on one item is recorded in the report (and the log) and the run goes on.

Refunds are read from Stripe's API (the charge's ``amount_refunded``), not only from
``charge.refunded`` webhooks: those may never come, and a refund the shop made itself is
confirmed by Stripe's answer to the request, with no webhook needed.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import stripe
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from shop.database import utcnow, write_intent
from shop.extensions import db
from shop.i18n import format_money
from shop.labels import label
from shop.orders.models import Order, OrderStatus, PaymentMethod
from shop.payments.card import apply_intent, as_dict, request_refund
from shop.payments.models import CardPayment
from shop.payments.stripe_client import client
from shop.payments.webhooks import (
    HANDLED,
    IntentNotFound,
    MalformedEvent,
    already_seen,
    current_intent,
    describe,
    process,
)

logger = logging.getLogger(__name__)

PAID_STATES = (
    OrderStatus.paid,
    OrderStatus.shipped,
    OrderStatus.completed,
    OrderStatus.partially_refunded,
    OrderStatus.refunded,
)
SETTLED = frozenset({"succeeded", "canceled"})


@dataclass
class Report:
    outcomes: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{name} {count}" for name, count in sorted(self.outcomes.items())]
        return ", ".join(parts) or "nothing to do"


def reconcile(*, since: datetime, now: datetime | None = None) -> Report:
    now = now or utcnow()
    report = Report()
    _apply_missed_events(since, report)
    _recheck_open_payments(since, now, report)
    _recheck_refunds(now, report)
    _retry_late_refunds(report)
    return report


def _failed(report: Report, what: str, exc: Exception) -> None:
    db.session.rollback()
    logger.warning("reconciliation: %s: %s", what, exc)
    report.errors.append(f"{what}: {exc}")


def _apply_missed_events(since: datetime, report: Report) -> None:
    try:
        events = client().v1.events.list({"created": {"gte": int(since.timestamp())}, "limit": 100})
        listed = list(events.auto_paging_iter())
    except stripe.StripeError as exc:
        _failed(report, "listing events", exc)
        return
    for event in listed:
        if event["type"] not in HANDLED:
            continue
        try:
            info = describe(event)
        except MalformedEvent as exc:
            _failed(report, f"event {event.get('id')}", exc)
            continue
        seen = already_seen(info.id)
        db.session.rollback()  # end the read: no transaction stays open during the API call
        if seen:
            report.outcomes["already handled"] += 1
            continue
        outcome_without_intent = "ignored"
        try:
            intent = current_intent(info)
        except IntentNotFound:
            intent, outcome_without_intent = None, "intent_not_found"
        except stripe.StripeError as exc:
            _failed(report, info.id, exc)
            continue
        with write_intent():
            outcome = process(info, intent, source="reconcile", outcome_without_intent=outcome_without_intent)
            report.outcomes[outcome] += 1
            db.session.commit()


def _recheck_open_payments(since: datetime, now: datetime, report: Report) -> None:
    """Card payments Stripe has not settled yet, or whose order disagrees: read them again."""
    ids = db.session.scalars(
        select(CardPayment.payment_intent_id)
        .join(Order, Order.id == CardPayment.order_id)
        .where(
            CardPayment.created_at >= since,
            or_(CardPayment.status.not_in(SETTLED), Order.status == OrderStatus.pending_payment),
        )
    ).all()
    db.session.rollback()
    for intent_id in ids:
        try:
            intent = client().v1.payment_intents.retrieve(intent_id, {"expand": ["latest_charge"]})
        except stripe.StripeError as exc:
            _failed(report, intent_id, exc)
            continue
        with write_intent():
            outcome = apply_intent(intent, now=now)
            db.session.commit()
        if outcome not in ("updated", "already_applied", "canceled"):
            report.outcomes[outcome] += 1


def _recheck_refunds(now: datetime, report: Report) -> None:
    """Paid card payments whose refunds at Stripe, as last seen, differ from the order's: read the
    charge's refunds again. What Stripe confirms is kept (and audited), which clears the flag on
    the operators' page; what still differs stays listed."""
    ids = db.session.scalars(
        select(CardPayment.payment_intent_id)
        .join(Order, Order.id == CardPayment.order_id)
        .where(
            CardPayment.status == "succeeded",
            CardPayment.late_refund_requested_at.is_(None),
            CardPayment.amount_refunded != Order.refunded_amount,
            Order.status.in_(PAID_STATES),
        )
    ).all()
    db.session.rollback()
    for intent_id in ids:
        try:
            intent = client().v1.payment_intents.retrieve(intent_id, {"expand": ["latest_charge"]})
        except stripe.StripeError as exc:
            _failed(report, intent_id, exc)
            continue
        with write_intent():
            payment = db.session.scalar(select(CardPayment).where(CardPayment.payment_intent_id == intent_id))
            before = payment.amount_refunded
            apply_intent(intent, now=now)
            agrees = payment.amount_refunded == payment.order.refunded_amount
            changed = payment.amount_refunded != before
            db.session.commit()
        if changed:
            report.outcomes["refunds confirmed" if agrees else "refunds read"] += 1


def _retry_late_refunds(report: Report) -> None:
    ids = db.session.scalars(
        select(CardPayment.payment_intent_id).where(
            CardPayment.late_refund_requested_at.is_not(None), CardPayment.amount_refunded < CardPayment.amount
        )
    ).all()
    db.session.rollback()
    for intent_id in ids:
        try:
            intent = client().v1.payment_intents.retrieve(intent_id, {"expand": ["latest_charge"]})
        except stripe.StripeError as exc:
            _failed(report, intent_id, exc)
            continue
        charge = as_dict(intent).get("latest_charge")
        if isinstance(charge, dict) and int(charge.get("amount_refunded") or 0) >= intent.amount:
            with write_intent():
                apply_intent(intent)
                db.session.commit()
            report.outcomes["late refund confirmed"] += 1
            continue
        if request_refund(intent_id):
            report.outcomes["late refund retried"] += 1
        else:
            report.errors.append(f"{intent_id}: the late refund was not accepted by Stripe (see the log)")


# ---- the operators' page -------------------------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    payment: CardPayment
    order: Order
    problem: str


def disagreements(*, limit: int = 200) -> list[Disagreement]:
    """Card payments whose order does not match what Stripe said when we last asked."""
    found = db.session.scalars(
        select(CardPayment)
        .join(Order, Order.id == CardPayment.order_id)
        .where(
            or_(
                (CardPayment.status == "succeeded")
                & Order.status.not_in(PAID_STATES)
                & (CardPayment.amount_refunded < CardPayment.amount),
                (Order.payment_method == PaymentMethod.card)
                & Order.status.in_(PAID_STATES)
                & (CardPayment.status != "succeeded"),
                (CardPayment.status == "succeeded")
                & (CardPayment.amount_refunded != Order.refunded_amount)
                & Order.status.in_(PAID_STATES),
            )
        )
        .options(selectinload(CardPayment.order).selectinload(Order.buyer))
        .order_by(CardPayment.id.desc())
        .limit(limit)
    ).all()
    return [Disagreement(p, p.order, _problem(p, p.order)) for p in found]


def _problem(payment: CardPayment, order: Order) -> str:
    if payment.late_refund_requested_at is not None:
        return _("Paid at Stripe after the order closed; the refund is not confirmed yet.")
    if payment.status == "succeeded" and order.status not in PAID_STATES:
        return _("Stripe took the payment but the order is %(status)s.", status=label(order.status))
    if payment.status != "succeeded":
        return _("The order is paid but Stripe says the payment is %(status)s.", status=payment.status)
    return _(
        "Refunded at Stripe: %(stripe)s; refunded on the order: %(ours)s.",
        stripe=format_money(payment.amount_refunded, payment.currency),
        ours=format_money(order.refunded_amount, order.currency),
    )


def default_since(now: datetime | None = None, hours: int | None = None) -> datetime:

    return (now or utcnow()) - timedelta(hours=hours or current_app.config["STRIPE_RECONCILE_HOURS"])
