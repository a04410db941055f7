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

A day is recounted by one grouped ``INSERT ... SELECT`` from the raw rows into
``kpi_funnel_days``/``kpi_revenue_days``, then from those: their rows without the product
(``kpi_chain_days``, the stages side by side) or without the cuts (``kpi_chain_revenue_days``),
and without the chain (``kpi_company_days``, ``kpi_company_revenue_days``; ``kpi_stage_days``,
without the product either). Each
event's time between stages (``kpi_event_gaps``) and their daily histograms (``kpi_gap_days``)
are recounted from the earliest of those days onward: a late event changes the gaps of its
chain's later events (``kpis.event_gaps``); then the histograms' week table (``kpi_gap_weeks``,
``kpis.weeks``) from that day's week onward, and each chain's medians over the /network window
(``kpi_network_gaps``, ``kpis.network_gaps``) for the chains of the new events, or for every
chain on the first run of a company day. Months of ``kpi_buyer_months`` are recounted when
any of their days is, and then the retention table whole; ``kpi_expansion_days`` is recounted whole
when the users it is counted from changed (``kpis.expansion.fingerprint``). Placing an order does
no work for any of this: the aggregation reads the tables the shop writes anyway.

Runs are serialised by a lock on the state row (PostgreSQL) or SQLite's write lock.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import Date, and_, case, delete, func, insert, literal, or_, select, text
from sqlalchemy.exc import IntegrityError

from kpis import cut_rollups, domain, event_gaps, expansion, network_gaps, weeks
from kpis.domain import ANONYMOUS
from kpis.models import (
    STATE_ID,
    AggregationState,
    BuyerMonth,
    ChainDay,
    ChainRevenueDay,
    CompanyDay,
    CompanyRevenueDay,
    EventGap,
    FunnelDay,
    GapDay,
    GapWeek,
    RetentionCell,
    RevenueDay,
    StageDay,
)
from referrals.models import EventKind, FunnelEvent
from shop.catalog.models import Variant
from shop.company_calendar import company_zone
from shop.database import utcnow, write_intent
from shop.extensions import db
from shop.orders.models import Order, OrderLine
from shop.refunds.models import Refund

KINDS = FunnelEvent.kind.in_(list(EventKind))


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
        # The first run ever: two processes (the worker and a cron job, a seeding and the
        # worker) may both find no row. The second insert waits for the first run's commit
        # and fails; its savepoint is rolled back and it takes the row after that run.
        try:
            with db.session.begin_nested():
                db.session.add(
                    AggregationState(id=STATE_ID, runs=0, last_event_id=0, last_order_id=0, last_refund_id=0)
                )
        except IntegrityError:
            pass
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
            new_chains = None  # every chain
            for model in (
                FunnelDay,
                ChainDay,
                CompanyDay,
                StageDay,
                RevenueDay,
                ChainRevenueDay,
                CompanyRevenueDay,
                BuyerMonth,
                EventGap,
                GapDay,
                GapWeek,
            ):
                db.session.execute(delete(model))
            cut_rollups.clear()
        else:
            since = state.as_of - timedelta(seconds=current_app.config["KPI_OVERLAP_SECONDS"])
            event_days, new_chains, order_days = _changed_days(calendar, state, since)
        for first, last in _spans(event_days):
            _recount_events(calendar, first, last)
        for first, last in _spans(order_days):
            _recount_orders(calendar, first, last)
            cut_rollups.recount_days(calendar, first, last)
        if event_days:
            event_gaps.recount(calendar, min(event_days))
            weeks.recount(min(event_days))
        network_gaps.recount(state, calendar.day(reading_from), new_chains)
        months = {month_of(day) for day in order_days}
        for first, last in _spans(months):
            _recount_buyer_months(calendar, first, last)
            cut_rollups.recount_months(calendar, first, last)
        if months:
            _recount_retention()
        people = expansion.fingerprint()
        if full or people != state.people_fingerprint:
            expansion.recount(calendar)
            state.people_fingerprint = people
        state.as_of = reading_from
        state.last_event_id, state.last_order_id, state.last_refund_id = (int(i) for i in ids)
        seconds = time.perf_counter() - started
        state.last_run_ms = int(seconds * 1000)
        db.session.commit()
    if full and db.session.get_bind().dialect.name == "postgresql":
        # After a bulk load (the synthetic data, a full recount) the planner's statistics are
        # those of the empty tables until autovacuum comes by: bring them up to date now.
        db.session.execute(text("ANALYZE"))
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


