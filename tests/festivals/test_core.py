"""Festival stock and quota rules, called directly: allocation, buying, limits, giving back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete

from shop.cart.models import CartLine
from shop.catalog.festival_models import FestivalItem, Phase
from shop.catalog.models import Variant
from shop.checkout.placing import place_order
from shop.database import utcnow
from shop.extensions import db
from shop.festivals import services as festivals
from shop.orders.errors import OrderError, OutOfStock
from shop.orders.expiry import expire_overdue
from shop.orders.lifecycle import cancel_order
from shop.orders.models import OrderStatus
from shop.quotas import services as quotas
from shop.quotas.engine import QuotaExceeded, Take, tightest
from shop.quotas.models import Audience, Measure, Scope, Target, Window
from shop.quotas.sentences import describe
from tests.fixtures.festivals import chain_cap_on


def _reload(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def buy(buyer, item, quantity, make_address, now=None):
    order = place_order(buyer.id, make_address(buyer).id, item_id=item.id, quantity=quantity, now=now)
    db.session.commit()
    return order


def test_allocation_takes_general_stock_and_is_refused_when_short(make_festival, make_festival_item, product):
    variant = product.variants[0]
    festival = make_festival(phase=Phase.preheat)
    item = make_festival_item(festival, variant, 6)
    assert (_reload(Variant, variant.id).stock, item.allocated, item.sold) == (4, 6, 0)
    with pytest.raises(festivals.FestivalError, match="Only 4 units"):
        make_festival_item(festival, variant, 5)
    db.session.rollback()
    assert _reload(Variant, variant.id).stock == 4
    assert _reload(FestivalItem, item.id).allocated == 6


def test_buying_takes_the_allocation_at_the_festival_price_only_while_selling(
    make_festival, make_festival_item, product, employee, make_address
):
    preheat = make_festival(phase=Phase.preheat, name="Preheat Fair")
    item = make_festival_item(preheat, product.variants[0], 3)
    with pytest.raises(OrderError, match="not selling"):
        buy(employee, item, 1, make_address)
    db.session.rollback()
    now = preheat.launch_at + timedelta(minutes=1)
    order = buy(employee, item, 2, make_address, now=now)
    assert order.festival_id == preheat.id
    assert order.total_amount == 2 * 5_000 and order.lines[0].festival_item_id == item.id
    assert _reload(FestivalItem, item.id).sold == 2
    with pytest.raises(OutOfStock) as refused:
        buy(employee, item, 2, make_address, now=now)
    assert refused.value.shortages[0].available == 1
    db.session.rollback()
    assert _reload(FestivalItem, item.id).sold == 2


def test_per_buyer_limit_counts_pending_orders_and_expiry_gives_it_back(
    make_festival, make_festival_item, product, employee, make_address
):
    item = make_festival_item(make_festival(), product.variants[0], 10, per_buyer_limit=2)
    first = buy(employee, item, 2, make_address)
    with pytest.raises(QuotaExceeded, match="0 units left"):
        buy(employee, item, 1, make_address)
    db.session.rollback()
    later = first.expires_at + timedelta(seconds=1)
    assert expire_overdue(now=later) == 1
    db.session.commit()
    assert _reload(FestivalItem, item.id).sold == 0
    buy(employee, item, 2, make_address, now=later)
    assert _reload(FestivalItem, item.id).sold == 2


def test_chain_rule_counts_the_employee_and_their_contacts_together(
    make_festival, make_festival_item, product, employee, make_contact, make_address
):
    festival = make_festival()
    item = make_festival_item(festival, product.variants[0], 10)
    rule = chain_cap_on(item, 3)
    db.session.commit()
    friend = make_contact(employee)
    friends_friend = make_contact(friend)
    buy(employee, item, 1, make_address)
    buy(friend, item, 1, make_address)
    with pytest.raises(QuotaExceeded) as refused:
        buy(friends_friend, item, 2, make_address)
    assert describe(rule) in refused.value.message and "1 unit left" in refused.value.message
    db.session.rollback()
    buy(friends_friend, item, 1, make_address)
    assert _reload(FestivalItem, item.id).sold == 3


def test_exception_raises_the_limit_for_that_buyer_only(operator, make_user, product, make_address, place):
    rule = quotas.create_rule(
        None,
        scope=Scope.buyer,
        target=Target.product,
        product_id=product.id,
        window=Window.day,
        measure=Measure.units,
        limit_value=1,
    )
    db.session.commit()
    lucky, other = make_user(), make_user()
    quotas.grant_exception(operator, rule, lucky, 1, "Team event")
    db.session.commit()
    place(lucky, product.variants[0], 2)
    with pytest.raises(QuotaExceeded):
        place(other, product.variants[0], 2)


def test_yearly_spending_cap_counts_employee_price_money(employee, make_product, place):
    rule = quotas.create_rule(
        None,
        scope=Scope.buyer,
        target=Target.all,
        window=Window.year,
        measure=Measure.amount,
        limit_value=10_000,
        audience=Audience.employees,
    )
    db.session.commit()
    product = make_product(employee_price=4_000)
    place(employee, product.variants[0], 2)
    with pytest.raises(QuotaExceeded, match="20.00"):  # 2,000 minor units left
        place(employee, product.variants[0], 1)
    left = tightest(employee, Take(product.variants[0].id, product.id, product.category_id, 1, 4_000), utcnow())
    assert [(a.rule.id, a.left) for a in left] == [(rule.id, 2_000)]


def test_unsold_allocation_goes_back_once_and_late_cancellations_follow_it(
    make_festival, make_festival_item, product, employee, make_address
):
    variant = product.variants[0]
    festival = make_festival()
    item = make_festival_item(festival, variant, 6)
    pending = buy(employee, item, 2, make_address, now=festival.ends_at - timedelta(minutes=5))
    after_end = festival.ends_at + timedelta(seconds=1)
    assert festivals.return_allocations(now=after_end) == 4
    assert festivals.return_allocations(now=after_end) == 0
    db.session.commit()
    assert _reload(Variant, variant.id).stock == 4 + 4
    cancel_order(employee, db.session.get(type(pending), pending.id), now=after_end + timedelta(minutes=1))
    db.session.commit()
    item = _reload(FestivalItem, item.id)
    assert (item.sold, item.returned_units, item.allocated) == (0, 6, 6)
    assert _reload(Variant, variant.id).stock == 10
    assert _reload(type(pending), pending.id).status == OrderStatus.cancelled


def test_phase_follows_the_clock(make_festival):
    festival = make_festival(phase=Phase.preheat)
    assert festival.phase(festival.preheat_at - timedelta(seconds=1)) == Phase.draft
    assert festival.phase(festival.preheat_at) == Phase.preheat
    assert festival.phase(festival.launch_at) == Phase.launch
    assert festival.phase(festival.continuation_at) == Phase.continuation
    assert festival.phase(festival.ends_at) == Phase.ended
    assert festival.next_change(festival.ends_at) is None


def test_default_rules_read_as_sentences(app):
    made = quotas.ensure_default_rules()
    assert quotas.ensure_default_rules() == []
    assert [describe(rule) for rule in made] == [
        "At most 5 units of any one item per buyer per order",
        "At most CN¥20,000.00 spent on all items per employee per year",
    ]


def test_refunded_units_give_their_quota_back(operator, employee, product, place):
    from shop.payments.payroll import pay_by_payroll
    from shop.refunds import services as refunds

    quotas.create_rule(
        None,
        scope=Scope.buyer,
        target=Target.product,
        product_id=product.id,
        window=Window.month,
        measure=Measure.units,
        limit_value=3,
    )
    db.session.commit()
    order = place(employee, product.variants[0], 3)
    pay_by_payroll(employee, order)
    db.session.commit()
    with pytest.raises(QuotaExceeded, match="0 units left"):
        place(employee, product.variants[0], 1)
    db.session.rollback()
    db.session.execute(delete(CartLine))  # what the refused order left in the cart
    refunds.refund_order(operator, order, reason="Arrived broken", quantities={order.lines[0].id: 2}, restock=False)
    db.session.commit()
    place(employee, product.variants[0], 2)
    with pytest.raises(QuotaExceeded, match="0 units left"):
        place(employee, product.variants[0], 1)


def test_buying_sweeps_an_overdue_holder_when_the_allocation_falls_short(
    make_festival, make_festival_item, product, employee, make_user, make_address
):
    # An overdue unpaid order holding the last units is expired, and the take tried again.
    item = make_festival_item(make_festival(), product.variants[0], 2)
    first = buy(employee, item, 2, make_address)
    assert (first.total_amount, [line.festival_item_id for line in first.lines]) == (2 * 5_000, [item.id])
    assert _reload(FestivalItem, item.id).sold == 2

    later = first.expires_at + timedelta(seconds=1)
    other = make_user()
    second = buy(other, item, 1, make_address, now=later)  # sold out, but the first order is overdue
    assert _reload(type(first), first.id).status == OrderStatus.expired
    assert second.status == OrderStatus.pending_payment and _reload(FestivalItem, item.id).sold == 1
    with pytest.raises(OutOfStock) as refused:  # one unit left: two are refused, nothing written
        buy(other, item, 2, make_address, now=later)
    assert [(s.wanted, s.available) for s in refused.value.shortages] == [(2, 1)]
    db.session.rollback()
    assert _reload(FestivalItem, item.id).sold == 1
