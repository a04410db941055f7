"""Counting quota use and enforcing rules when an order is placed.

Use is never kept in a counter of its own: it is summed from the order lines that still hold
it (unpaid orders within their deadline, paid, shipped, completed; refunded units excluded),
so cancelling, expiring or refunding (``OrderLine.refunded_quantity``) gives back exactly what
was taken, once, by construction.
Enforcement is atomic because every order that could add to a sum first locks the row of the
buyer (scope ``buyer``) and of the chain's employee (scope ``chain``), in user-id order, and
checks and inserts in the same transaction; SQLite's writers are serialised anyway.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, func, not_, select

from shop.accounts.models import User
from shop.catalog.models import Product, Variant
from shop.errors import DomainError
from shop.extensions import db
from shop.i18n import format_money
from shop.orders.models import Order, OrderLine, OrderStatus
from shop.quotas.models import Audience, Measure, QuotaException, QuotaRule, Scope, Target, Window
from shop.quotas.sentences import describe
from shop.quotas.windows import window_bounds


@dataclass(frozen=True)
class Take:
    """What one line of an order about to be placed would take."""

    variant_id: int
    product_id: int
    category_id: int
    quantity: int
    unit_price: int
    festival_item_id: int | None = None
    festival_id: int | None = None


@dataclass(frozen=True)
class Allowance:
    """How much of one rule is left for this buyer (or their chain)."""

    rule: QuotaRule
    limit: int  # the rule's limit plus any exceptions granted
    used: int
    variant_id: int | None = None  # for a rule counted per SKU

    @property
    def left(self) -> int:
        return max(self.limit - self.used, 0)

    def amount_text(self, amount: int, currency: str) -> str:
        if self.rule.measure == Measure.amount:
            return format_money(amount, currency)
        return str(amount)


class QuotaExceeded(DomainError):
    def __init__(self, allowance: Allowance, wanted: int, currency: str):
        left = allowance.amount_text(allowance.left, currency)
        super().__init__(
            _("Refused by the rule “%(rule)s”: %(left)s left for you, this order needs %(wanted)s. Nothing was ordered.",
              rule=describe(allowance.rule), left=left, wanted=allowance.amount_text(wanted, currency))
        )
        self.allowance = allowance
        self.wanted = wanted


def chain_root_id(buyer: User) -> int:
    """The employee whose chain the buyer belongs to (the buyer, for an employee)."""
    if buyer.level == 0 or buyer.root_employee_id is None:
        return buyer.id
    return buyer.root_employee_id


def _audiences(buyer: User) -> tuple[Audience, Audience]:
    return (Audience.everyone, Audience.employees if buyer.level == 0 else Audience.contacts)


def matches(rule: QuotaRule, take: Take) -> bool:
    if rule.window == Window.festival and take.festival_id != rule.festival_id:
        return False
    if rule.target == Target.all:
        return True
    if rule.target == Target.category:
        return take.category_id == rule.category_id
    if rule.target == Target.product:
        return take.product_id == rule.product_id
    return take.festival_item_id is not None and take.festival_item_id == rule.festival_item_id


def applicable_rules(buyer: User, takes: Sequence[Take]) -> list[QuotaRule]:
    """The active rules for this buyer's audience that any of ``takes`` falls under, by id."""
    rules = db.session.scalars(
        select(QuotaRule).where(QuotaRule.is_active.is_(True), QuotaRule.audience.in_(_audiences(buyer)))
        .order_by(QuotaRule.id)
    )
    return [rule for rule in rules if any(matches(rule, take) for take in takes)]


def users_to_lock(buyer: User, rules: Iterable[QuotaRule]) -> list[int]:
    """User rows to lock, in id order, before counting: the buyer, and the chain's employee
    when a chain rule applies."""
    ids = {buyer.id}
    if any(rule.scope == Scope.chain for rule in rules):
        ids.add(chain_root_id(buyer))
    return sorted(ids)


def _subject_id(rule: QuotaRule, buyer: User) -> int:
    return chain_root_id(buyer) if rule.scope == Scope.chain else buyer.id


def _extra(rule: QuotaRule, subject_id: int) -> int:
    return int(db.session.scalar(
        select(func.coalesce(func.sum(QuotaException.extra), 0))
        .where(QuotaException.rule_id == rule.id, QuotaException.user_id == subject_id)
    ) or 0)


def _live_orders(now: datetime):
    """Orders that still hold what they took."""
    return and_(
        Order.status.not_in((OrderStatus.cancelled, OrderStatus.expired, OrderStatus.refunded)),
        not_(and_(Order.status == OrderStatus.pending_payment, Order.expires_at <= now)),
    )


