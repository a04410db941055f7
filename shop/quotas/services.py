"""Operators' quota work: rules, exceptions, and the default rules every shop starts with."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from shop.accounts.models import User
from shop.audit.models import AuditEntry
from shop.audit.services import record
from shop.catalog.festival_models import Festival, FestivalItem
from shop.catalog.models import Category, Product
from shop.errors import DomainError
from shop.extensions import db
from shop.quotas.models import Audience, Measure, QuotaException, QuotaRule, Scope, Target, Window
from shop.quotas.sentences import describe, sentence_loads

# The limits of the two rules every shop starts with (also written by migration 379b7f926db5).
DEFAULT_UNITS_PER_ORDER = 5
DEFAULT_EMPLOYEE_YEARLY_AMOUNT = 2_000_000  # minor units: 20,000.00


class QuotaRuleError(DomainError):
    pass


def _snapshot(rule: QuotaRule) -> dict:
    return {
        "sentence": describe(rule),
        "scope": rule.scope.value,
        "target": rule.target.value,
        "category_id": rule.category_id,
        "product_id": rule.product_id,
        "festival_item_id": rule.festival_item_id,
        "window": rule.window.value,
        "festival_id": rule.festival_id,
        "measure": rule.measure.value,
        "limit": rule.limit_value,
        "per_sku": rule.per_sku,
        "audience": rule.audience.value,
        "is_active": rule.is_active,
    }


def create_rule(
    actor: User | None,
    *,
    scope: Scope,
    target: Target,
    window: Window,
    measure: Measure,
    limit_value: int,
    audience: Audience = Audience.everyone,
    per_sku: bool = False,
    category_id: int | None = None,
    product_id: int | None = None,
    festival_item_id: int | None = None,
    festival_id: int | None = None,
) -> QuotaRule:
    if limit_value is None or limit_value < 1:
        raise QuotaRuleError(_("The limit must be at least 1."))
    needs = {
        Target.category: (Category, category_id),
        Target.product: (Product, product_id),
        Target.festival_item: (FestivalItem, festival_item_id),
    }
    if target in needs and (needs[target][1] is None or db.session.get(*needs[target]) is None):
        raise QuotaRuleError(_("Choose what the rule is about."))
    category_id = category_id if target == Target.category else None
    product_id = product_id if target == Target.product else None
    festival_item_id = festival_item_id if target == Target.festival_item else None
    if festival_item_id is not None:
        item = db.session.get(FestivalItem, festival_item_id)
        festival_id = festival_id or item.festival_id
        if window == Window.festival and festival_id != item.festival_id:
            raise QuotaRuleError(_("A festival item's rule counts during its own festival."))
    if window == Window.festival and (festival_id is None or db.session.get(Festival, festival_id) is None):
        raise QuotaRuleError(_("Choose the festival the rule counts during."))
    if window != Window.festival:
        festival_id = None
    rule = QuotaRule(
        scope=scope,
        target=target,
        window=window,
        measure=measure,
        limit_value=limit_value,
        audience=audience,
        per_sku=per_sku and target != Target.festival_item,
        category_id=category_id,
        product_id=product_id,
        festival_item_id=festival_item_id,
        festival_id=festival_id,
        created_by_id=actor.id if actor else None,
    )
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
    item = _item_of_buyer_limit(rule)
    if item is not None:  # the festival item's own per-buyer limit: keep the item saying the same
        item.per_buyer_limit = limit_value if is_active else None
    record("quota_rule.change", rule, actor=actor, before=before, after=_snapshot(rule))
    return rule


def _item_of_buyer_limit(rule: QuotaRule) -> FestivalItem | None:
    """The festival item whose per-buyer limit ``rule`` is (made by festivals.allocate), if any."""
    if (
        rule.created_by_id is None
        and rule.target == Target.festival_item
        and rule.scope == Scope.buyer
        and rule.window == Window.festival
        and rule.measure == Measure.units
        and rule.audience == Audience.everyone
    ):
        return rule.festival_item
    return None


def grant_exception(actor: User, rule: QuotaRule, user: User, extra: int, reason: str) -> QuotaException:
    """Extra allowance for one buyer, or for one chain: a chain rule's exception goes to the
    employee at the root of ``user``'s chain, whoever in the chain was named."""
    named = user
    if rule.scope == Scope.chain:
        user = db.session.get(User, user.chain_root_id)
    reason = (reason or "").strip()
    if not reason:
        raise QuotaRuleError(_("Say why the exception is granted."))
    if extra is None or extra < 1:
        raise QuotaRuleError(_("The extra amount must be at least 1."))
    if rule.scope == Scope.chain and user.level != 0:
        raise QuotaRuleError(_("A chain rule's exception is granted to the chain's employee."))
    exception = QuotaException(
        rule_id=rule.id, user_id=user.id, extra=extra, reason=reason[:300], granted_by_id=actor.id
    )
    db.session.add(exception)
    db.session.flush()
    record(
        "quota_exception.grant",
        exception,
        actor=actor,
        reason=reason,
        after={
            "rule_id": rule.id,
            "rule": describe(rule),
            "user_id": user.id,
            "named_user_id": named.id,
            "extra": extra,
        },
    )
    return exception


