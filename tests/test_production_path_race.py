"""The production path raced: buyers post to the real "buy now" and checkout routes at once,
through the test client, each in a thread of its own, with every cache switched on as in
production (``Config``'s defaults), against a second app on the suite's database (SQLite or
PostgreSQL). The invariants are those of tests/festivals/test_flash_sale_concurrency.py,
recomputed from the rows: nothing oversold, no quota passed, no 5xx."""

from __future__ import annotations

import os
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from shop import caching, create_app
from shop.cart.services import add_to_cart
from shop.catalog.festival_models import FestivalItem
from shop.catalog.models import Variant
from shop.config import Config
from shop.extensions import db
from shop.orders.models import Order, OrderLine
from shop.quotas import services as quotas
from tests.conftest import CsrfClient, login
from tests.festivals.test_flash_sale_concurrency import BUYER_LIMIT, CHAIN_CAP, CHAIN_SHAPE, POOL, _live_units_by
from tests.fixtures.festivals import chain_cap_on

pytestmark = pytest.mark.slow

CHAINS = 20
ALLOCATED = 50
CHECKOUT_BUYERS = 40
CHECKOUT_STOCK = 25


@pytest.fixture(params=["memory", "redis"])
def production_app(request, app, tmp_path):
    """An app on the suite's database configured as production is: every cache on, their
    invalidation (and the rate limits) kept in this process or, as with several servers, in
    Redis (skipped when no Redis is reachable, outside CI)."""
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    os.environ["NEIGOU_INSTANCE_PATH"] = str(tmp_path / "instance")
    try:
        served = create_app(
            {
                "ENV_NAME": "testing",
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                "SQLALCHEMY_ENGINE_OPTIONS": POOL,
                "SQLITE_BUSY_TIMEOUT_MS": 600_000,  # hundreds of writers queue on SQLite's one lock
                "CACHES_ENABLED": Config.CACHES_ENABLED,
                "REDIS_URL": redis_url,
            }
        )
    finally:
        os.environ.pop("NEIGOU_INSTANCE_PATH")
    served.test_client_class = CsrfClient
    assert served.config["CACHES_ENABLED"] and served.config["PAGE_CACHE_SECONDS"] > 0
    with served.app_context():
        caching.forget_all()
    yield served
    with served.app_context():
        caching.forget_all()
        db.engine.dispose()


def _post_all(posts) -> list[int]:
    """Each (client, url, data) posted in a thread of its own, all released together."""
    barrier = threading.Barrier(len(posts))
    statuses: list = [None] * len(posts)

    def post(index, client, url, data):
        try:
            barrier.wait(timeout=120)
            response = client.post(url, data=data)
            statuses[index] = response.status_code
            response.close()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            statuses[index] = exc

    threads = [threading.Thread(target=post, args=(i, *p)) for i, p in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(thread.is_alive() for thread in threads), "a buyer hung"
    return statuses


def test_buyers_posting_to_buy_now_and_checkout_at_once_with_every_cache_on(
    production_app, make_festival, make_festival_item, make_product, make_user, make_contact, make_address
):
    quotas.ensure_default_rules()
    festival_variant = make_product(stock=ALLOCATED + 7).variants[0]
    item = make_festival_item(make_festival(), festival_variant, ALLOCATED, per_buyer_limit=BUYER_LIMIT)
    chain_cap_on(item, CHAIN_CAP)
    cart_variant = make_product(stock=CHECKOUT_STOCK).variants[0]
    db.session.commit()
    buy_url = f"/festivals/{item.festival.slug}/items/{item.id}/buy"

    buy_attempts = []  # (buyer, address id, quantity)
    for _ in range(CHAINS):
        employee = make_user()
        l1 = [make_contact(employee) for _ in range(4)]
        people = {"employee": employee, **{f"l1{c}": p for c, p in zip("abcd", l1, strict=True)}}
        people.update({f"l2{c}": make_contact(l1[i % 4]) for i, c in enumerate("abcde")})
        addresses = {key: make_address(person).id for key, person in people.items()}
        for key, quantity, times in CHAIN_SHAPE:
            buy_attempts += [(people[key], addresses[key], quantity)] * times
    checkout_buyers = [make_user() for _ in range(CHECKOUT_BUYERS)]
    checkout_addresses = {buyer.id: make_address(buyer).id for buyer in checkout_buyers}
    for buyer in checkout_buyers:
        add_to_cart(buyer, cart_variant.id, 1)
    db.session.commit()
    buyers = {buyer.id for buyer, _a, _q in buy_attempts} | {buyer.id for buyer in checkout_buyers}
    assert len(buyers) >= 200

    # One logged-in client per buyer and tab, each with the CSRF token of a page it was shown
    # (so that the page, user and session caches are warm, as in a sale).
    clients: dict = {}

    def client_of(buyer, tab):
        if (buyer.id, tab) not in clients:
            client = login(production_app.test_client(), buyer)
            clients[buyer.id, tab] = (client, client.csrf_token("/"))
        return clients[buyer.id, tab]

    posts, tabs = [], Counter()
    for buyer, address_id, quantity in buy_attempts:
        tabs[buyer.id] += 1
        client, token = client_of(buyer, tabs[buyer.id])
        posts.append((client, buy_url, {"quantity": quantity, "address_id": address_id, "csrf_token": token}))
    for buyer in checkout_buyers:
        client, token = client_of(buyer, 1)
        posts.append((client, "/checkout", {"address_id": checkout_addresses[buyer.id], "csrf_token": token}))
    item_id, festival_variant_id, cart_variant_id = item.id, festival_variant.id, cart_variant.id

    db.session.commit()  # end the test's transaction: its next read sees what the buyers did
    statuses = _post_all(posts)

    kinds = Counter(status if isinstance(status, int) else type(status).__name__ for status in statuses)
    buy_kinds = Counter(statuses[: len(buy_attempts)])
    checkout_kinds = Counter(statuses[len(buy_attempts) :])
    assert set(buy_kinds) <= {303, 409}, kinds  # an order or a refusal: no 5xx, nothing else
    assert set(checkout_kinds) <= {302, 422}, kinds
    # Buy now: sold to the allocation, every chain within its cap, every buyer within the limit.
    sold_lines = db.session.scalar(select(func.sum(OrderLine.quantity)).where(OrderLine.festival_item_id == item_id))
    assert db.session.get(FestivalItem, item_id).sold == ALLOCATED == min(ALLOCATED, CHAINS * CHAIN_CAP) == sold_lines
    assert buy_kinds[303] == ALLOCATED  # one unit each
    per_chain = _live_units_by(Order.root_employee_id, item_id)
    per_buyer = _live_units_by(Order.buyer_id, item_id)
    assert max(per_chain.values()) <= CHAIN_CAP and sum(per_chain.values()) == ALLOCATED
    assert max(per_buyer.values()) <= BUYER_LIMIT
    assert db.session.scalar(select(Variant.stock).where(Variant.id == festival_variant_id)) == 7
    # Checkout: general stock sold out exactly, never below zero.
    assert checkout_kinds[302] == CHECKOUT_STOCK
    assert db.session.scalar(select(Variant.stock).where(Variant.id == cart_variant_id)) == 0
    checkout_units = db.session.scalar(
        select(func.count(OrderLine.id)).where(OrderLine.variant_id == cart_variant_id, OrderLine.quantity == 1)
    )
    assert checkout_units == CHECKOUT_STOCK
