"""Real parallel transactions: threads, each with its own session and connection, released
together by a barrier. On PostgreSQL they race on row locks; on SQLite on the write lock."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop.accounts.models import User
from shop.cart.services import add_to_cart
from shop.catalog.models import Variant
from shop.checkout.placing import place_order
from shop.database import utcnow
from shop.errors import DomainError
from shop.extensions import db
from shop.orders.expiry import expire_overdue
from shop.orders.lifecycle import cancel_order
from shop.orders.models import Order, OrderLine, OrderStatus
from shop.payments.payroll import pay_by_payroll
from tests.racing import race

pytestmark = pytest.mark.slow


def run_together(app, jobs):
    """Run each job in its own thread with its own app context (and so its own session),
    all starting at once. Returns each job's outcome: its return value or the exception."""
    outcomes, _watch = race(app, jobs)
    return outcomes


def test_fifty_buyers_race_for_the_last_ten_units(app, make_user, make_product, make_address):
    variant_id = make_product(stock=10).variants[0].id
    buyers = []
    for _ in range(50):
        buyer = make_user()
        add_to_cart(buyer, variant_id, 1)
        buyers.append((buyer.id, make_address(buyer).id))
    db.session.commit()

    def buy(buyer_id, address_id):
        def job():
            buyer = db.session.get(User, buyer_id)
            return place_order(buyer.id, address_id).id

        return job

    outcomes = run_together(app, [buy(b, a) for b, a in buyers])
    kinds = Counter(type(o).__name__ for o in outcomes)
    assert kinds == {"int": 10, "OutOfStock": 40}, kinds
    assert db.session.scalar(select(Variant.stock).where(Variant.id == variant_id)) == 0
    sold = db.session.scalar(select(func.sum(OrderLine.quantity)).where(OrderLine.variant_id == variant_id))
    assert sold == 10
    assert db.session.scalar(select(func.count(Order.id))) == 10


def test_one_buyer_paying_many_orders_at_once_stays_within_the_payroll_cap(app, employee, make_product, place):
    app.config["PAYROLL_MONTHLY_CAP"] = 10_000
    try:
        orders = [place(employee, make_product(employee_price=6_000).variants[0], 1).id for _ in range(8)]
        employee_id = employee.id

        def pay(order_id):
            def job():
                buyer = db.session.get(User, employee_id)
                return pay_by_payroll(buyer, db.session.get(Order, order_id)).status

            return job

        outcomes = run_together(app, [pay(o) for o in orders])
    finally:
        app.config["PAYROLL_MONTHLY_CAP"] = 500_000
    assert Counter(type(o).__name__ for o in outcomes) == {"OrderStatus": 1, "PayrollCapExceeded": 7}
    statuses = Counter(db.session.scalars(select(Order.status)).all())
    assert statuses == {OrderStatus.paid: 1, OrderStatus.pending_payment: 7}


def test_cancel_and_expiry_racing_give_stock_back_once(app, make_user, make_product, place):
    variant_id = make_product(stock=10).variants[0].id
    buyers = [make_user() for _ in range(6)]
    orders = [(b.id, place(b, db.session.get(Variant, variant_id), 1).id) for b in buyers]
    assert db.session.scalar(select(Variant.stock).where(Variant.id == variant_id)) == 4
    later = utcnow() + timedelta(minutes=20)

    def cancel(buyer_id, order_id):
        def job():
            return cancel_order(db.session.get(User, buyer_id), db.session.get(Order, order_id), now=later)

        return job

    def expire():
        return expire_overdue(now=later)

    jobs = [cancel(b, o) for b, o in orders] + [expire, expire]
    outcomes = run_together(app, jobs)
    assert not [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, DomainError)], outcomes
    assert db.session.scalar(select(Variant.stock).where(Variant.id == variant_id)) == 10
    assert set(db.session.scalars(select(Order.status)).all()) == {OrderStatus.expired}