def revoke_exception(actor: User, exception: QuotaException, reason: str) -> None:
    """Take back an exception granted before; the next order is held to the rule without it."""
    reason = (reason or "").strip()
    if not reason:
        raise QuotaRuleError(_("Say why the exception is revoked."))
    record(
        "quota_exception.revoke",
        exception,
        actor=actor,
        reason=reason,
        before={"rule_id": exception.rule_id, "user_id": exception.user_id, "extra": exception.extra},
    )
    db.session.delete(exception)
    db.session.flush()


def revoke_exception_of(actor: User, rule: QuotaRule, exception_id: int, reason: str) -> None:
    """Revoke exception ``exception_id`` of ``rule``, locked first so that two operators
    revoking it at once revoke it once; refused with nothing changed when it is not (or no
    longer) one of the rule's, or no reason is given."""
    exception = db.session.scalar(
        select(QuotaException)
        .where(QuotaException.id == exception_id, QuotaException.rule_id == rule.id)
        .with_for_update()
    )
    if exception is None:
        revoked = db.session.scalar(
            select(AuditEntry.id).where(
                AuditEntry.action == "quota_exception.revoke",
                AuditEntry.entity_type == QuotaException.__name__,
                AuditEntry.entity_id == exception_id,
            )
        )
        if revoked is not None:
            raise QuotaRuleError(_("This exception was revoked already."))
        raise QuotaRuleError(_("This rule has no such exception."))
    revoke_exception(actor, exception, reason)


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))


def ensure_default_rules() -> list[QuotaRule]:
    """The rules every shop starts with (made once; safe to call again): at most
    DEFAULT_UNITS_PER_ORDER units of one SKU per order, and DEFAULT_EMPLOYEE_YEARLY_AMOUNT of
    employee-price spending per employee per year. The first festival migration seeds the same
    two rules; operators change them under /ops/quotas."""
    made = []
    defaults = [
        dict(
            scope=Scope.buyer,
            target=Target.all,
            window=Window.order,
            measure=Measure.units,
            per_sku=True,
            audience=Audience.everyone,
            limit_value=DEFAULT_UNITS_PER_ORDER,
        ),
        dict(
            scope=Scope.buyer,
            target=Target.all,
            window=Window.year,
            measure=Measure.amount,
            per_sku=False,
            audience=Audience.employees,
            limit_value=DEFAULT_EMPLOYEE_YEARLY_AMOUNT,
        ),
    ]
    for fields in defaults:
        exists = db.session.scalar(
            select(QuotaRule.id).where(
                *(getattr(QuotaRule, key) == value for key, value in fields.items() if key != "limit_value")
            )
        )
        if exists is None:
            made.append(create_rule(None, **fields))
    return made


def rules_listing() -> list[tuple[QuotaRule, int]]:
    """Every rule, the active ones first, with how many exceptions it has."""
    exceptions = (
        select(func.count(QuotaException.id))
        .where(QuotaException.rule_id == QuotaRule.id)
        .correlate(QuotaRule)
        .scalar_subquery()
    )
    query = (
        select(QuotaRule, exceptions)
        .options(*sentence_loads(), joinedload(QuotaRule.created_by))
        .order_by(QuotaRule.is_active.desc(), QuotaRule.id)
    )
    return [(rule, count) for rule, count in db.session.execute(query)]


def rule_by_id(rule_id: int) -> QuotaRule | None:
    return db.session.scalar(
        select(QuotaRule)
        .where(QuotaRule.id == rule_id)
        .options(
            *sentence_loads(),
            selectinload(QuotaRule.exceptions).joinedload(QuotaException.user),
            selectinload(QuotaRule.exceptions).joinedload(QuotaException.granted_by),
        )
    )
