"""Facts for the KPI tests written as rows, with the attribution they had when written."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

import pytest

from referrals.models import EventKind, FunnelEvent
from shop.accounts.models import User
from shop.catalog.models import PriceTier
from shop.database import utcnow
from shop.extensions import db
from shop.orders.models import Order, OrderLine, OrderStatus, PaymentMethod
from shop.refunds.models import Refund, RefundStatus

_keys = itertools.count(1)


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def chain_of(user: User) -> tuple[int | None, int | None]:
    """(root, L1) as the writers stamp them now."""
    return (user.id if user.level == 0 else user.root_employee_id), (user.l1_contact_id if user.level == 2 else None)


def add_event(kind: str, at: datetime, *, actor: User | None = None, chain: User | None = None, **fields):
    root, l1 = chain_of(chain or actor)
    event = FunnelEvent(
        kind=EventKind(kind),
        at=at,
        actor_id=actor.id if actor else None,
        root_employee_id=root,
        l1_contact_id=l1,
        link_owner_id=(chain or actor).id,
        dedupe_key=f"test:{next(_keys)}",
        **fields,
    )
    db.session.add(event)
    db.session.commit()
    return event


def add_order(
    buyer: User,
    *,
    total: int,
    paid_at: datetime | None,
    refunded: int = 0,
    festival_id: int | None = None,
    variant=None,
    status: OrderStatus | None = None,
    created_at: datetime | None = None,
) -> Order:
    root, l1 = chain_of(buyer)
    order = Order(
        buyer_id=buyer.id,
        status=status or (OrderStatus.paid if paid_at else OrderStatus.cancelled),
        currency="CNY",
        total_amount=total,
        refunded_amount=refunded,
        price_tier=PriceTier.employee if buyer.level == 0 else PriceTier.contact,
        buyer_level=buyer.level,
        root_employee_id=root,
        l1_contact_id=l1,
        festival_id=festival_id,
        ship_to="somewhere",
        created_at=created_at or paid_at or utc(2026, 3, 1),
        paid_at=paid_at,
    )
    if variant is not None:
        order.lines.append(
            OrderLine(
                variant_id=variant.id,
                product_name="p",
                variant_name="v",
                sku=variant.sku,
                unit_price=total,
                market_price=total,
                quantity=1,
            )
        )
    db.session.add(order)
    db.session.commit()
    return order


@pytest.fixture
def facts():
    class Facts:
        event = staticmethod(add_event)
        order = staticmethod(add_order)

    return Facts


def add_refund(order: Order, amount: int) -> None:
    """A payroll refund of ``amount`` as the refund service leaves it: a succeeded row, and the
    order's refunded amount (the caller adjusts the lines' refunded units, if any)."""
    db.session.add(
        Refund(
            order_id=order.id,
            amount=amount,
            currency="CNY",
            method=PaymentMethod.payroll,
            status=RefundStatus.succeeded,
            reason="test",
            idempotency_key=uuid.uuid4().hex,
            completed_at=utcnow(),
        )
    )
    order.refunded_amount += amount
