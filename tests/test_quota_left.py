"""What is left of each quota rule, as the product and cart pages ask for it: several items at
once, in one query, counting exactly what enforcement counts."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from shop.accounts.models import User
from shop.catalog.models import Category, PriceTier, Product, Variant
from shop.checkout.placing import place_order
from shop.database import utcnow
from shop.extensions import db
from shop.orders.lifecycle import cancel_order
from shop.orders.models import Order, OrderLine, OrderStatus
from shop.payments.payroll import pay_by_payroll
from shop.quotas import services as quotas
from shop.quotas.engine import (
    Allowance,
    Take,
    exceeded_by,
    live_orders,
    matches,
    standings,
    tightest,
    wanted_by,
)
from shop.quotas.models import Audience, Measure, QuotaException, QuotaRule, Scope, Target, Window
from shop.quotas.windows import window_bounds


def take_of(variant, quantity=0, tier=PriceTier.employee, item=None) -> Take:
    return Take(
        variant.id,
        variant.product_id,
        variant.product.category_id,
        quantity,
        (item or variant).price_for(tier),
        item.id if item else None,
        item.festival_id if item else None,
    )


@contextmanager
def counting_queries():
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def rule(**fields):
    made = quotas.create_rule(
        None, **({"scope": Scope.buyer, "target": Target.all, "window": Window.year, "measure": Measure.units} | fields)
    )
    db.session.commit()
    return made


def test_a_buyer_and_their_chain_see_what_is_left_of_each_rule(employee, make_contact, make_product, place):
    tea, pot = make_product(name="Tea", employee_price=3_000, contact_price=4_000), make_product(name="Pot")
    friend = make_contact(employee)
    per_order = rule(window=Window.order, per_sku=True, limit_value=5)
    chain_tea = rule(scope=Scope.chain, target=Target.product, product_id=tea.id, window=Window.month, limit_value=6)
    yearly = rule(measure=Measure.amount, audience=Audience.employees, limit_value=20_000)
    place(employee, tea.variants[0], 2)  # 2 x 30.00
    place(friend, tea.variants[0], 1)
    cancelled = place(friend, tea.variants[0], 3)
    cancel_order(friend, cancelled)
    db.session.commit()
    quotas.grant_exception(employee, chain_tea, friend, 1, "Family visit")  # goes to the chain: 7 in all
    db.session.commit()

    now = utcnow()
    found = {
        (s.rule.id, s.allowance.variant_id): (s.allowance.limit, s.allowance.used, s.wanted)
        for s in standings(employee, [take_of(tea.variants[0], 1), take_of(pot.variants[0], 2)], now)
    }
    assert found == {
        (per_order.id, tea.variants[0].id): (5, 0, 1),
        (per_order.id, pot.variants[0].id): (5, 0, 2),
        (chain_tea.id, None): (7, 3, 1),  # 2 + 1; the cancelled order gave its 3 back
        (yearly.id, None): (20_000, 6_000, 3_000 + 2 * 7_000),
    }
    # The contact is not in the employees' audience of the yearly cap.
    assert {s.rule.id for s in standings(friend, [take_of(tea.variants[0], tier=PriceTier.contact)], now)} == {
        per_order.id,
        chain_tea.id,
    }
    left = tightest(employee, take_of(tea.variants[0], 1), now)
    assert [(a.rule.id, a.left) for a in left] == [(chain_tea.id, 4), (per_order.id, 5), (yearly.id, 14_000)]


def test_a_standing_says_how_many_more_units_fit(employee, make_product):
    tea = make_product(employee_price=3_000)
    cap = rule(measure=Measure.amount, limit_value=10_000)
    per_order = rule(window=Window.order, per_sku=True, limit_value=5)
    take = take_of(tea.variants[0], 2)
    by_rule = {s.rule.id: s for s in standings(employee, [take], utcnow())}
    assert by_rule[cap.id].room == 4_000 and by_rule[cap.id].units_more(take) == 1
    assert by_rule[per_order.id].room == 3 and by_rule[per_order.id].units_more(take) == 3
    assert not any(s.broken for s in by_rule.values())
    broken = exceeded_by(employee, [take_of(tea.variants[0], 4)], utcnow())
    assert [(a.rule.id, wanted) for a, wanted in broken] == [(cap.id, 12_000)]
    free = make_product(employee_price=0)
    [money] = [s for s in standings(employee, [take_of(free.variants[0], 1)], utcnow()) if s.rule.id == cap.id]
    assert money.units_more(take_of(free.variants[0], 1)) is None  # money rules do not bind a free item


def test_only_the_asked_windows_are_looked_at_and_per_order_rules_need_no_counting(employee, product):
    per_order = rule(window=Window.order, per_sku=True, limit_value=5)
    rule(measure=Measure.amount, limit_value=10_000)
    takes = [take_of(product.variants[0], 6)]
    db.session.refresh(employee)  # loaded, as the current user is on a page
    with counting_queries() as statements:
        found = standings(employee, takes, utcnow(), windows={Window.order})
    assert [(s.rule.id, s.broken) for s in found] == [(per_order.id, True)]
    assert len(statements) == 1  # the rules with the buyer's exceptions and their use, together


def test_the_pages_ask_in_one_query_however_many_items_and_rules(
    employee, make_product, make_festival, make_festival_item
):
    products = [make_product(variants=3) for _ in range(3)]
    festival = make_festival()
    item = make_festival_item(festival, products[0].variants[0], 5, per_buyer_limit=2)
    rule(window=Window.order, per_sku=True, limit_value=5)
    rule(measure=Measure.amount, audience=Audience.employees, limit_value=2_000_000)
    rule(
        scope=Scope.chain,
        target=Target.category,
        category_id=products[0].category_id,
        window=Window.day,
        limit_value=9,
        per_sku=True,
    )
    rule(
        scope=Scope.chain,
        target=Target.festival_item,
        festival_item_id=item.id,
        window=Window.festival,
        festival_id=festival.id,
        limit_value=3,
    )
    takes = [take_of(v) for p in products for v in p.variants] + [take_of(item.variant, item=item)]
    db.session.expire_all()
    db.session.refresh(employee)  # loaded, as the current user is on a page
    with counting_queries() as statements:
        found = standings(employee, takes, utcnow())
        sentences = [s.rule.festival_item.variant.product.name for s in found if s.rule.festival_item]
    assert len(statements) == 1  # the rules, their exceptions and the use, in one statement
    assert len(found) == 9 + 1 + 9 + 1 + 1 and sentences == [products[0].name] * 2


def test_nothing_applies_and_nothing_is_counted_when_no_rule_matches(employee, make_product):
    home = make_product()
    rule(
        target=Target.category,
        category_id=make_product(category=Category(name="Garden", slug="garden")).category_id,
        limit_value=1,
    )
    takes = [take_of(home.variants[0])]
    db.session.refresh(employee)  # loaded, as the current user is on a page
    with counting_queries() as statements:
        assert standings(employee, takes, utcnow()) == []
    assert len(statements) == 1


@pytest.fixture
def history(employee, make_contact, make_product, make_festival, make_festival_item, make_address, place):
    """Orders of a chain in every state (one partly refunded), over two categories, a festival
    and two years."""
    garden = Category(name="Garden", slug="garden")
    home_a, home_b = make_product(variants=2, employee_price=1_000, contact_price=1_500), make_product()
    rake = make_product(category=garden, employee_price=2_500, contact_price=2_900)
    friend = make_contact(employee)
    friends_friend = make_contact(friend)
    festival = make_festival()
    item = make_festival_item(festival, home_b.variants[0], 8, per_buyer_limit=4)
    now = utcnow()
    last_year = now - timedelta(days=400)
    refunded = place(employee, home_a.variants[0], 3)
    pay_by_payroll(employee, refunded)
    refunded.status, refunded.refunded_amount, refunded.lines[0].refunded_quantity = (
        OrderStatus.partially_refunded,
        1_000,
        1,
    )  # as a refund of one unit leaves it
    pay_by_payroll(employee, place(employee, home_a.variants[1], 1, now=last_year), now=last_year)
    paid = place(employee, rake.variants[0], 1)
    pay_by_payroll(employee, paid)
    place(friend, home_a.variants[0], 3)
    place(friend, rake.variants[0], 2)
    cancel_order(friend, place(friend, home_a.variants[1], 4))
    place(friends_friend, home_a.variants[1], 1, now=now - timedelta(minutes=30))  # unpaid and overdue
    place(friends_friend, rake.variants[0], 1)
    for buyer, quantity in ((employee, 1), (friend, 2), (friends_friend, 1)):
        place_order(buyer.id, make_address(buyer).id, item_id=item.id, quantity=quantity)
    db.session.commit()
    return {
        "buyers": (employee, friend, friends_friend),
        "variants": (*home_a.variants, home_b.variants[0], rake.variants[0]),
        "category": garden,
        "product": home_a,
        "festival": festival,
        "item": item,
    }


def test_the_pages_count_exactly_what_enforcement_counts(history):
    """Every kind of rule, for every buyer of the chain: the batched count agrees with the
    per-rule count that enforcement makes under its locks."""
    festival, item = history["festival"], history["item"]
    targets = [
        dict(target=Target.all),
        dict(target=Target.category, category_id=history["category"].id),
        dict(target=Target.product, product_id=history["product"].id),
        dict(target=Target.festival_item, festival_item_id=item.id),
    ]
    windows = [
        dict(window=Window.order),
        dict(window=Window.day),
        dict(window=Window.year),
        dict(window=Window.festival, festival_id=festival.id),
    ]
    for scope in Scope:
        for target in targets:
            for window in windows:
                for measure, audience, per_sku in (
                    (Measure.units, Audience.everyone, True),
                    (Measure.amount, Audience.employees, False),
                    (Measure.units, Audience.contacts, False),
                ):
                    quotas.create_rule(
                        None,
                        scope=scope,
                        measure=measure,
                        audience=audience,
                        per_sku=per_sku,
                        limit_value=50,
                        **target,
                        **window,
                    )
    db.session.commit()
    now = utcnow()
    compared = 0
    for buyer in history["buyers"]:
        tier = PriceTier.employee if buyer.level == 0 else PriceTier.contact
        takes = [take_of(v, 1, tier) for v in history["variants"]] + [take_of(item.variant, 1, tier, item)]
        batched = sorted(
            (s.rule.id, s.allowance.variant_id, s.allowance.used, s.wanted) for s in standings(buyer, takes, now)
        )
        one_by_one = sorted(
            (rule.id, a.variant_id, a.used, wanted)
            for rule in applicable_rules(buyer, takes)
            for a, wanted in (
                (a, quotas_wanted(rule, takes, a.variant_id)) for a in allowances(buyer, rule, takes, now)
            )
        )
        assert batched == one_by_one
        assert any(used > 0 for _rule, _key, used, _wanted in batched)
        compared += len(batched)
    assert compared > 100


def quotas_wanted(rule, takes, key):
    return wanted_by(rule, takes)[key]


# ---- the reference: every rule counted on its own, one query for its use and one for its
# exceptions (how enforcement first counted), to hold the one statement of standings() to.


def applicable_rules(buyer: User, takes: Sequence[Take]) -> list[QuotaRule]:
    """The active rules for this buyer's audience that any of ``takes`` falls under, by id."""
    audiences = (Audience.everyone, Audience.employees if buyer.level == 0 else Audience.contacts)
    rules = db.session.scalars(
        select(QuotaRule).where(QuotaRule.is_active.is_(True), QuotaRule.audience.in_(audiences)).order_by(QuotaRule.id)
    )
    return [rule for rule in rules if any(matches(rule, take) for take in takes)]


