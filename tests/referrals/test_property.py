"""Property: over random invite trees and random orders, every sign-up lands one level below
its link's owner with the owner's chain, nobody is deeper than level 2, every order carries the
attribution of the tree, and every refused sign-up writes nothing at all."""

from __future__ import annotations

from dataclasses import dataclass
from unittest import mock

from flask import current_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from referrals.services import ReferralError
from referrals.services.join import Signup, join
from shop.accounts.models import Kind, User
from shop.accounts.services import deactivate
from shop.cart.services import add_to_cart
from shop.catalog.models import Category, Product, Variant
from shop.checkout.placing import place_order
from shop.database import utcnow
from shop.extensions import db
from shop.orders.models import Address, Order
from tests.conftest import _empty_tables


@dataclass
class Node:
    level: int
    root: int
    l1: int | None
    active: bool = True


def table_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def fresh_world(roots: int) -> tuple[list[int], dict[int, Node], Variant]:
    db.session.remove()
    _empty_tables()
    employees = [
        User(
            email=f"root{n}@neigou.example",
            name=f"Root {n}",
            kind=Kind.employee,
            level=0,
            password_hash="x",
            email_verified_at=utcnow(),
        )
        for n in range(roots)
    ]
    product = Product(
        name="Thing",
        slug="thing",
        category=Category(name="C", slug="c"),
        variants=[
            Variant(
                sku="T-1",
                name="One",
                currency="CNY",
                market_price=100,
                employee_price=70,
                contact_price=85,
                stock=10_000,
            )
        ],
    )
    db.session.add_all([*employees, product])
    db.session.commit()
    return [e.id for e in employees], {e.id: Node(0, e.id, None) for e in employees}, product.variants[0]


step = st.one_of(
    st.tuples(st.just("join"), st.integers(0, 1000)),
    st.tuples(st.just("order"), st.integers(0, 1000)),
    st.tuples(st.just("deactivate"), st.integers(0, 1000)),
    st.tuples(st.just("bad"), st.sampled_from(["", "zz", "nope1234", "bad code", "x" * 40])),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(roots=st.integers(1, 3), steps=st.lists(step, max_size=30))
def test_random_invite_trees_and_orders_keep_every_rule(app, roots, steps):
    users, tree, variant = fresh_world(roots)
    orders: list[tuple[int, int]] = []  # (order id, buyer id)
    with (
        mock.patch("shop.accounts.models.generate_password_hash", lambda password: "fast-" + password),
        current_app.test_request_context(),
    ):
        for n, (action, arg) in enumerate(steps):
            if action == "order":
                buyer = db.session.get(User, users[arg % len(users)])
                if not tree[buyer.id].active:
                    continue
                add_to_cart(buyer, variant.id, 1)
                address = Address(user_id=buyer.id, recipient="R", phone="1", line1="L", city="C", postcode="1")
                db.session.add(address)
                db.session.flush()
                orders.append((place_order(buyer.id, address.id).id, buyer.id))
                db.session.commit()
                continue
            if action == "deactivate":
                target = db.session.get(User, users[arg % len(users)])
                deactivate(None, target, "left")
                tree[target.id].active = False
                db.session.commit()
                continue
            owner_id = users[arg % len(users)] if action == "join" else None
            code = db.session.get(User, owner_id).referral_code if owner_id else arg
            before = table_counts()
            try:
                new = join(code, Signup(f"P {n}", f"p{n}@mail.example", "long enough"), ip="192.0.2.1")
            except ReferralError:
                db.session.rollback()
                assert table_counts() == before, "a refused sign-up wrote something"
                owner = tree.get(owner_id)
                assert owner is None or owner.level == 2 or not owner.active
                continue
            new.email_verified_at = utcnow()  # the e-mailed link was followed: their own links open
            db.session.commit()
            owner = tree[owner_id]
            assert owner.active and owner.level < 2, "a sign-up that must be refused went through"
            tree[new.id] = Node(owner.level + 1, owner.root, owner_id if owner.level == 1 else owner.l1)
            users.append(new.id)

    for user in db.session.scalars(select(User)):
        node = tree[user.id]
        assert user.level == node.level <= 2
        assert (user.root_employee_id or user.id, user.l1_contact_id) == (node.root, node.l1)
        assert user.kind == (Kind.employee if node.level == 0 else Kind.contact)
    for order_id, buyer_id in orders:
        order, node = db.session.get(Order, order_id), tree[buyer_id]
        assert (order.buyer_level, order.root_employee_id, order.l1_contact_id) == (node.level, node.root, node.l1)
