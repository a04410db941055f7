"""Refund rules: operators refund a paid order fully or in part, never more than was paid.

Payroll orders are refunded at once in the caller's transaction; the refund becomes a credit
line in the next payroll settlement (shop.settlement). Card orders go back through Stripe in
two steps, so that a Stripe failure never leaves anything half-done:

1. ``refund_order`` locks the order, checks the amount against what is left, and records the
   refund as *pending*, holding its amount and quantities on the order (``refunded_amount``,
   ``OrderLine.refunded_quantity``; the CHECK constraints back the rule). The caller commits,
   which releases the order's row lock: nothing waits on the network while holding it.
2. ``send_card_refund`` asks Stripe (same idempotency key on every attempt, our refund id in
   the metadata), then locks the order again and records the answer: succeeded completes the
   refund (status, stock, quota, mail); refused gives the held amount back; no answer leaves it
   pending for ``flask shop retry-refunds`` (or the charge.refunded webhook, through
   ``apply_stripe_refund``), which finds the refund an earlier attempt made before making one.

A crash between the steps leaves a pending refund that holds its amount, so no concurrent
refund can exceed what was paid, and the retry completes it exactly once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from shop.accounts.models import User
from shop.audit.services import record
from shop.database import utcnow
from shop.errors import DomainError
from shop.extensions import db
from shop.i18n import format_money, in_language_of
from shop.labels import label
from shop.mail import queue_mail
from shop.orders import stock
from shop.orders.locks import lock_order
from shop.orders.models import Order, OrderLine, OrderStatus, PaymentMethod
from shop.payments.models import CardPayment
from shop.refunds import card
from shop.refunds.models import Refund, RefundLine, RefundStatus


class RefundError(DomainError):
    pass


@dataclass(frozen=True)
class CardRefundRequest:
    """What step 2 needs, copied out of the session so it survives the commit of step 1."""

    refund_id: int
    payment_intent_id: str
    amount: int
    idempotency_key: str


def refund_order(
    actor: User,
    order: Order,
    *,
    reason: str,
    quantities: Mapping[int, int] | None = None,
    amount: int | None = None,
    restock: bool = False,
    full: bool = False,
    now: datetime | None = None,
) -> Refund:
    """Refund part of ``order``: ``quantities`` (units per order line id) and/or ``amount``
    (minor units; default: the value of those units), or everything not yet refunded (``full``).
    ``restock`` puts the refunded units back in stock (the goods came back). Payroll refunds
    succeed here; card refunds are pending until ``send_card_refund`` (see the module doc)."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise RefundError(_("Give a reason for the refund."))
    _lock(order)
    if order.payment_method is None or not order.can_become(OrderStatus.refunded):
        raise RefundError(_("Only paid orders can be refunded; this one is %(status)s.", status=label(order.status)))
    if order.refundable_amount <= 0:
        raise RefundError(_("Nothing is left to refund on this order; refunds waiting for Stripe hold the rest."))
    lines = {line.id: line for line in order.lines}
    if full:
        quantities = {line.id: line.refundable_quantity for line in order.lines if line.refundable_quantity}
        amount = order.refundable_amount
    wanted = {int(line_id): int(n) for line_id, n in (quantities or {}).items() if n}
    for line_id, n in wanted.items():
        line = lines.get(line_id)
        if line is None:
            raise RefundError(_("That item is not part of this order."))
        if n < 0 or n > line.refundable_quantity:
            raise RefundError(
                _("Only %(n)d of “%(name)s” can still be refunded.", n=line.refundable_quantity, name=line.product_name)
            )
    items_value = sum(lines[line_id].unit_price * n for line_id, n in wanted.items())
    if amount is None:
        amount = items_value
    elif wanted and not full and amount > items_value:
        # Less is a partial refund of them (a damaged item); more would pay out what other
        # items are worth, and "everything not yet refunded" could then no longer cover those.
        raise RefundError(
            _(
                "The items chosen cost %(value)s: a refund of them is at most that.",
                value=format_money(items_value, order.currency),
            )
        )
    if amount <= 0:
        raise RefundError(_("Choose the items to refund or enter an amount."))
    if amount > order.refundable_amount:
        raise RefundError(
            _(
                "At most %(left)s can still be refunded on this order.",
                left=format_money(order.refundable_amount, order.currency),
            )
        )
    if restock and not wanted:
        raise RefundError(_("Choose the items that came back to put them back in stock."))
    if order.payment_method == PaymentMethod.card and not _payment_intent_id(order):
        raise RefundError(_("This order has no card payment on record, so it cannot be refunded by card."))

    refund = Refund(
        order=order,
        amount=amount,
        currency=order.currency,
        method=order.payment_method,
        status=RefundStatus.pending,
        reason=reason,
        restock=restock,
        actor_id=actor.id,
        created_at=now,
        idempotency_key=f"refund-{uuid.uuid4().hex}",
        lines=[RefundLine(order_line_id=line_id, quantity=n) for line_id, n in sorted(wanted.items())],
    )
    db.session.add(refund)
    order.refunded_amount += amount  # the CHECK refund_within_total backs the test above
    for line_id, n in wanted.items():
        lines[line_id].refunded_quantity += n
    db.session.flush()
    if refund.method == PaymentMethod.payroll:
        _complete(refund, actor=actor, now=now)
    else:
        record(
            "order.refund_requested",
            order,
            actor=actor,
            reason=reason,
            after={"refund": refund.id, "amount": amount, "method": "card", "lines": _lines_json(refund)},
        )
    return refund