def subject_id(rule: QuotaRule, buyer: User) -> int:
    return buyer.chain_root_id if rule.scope == Scope.chain else buyer.id


def counted(rule: QuotaRule, buyer: User, now: datetime) -> list:
    """The conditions an order line (joined with its order, variant and product) meets when it
    counts towards ``rule`` for this buyer or their chain, said rule by rule in Python."""
    conditions = [
        Order.buyer_id == subject_id(rule, buyer)
        if rule.scope == Scope.buyer
        else Order.root_employee_id == subject_id(rule, buyer)
    ]
    if rule.audience == Audience.employees:
        conditions.append(Order.buyer_level == 0)
    elif rule.audience == Audience.contacts:
        conditions.append(Order.buyer_level > 0)
    if rule.target == Target.category:
        conditions.append(Product.category_id == rule.category_id)
    elif rule.target == Target.product:
        conditions.append(Variant.product_id == rule.product_id)
    elif rule.target == Target.festival_item:
        conditions.append(OrderLine.festival_item_id == rule.festival_item_id)
    if rule.window == Window.festival:
        conditions.append(Order.festival_id == rule.festival_id)
    else:
        start, end = window_bounds(rule.window, now)
        conditions += [Order.created_at >= start, Order.created_at < end]
    return conditions


def _extra(rule: QuotaRule, subject_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(QuotaException.extra), 0)).where(
                QuotaException.rule_id == rule.id, QuotaException.user_id == subject_id
            )
        )
        or 0
    )


