"""Festival phases follow the clock (frozen with freezegun, no `now` passed anywhere), and the
unsold allocation goes back to general stock once: run twice, or by racing threads."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from shop.accounts.models import User
from shop.audit.models import AuditEntry
from shop.catalog.festival_models import Festival, FestivalItem, Phase
from shop.catalog.models import Variant
from shop.checkout.placing import place_order
from shop.extensions import db
from shop.festivals import services as festivals
from shop.orders.errors import OrderError
from shop.orders.expiry import expire_overdue
from shop.orders.lifecycle import cancel_order
from shop.orders.models import Order, OrderStatus
from tests.racing import race

LAUNCH = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)


def _reload(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def _stock(variant_id: int) -> int:
    return db.session.scalar(select(Variant.stock).where(Variant.id == variant_id))


def _returns_audited(item_id: int) -> int:
    return db.session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "festival.return_allocation", AuditEntry.entity_id == item_id
        )
    )


@pytest.fixture
def scheduled(operator, product, make_festival_item):
    """A festival with every phase: preheat a day before launch, continuation after two hours."""
    festival = festivals.create_festival(
        operator,
        name="Double Eleven",
        preheat_at=LAUNCH - timedelta(days=1),
        launch_at=LAUNCH,
        continuation_at=LAUNCH + timedelta(hours=2),
        ends_at=LAUNCH + timedelta(hours=6),
    )
    db.session.commit()
    item = make_festival_item(festival, product.variants[0], 6, per_buyer_limit=5)
    return festival, item


def test_buying_opens_and_closes_with_the_clock_alone(scheduled, employee, make_address):
    festival, item = scheduled
    address = make_address(employee)
    seen = []
    moments = [
        (LAUNCH - timedelta(days=2), Phase.draft, False),
        (LAUNCH - timedelta(seconds=1), Phase.preheat, False),
        (LAUNCH, Phase.launch, True),
        (LAUNCH + timedelta(hours=2), Phase.continuation, True),
        (LAUNCH + timedelta(hours=6) - timedelta(microseconds=1), Phase.continuation, True),
        (LAUNCH + timedelta(hours=6), Phase.ended, False),
    ]
    for moment, phase, selling in moments:
        with freeze_time(moment):
            festival = _reload(Festival, festival.id)
            assert festival.phase() == phase and festival.is_selling() == selling
            assert (festival in festivals.festivals_visible()) == (phase != Phase.draft)
            try:
                place_order(employee.id, address.id, item_id=item.id, quantity=1)
                db.session.commit()
                seen.append((phase, "bought"))
            except OrderError as refused:
                db.session.rollback()
                assert "is not selling now" in refused.message
                seen.append((phase, "refused"))
    assert seen == [
        (Phase.draft, "refused"),
        (Phase.preheat, "refused"),
        (Phase.launch, "bought"),
        (Phase.continuation, "bought"),
        (Phase.continuation, "bought"),
        (Phase.ended, "refused"),
    ]
    # Nobody paid. The allocation had room, so no order swept the overdue ones (they are expired
    # when stock is short, or by `flask shop expire-orders`); by the clock they hold nothing.
    assert _reload(FestivalItem, item.id).sold == 3
    assert expire_overdue(now=LAUNCH + timedelta(hours=6)) == 2
    db.session.commit()
    assert _reload(FestivalItem, item.id).sold == 1
    assert Counter(db.session.scalars(select(Order.status)).all()) == {
        OrderStatus.expired: 2,
        OrderStatus.pending_payment: 1,
    }


def test_the_countdown_points_at_the_next_phase(scheduled):
    festival, _ = scheduled
    expected = [
        (LAUNCH - timedelta(days=2), festival.preheat_at),
        (LAUNCH - timedelta(hours=3), LAUNCH),
        (LAUNCH + timedelta(hours=1), festival.continuation_at),
        (LAUNCH + timedelta(hours=3), festival.ends_at),
        (LAUNCH + timedelta(hours=7), None),
    ]
    for moment, change in expected:
        with freeze_time(moment):
            assert festival.next_change() == change


def test_allocation_is_refused_once_ended_and_returned_only_after_the_end(
    scheduled, operator, product, employee, make_address
):
    festival, item = scheduled
    variant_id = product.variants[0].id
    with freeze_time(LAUNCH + timedelta(minutes=30)):
        place_order(employee.id, make_address(employee).id, item_id=item.id, quantity=2)
        db.session.commit()
        assert festivals.return_allocations() == 0  # running: nothing goes back
    with freeze_time(LAUNCH + timedelta(hours=6) - timedelta(seconds=1)):
        assert festivals.return_allocations() == 0
    with freeze_time(LAUNCH + timedelta(hours=6)):
        with pytest.raises(festivals.FestivalError, match="has ended"):
            festivals.allocate(
                operator,
                _reload(Festival, festival.id),
                db.session.get(Variant, variant_id),
                1,
                employee_price=1,
                contact_price=1,
                per_buyer_limit=None,
            )
        db.session.rollback()
        assert festivals.return_allocations() == 4
        db.session.commit()
        assert festivals.return_allocations() == 0
        db.session.commit()
    item = _reload(FestivalItem, item.id)
    assert (item.allocated, item.sold, item.returned_units, item.available) == (6, 2, 4, 0)
    assert item.returned_at == LAUNCH + timedelta(hours=6)
    assert _stock(variant_id) == 4 + 4 and _returns_audited(item.id) == 1


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(3))
def test_racing_returns_and_cancellations_give_every_unit_back_once(
    round_, app, operator, make_festival, make_festival_item, make_product, make_user, make_address
):
    """Four processes closing the festival at once, while buyers cancel their pending orders:
    each item's leftovers go back once, and each cancelled unit once, wherever it goes."""
    festival = make_festival(name="Night Market")
    other = make_festival(name="Book Fair")
    variants = [make_product(stock=10).variants[0] for _ in range(3)]
    items = [
        make_festival_item(festival, variants[0], 8),
        make_festival_item(festival, variants[1], 5),
        make_festival_item(other, variants[2], 7),
    ]
    before_end = festival.ends_at - timedelta(minutes=5)
    pending = []
    for item in items:
        for _ in range(2):
            buyer = make_user()
            order = place_order(buyer.id, make_address(buyer).id, item_id=item.id, quantity=1, now=before_end)
            db.session.commit()
            pending.append((buyer.id, order.id))
    after_end = max(festival.ends_at, other.ends_at) + timedelta(seconds=1)
    cancel_at = after_end + timedelta(seconds=1)

    def close():
        return festivals.return_allocations(now=after_end)

    def cancel(buyer_id, order_id):
        return lambda: cancel_order(db.session.get(User, buyer_id), db.session.get(Order, order_id), now=cancel_at)

    outcomes, _ = race(app, [close] * 4 + [cancel(*p) for p in pending[::2]])
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    closes = outcomes[:4]
    # A unit cancelled before its item's return goes back with the leftovers; one cancelled after
    # it goes straight to general stock. Either way each is counted once.
    unsold = (8 - 2) + (5 - 2) + (7 - 2)
    assert unsold <= sum(closes) <= unsold + 3
    audited = db.session.scalars(select(AuditEntry.after).where(AuditEntry.action == "festival.return_allocation"))
    assert sum(entry["returned_units"] for entry in audited) == sum(closes)
    assert Counter(outcomes[4:]) == {OrderStatus.cancelled: 3}
    for item, variant in zip(items, variants, strict=True):
        item = _reload(FestivalItem, item.id)
        assert item.returned_at is not None and _returns_audited(item.id) == 1
        assert item.sold == 1 and item.returned_units == item.allocated - 1
        assert _stock(variant.id) == 10 - 1  # everything but the one unit still held
    assert festivals.return_allocations(now=cancel_at) == 0


def test_a_late_cancellation_after_the_return_goes_to_general_stock(
    make_festival, make_festival_item, product, employee, make_address
):
    festival = make_festival()
    variant_id = product.variants[0].id
    item = make_festival_item(festival, product.variants[0], 4)
    order = place_order(
        employee.id, make_address(employee).id, item_id=item.id, quantity=3, now=festival.ends_at - timedelta(minutes=1)
    )
    db.session.commit()
    festivals.return_allocations(now=festival.ends_at)
    db.session.commit()
    assert _stock(variant_id) == 6 + 1
    # expiry is the other way an order gives back: also after the return, also once
    assert expire_overdue(now=order.expires_at) == 1
    assert expire_overdue(now=order.expires_at) == 0
    db.session.commit()
    item = _reload(FestivalItem, item.id)
    assert (item.sold, item.returned_units) == (0, 4) and _stock(variant_id) == 10
    assert db.session.get(Order, order.id).status == OrderStatus.expired
