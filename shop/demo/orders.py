"""Demo orders over the last weeks: placed, paid, shipped, completed, cancelled, dated back."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.cart.models import CartLine
from shop.cart.services import add_to_cart, cart_lines, remove_line
from shop.catalog.models import Product, SalesMode, Variant
from shop.checkout.placing import place_order
from shop.demo.catalog import catalog_plan
from shop.demo.people import demo_users
from shop.demo.progress import SEED, Progress, progress_bar
from shop.extensions import db
from shop.orders.addresses import addresses_of
from shop.orders.errors import OrderError
from shop.orders.lifecycle import cancel_order, mark_completed, mark_shipped
from shop.orders.models import Order
from shop.payments.payroll import PayrollCapExceeded, pay_by_payroll

ORDER_COUNT = 40
ORDER_DAYS = 60

# When each order event happened, for dating its audit entries (the services write "now").
_EVENT_TIMES = {
    "order.place": "created_at",
    "order.paid": "paid_at",
    "order.cancelled": "closed_at",
    "order.expired": "closed_at",
    "order.shipped": "shipped_at",
    "order.completed": "completed_at",
}


def _date_order_audit(orders: list[Order]) -> None:
    """Give the audit entries of orders made in the past the moments their events happened."""
    db.session.flush()
    by_id = {order.id: order for order in orders}
    entries = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == Order.__name__,
            AuditEntry.entity_id.in_(by_id),
            AuditEntry.action.in_(_EVENT_TIMES),
        )
    )
    for entry in entries:
        moment = getattr(by_id[entry.entity_id], _EVENT_TIMES[entry.action])
        if moment is not None:
            entry.at = moment


def _seed_orders(progress: Progress | None, now: datetime) -> None:
    """About ORDER_COUNT orders by demo employees over the last ORDER_DAYS days, through the
    services. Skipped as soon as the database has any order."""

    if db.session.scalar(select(Order.id).limit(1)) is not None:
        return
    with_cart = set(db.session.scalars(select(CartLine.user_id)))
    buyers = [u for u in demo_users(Role.member) if u.is_active and u.id not in with_cart]
    staff = demo_users(Role.operator) or demo_users(Role.admin)
    operator = staff[0] if staff else None
    skus = [v.sku for variants in catalog_plan().values() for v in variants]
    variants = list(
        db.session.scalars(
            select(Variant)
            .join(Variant.product)
            .where(
                Variant.sku.in_(skus),
                Variant.is_active.is_(True),
                Product.is_active.is_(True),
                Product.sales_mode == SalesMode.direct,
            )
            .order_by(Variant.sku)
        )
    )
    if not buyers or not variants:
        return

    rng = random.Random(SEED)
    window = timedelta(minutes=current_app.config["RESERVATION_MINUTES"])
    # More orders in the recent past than long ago, so every status shows up.
    ages = sorted((timedelta(days=max(ORDER_DAYS * rng.random() ** 2, 0.05)) for _ in range(ORDER_COUNT)), reverse=True)
    max_units = 2  # well inside the default rule of five units of one item per order
    made: list[Order] = []
    with progress_bar(progress, "Orders", len(ages)) as bar:
        for age in ages:
            placed = now - age
            buyer = rng.choice(buyers)
            picks = rng.sample(variants, min(len(variants), rng.choices((1, 2, 3), weights=(6, 3, 1))[0]))
            for variant in picks:
                quantity = 1 if variant.employee_price > 50_000 else rng.randint(1, max_units)
                if variant.stock >= quantity:
                    add_to_cart(buyer, variant.id, quantity)
            addresses = addresses_of(buyer)
            if not cart_lines(buyer) or not addresses:
                bar.update(1)
                continue
            try:
                order = place_order(buyer.id, addresses[0].id, now=placed)
            except OrderError:  # not expected (stock was checked); leave nothing behind
                for line in cart_lines(buyer):
                    remove_line(line)
                bar.update(1)
                continue
            made.append(order)

            decided = placed + window * rng.uniform(0.1, 0.6)
            if rng.random() < 0.12:
                cancel_order(buyer, order, now=decided)
                bar.update(1)
                continue
            try:
                pay_by_payroll(buyer, order, now=decided)
            except PayrollCapExceeded:
                cancel_order(buyer, order, now=decided)
                bar.update(1)
                continue
            shipped = decided + timedelta(hours=rng.randint(6, 48))
            if shipped < now:
                carrier, prefix = rng.choice((("顺丰速运", "SF"), ("京东物流", "JD"), ("中通快递", "ZT")))
                mark_shipped(
                    operator, order, carrier, f"{prefix}{rng.randint(10**11, 10**12 - 1)}", now=shipped, notify=False
                )
                completed = shipped + timedelta(hours=rng.randint(36, 144))
                if completed < now:
                    mark_completed(operator, order, now=completed)
            bar.update(1)
    _date_order_audit(made)
    db.session.flush()
