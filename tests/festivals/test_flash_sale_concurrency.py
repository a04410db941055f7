"""A flash sale under real concurrency: hundreds of checkouts released together by a barrier,
each thread with its own app context, session and connection, racing for one festival item
with a chain quota and a per-buyer limit. On PostgreSQL they race on row locks (through a pool
sized well below the server's ~100 connections, so most buyers queue for a connection); on
SQLite on the single write lock."""

from __future__ import annotations

import os
from collections import Counter

import pytest
from sqlalchemy import func, select

from shop import create_app
from shop.accounts.models import User
from shop.cart.services import add_to_cart
from shop.catalog.festival_models import FestivalItem
from shop.catalog.models import Variant
from shop.checkout.placing import place_order
from shop.extensions import db
from shop.orders.errors import OrderError, OutOfStock
from shop.orders.models import Order, OrderLine, OrderStatus
from shop.quotas import services as quotas
from shop.quotas.engine import QuotaExceeded
from shop.quotas.models import Measure, Scope, Target, Window
from tests.fixtures.festivals import chain_cap_on
from tests.racing import race

pytestmark = pytest.mark.slow

CHAINS = 20
CHAIN_CAP = 3
BUYER_LIMIT = 2
ALLOCATED = 50
# Threads per chain: (chain position, units wanted per attempt, attempts). Every attempt but the
# last kind wants one unit, so however the race is ordered each chain can fill to its cap and
# sold ends at min(ALLOCATED, CHAINS * CHAIN_CAP); buyers with three attempts press against the
# per-buyer limit, and the three-unit attempts are always refused by it.
# Ten buyers a chain: the employee, four level-1 contacts and five level-2 contacts.
CHAIN_SHAPE = [
    ("employee", 1, 3),
    ("l1a", 1, 3),
    ("l1b", 1, 2),
    ("l1c", 1, 1),
    ("l1d", 1, 1),
    ("l2a", 1, 2),
    ("l2b", 1, 1),
    ("l2b", 3, 1),
    ("l2c", 1, 1),
    ("l2d", 1, 1),
    ("l2e", 1, 1),
]
POOL = {"pool_size": 40, "max_overflow": 10, "pool_timeout": 300}  # 50 connections at most


@pytest.fixture
def pooled_app(app, tmp_path):
    """A second app on the suite's database whose engine pool caps the connections: buyers beyond
    it wait for a connection (pool_timeout) instead of overrunning PostgreSQL's max_connections."""
    os.environ["NEIGOU_INSTANCE_PATH"] = str(tmp_path / "instance")
    try:
        pooled = create_app(
            {
                "ENV_NAME": "testing",
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                "SQLALCHEMY_ENGINE_OPTIONS": POOL,
                # SQLite serialises every writer: hundreds of buyers at once on a loaded 2-core
                # machine queue for longer than the default 30 s (the race is about invariants).
                "SQLITE_BUSY_TIMEOUT_MS": 600_000,
            }
        )
    finally:
        os.environ.pop("NEIGOU_INSTANCE_PATH")
    yield pooled
    with pooled.app_context():
        db.engine.dispose()


def _kinds(outcomes) -> Counter:
    return Counter(type(o).__name__ for o in outcomes)


def _unexpected(outcomes, allowed=(QuotaExceeded, OutOfStock)) -> list:
    return [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, allowed)]


