"""Operators' quota work: rules, exceptions, and the default rules every shop starts with."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from shop.accounts.models import User
from shop.audit.services import record
from shop.errors import DomainError
from shop.extensions import db
from shop.quotas.models import Audience, Measure, QuotaException, QuotaRule, Scope, Target, Window
from shop.quotas.sentences import describe


class QuotaRuleError(DomainError):
    pass


def _snapshot(rule: QuotaRule) -> dict:
    return {"sentence": describe(rule), "scope": rule.scope.value, "target": rule.target.value,
            "category_id": rule.category_id, "product_id": rule.product_id,
            "festival_item_id": rule.festival_item_id, "window": rule.window.value,
            "festival_id": rule.festival_id, "measure": rule.measure.value, "limit": rule.limit_value,
            "per_sku": rule.per_sku, "audience": rule.audience.value, "is_active": rule.is_active}


def create_rule(actor: User | None, *, scope: Scope, target: Target, window: Window, measure: Measure,
                limit_value: int, audience: Audience = Audience.everyone, per_sku: bool = False,
                category_id: int | None = None, product_id: int | None = None,
                festival_item_id: int | None = None, festival_id: int | None = None) -> QuotaRule:
    from shop.festivals.models import FestivalItem

    if limit_value is None or limit_value < 1:
        raise QuotaRuleError(_("The limit must be at least 1."))
    needs = {Target.category: category_id, Target.product: product_id, Target.festival_item: festival_item_id}
    if target in needs and needs[target] is None:
        raise QuotaRuleError(_("Choose what the rule is about."))
    category_id = category_id if target == Target.category else None
    product_id = product_id if target == Target.product else None
    festival_item_id = festival_item_id if target == Target.festival_item else None
    if festival_item_id is not None:
        item = db.session.get(FestivalItem, festival_item_id)
        if item is None:
            raise QuotaRuleError(_("Choose what the rule is about."))
        festival_id = festival_id or item.festival_id
        if window == Window.festival and festival_id != item.festival_id:
            raise QuotaRuleError(_("A festival item's rule counts during its own festival."))
    if window == Window.festival and festival_id is None:
        raise QuotaRuleError(_("Choose the festival the rule counts during."))
    if window != Window.festival:
        festival_id = None
    rule = QuotaRule(scope=scope, target=target, window=window, measure=measure, limit_value=limit_value,
                     audience=audience, per_sku=per_sku and target != Target.festival_item,
                     category_id=category_id, product_id=product_id, festival_item_id=festival_item_id,
                     festival_id=festival_id, created_by_id=actor.id if actor else None)
    db.session.add(rule)
    db.session.flush()
    record("quota_rule.create", rule, actor=actor, after=_snapshot(rule))
    return rule


def change_rule(actor: User, rule: QuotaRule, *, limit_value: int, is_active: bool) -> QuotaRule:
    """Operators change a rule's limit or switch it off; what it covers stays (make a new rule
    for something else, so the history of each rule reads straight)."""
    if limit_value is None or limit_value < 1:
        raise QuotaRuleError(_("The limit must be at least 1."))
    before = _snapshot(rule)
    rule.limit_value, rule.is_active = limit_value, is_active
    record("quota_rule.change", rule, actor=actor, before=before, after=_snapshot(rule))
    return rule


def grant_exception(actor: User, rule: QuotaRule, user: User, extra: int, reason: str) -> QuotaException:
    """Extra allowance for one buyer, or for one chain (granted to its employee)."""
    reason = (reason or "").strip()
    if not reason:
        raise QuotaRuleError(_("Say why the exception is granted."))
    if extra is None or extra < 1:
        raise QuotaRuleError(_("The extra amount must be at least 1."))
    if rule.scope == Scope.chain and user.level != 0:
        raise QuotaRuleError(_("A chain rule's exception is granted to the chain's employee."))
    exception = QuotaException(rule_id=rule.id, user_id=user.id, extra=extra, reason=reason[:300],
                               granted_by_id=actor.id)
    db.session.add(exception)
    db.session.flush()
    record("quota_exception.grant", exception, actor=actor, reason=reason, after={
        "rule_id": rule.id, "rule": describe(rule), "user_id": user.id, "extra": extra})
    return exception


def ensure_default_rules() -> list[QuotaRule]:
    """The rules every shop starts with (made once; safe to call again): at most
    RETAIL_UNIT_CAP units of one SKU per order, and a yearly employee-price spending cap per
    employee (EMPLOYEE_YEARLY_CAP, minor units)."""
    made = []
    defaults = [
        dict(scope=Scope.buyer, target=Target.all, window=Window.order, measure=Measure.units, per_sku=True,
             audience=Audience.everyone, limit_value=current_app.config["RETAIL_UNIT_CAP"]),
        dict(scope=Scope.buyer, target=Target.all, window=Window.year, measure=Measure.amount, per_sku=False,
             audience=Audience.employees, limit_value=current_app.config["EMPLOYEE_YEARLY_CAP"]),
    ]
    for fields in defaults:
        exists = db.session.scalar(select(QuotaRule.id).where(
            *(getattr(QuotaRule, key) == value for key, value in fields.items() if key != "limit_value")))
        if exists is None:
            made.append(create_rule(None, **fields))
    return made


def rules_listing() -> list[QuotaRule]:
    return list(db.session.scalars(select(QuotaRule).order_by(QuotaRule.is_active.desc(), QuotaRule.id)))
