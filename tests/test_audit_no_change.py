"""Saving a form as it was is no event: no audit entry, and no time moved by the form's minutes
(found by exploratory testing: each unchanged save of a rule, a festival or a product added an
entry with nothing in it, and a festival's first save cut its times' seconds)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from shop.audit.models import AuditEntry
from shop.audit.services import record
from shop.catalog import services as catalog
from shop.extensions import db
from shop.festivals import services as festivals
from shop.quotas import services as quotas
from shop.quotas.models import Measure, Scope, Target, Window


def entries(action: str) -> int:
    return db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == action))


def test_an_entry_that_changes_nothing_is_not_written(operator, product):
    assert record("product.update", product, actor=operator, before={"name": "A"}, after={"name": "A"}) is None
    assert record("product.update", product, actor=operator, before={"name": "A"}, after={"name": "B"}) is not None
    assert record("product.create", product, actor=operator, after={"name": "A"}) is not None  # no before
    db.session.commit()
    assert entries("product.update") == 1


def test_a_rule_saved_unchanged_leaves_no_entry(operator):
    rule = quotas.create_rule(
        operator, scope=Scope.buyer, target=Target.all, window=Window.order, measure=Measure.units, limit_value=5
    )
    db.session.commit()
    for _ in range(2):
        quotas.change_rule(operator, rule, limit_value=5, is_active=True)
        db.session.commit()
    assert entries("quota_rule.change") == 0
    quotas.change_rule(operator, rule, limit_value=4, is_active=True)
    db.session.commit()
    assert entries("quota_rule.change") == 1


def _save(operator, product, **changes):
    fields = dict(
        name=product.name,
        slug=product.slug,
        category_id=product.category_id,
        summary=product.summary,
        description_md=product.description_md,
        sales_mode=product.sales_mode,
        is_active=product.is_active,
    )
    catalog.save_product(operator, product, **(fields | changes))
    db.session.commit()


def test_a_product_saved_unchanged_leaves_no_entry_and_a_new_summary_does(operator, product):
    _save(operator, product)
    assert entries("product.update") == 0
    _save(operator, product, summary="A new summary")
    assert entries("product.update") == 1
    _save(operator, product, description_md="Now with **more**.")
    assert entries("product.update") == 2


def test_a_festival_saved_as_the_form_shows_it_keeps_its_seconds_and_leaves_no_entry(operator, make_festival):
    festival = make_festival()  # its times have seconds: made from now
    times = {key: getattr(festival, key) for key in ("preheat_at", "launch_at", "continuation_at", "ends_at")}
    assert any(t.second or t.microsecond for t in times.values())

    def to_minute(moment: datetime) -> datetime:  # what the form's datetime-local field sends back
        return moment.replace(second=0, microsecond=0)

    festivals.update_festival(
        operator,
        festival,
        name=festival.name,
        description=festival.description,
        **{key: to_minute(value) for key, value in times.items()},
    )
    db.session.commit()
    db.session.refresh(festival)
    assert {key: getattr(festival, key) for key in times} == times
    assert entries("festival.update") == 0
    festivals.update_festival(
        operator,
        festival,
        name=festival.name,
        description="New words",
        **{key: to_minute(value) for key, value in times.items()},
    )
    db.session.commit()
    assert entries("festival.update") == 1
