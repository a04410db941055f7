"""Unpaid orders past their deadline: expired, their units given back, each exactly once.

A checkout that falls short of stock sweeps the overdue orders of its items
(``expire_overdue_of``); an order opened or paid late is expired then (``expire_if_overdue``);
``flask shop expire-orders`` sweeps them all (``expire_overdue``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from shop.accounts.models import User
from shop.audit.services import record
from shop.database import utcnow
from shop.extensions import db
from shop.orders import stock
from shop.orders.models import Order, OrderLine, OrderStatus
from shop.orders.signals import orders_closed


def expire_overdue_of(variant_ids: set[int], now: datetime) -> bool:
    """Expire the overdue unpaid orders holding these variants; True when any gave units back."""
    overdue = _lock_overdue_orders(now, variant_ids=variant_ids)
    if not overdue:
        return False
    stock.lock_holdings([line for order in overdue for line in order.lines])
    close_orders(overdue, OrderStatus.expired, actor=None, now=now)
    return True


def _lock_overdue_orders(now: datetime, *, variant_ids=None, buyer_id: int | None = None) -> list[Order]:
    """Pending orders past their deadline, locked; ones another transaction holds are skipped."""
    query = select(Order).where(Order.status == OrderStatus.pending_payment, Order.expires_at <= now)
    if variant_ids is not None:
        holding = select(OrderLine.order_id).where(OrderLine.variant_id.in_(sorted(variant_ids)))
        query = query.where(Order.id.in_(holding))
    if buyer_id is not None:
        query = query.where(Order.buyer_id == buyer_id)
    return list(db.session.scalars(query.order_by(Order.id).with_for_update(skip_locked=True)))


def close_orders(orders: list[Order], status: OrderStatus, *, actor: User | None, now: datetime) -> int:
    """Cancel or expire pending orders and give their stock back, each exactly once. Returns how
    many this call closed (another transaction may have closed or paid some first)."""
    closed_lines = []
    closed_ids = []
    for order in orders:
        closed = db.session.execute(
            update(Order)
            .where(Order.id == order.id, Order.status == OrderStatus.pending_payment)
            .values(status=status, closed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if closed != 1:
            continue  # someone else closed or paid it first
        closed_lines += order.lines
        closed_ids.append(order.id)
        record(
            f"order.{status.value}",
            order,
            actor=actor,
            before={"status": "pending_payment"},
            after={"status": status.value},
        )
        db.session.expire(order, ["status", "closed_at"])
    stock.give_back(closed_lines)
    if closed_ids:
        orders_closed.send(closed_ids)  # card payments cancel their intents at Stripe after the commit
    return len(closed_ids)


def expire_overdue(*, now: datetime | None = None, buyer_id: int | None = None) -> int:
    """Expire every unpaid order past its deadline; safe to run twice or concurrently. Returns
    how many this call expired."""
    now = now or utcnow()
    overdue = _lock_overdue_orders(now, buyer_id=buyer_id)
    if not overdue:
        return 0
    stock.lock_holdings(line for order in overdue for line in order.lines)
    return close_orders(overdue, OrderStatus.expired, actor=None, now=now)


def expire_if_overdue(order: Order, now: datetime) -> bool:
    """Lazy expiry: an unpaid order past its deadline is expired now. True when it was."""
    if order.status == OrderStatus.pending_payment and order.expires_at and order.expires_at <= now:
        stock.lock_holdings(order.lines)
        close_orders([order], OrderStatus.expired, actor=None, now=now)
        db.session.refresh(order)
        return True
    return False
