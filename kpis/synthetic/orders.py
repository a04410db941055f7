"""The orders of a synthetic data set, with their lines: buyers drawn by the weight of their
chain, who come back; most orders inside a festival's launch week are festival orders; some
checkouts are never paid and some paid orders are refunded (the shares: ``kpis.synthetic``)."""

from __future__ import annotations

from datetime import timedelta

from kpis.bulk import insert_returning, insert_rows
from kpis.synthetic.people import People
from kpis.synthetic.plan import Span
from kpis.synthetic.reference import Reference
from shop.demo.progress import Progress, progress_bar
from shop.orders.models import Order, OrderLine, OrderStatus


def write_orders(span: Span, reference: Reference, people: People, progress: Progress | None) -> list[tuple]:
    """Checkouts: ~ one paid order per 10 events. Returns (order id, order row, product id,
    whether it is its buyer's first) for the paid ones, in the order they were paid."""
    plan, rnd = span.plan, span.random
    target = max(1, plan.events // 10)
    everyone = people.employees + people.contacts
    weights = [people.weights[p.root] for p in everyone]
    picks = iter(rnd.choices(everyone, weights=weights, k=target))  # at most one buyer per order
    buyers = []
    orders_left = target
    while orders_left > 0:
        n = min(orders_left, 1 + int(rnd.expovariate(0.6)))
        buyers.append((next(picks), n))
        orders_left -= n
    rows, lines, paid = [], [], []
    for person, n in buyers:
        moments = sorted(span.moment(person.joined) for _ in range(n))
        for moment in moments:
            variant = rnd.choice(reference.variants)
            quantity = 1 + int(rnd.expovariate(1.5))
            total = variant.employee_price * quantity
            festival = reference.festival_at(moment) if rnd.random() < 0.7 else None
            roll = rnd.random()
            status, paid_at, refunded, closed = OrderStatus.paid.value, moment + timedelta(minutes=2), 0, None
            if roll < 0.05:
                status, paid_at, closed = OrderStatus.cancelled.value, None, moment + timedelta(minutes=5)
            elif roll < 0.10:
                status, paid_at, closed = OrderStatus.expired.value, None, moment + timedelta(minutes=15)
            elif roll < 0.13:
                status, refunded = OrderStatus.refunded.value, total
            elif roll < 0.16:
                status, refunded = OrderStatus.partially_refunded.value, total // 2
            elif roll < 0.80 and moment < span.now - timedelta(days=3):
                status = OrderStatus.completed.value
            rows.append(
                dict(
                    buyer_id=person.id,
                    status=status,
                    currency="CNY",
                    total_amount=total,
                    refunded_amount=refunded,
                    price_tier="employee" if person.level == 0 else "contact",
                    payment_method="payroll" if person.level == 0 else "card",
                    buyer_level=person.level,
                    root_employee_id=person.root,
                    l1_contact_id=person.l1,
                    festival_id=festival,
                    ship_to="Synthetic address",
                    created_at=moment,
                    expires_at=moment + timedelta(minutes=15),
                    paid_at=paid_at,
                    closed_at=closed,
                )
            )
            lines.append((variant, quantity))
    with progress_bar(progress, "orders", len(rows) * 2) as bar:
        ids = insert_returning(Order.__table__, rows, bar)
        line_rows = [
            dict(
                order_id=order_id,
                variant_id=variant.id,
                product_name="Synthetic product",
                variant_name="Standard",
                sku=variant.sku,
                unit_price=variant.employee_price,
                market_price=variant.employee_price,
                quantity=quantity,
                refunded_quantity=quantity if row["status"] == OrderStatus.refunded.value else 0,
            )
            for order_id, row, (variant, quantity) in zip(ids, rows, lines, strict=True)
        ]
        insert_rows(OrderLine.__table__, line_rows, bar)
    seen: set[int] = set()
    for order_id, row, (variant, _q) in sorted(
        zip(ids, rows, lines, strict=True), key=lambda item: (item[1]["paid_at"] or span.now, item[0])
    ):
        if row["paid_at"] is None:
            continue
        first = row["buyer_id"] not in seen
        seen.add(row["buyer_id"])
        paid.append((order_id, row, variant.product_id, first))
    return paid