def _live_units_by(column, item_id: int) -> dict[int, int]:
    live = (OrderStatus.pending_payment, OrderStatus.paid, OrderStatus.shipped, OrderStatus.completed)
    rows = db.session.execute(
        select(column, func.sum(OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.festival_item_id == item_id, Order.status.in_(live))
        .group_by(column)
    )
    return {key: int(units) for key, units in rows}


def test_two_hundred_buyers_in_twenty_chains_never_oversell_nor_break_a_quota(
    pooled_app, make_festival, make_festival_item, make_product, make_user, make_contact, make_address
):
    quotas.ensure_default_rules()
    variant = make_product(stock=ALLOCATED + 7).variants[0]
    festival = make_festival()
    item = make_festival_item(festival, variant, ALLOCATED, per_buyer_limit=BUYER_LIMIT)
    chain_cap_on(item, CHAIN_CAP)
    db.session.commit()

    attempts = []  # (buyer id, address id, quantity)
    for _ in range(CHAINS):
        employee = make_user()
        l1a, l1b, l1c, l1d = (make_contact(employee) for _ in range(4))
        people = {
            "employee": employee,
            "l1a": l1a,
            "l1b": l1b,
            "l1c": l1c,
            "l1d": l1d,
            "l2a": make_contact(l1a),
            "l2b": make_contact(l1b),
            "l2c": make_contact(l1c),
            "l2d": make_contact(l1d),
            "l2e": make_contact(l1a),
        }
        addresses = {key: make_address(person).id for key, person in people.items()}
        for key, quantity, times in CHAIN_SHAPE:
            attempts += [(people[key].id, addresses[key], quantity)] * times
    assert len({buyer for buyer, _address, _quantity in attempts}) >= 200  # distinct buyers, all at once
    item_id, variant_id = item.id, variant.id

    def buy(buyer_id, address_id, quantity):
        def job():
            buyer = db.session.get(User, buyer_id)
            fresh_item = db.session.get(FestivalItem, item_id)
            return place_order(buyer.id, address_id, item_id=fresh_item.id, quantity=quantity).id

        return job

    outcomes, watch = race(pooled_app, [buy(*attempt) for attempt in attempts], variant_id=variant_id, item_id=item_id)

    assert not _unexpected(outcomes), _kinds(outcomes)
    placed = [o for o in outcomes if isinstance(o, int)]
    item = db.session.get(FestivalItem, item_id)
    sold_lines = db.session.scalar(select(func.sum(OrderLine.quantity)).where(OrderLine.festival_item_id == item_id))
    assert item.sold == ALLOCATED == min(ALLOCATED, CHAINS * CHAIN_CAP) == sold_lines
    assert len(placed) == ALLOCATED == db.session.scalar(select(func.count(Order.id)))  # one unit each
    per_chain = _live_units_by(Order.root_employee_id, item_id)
    per_buyer = _live_units_by(Order.buyer_id, item_id)
    assert max(per_chain.values()) <= CHAIN_CAP and sum(per_chain.values()) == ALLOCATED
    assert max(per_buyer.values()) <= BUYER_LIMIT
    assert db.session.scalar(select(Variant.stock).where(Variant.id == variant_id)) == 7  # general stock untouched
    assert watch.samples > 0 and watch.min_stock == 7 and watch.min_left >= 0
    # Every three-unit attempt was refused by the per-buyer limit; what else was refused was
    # refused because the chain was full, the buyer had their two, or the allocation ran out.
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == len(attempts) - ALLOCATED
    kinds = _kinds(refused)
    assert kinds["QuotaExceeded"] >= CHAINS and set(kinds) <= {"QuotaExceeded", "OutOfStock"}, kinds


def _tabs(app, job, tabs: int = 2, allowed=(QuotaExceeded, OutOfStock)) -> list:
    outcomes, _ = race(app, [job] * tabs)
    assert not _unexpected(outcomes, allowed), outcomes
    return outcomes


@pytest.mark.parametrize("round_", range(3))
def test_one_buyer_in_two_tabs_cannot_pass_the_per_buyer_limit_at_the_festival(
    round_, pooled_app, make_festival, make_festival_item, product, employee, make_address
):
    item = make_festival_item(make_festival(), product.variants[0], 10, per_buyer_limit=BUYER_LIMIT)
    buyer_id, address_id, item_id = employee.id, make_address(employee).id, item.id

    def buy_two():
        return place_order(buyer_id, address_id, item_id=item_id, quantity=2).id

    outcomes = _tabs(pooled_app, buy_two)
    assert _kinds(outcomes) == {"int": 1, "QuotaExceeded": 1}
    assert db.session.get(FestivalItem, item_id).sold == 2
    assert _live_units_by(Order.buyer_id, item_id) == {buyer_id: 2}


def test_an_employee_and_their_contact_at_once_cannot_pass_the_chain_cap(
    pooled_app, make_festival, make_festival_item, product, employee, make_contact, make_address
):
    item = make_festival_item(make_festival(), product.variants[0], 10, per_buyer_limit=BUYER_LIMIT)
    chain_cap_on(item, CHAIN_CAP)
    friend = make_contact(employee)
    buyers = [(employee.id, make_address(employee).id), (friend.id, make_address(friend).id)]
    item_id = item.id

    def buy_two(buyer_id, address_id):
        return lambda: place_order(buyer_id, address_id, item_id=item_id, quantity=2).id

    outcomes, _ = race(pooled_app, [buy_two(*b) for b in buyers])
    assert _kinds(outcomes) == {"int": 1, "QuotaExceeded": 1}, outcomes
    assert _live_units_by(Order.root_employee_id, item_id) == {employee.id: 2}


@pytest.mark.parametrize("round_", range(3))
def test_one_buyer_checking_out_and_buying_now_in_two_tabs_cannot_pass_a_daily_limit(
    round_, pooled_app, make_festival, make_festival_item, make_product, employee, make_address, place
):
    """The cart in one tab, the festival's "buy now" of the same product in the other: the
    product's daily limit counts both, and only one of them fits."""
    variant = make_product(stock=20).variants[0]
    item = make_festival_item(make_festival(), variant, 5)
    quotas.create_rule(
        None,
        scope=Scope.buyer,
        target=Target.product,
        product_id=variant.product_id,
        window=Window.day,
        measure=Measure.units,
        limit_value=3,
    )
    db.session.commit()
    place(employee, variant, 1)  # one of the three used already
    add_to_cart(employee, variant.id, 2)  # each tab alone may order two more; both together may not
    buyer_id, address_id, variant_id, item_id = employee.id, make_address(employee).id, variant.id, item.id

    def checkout():
        return place_order(buyer_id, address_id).id

    def buy_now():
        return place_order(buyer_id, address_id, item_id=item_id, quantity=2).id

    outcomes, _ = race(pooled_app, [checkout, buy_now])
    assert _kinds(outcomes) == {"int": 1, "QuotaExceeded": 1}, outcomes
    units = db.session.scalar(
        select(func.sum(OrderLine.quantity))
        .join(Order)
        .where(Order.buyer_id == buyer_id, Order.status == OrderStatus.pending_payment)
    )
    assert units == 3
    stock, sold = (
        db.session.scalar(select(Variant.stock).where(Variant.id == variant_id)),
        db.session.get(FestivalItem, item_id).sold,
    )
    assert (stock, sold) in {(20 - 5 - 1 - 2, 0), (20 - 5 - 1, 2)}  # the winner took its own units only


@pytest.mark.parametrize("round_", range(3))
def test_a_buyer_checking_out_one_cart_in_two_tabs_orders_it_once(
    round_, pooled_app, make_product, employee, make_address
):
    """The cart is read under the buyer's lock: the second tab finds it empty, on PostgreSQL too
    (where it could otherwise read the cart before the first tab commits and order it again)."""
    variant = make_product(stock=20).variants[0]
    quotas.create_rule(
        None,
        scope=Scope.buyer,
        target=Target.product,
        product_id=variant.product_id,
        window=Window.day,
        measure=Measure.units,
        limit_value=3,
    )
    add_to_cart(employee, variant.id, 2)
    db.session.commit()
    buyer_id, address_id, variant_id = employee.id, make_address(employee).id, variant.id

    def checkout():
        return place_order(buyer_id, address_id).id

    outcomes = _tabs(pooled_app, checkout, allowed=(OrderError,))
    assert _kinds(outcomes) == {"int": 1, "OrderError": 1}
    assert [str(o) for o in outcomes if isinstance(o, Exception)] == ["Your cart is empty."]
    assert db.session.scalar(select(Variant.stock).where(Variant.id == variant_id)) == 18
    assert db.session.scalar(select(func.count(Order.id)).where(Order.buyer_id == buyer_id)) == 1