def line_measure(rule: QuotaRule):
    """What one order line still holds of a rule: its units, or its money at the line's price;
    refunded units gave theirs back."""
    held = OrderLine.quantity - OrderLine.refunded_quantity
    return held * OrderLine.unit_price if rule.measure == Measure.amount else held


def measure_of_lines(rule: QuotaRule):
    return func.coalesce(func.sum(line_measure(rule)), 0)


def _used(rule: QuotaRule, buyer: User, now: datetime, variant_ids: Sequence[int] | None) -> dict[int | None, int]:
    """Use of ``rule`` by the buyer or chain so far: {variant id: use} when counted per SKU,
    else {None: use}. Rules per order start from nothing."""
    if rule.window == Window.order:
        return {}
    query = (
        select(OrderLine.variant_id if rule.per_sku else None, measure_of_lines(rule))
        .join(Order, Order.id == OrderLine.order_id)
        .where(live_orders(now), *counted(rule, buyer, now))
    )
    if rule.target in (Target.category, Target.product):
        query = query.join(Variant, Variant.id == OrderLine.variant_id).join(Product, Product.id == Variant.product_id)
    if rule.per_sku:
        query = query.where(OrderLine.variant_id.in_(list(variant_ids or ()))).group_by(OrderLine.variant_id)
    return {key: int(value or 0) for key, value in db.session.execute(query)}


def allowances(buyer: User, rule: QuotaRule, takes: Sequence[Take], now: datetime) -> list[Allowance]:
    """What is left of ``rule`` for the SKUs (or the whole) that ``takes`` fall under."""
    wanted = wanted_by(rule, takes)
    used = _used(rule, buyer, now, [key for key in wanted if key is not None])
    limit = rule.limit_value + _extra(rule, subject_id(rule, buyer))
    return [Allowance(rule, limit, used.get(key, 0), key) for key in wanted]
