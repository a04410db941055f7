"""Facts for the KPI tests written as rows, with the attribution they had when written."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kpis import weeks
from kpis.aggregation import Calendar
from kpis.domain import EventRow, event_gaps, event_order
from kpis.event_gaps import gap_bucket
from kpis.models import EventGap, GapDay
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


def event_rows() -> list[EventRow]:
    """Every funnel event as the domain reads it."""
    return [
        EventRow(e.id, e.at, str(e.kind), e.actor_id, e.root_employee_id, e.l1_contact_id, e.product_id, e.festival_id)
        for e in db.session.scalars(select(FunnelEvent))
    ]


def kept_gaps() -> tuple[Counter, Counter]:
    """``kpi_event_gaps`` (event id: its row) and ``kpi_gap_days`` as counters."""
    events = Counter(
        {
            (g.event_id, g.day, g.root_employee_id, g.level, g.festival_id, g.product_id, g.kind, g.bucket): g.gap_us
            for g in db.session.scalars(select(EventGap))
        }
    )
    days = Counter(
        {(g.day, g.level, g.festival_id, g.kind, g.bucket): g.events for g in db.session.scalars(select(GapDay))}
    )
    return events, days


def recounted_gaps() -> tuple[Counter, Counter]:
    """The same two tables straight from the raw events, by ``domain.event_gaps``."""
    calendar = Calendar()
    rows = sorted(
        (e for e in event_rows() if e.root_employee_id is not None), key=lambda e: event_order(e.at, e.kind, e.id)
    )
    by_id = {e.id: e for e in rows}
    events, days = Counter(), Counter()
    for event_id, gap in event_gaps((e.id, e.root_employee_id, e.at, e.kind) for e in rows):
        e, gap_us = by_id[event_id], gap // timedelta(microseconds=1)
        day, festival, bucket = calendar.day(e.at), e.festival_id or 0, gap_bucket(gap_us)
        events[(e.id, day, e.root_employee_id, e.level, festival, e.product_id or 0, e.kind, bucket)] = gap_us
        days[(day, e.level, festival, e.kind, bucket)] += 1
    return events, days


def assert_close_gaps(found: dict, expected: dict) -> None:
    """The medians read from the histograms against exact ones: the same stages without a gap,
    the others within the buckets' precision (0.5 % and a second)."""
    assert {k for k, v in found.items() if v is None} == {k for k, v in expected.items() if v is None}
    for kind, gap in expected.items():
        if gap is not None:
            assert abs(found[kind] - gap) <= gap * 0.005 + timedelta(seconds=1), (kind, found[kind], gap)


def assert_weeks_sum_their_days() -> None:
    """Each week table (``kpis.weeks``) holds exactly its day table summed by week."""
    for week_model, (day_model, keys, sums) in weeks.TABLES.items():
        from_days, kept = Counter(), Counter()
        for row in db.session.scalars(select(day_model)):
            for column in sums:
                from_days[(weeks.week_of(row.day), *(getattr(row, k) for k in keys), column)] += getattr(row, column)
        for row in db.session.scalars(select(week_model)):
            assert row.week.weekday() == 0
            for column in sums:
                kept[(row.week, *(getattr(row, k) for k in keys), column)] += getattr(row, column)
        assert +kept == +from_days, week_model.__tablename__
