"""Operators' quota pages through the real forms: rules as sentences, create, change, switch
off, and exceptions; every change audited, every invalid form answered with 422."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shop.audit.models import AuditEntry
from shop.catalog.festival_models import FestivalItem, Phase
from shop.extensions import db
from shop.quotas import services as quotas
from shop.quotas.models import Audience, Measure, QuotaException, QuotaRule, Scope, Target, Window
from tests.conftest import login

RULE = {
    "scope": "buyer",
    "target": "all",
    "category_id": "0",
    "product_id": "0",
    "festival_item_id": "0",
    "window": "day",
    "festival_id": "0",
    "measure": "units",
    "limit": "3",
    "audience": "everyone",
}


def text(response) -> str:
    return response.get_data(as_text=True)


def rule_count() -> int:
    return db.session.scalar(select(func.count(QuotaRule.id)))


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


@pytest.fixture
def ops(client, operator):
    return login(client, operator)


def test_the_list_says_each_rule_as_a_sentence_and_whether_it_is_on(ops, app):
    made = quotas.ensure_default_rules()
    made[1].is_active = False
    db.session.commit()
    html = text(ops.get("/ops/quotas"))
    assert "At most 5 units of any one item per buyer per order" in html
    assert "At most CN¥20,000.00 spent on all items per employee per year" in html
    assert html.count("switched off") == 1 and html.count("<td>active</td>") == 1
    # The switched-off rule comes last.
    assert html.index("per buyer per order") < html.index("per employee per year")


def test_a_chain_rule_for_a_festival_item_is_created_from_the_form(
    ops, operator, make_festival, make_festival_item, product
):
    festival = make_festival(phase=Phase.preheat)
    item = make_festival_item(festival, product.variants[0], 10)
    page = text(ops.get("/ops/quotas"))
    assert f'<option value="{item.id}">Spring Festival: Tea Set (Option 0)</option>' in page
    response = ops.post_form(
        "/ops/quotas",
        RULE
        | {
            "scope": "chain",
            "target": "festival_item",
            "festival_item_id": str(item.id),
            "window": "festival",
            "festival_id": str(festival.id),
            "limit": "10",
            "per_sku": "y",
        },
    )
    assert response.status_code == 302
    rule = db.session.scalar(select(QuotaRule).where(QuotaRule.created_by_id == operator.id))
    assert (
        rule.scope,
        rule.target,
        rule.festival_item_id,
        rule.window,
        rule.festival_id,
        rule.measure,
        rule.limit_value,
        rule.audience,
        rule.is_active,
    ) == (
        Scope.chain,
        Target.festival_item,
        item.id,
        Window.festival,
        festival.id,
        Measure.units,
        10,
        Audience.everyone,
        True,
    )
    assert response.headers["Location"] == f"/ops/quotas/{rule.id}"
    html = text(ops.get(response.headers["Location"]))
    assert "At most 10 units of Tea Set (Option 0) per chain during Spring Festival" in html
    [entry] = audit("quota_rule.create")
    assert entry.actor_id == operator.id and entry.entity_id == rule.id and entry.after["limit"] == 10


def test_a_money_limit_is_typed_in_major_units_and_kept_in_minor_units(ops, product):
    response = ops.post_form(
        "/ops/quotas",
        RULE
        | {
            "target": "category",
            "category_id": str(product.category_id),
            "window": "month",
            "measure": "amount",
            "limit": "200.50",
            "audience": "contacts",
        },
        follow_redirects=True,
    )
    assert "Rule created: At most CN¥200.50 spent on items in Home per contact per month." in text(response)
    rule = db.session.scalar(select(QuotaRule))
    assert (rule.limit_value, rule.category_id, rule.audience) == (20_050, product.category_id, Audience.contacts)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"limit": "2.5"}, "Units are whole numbers."),
        ({"limit": "0"}, "Enter a number from 0.01 to 100,000,000."),
        ({"limit": ""}, "This field is required."),
        ({"measure": "amount", "limit": "1.234"}, "Use at most 2 decimals."),
        ({"target": "product"}, "Choose what the rule is about."),
        ({"window": "festival"}, "Choose the festival the rule counts during."),
        ({"scope": "everybody"}, "Not a valid choice"),
        ({"product_id": "99999"}, "Not a valid choice"),
    ],
)
def test_invalid_rules_are_shown_again_with_the_reason(ops, fields, message):
    response = ops.post_form("/ops/quotas", RULE | fields)
    assert response.status_code == 422
    assert message in text(response)
    assert rule_count() == 0 and audit("quota_rule.create") == []


def test_the_limit_is_changed_and_the_rule_switched_off_with_an_audit_entry(ops, operator):
    rule = quotas.create_rule(
        None, scope=Scope.buyer, target=Target.all, window=Window.year, measure=Measure.amount, limit_value=100_000
    )
    db.session.commit()
    html = text(ops.get(f"/ops/quotas/{rule.id}"))
    assert 'value="1000.00"' in html and "This rule is active." in html
    response = ops.post_form(f"/ops/quotas/{rule.id}", {"limit": "1500"}, follow_redirects=True)
    assert "Saved: At most CN¥1,500.00 spent on all items per buyer per year (switched off)." in text(response)
    rule = db.session.get(QuotaRule, rule.id)
    assert (rule.limit_value, rule.is_active) == (150_000, False)
    [entry] = audit("quota_rule.change")
    assert entry.actor_id == operator.id
    assert (entry.before["limit"], entry.before["is_active"]) == (100_000, True)
    assert (entry.after["limit"], entry.after["is_active"]) == (150_000, False)

    refused = ops.post_form(f"/ops/quotas/{rule.id}", {"limit": "-1", "is_active": "y"})
    assert refused.status_code == 422 and "Enter a number from 0.01" in text(refused)
    assert db.session.get(QuotaRule, rule.id).limit_value == 150_000


def test_changing_a_festival_items_own_limit_changes_the_item_too(ops, make_festival, make_festival_item, product):
    item = make_festival_item(make_festival(), product.variants[0], 10, per_buyer_limit=2)
    rule = db.session.scalar(select(QuotaRule).where(QuotaRule.festival_item_id == item.id))
    assert "changing it here changes the item too" in text(ops.get(f"/ops/quotas/{rule.id}"))
    ops.post_form(f"/ops/quotas/{rule.id}", {"limit": "4", "is_active": "y"})
    assert db.session.get(FestivalItem, item.id).per_buyer_limit == 4
    ops.post_form(f"/ops/quotas/{rule.id}", {"limit": "4"})
    assert db.session.get(FestivalItem, item.id).per_buyer_limit is None


def test_a_chain_exception_named_by_a_contact_goes_to_the_chains_employee(
    ops, operator, employee, make_contact, product
):
    rule = quotas.create_rule(
        None,
        scope=Scope.chain,
        target=Target.product,
        product_id=product.id,
        window=Window.month,
        measure=Measure.units,
        limit_value=3,
    )
    db.session.commit()
    friend = make_contact(make_contact(employee))
    response = ops.post_form(
        f"/ops/quotas/{rule.id}/exceptions",
        {"email": friend.email.upper(), "extra": "2", "reason": "Wedding gifts"},
        follow_redirects=True,
    )
    html = text(response)
    assert "Exception granted to the chain of Erin Employee." in html
    assert "Wedding gifts" in html and "erin@neigou.example" in html
    [exception] = db.session.scalars(select(QuotaException)).all()
    assert (exception.rule_id, exception.user_id, exception.extra, exception.granted_by_id) == (
        rule.id,
        employee.id,
        2,
        operator.id,
    )
    [entry] = audit("quota_exception.grant")
    assert entry.reason == "Wedding gifts" and entry.after["named_user_id"] == friend.id
    assert "<td>1</td>" in text(ops.get("/ops/quotas"))  # the list counts it


def test_a_buyer_exception_in_money_is_typed_in_major_units(ops, make_user):
    rule = quotas.create_rule(
        None, scope=Scope.buyer, target=Target.all, window=Window.year, measure=Measure.amount, limit_value=100_000
    )
    db.session.commit()
    buyer = make_user()
    ops.post_form(f"/ops/quotas/{rule.id}/exceptions", {"email": buyer.email, "extra": "50.00", "reason": "Move"})
    exception = db.session.scalar(select(QuotaException))
    assert (exception.user_id, exception.extra) == (buyer.id, 5_000)
    assert "CN¥50.00" in text(ops.get(f"/ops/quotas/{rule.id}"))


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"email": "nobody@neigou.example"}, "Nobody has this e-mail address."),
        ({"reason": ""}, "This field is required."),
        ({"extra": "0.5"}, "Units are whole numbers."),
    ],
)
def test_invalid_exceptions_are_shown_again_with_the_reason(ops, employee, fields, message):
    rule = quotas.create_rule(
        None, scope=Scope.buyer, target=Target.all, window=Window.day, measure=Measure.units, limit_value=1
    )
    db.session.commit()
    response = ops.post_form(
        f"/ops/quotas/{rule.id}/exceptions", {"email": employee.email, "extra": "1", "reason": "Because"} | fields
    )
    assert response.status_code == 422 and message in text(response)
    assert db.session.scalar(select(func.count(QuotaException.id))) == 0


def test_an_unknown_rule_is_not_found(ops):
    assert ops.get("/ops/quotas/12345").status_code == 404
    assert ops.post_form("/ops/quotas/12345/exceptions", {}, token_from="/ops/quotas").status_code == 404


def test_the_list_names_who_made_each_rule(ops, operator):
    """Found playing an operator's day: every rule an operator made read "made by an operator"."""
    quotas.create_rule(
        operator, scope=Scope.buyer, target=Target.all, window=Window.day, measure=Measure.units, limit_value=9
    )
    db.session.commit()
    page = text(ops.get("/ops/quotas"))
    assert f"<td>{operator.name}</td>" in page and "an operator" not in page  # the table's cell, not the header
