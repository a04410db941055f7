"""An order's life after placing (shop/checkout/placing.py): cancel, ship, complete, and what
every way of paying does once an order is paid (payroll: shop/payments/payroll.py; card:
shop/payments/card.py)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from shop.accounts.models import User
from shop.audit.services import record
from shop.database import utcnow
from shop.errors import NotAllowed
from shop.extensions import db
from shop.labels import label
from shop.orders import notices, stock
from shop.orders.expiry import close_orders, expire_if_overdue
from shop.orders.locks import lock_order, lock_user
from shop.orders.models import Order, OrderStatus
from shop.orders.signals import order_paid


def order_for_buyer(buyer: User, order_id: int) -> Order | None:
    """The buyer's own order; another user's id is not found."""
    return db.session.scalar(select(Order).where(Order.id == order_id, Order.buyer_id == buyer.id))


def cancel_order(buyer: User, order: Order, *, now: datetime | None = None) -> OrderStatus:
    """Cancel an unpaid order and give its stock back. Returns the order's status afterwards:
    ``expired`` when its deadline had already passed."""
    now = now or utcnow()
    lock_user(buyer)
    lock_order(order)
    if expire_if_overdue(order, now):
        return order.status
    check_transition(order, OrderStatus.cancelled)
    stock.lock_holdings(order.lines)
    close_orders([order], OrderStatus.cancelled, actor=buyer, now=now)
    db.session.refresh(order)
    return order.status


def check_transition(order: Order, target: OrderStatus) -> None:
    if not order.can_become(target):
        raise NotAllowed(
            _(
                "An order that is %(current)s cannot become %(target)s.",
                current=_status_label(order.status),
                target=_status_label(target),
            )
        )


def _status_label(status: OrderStatus) -> str:
    return label(status)


def became_paid(order: Order) -> None:
    """Every way of paying (payroll, card) calls this in the paying transaction: the packages
    that react to a paid order (the funnel's first or repeat order event) subscribe to
    ``order_paid``."""
    order_paid.send(order)


# ---- fulfilment (operators) ---------------------------------------------------------------


def mark_shipped(
    actor: User, order: Order, carrier: str, tracking_number: str, *, now: datetime | None = None, notify: bool = True
) -> None:
    """Ship a paid order; the buyer is mailed after the commit (``notify``: not for demo history)."""
    lock_order(order)
    check_transition(order, OrderStatus.shipped)
    before = {"status": order.status.value}
    order.status, order.shipped_at = OrderStatus.shipped, now or utcnow()
    order.carrier, order.tracking_number = carrier.strip(), tracking_number.strip()
    record(
        "order.shipped",
        order,
        actor=actor,
        before=before,
        after={"status": "shipped", "carrier": order.carrier, "tracking_number": order.tracking_number},
    )
    if notify:
        notices.tell_buyer_shipped(order)


def mark_completed(actor: User, order: Order, *, now: datetime | None = None) -> None:
    lock_order(order)
    check_transition(order, OrderStatus.completed)
    before = {"status": order.status.value}
    order.status, order.completed_at = OrderStatus.completed, now or utcnow()
    record("order.completed", order, actor=actor, before=before, after={"status": "completed"})