def _changed_days(
    calendar: Calendar, state: AggregationState, since: datetime
) -> tuple[set[date], set[int], set[date]]:
    """The company days of the new events and the chains they belong to (only theirs can have
    new kept gaps), from one read of those events; the days of the paid orders to recount."""
    event_days: set[date] = set()
    chains: set[int] = set()
    for at, root in db.session.execute(
        select(FunnelEvent.at, FunnelEvent.root_employee_id).where(
            or_(and_(KINDS, FunnelEvent.at >= since), FunnelEvent.id > state.last_event_id)
        )
    ):
        event_days.add(calendar.day(at))
        if root is not None:
            chains.add(root)
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
    return event_days, chains, order_days


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _recount_events(calendar: Calendar, first: date, last: date) -> None:
    """Days ``first``..``last``: one grouped statement per day from the raw events into
    ``kpi_funnel_days``, then its two smaller views (no cuts; no chain) from those rows."""
    for model in (FunnelDay, ChainDay, CompanyDay, StageDay):
        db.session.execute(delete(model).where(model.day >= first, model.day <= last))
    level = case(
        (FunnelEvent.actor_id.is_(None), ANONYMOUS),
        (FunnelEvent.actor_id == FunnelEvent.root_employee_id, 0),
        (FunnelEvent.l1_contact_id.is_not(None), 2),
        else_=1,
    )
    for day in _days(first, last):
        facts = (
            select(
                func.coalesce(FunnelEvent.root_employee_id, 0).label("root"),
                level.label("level"),
                func.coalesce(FunnelEvent.festival_id, 0).label("festival"),
                func.coalesce(FunnelEvent.product_id, 0).label("product"),
                FunnelEvent.kind.label("kind"),
            )
            .where(
                KINDS,  # every kind: lets PostgreSQL read the day through the (kind, at) index
                FunnelEvent.at >= calendar.start(day),
                FunnelEvent.at < calendar.start(day + timedelta(days=1)),
            )
            .subquery()
        )
        keys = (facts.c.root, facts.c.level, facts.c.festival, facts.c.product, facts.c.kind)
        db.session.execute(
            insert(FunnelDay).from_select(
                ["day", "root_employee_id", "level", "festival_id", "product_id", "kind", "events"],
                select(literal(day, Date), *keys, func.count()).group_by(*keys),
            )
        )
    span = (FunnelDay.day >= first, FunnelDay.day <= last)
    chain = (FunnelDay.day, FunnelDay.root_employee_id, FunnelDay.level, FunnelDay.festival_id)
    by_stage = [func.sum(case((FunnelDay.kind == kind, FunnelDay.events), else_=0)) for kind in domain.STAGES]
    db.session.execute(
        insert(ChainDay).from_select(
            ["day", "root_employee_id", "level", "festival_id", *domain.STAGES],
            select(*chain, *by_stage).where(*span).group_by(*chain),
        )
    )
    company = (FunnelDay.day, FunnelDay.level, FunnelDay.festival_id, FunnelDay.product_id, FunnelDay.kind)
    db.session.execute(
        insert(CompanyDay).from_select(
            ["day", "level", "festival_id", "product_id", "kind", "events"],
            select(*company, func.sum(FunnelDay.events)).where(*span).group_by(*company),
        )
    )
    stages = (CompanyDay.day, CompanyDay.level, CompanyDay.festival_id, CompanyDay.kind)
    db.session.execute(
        insert(StageDay).from_select(
            ["day", "level", "festival_id", "kind", "events"],
            select(*stages, func.sum(CompanyDay.events))
            .where(CompanyDay.day >= first, CompanyDay.day <= last)
            .group_by(*stages),
        )
    )