def _measure_of_lines(rule: QuotaRule):
    """Units (or money at the line's price) still held: refunded units gave theirs back."""
    held = OrderLine.quantity - OrderLine.refunded_quantity
    if rule.measure == Measure.amount:
        return func.coalesce(func.sum(held * OrderLine.unit_price), 0)
    return func.coalesce(func.sum(held), 0)


def _used(rule: QuotaRule, buyer: User, now: datetime, variant_ids: Sequence[int] | None) -> dict[int | None, int]:
    """Use of ``rule`` by the buyer or chain so far: {variant id: use} when counted per SKU,
    else {None: use}. Rules per order start from nothing."""
    if rule.window == Window.order:
        return {}
    subject = _subject_id(rule, buyer)
    query = (
        select(OrderLine.variant_id if rule.per_sku else None, _measure_of_lines(rule))
        .join(Order, Order.id == OrderLine.order_id)
        .where(_live_orders(now))
        .where(Order.buyer_id == subject if rule.scope == Scope.buyer else Order.root_employee_id == subject)
    )
    if rule.audience == Audience.employees:
        query = query.where(Order.buyer_level == 0)
    elif rule.audience == Audience.contacts:
        query = query.where(Order.buyer_level > 0)
    if rule.target == Target.category:
        query = query.join(Variant, Variant.id == OrderLine.variant_id).join(Product, Product.id == Variant.product_id)
        query = query.where(Product.category_id == rule.category_id)
    elif rule.target == Target.product:
        query = query.join(Variant, Variant.id == OrderLine.variant_id).where(Variant.product_id == rule.product_id)
    elif rule.target == Target.festival_item:
        query = query.where(OrderLine.festival_item_id == rule.festival_item_id)
    if rule.window == Window.festival:
        query = query.where(Order.festival_id == rule.festival_id)
    else:
        start, end = window_bounds(rule.window, now)
        query = query.where(Order.created_at >= start, Order.created_at < end)
    if rule.per_sku:
        query = query.where(OrderLine.variant_id.in_(list(variant_ids or ()))).group_by(OrderLine.variant_id)
    return {key: int(value or 0) for key, value in db.session.execute(query)}


def _wanted(rule: QuotaRule, takes: Sequence[Take]) -> dict[int | None, int]:
    wanted: dict[int | None, int] = {}
    for take in takes:
        if matches(rule, take):
            key = take.variant_id if rule.per_sku else None
            amount = take.quantity * take.unit_price if rule.measure == Measure.amount else take.quantity
            wanted[key] = wanted.get(key, 0) + amount
    return wanted


def allowances(buyer: User, rule: QuotaRule, takes: Sequence[Take], now: datetime) -> list[Allowance]:
    """What is left of ``rule`` for the SKUs (or the whole) that ``takes`` fall under."""
    wanted = _wanted(rule, takes)
    used = _used(rule, buyer, now, [key for key in wanted if key is not None])
    limit = rule.limit_value + _extra(rule, _subject_id(rule, buyer))
    return [Allowance(rule, limit, used.get(key, 0), key) for key in wanted]


def enforce(buyer: User, takes: Sequence[Take], now: datetime, *, currency: str,
            rules: Sequence[QuotaRule] | None = None) -> None:
    """Refuse (QuotaExceeded, naming the rule and what is left) unless every applicable rule
    allows ``takes``. Call with the rows of ``users_to_lock`` locked, in the placing transaction."""
    for rule in applicable_rules(buyer, takes) if rules is None else rules:
        wanted = _wanted(rule, takes)
        for allowance in allowances(buyer, rule, takes, now):
            need = wanted[allowance.variant_id]
            if allowance.used + need > allowance.limit:
                raise QuotaExceeded(allowance, need, currency)


def tightest(buyer: User, take: Take, now: datetime) -> list[Allowance]:
    """For the product and cart pages: every rule that applies to buying ``take``'s item,
    with what is left; the one with the least left first (units before amounts)."""
    found = [a for rule in applicable_rules(buyer, [take]) for a in allowances(buyer, rule, [take], now)]
    return sorted(found, key=lambda a: (a.rule.measure != Measure.units, a.left, a.rule.id))


def exceeded_by(buyer: User, takes: Sequence[Take], now: datetime) -> list[tuple[Allowance, int]]:
    """Every rule ``takes`` would break, with what it wants (for showing a cart's problems)."""
    broken = []
    for rule in applicable_rules(buyer, takes):
        wanted = _wanted(rule, takes)
        broken += [(a, wanted[a.variant_id]) for a in allowances(buyer, rule, takes, now)
                   if a.used + wanted[a.variant_id] > a.limit]
    return broken


__all__ = ["Allowance", "QuotaExceeded", "Take", "applicable_rules", "chain_root_id", "enforce",
           "exceeded_by", "matches", "tightest", "users_to_lock"]
