"""The incremental aggregation of the raw facts into the rollup tables (``kpis.models``).

Exactly-once by recounting whole buckets. A run never adds to a rollup row: it finds the
company days that may have changed since the last run, recounts each of them from the raw
rows and replaces its rows. Counting a day again gives the same rows, so a fact is never
doubled; the question is only whether every changed day is found. A day is recounted when:

- an event, or an order's payment, lies at or after ``as_of - overlap`` (``as_of``: when the
  last run began to read). A fact's time is taken when it is written, inside its transaction;
  a transaction still open while the last run read (so invisible to it, even with a lower id
  than rows it saw) began after ``as_of - overlap`` unless it ran longer than the overlap
  (``KPI_OVERLAP_SECONDS``, 10 minutes by default; web transactions last milliseconds);
- an event or order has an id above the highest the last run saw (facts written with an older
  time, as the seeding does);
- a refund of the order was made or completed (succeeded or failed) since ``as_of - overlap``,
  or has a new id: the refund changes the revenue of the order's own day.

Months of ``kpi_buyer_months`` are recounted when any of their days is. Placing an order does
no work for any of this: the aggregation reads the tables the shop writes anyway.

Runs are serialised by a lock on the state row (PostgreSQL) or SQLite's write lock.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, insert, or_, select

from kpis import cut_rollups
from kpis.domain import event_level
from kpis.models import AggregationState, BuyerMonth, FunnelDay, RevenueDay
from referrals.models import FunnelEvent
from shop.catalog.models import Variant
from shop.company_calendar import company_zone
from shop.database import utcnow, write_intent
from shop.extensions import db
from shop.orders.models import Order, OrderLine
from shop.refunds.models import Refund

STATE_ID = 1
CHUNK = 5000


@dataclass(frozen=True)
class Run:
    as_of: datetime
    days: int  # company days recounted
    seconds: float


class Calendar:
    """Company days and their UTC bounds, with the zone read once per run."""

    def __init__(self):
        self.zone = company_zone()

    def day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def start(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=self.zone).astimezone(UTC)


def month_of(day: date) -> date:
    return day.replace(day=1)


def _spans(days: Iterable[date]) -> list[tuple[date, date]]:
    """Runs of consecutive days as [first, last] pairs, so a year is read in one statement."""
    spans: list[list[date]] = []
    for day in sorted(set(days)):
        if spans and day == spans[-1][1] + timedelta(days=1):
            spans[-1][1] = day
        else:
            spans.append([day, day])
    return [(a, b) for a, b in spans]


def _state() -> AggregationState:
    state = db.session.scalar(select(AggregationState).where(AggregationState.id == STATE_ID).with_for_update())
    if state is None:
        db.session.add(AggregationState(id=STATE_ID, runs=0, last_event_id=0, last_order_id=0, last_refund_id=0))
        db.session.flush()
        state = db.session.scalar(select(AggregationState).where(AggregationState.id == STATE_ID).with_for_update())
    return state


def as_of() -> datetime | None:
    """When the figures were last brought up to date (None: never)."""
    return db.session.scalar(select(AggregationState.as_of).where(AggregationState.id == STATE_ID))


def aggregate(*, full: bool = False) -> Run:
    """Bring the rollups up to date and commit. ``full`` recounts every day."""
    started = time.perf_counter()
    db.session.commit()
    with write_intent():
        state = _state()
        state.runs += 1  # the first write: on SQLite the lock is held from BEGIN anyway
        db.session.flush()
        reading_from = utcnow()
        ids = db.session.execute(
            select(
                select(func.coalesce(func.max(FunnelEvent.id), 0)).scalar_subquery(),
                select(func.coalesce(func.max(Order.id), 0)).scalar_subquery(),
                select(func.coalesce(func.max(Refund.id), 0)).scalar_subquery(),
            )
        ).one()
        calendar = Calendar()
        if full or state.as_of is None:
            event_days, order_days = _all_days(calendar)
            db.session.execute(delete(FunnelDay))
            db.session.execute(delete(RevenueDay))
            db.session.execute(delete(BuyerMonth))
            cut_rollups.clear()
        else:
            since = state.as_of - timedelta(seconds=current_app.config["KPI_OVERLAP_SECONDS"])
            event_days, order_days = _changed_days(calendar, state, since)
        for first, last in _spans(event_days):
            _recount_events(calendar, first, last)
        for first, last in _spans(order_days):
            _recount_orders(calendar, first, last)
            cut_rollups.recount_days(calendar, first, last)
        months = {month_of(day) for day in order_days}
        for first, last in _spans(months):
            _recount_buyer_months(calendar, first, last)
            cut_rollups.recount_months(calendar, first, last)
        state.as_of = reading_from
        state.last_event_id, state.last_order_id, state.last_refund_id = (int(i) for i in ids)
        seconds = time.perf_counter() - started
        state.last_run_ms = int(seconds * 1000)
        db.session.commit()
    return Run(as_of=reading_from, days=len(set(event_days) | set(order_days)), seconds=seconds)


def _all_days(calendar: Calendar) -> tuple[set[date], set[date]]:
    def days(low, high) -> set[date]:
        if low is None:
            return set()
        first, last = calendar.day(low), calendar.day(high)
        return {first + timedelta(days=i) for i in range((last - first).days + 1)}

    low, high = db.session.execute(select(func.min(FunnelEvent.at), func.max(FunnelEvent.at))).one()
    paid_low, paid_high = db.session.execute(select(func.min(Order.paid_at), func.max(Order.paid_at))).one()
    return days(low, high), days(paid_low, paid_high)


def _changed_days(calendar: Calendar, state: AggregationState, since: datetime) -> tuple[set[date], set[date]]:
    event_days = {
        calendar.day(at)
        for at in db.session.scalars(
            select(FunnelEvent.at).where(or_(FunnelEvent.at >= since, FunnelEvent.id > state.last_event_id))
        )
    }
    refunded = select(Refund.order_id).where(
        or_(Refund.created_at >= since, Refund.completed_at >= since, Refund.id > state.last_refund_id)
    )
    order_days = {
        calendar.day(paid_at)
        for paid_at in db.session.scalars(
            select(Order.paid_at).where(
                Order.paid_at.is_not(None),
                or_(Order.paid_at >= since, Order.id > state.last_order_id, Order.id.in_(refunded)),
            )
        )
    }
    return event_days, order_days


def _recount_events(calendar: Calendar, first: date, last: date) -> None:
    start, end = calendar.start(first), calendar.start(last + timedelta(days=1))
    db.session.execute(delete(FunnelDay).where(FunnelDay.day >= first, FunnelDay.day <= last))
    counts: Counter = Counter()
    rows = db.session.execute(
        select(
            FunnelEvent.at,
            FunnelEvent.kind,
            FunnelEvent.actor_id,
            FunnelEvent.root_employee_id,
            FunnelEvent.l1_contact_id,
            FunnelEvent.festival_id,
            FunnelEvent.product_id,
        )
        .where(FunnelEvent.at >= start, FunnelEvent.at < end)
        .execution_options(yield_per=CHUNK)
    )
    for at, kind, actor, root, l1, festival, product in rows:
        key = (calendar.day(at), root or 0, event_level(actor, root, l1), festival or 0, product or 0, str(kind))
        counts[key] += 1
    _insert(
        FunnelDay,
        (
            dict(day=d, root_employee_id=r, level=lv, festival_id=f, product_id=p, kind=k, events=n)
            for (d, r, lv, f, p, k), n in counts.items()
        ),
    )


def order_products():
    """Each order's only product, or 0 when its lines are of several products."""
    return (
        select(
            OrderLine.order_id,
            func.min(Variant.product_id).label("low"),
            func.max(Variant.product_id).label("high"),
        )
        .join(Variant, Variant.id == OrderLine.variant_id)
        .group_by(OrderLine.order_id)
        .subquery()
    )


