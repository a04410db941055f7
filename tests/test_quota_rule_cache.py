"""The active quota rules kept per process (off in the other tests), and refusals decided
before any lock is taken."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import update

from shop.audit.models import AuditEntry
from shop.catalog.models import PriceTier
from shop.database import utcnow, write_intent
from shop.extensions import db
from shop.orders import services as orders
from shop.quotas import rule_cache
from shop.quotas import services as quotas
from shop.quotas.engine import QuotaExceeded, Take, rules_for
from shop.quotas.models import Measure, QuotaRule, Scope, Target, Window


@pytest.fixture
def rules_cached(app):
    app.config.update(QUOTA_RULE_CACHE_SECONDS=60)
    with app.app_context():
        rule_cache.forget()
    yield
    app.config.update(QUOTA_RULE_CACHE_SECONDS=0)
    with app.app_context():
        rule_cache.forget()


def take_of(variant, quantity=1) -> Take:
    return Take(
        variant.id, variant.product_id, variant.product.category_id, quantity, variant.price_for(PriceTier.employee)
    )


def rule(**fields) -> QuotaRule:
    made = quotas.create_rule(
        None, **({"scope": Scope.buyer, "target": Target.all, "window": Window.year, "measure": Measure.units} | fields)
    )
    db.session.commit()
    return made


def test_rules_are_read_once_and_a_change_made_here_is_seen_at_once(rules_cached, employee, product, statements):
    first = rule(limit_value=7)
    takes = [take_of(product.variants[0])]
    assert [r.id for r, _ in rules_for(employee, takes)] == [first.id]
    statements.clear()
    assert [r.id for r, _ in rules_for(employee, takes)] == [first.id]
    assert statements == []  # the rules from memory, and no exceptions to read

    second = rule(limit_value=3)  # made in this process: forgotten, read again
    assert [r.id for r, _ in rules_for(employee, takes)] == [first.id, second.id]

    quotas.grant_exception(employee, second, employee, 2, "Moving house")
    db.session.commit()
    assert dict((r.id, extra) for r, extra in rules_for(employee, takes)) == {first.id: 0, second.id: 2}


def test_the_rules_are_read_beside_the_callers_own_write_transaction(rules_cached, employee, product, place):
    # On SQLite the caller holds the write lock from BEGIN (a form post, a command); the cache's
    # own session must not wait for it. (Before the fix this hung until the busy timeout.)
    made = rule(limit_value=7)
    with write_intent():
        place(employee, product.variants[0], 1)  # a write transaction, holding the lock ...
        started = time.monotonic()
        db.session.add(AuditEntry(action="test.write", entity_type="test", entity_id=1))
        db.session.flush()
        assert [r.id for r, _ in rules_for(employee, [take_of(product.variants[0])])] == [made.id]  # ... meanwhile
        assert time.monotonic() - started < 5
        db.session.commit()


def test_a_change_made_by_another_process_is_seen_within_the_cache_time(rules_cached, app, employee, product):
    takes = [take_of(product.variants[0])]
    with freeze_time(utcnow()) as clock:
        made = rule(limit_value=7)
        assert [r.id for r, _ in rules_for(employee, takes)] == [made.id]
        # Another process switches the rule off: nothing tells this one.
        db.session.execute(update(QuotaRule).where(QuotaRule.id == made.id).values(is_active=False))
        db.session.commit()
        clock.tick(timedelta(seconds=30))
        assert [r.id for r, _ in rules_for(employee, takes)] == [made.id]
        clock.tick(timedelta(seconds=31))
        assert rules_for(employee, takes) == []


def test_cached_rules_still_refuse_with_their_sentence(rules_cached, employee, product, place):
    rule(limit_value=2, target=Target.product, product_id=product.id)
    place(employee, product.variants[0], 2)
    with pytest.raises(QuotaExceeded) as refused:
        place(employee, product.variants[0], 1)
    assert product.name in refused.value.message and "0 left" in refused.value.message


def test_a_refusal_certain_from_committed_use_takes_no_lock(
    employee, make_festival, make_festival_item, make_product, make_address, statements
):
    item = make_festival_item(make_festival(), make_product(stock=20).variants[0], 5, per_buyer_limit=1)
    address = make_address(employee)
    orders.place_festival_order(employee, item, 1, address)
    db.session.commit()
    statements.clear()
    with pytest.raises(QuotaExceeded):
        orders.place_festival_order(employee, item, 1, address)
    db.session.rollback()
    assert not [s for s in statements if "FOR UPDATE" in s or "FOR NO KEY UPDATE" in s or "SAVEPOINT" in s]