def order_products(start: datetime | None = None, end: datetime | None = None):
    """Each order's only product, or 0 when its lines are of several products (of the orders
    paid in [start, end) when given)."""
    query = (
        select(
            OrderLine.order_id,
            func.min(Variant.product_id).label("low"),
            func.max(Variant.product_id).label("high"),
        )
        .join(Variant, Variant.id == OrderLine.variant_id)
        .group_by(OrderLine.order_id)
    )
    if start is not None:
        query = query.join(Order, Order.id == OrderLine.order_id).where(Order.paid_at >= start, Order.paid_at < end)
    return query.subquery()


def _recount_orders(calendar: Calendar, first: date, last: date) -> None:
    for model in (RevenueDay, ChainRevenueDay, CompanyRevenueDay):
        db.session.execute(delete(model).where(model.day >= first, model.day <= last))
    for day in _days(first, last):
        start, end = calendar.start(day), calendar.start(day + timedelta(days=1))
        products = order_products(start, end)
        facts = (
            select(
                func.coalesce(Order.root_employee_id, 0).label("root"),
                Order.buyer_level.label("level"),
                func.coalesce(Order.festival_id, 0).label("festival"),
                case((products.c.low == products.c.high, products.c.low), else_=0).label("product"),
                (Order.total_amount - Order.refunded_amount).label("amount"),
            )
            .outerjoin(products, products.c.order_id == Order.id)
            .where(Order.paid_at >= start, Order.paid_at < end)
            .subquery()
        )
        keys = (facts.c.root, facts.c.level, facts.c.festival, facts.c.product)
        db.session.execute(
            insert(RevenueDay).from_select(
                ["day", "root_employee_id", "buyer_level", "festival_id", "product_id", "orders", "revenue"],
                select(literal(day, Date), *keys, func.count(), func.sum(facts.c.amount)).group_by(*keys),
            )
        )
    span = (RevenueDay.day >= first, RevenueDay.day <= last)
    chain = (RevenueDay.day, RevenueDay.root_employee_id)
    db.session.execute(
        insert(ChainRevenueDay).from_select(
            ["day", "root_employee_id", "orders", "revenue"],
            select(*chain, func.sum(RevenueDay.orders), func.sum(RevenueDay.revenue)).where(*span).group_by(*chain),
        )
    )
    company = (RevenueDay.day, RevenueDay.buyer_level, RevenueDay.festival_id, RevenueDay.product_id)
    db.session.execute(
        insert(CompanyRevenueDay).from_select(
            ["day", "buyer_level", "festival_id", "product_id", "orders", "revenue"],
            select(*company, func.sum(RevenueDay.orders), func.sum(RevenueDay.revenue)).where(*span).group_by(*company),
        )
    )


def _recount_buyer_months(calendar: Calendar, first: date, last: date) -> None:
    """Months ``first``..``last`` (first days of months)."""
    db.session.execute(delete(BuyerMonth).where(BuyerMonth.month >= first, BuyerMonth.month <= last))
    month = first
    while month <= last:
        following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        db.session.execute(
            insert(BuyerMonth).from_select(
                ["month", "buyer_id", "orders"],
                select(literal(month, Date), Order.buyer_id, func.count())
                .where(Order.paid_at >= calendar.start(month), Order.paid_at < calendar.start(following))
                .group_by(Order.buyer_id),
            )
        )
        month = following


def _recount_retention() -> None:
    """The whole retention table from ``kpi_buyer_months`` (a buyer's cohort is their first
    month ever, so a change in any month may move it)."""
    db.session.execute(delete(RetentionCell))
    cohorts = (
        select(BuyerMonth.buyer_id, func.min(BuyerMonth.month).label("cohort")).group_by(BuyerMonth.buyer_id).subquery()
    )
    db.session.execute(
        insert(RetentionCell).from_select(
            ["cohort", "month", "buyers"],
            select(cohorts.c.cohort, BuyerMonth.month, func.count())
            .join(cohorts, cohorts.c.buyer_id == BuyerMonth.buyer_id)
            .group_by(cohorts.c.cohort, BuyerMonth.month),
        )
    )