def _recount_orders(calendar: Calendar, first: date, last: date) -> None:
    start, end = calendar.start(first), calendar.start(last + timedelta(days=1))
    db.session.execute(delete(RevenueDay).where(RevenueDay.day >= first, RevenueDay.day <= last))
    products = order_products()
    rows = db.session.execute(
        select(
            Order.paid_at,
            Order.root_employee_id,
            Order.buyer_level,
            Order.festival_id,
            products.c.low,
            products.c.high,
            Order.total_amount - Order.refunded_amount,
        )
        .outerjoin(products, products.c.order_id == Order.id)
        .where(Order.paid_at >= start, Order.paid_at < end)
        .execution_options(yield_per=CHUNK)
    )
    orders: Counter = Counter()
    revenue: Counter = Counter()
    for paid_at, root, level, festival, low, high, amount in rows:
        product = low if low is not None and low == high else 0
        key = (calendar.day(paid_at), root or 0, level, festival or 0, product)
        orders[key] += 1
        revenue[key] += int(amount)
    _insert(
        RevenueDay,
        (
            dict(day=d, root_employee_id=r, buyer_level=lv, festival_id=f, product_id=p, orders=n, revenue=revenue[key])
            for key, n in orders.items()
            for d, r, lv, f, p in [key]
        ),
    )


def _recount_buyer_months(calendar: Calendar, first: date, last: date) -> None:
    """Months ``first``..``last`` (first days of months)."""
    next_month = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    start, end = calendar.start(first), calendar.start(next_month)
    db.session.execute(delete(BuyerMonth).where(BuyerMonth.month >= first, BuyerMonth.month <= last))
    counts: Counter = Counter()
    rows = db.session.execute(
        select(Order.paid_at, Order.buyer_id)
        .where(Order.paid_at >= start, Order.paid_at < end)
        .execution_options(yield_per=CHUNK)
    )
    for paid_at, buyer in rows:
        counts[(month_of(calendar.day(paid_at)), buyer)] += 1
    _insert(BuyerMonth, (dict(month=m, buyer_id=b, orders=n) for (m, b), n in counts.items()))


def _insert(model, rows: Iterable[dict]) -> None:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            db.session.execute(insert(model), batch)
            batch = []
    if batch:
        db.session.execute(insert(model), batch)
