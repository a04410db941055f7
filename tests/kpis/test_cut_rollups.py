"""The cut rollups (``kpis.cut_rollups``: products of order lines, buyers by month under the cuts)
against a direct recount from the raw rows, for random histories of orders of one or two
products with refunds of units and of amounts: aggregated in several increments, with facts
arriving between them, they equal the recount and one full run."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kpis import domain
from kpis.aggregation import Calendar, aggregate
from kpis.cut_rollups import BuyerCutMonth, ProductDay
from shop.extensions import db
from shop.orders.models import Order, OrderLine
from tests.conftest import _empty_tables
from tests.kpis.conftest import add_order, add_refund, utc

START = utc(2026, 1, 31, 12)  # spans a month end in company time
HOURS = 24 * 3


def _rollups() -> tuple[Counter, Counter]:
    days, months = Counter(), Counter()
    for r in db.session.scalars(select(ProductDay)):
        key = (r.day, r.root_employee_id, r.buyer_level, r.festival_id, r.product_id)
        days[(*key, "orders")] += r.orders
        days[(*key, "revenue")] += r.revenue
    for r in db.session.scalars(select(BuyerCutMonth)):
        months[(r.month, r.buyer_id, r.root_employee_id, r.buyer_level, r.festival_id, r.product_id)] += r.orders
    return +days, +months


def _recount() -> tuple[Counter, Counter]:
    calendar = Calendar()
    days, months = Counter(), Counter()
    for order in db.session.scalars(select(Order).where(Order.paid_at.is_not(None))):
        lines = [
            domain.LineRow(line.variant.product_id, line.unit_price, line.quantity, line.refunded_quantity)
            for line in order.lines
        ]
        day = calendar.day(order.paid_at)
        chain = (order.root_employee_id or 0, order.buyer_level, order.festival_id or 0)
        for product, amount in domain.revenue_by_product(lines, order.refunded_amount).items():
            days[(day, *chain, product, "orders")] += 1
            days[(day, *chain, product, "revenue")] += amount
        for product in {0, *(line.product_id for line in lines)}:
            months[(day.replace(day=1), order.buyer_id, *chain, product)] += 1
    return +days, +months


def _refund(order: Order, line: OrderLine | None, units: int, extra: int) -> None:
    """A refund as the refund service leaves it: ``units`` of ``line`` at its price and ``extra``
    more, within what is left."""
    units = min(units, line.quantity - line.refunded_quantity) if line is not None else 0
    amount = min((units * line.unit_price if line is not None else 0) + extra, order.refundable_amount)
    if amount <= 0:
        return
    add_refund(order, amount)
    if line is not None:
        line.refunded_quantity += units
    db.session.commit()


facts = st.lists(
    st.tuples(
        st.sampled_from(["order", "order", "refund"]),
        st.integers(0, 2),  # who
        st.integers(0, HOURS),  # when (hours after START)
        st.lists(st.tuples(st.integers(0, 1), st.integers(1, 3), st.integers(1, 50)), min_size=1, max_size=2),
        st.booleans(),  # paid (orders); refund units or an amount (refunds)
    ),
    max_size=12,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(facts, min_size=1, max_size=3))
def test_increments_equal_one_run_and_a_recount(batches, make_user, make_contact, make_product):
    db.session.remove()
    _empty_tables()
    employee = make_user()
    l1 = make_contact(employee)
    people = [employee, l1, make_contact(l1)]
    variants = [make_product().variants[0], make_product().variants[0]]
    orders: list[Order] = []
    for batch in batches:
        for kind, who, hours, lines, flag in batch:
            at = START + timedelta(hours=hours)
            if kind == "order":
                total = sum(q * p * 100 for _v, q, p in lines)
                order = add_order(people[who], total=total, paid_at=at if flag else None)
                for v, quantity, price in lines:
                    variant = variants[v]
                    order.lines.append(
                        OrderLine(
                            variant_id=variant.id,
                            product_name="p",
                            variant_name="v",
                            sku=variant.sku,
                            unit_price=price * 100,
                            market_price=price * 100,
                            quantity=quantity,
                            refunded_quantity=0,
                        )
                    )
                db.session.commit()
                orders.append(order)
            else:
                paid = [o for o in orders if o.paid_at and o.refundable_amount]
                if paid:
                    order = paid[hours % len(paid)]
                    line = order.lines[hours % len(order.lines)] if flag else None
                    _refund(order, line, lines[0][1], 0 if flag else lines[0][2] * 10)
        aggregate()
        assert _rollups() == _recount()
    incremental = _rollups()
    aggregate(full=True)
    assert _rollups() == incremental