def _payment_intent_id(order: Order) -> str | None:
    """The PaymentIntent that took the card payment; refunds go back through it."""

    return db.session.scalar(select(CardPayment.payment_intent_id).where(CardPayment.order_id == order.id))


def card_request(refund: Refund) -> CardRefundRequest:
    return CardRefundRequest(refund.id, _payment_intent_id(refund.order), refund.amount, refund.idempotency_key)


def send_card_refund(
    request: CardRefundRequest, *, actor: User | None, retry: bool = False, now: datetime | None = None
) -> Refund:
    """Step 2 (module doc): call Stripe with no transaction holding locks, then record the
    answer. The caller commits. A refund Stripe did not answer about stays pending."""
    try:
        answer = card.issue_card_refund(
            request.payment_intent_id,
            request.amount,
            request.idempotency_key,
            refund_id=request.refund_id,
            look_first=retry,
        )
    except card.CardRefundRefused as exc:
        refund = _locked(request.refund_id)
        if refund.status == RefundStatus.pending:
            _fail(refund, exc.message, actor=actor, now=now or utcnow())
        return refund
    except card.CardRefundUnknown:
        return db.session.get(Refund, request.refund_id)
    return apply_stripe_refund(request.refund_id, answer.id, answer.status, actor=actor, now=now)


def apply_stripe_refund(
    refund_id: int, stripe_refund_id: str, stripe_status: str, *, actor: User | None = None, now: datetime | None = None
) -> Refund:
    """Record what Stripe says about one of our refunds, once: a refund no longer pending is
    left as it is, so the webhook, a retry and the operator's request can all arrive."""
    refund = _locked(refund_id)
    if refund.status != RefundStatus.pending:
        return refund
    refund.stripe_refund_id = stripe_refund_id
    if stripe_status == "succeeded":
        _complete(refund, actor=actor, now=now or utcnow())
    elif stripe_status in ("failed", "canceled"):
        _fail(
            refund, _("Stripe reports the refund %(status)s.", status=stripe_status), actor=actor, now=now or utcnow()
        )
    return refund


