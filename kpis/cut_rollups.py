"""Rollups for the cuts the first ones cannot take, kept by the same runs (``kpis.aggregation``
calls ``recount_days`` and ``recount_months`` for the days and months it recounts, so the same
exactly-once argument holds: a bucket is recounted whole and replaced).

- ``kpi_product_days``: paid orders of a company day by the products of their lines. For each
  product, the orders with at least one line of it and the revenue of those lines
  (``domain.revenue_by_product``). The product cut reads this table: "orders containing the
  product, revenue of its lines", where ``kpi_revenue_days`` keeps an order's only product.
- ``kpi_buyer_cut_months``: each buyer's paid orders in a company month, by chain, buyer level
  and festival, once with product 0 (every order) and once per product of its lines; retention
  and the repeat-buyer rate read it when the page is cut.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from itertools import groupby

import sqlalchemy as sa
from sqlalchemy import delete, select
from sqlalchemy.orm import Mapped, mapped_column

from kpis import domain
from kpis.models import RevenueCuts
from shop.catalog.models import Variant
from shop.extensions import db
from shop.orders.models import Order, OrderLine

CHUNK = 5000


class ProductDay(RevenueCuts, db.Model):
    """Paid orders of one company day (of ``paid_at``) with a line of the product, and the
    revenue of the product's lines; by chain, buyer level and festival (0: none)."""

    __tablename__ = "kpi_product_days"
    __table_args__ = (sa.Index("ix_kpi_product_days_product_id_day", "product_id", "day"),)


class BuyerCutMonth(db.Model):
    """A buyer's paid orders in a company month by chain, level, festival and product (0: every
    order, whatever its products)."""

    __tablename__ = "kpi_buyer_cut_months"
    __table_args__ = (sa.Index("ix_kpi_buyer_cut_months_product_id_month", "product_id", "month"),)

    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    root_employee_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    buyer_level: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    festival_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    orders: Mapped[int]


def _paid_lines(start, end):
    """Paid orders in [start, end) with their lines, in order id order (an order without lines
    comes once, with no product)."""
    return db.session.execute(
        select(
            Order.id,
            Order.paid_at,
            Order.buyer_id,
            Order.root_employee_id,
            Order.buyer_level,
            Order.festival_id,
            Order.refunded_amount,
            Variant.product_id,
            OrderLine.unit_price,
            OrderLine.quantity,
            OrderLine.refunded_quantity,
        )
        .outerjoin(OrderLine, OrderLine.order_id == Order.id)
        .outerjoin(Variant, Variant.id == OrderLine.variant_id)
        .where(Order.paid_at >= start, Order.paid_at < end)
        .order_by(Order.id)
        .execution_options(yield_per=CHUNK)
    )


def _orders(start, end):
    """(paid_at, buyer, root, level, festival, {product: revenue of its lines}) per paid order."""
    for _id, rows in groupby(_paid_lines(start, end), key=lambda r: r[0]):
        rows = list(rows)
        _, paid_at, buyer, root, level, festival, refunded = rows[0][:7]
        lines = [domain.LineRow(r[7], r[8], r[9], r[10] or 0) for r in rows if r[7] is not None]
        yield paid_at, buyer, root or 0, level, festival or 0, domain.revenue_by_product(lines, refunded)


def recount_days(calendar, first: date, last: date) -> None:
    """Replace the product days ``first``..``last``."""
    start, end = calendar.start(first), calendar.start(last + timedelta(days=1))
    db.session.execute(delete(ProductDay).where(ProductDay.day >= first, ProductDay.day <= last))
    orders: Counter = Counter()
    revenue: Counter = Counter()
    for paid_at, _buyer, root, level, festival, by_product in _orders(start, end):
        day = calendar.day(paid_at)
        for product, amount in by_product.items():
            key = (day, root, level, festival, product)
            orders[key] += 1
            revenue[key] += amount
    _insert(
        ProductDay,
        (
            dict(day=d, root_employee_id=r, buyer_level=lv, festival_id=f, product_id=p, orders=n, revenue=revenue[key])
            for key, n in orders.items()
            for d, r, lv, f, p in [key]
        ),
    )


def recount_months(calendar, first: date, last: date) -> None:
    """Replace the buyer cut months ``first``..``last`` (first days of months)."""
    next_month = domain.add_months(last, 1)
    start, end = calendar.start(first), calendar.start(next_month)
    db.session.execute(delete(BuyerCutMonth).where(BuyerCutMonth.month >= first, BuyerCutMonth.month <= last))
    counts: Counter = Counter()
    for paid_at, buyer, root, level, festival, by_product in _orders(start, end):
        month = calendar.day(paid_at).replace(day=1)
        for product in (0, *by_product):
            counts[(month, buyer, root, level, festival, product)] += 1
    _insert(
        BuyerCutMonth,
        (
            dict(month=m, buyer_id=b, root_employee_id=r, buyer_level=lv, festival_id=f, product_id=p, orders=n)
            for (m, b, r, lv, f, p), n in counts.items()
        ),
    )


def clear() -> None:
    db.session.execute(delete(ProductDay))
    db.session.execute(delete(BuyerCutMonth))


def _insert(model, rows) -> None:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            db.session.execute(sa.insert(model), batch)
            batch = []
    if batch:
        db.session.execute(sa.insert(model), batch)