def pending_card_refunds(
    *, older_than: timedelta = timedelta(minutes=5), now: datetime | None = None
) -> list[CardRefundRequest]:
    """Card refunds still waiting for Stripe's answer, for ``flask shop retry-refunds``."""
    cutoff = (now or utcnow()) - older_than
    found = db.session.scalars(
        select(Refund)
        .where(Refund.status == RefundStatus.pending, Refund.method == PaymentMethod.card, Refund.created_at <= cutoff)
        .order_by(Refund.id)
    )
    return [card_request(refund) for refund in found]


def refunds_of(order: Order) -> list[Refund]:
    return list(db.session.scalars(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)))


def _lock(order: Order) -> None:
    """Lock the order row, then read it and its lines afresh: what an earlier read in this
    session loaded may predate another refund that committed while we waited for the lock."""
    lock_order(order)
    db.session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).execution_options(populate_existing=True)
    ).all()


def _locked(refund_id: int) -> Refund:
    refund = db.session.get(Refund, refund_id)
    _lock(refund.order)
    db.session.refresh(refund)
    return refund


def _complete(refund: Refund, *, actor: User | None, now: datetime) -> None:
    order = refund.order
    succeeded = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.order_id == order.id, Refund.status == RefundStatus.succeeded
        )
    )
    target = OrderStatus.refunded if succeeded + refund.amount >= order.total_amount else OrderStatus.partially_refunded
    if not order.can_become(target):  # amounts are bounded by the total, so only a bug gets here
        raise RefundError(_("This order can no longer be refunded."))
    before = order.status.value
    order.status = target
    refund.status, refund.completed_at = RefundStatus.succeeded, now
    _give_back(order, refund.quantities, restock=refund.restock, amount=refund.amount)
    record(
        "order.refund",
        order,
        actor=actor,
        reason=refund.reason,
        before={"status": before},
        after={
            "status": target.value,
            "refund": refund.id,
            "amount": refund.amount,
            "method": refund.method.value,
            "restock": refund.restock,
            "lines": _lines_json(refund),
            "refunded_amount": order.refunded_amount,
        },
    )
    _mail_buyer(refund)


def _fail(refund: Refund, message: str, *, actor: User | None, now: datetime) -> None:
    """Stripe made no refund: give back what the pending refund held on the order."""
    order = refund.order
    order.refunded_amount -= refund.amount
    quantities = refund.quantities
    for line in order.lines:
        line.refunded_quantity -= quantities.get(line.id, 0)
    refund.status, refund.completed_at, refund.failure_message = RefundStatus.failed, now, message[:500]
    record(
        "order.refund_failed",
        order,
        actor=actor,
        reason=message[:500],
        after={"refund": refund.id, "amount": refund.amount},
    )


def _give_back(order: Order, quantities_by_line_id: Mapping[int, int], *, restock: bool, amount: int) -> None:
    """What refunded units give back, in one place. Quota use needs nothing here: it is summed
    from order lines less their ``refunded_quantity`` (shop/quotas/engine.py). Stock comes
    back only when the goods did: to the festival's allocation while it is open, else to
    general stock."""
    if restock:
        stock.lock_holdings(order.lines)
        stock.give_back(order.lines, quantities_by_line_id)


def _lines_json(refund: Refund) -> dict[str, int]:
    return {str(line_id): n for line_id, n in refund.quantities.items()}


def _mail_buyer(refund: Refund) -> None:
    order = refund.order
    with in_language_of(order.buyer):
        amount = format_money(refund.amount, refund.currency)
        if refund.method == PaymentMethod.payroll:
            how = _("It will be credited in your next payroll settlement.")
        else:
            how = _("It goes back to the card you paid with; your bank may take a few days to show it.")
        body = "\n\n".join(
            [
                _("Hello %(name)s,", name=order.buyer.name),
                _("We refunded %(amount)s on your order %(number)s.", amount=amount, number=order.number),
                _("Reason: %(reason)s", reason=refund.reason),
                how,
            ]
        )
        queue_mail(order.buyer.email, _("Refund on order %(number)s", number=order.number), body + "\n")
