"""Counting quota use and enforcing rules when an order is placed.

Use is never kept in a counter of its own: it is summed from the order lines that still hold
it (unpaid orders within their deadline, paid, shipped, completed; refunded units excluded),
so cancelling, expiring or refunding (``OrderLine.refunded_quantity``) gives back exactly what
was taken, once, by construction.
Enforcement is atomic because every order that could add to a sum first locks the row of the
buyer and of the chain's employee, in user-id order (``shop.checkout.placing``), then reads the
rules, their exceptions and the use afresh, and checks and inserts in the same transaction;
SQLite's writers are serialised anyway. Nothing here is cached: a rule saved by any process is
enforced by the next order placed in every other.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, bindparam, case, exists, func, not_, or_, select
from sqlalchemy.orm import aliased

from shop.accounts.models import Buyer
from shop.catalog.models import PriceTier, Product, Variant
from shop.errors import DomainError
from shop.extensions import db
from shop.i18n import format_money
from shop.orders.models import Order, OrderLine, OrderStatus
from shop.quotas.models import Audience, Measure, QuotaException, QuotaRule, Scope, Target, Window
from shop.quotas.sentences import describe, sentence_loads
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

    @classmethod
    def of(cls, variant: Variant, quantity: int, tier: PriceTier) -> Take:
        """Buying ``quantity`` of ``variant`` at the tier's price (the pages' "what is left")."""
        return cls(variant.id, variant.product_id, variant.product.category_id, quantity, variant.price_for(tier))


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
    """``outright``: the order wants more than the rule allows in all, whatever was used before
    (said without naming the use)."""

    def __init__(self, allowance: Allowance, wanted: int, currency: str, *, outright: bool = False):
        Exception.__init__(self, allowance, wanted)
        self.allowance, self.wanted, self.currency, self.outright = allowance, wanted, currency, outright
        self.details: dict = {}

    @cached_property
    def message(self) -> str:
        allowance, currency = self.allowance, self.currency
        wanted_text = allowance.amount_text(self.wanted, currency)
        if self.outright:
            return _(
                "Refused by the rule “%(rule)s”: it allows %(limit)s in all, this order needs %(wanted)s. "
                "Nothing was ordered.",
                rule=describe(allowance.rule),
                limit=allowance.amount_text(allowance.limit, currency),
                wanted=wanted_text,
            )
        return _(
            "Refused by the rule “%(rule)s”: %(left)s left for you, this order needs %(wanted)s. Nothing was ordered.",
            rule=describe(allowance.rule),
            left=allowance.amount_text(allowance.left, currency),
            wanted=wanted_text,
        )

    def __str__(self) -> str:
        return self.message


def _audiences(buyer: Buyer) -> tuple[Audience, Audience]:
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


def subject_id(rule: QuotaRule, buyer: Buyer) -> int:
    return buyer.chain_root_id if rule.scope == Scope.chain else buyer.id


def live_orders(now: datetime):
    """Orders that still hold what they took."""
    return and_(
        Order.status.not_in((OrderStatus.cancelled, OrderStatus.expired, OrderStatus.refunded)),
        not_(and_(Order.status == OrderStatus.pending_payment, Order.expires_at <= now)),
    )


def line_measure(rule: QuotaRule):
    """What one order line still holds of a rule: its units, or its money at the line's price;
    refunded units gave theirs back."""
    held = OrderLine.quantity - OrderLine.refunded_quantity
    return held * OrderLine.unit_price if rule.measure == Measure.amount else held


def counted(rule: QuotaRule, buyer: Buyer, now: datetime, orders=Order) -> list[ColumnElement[bool]]:
    """The conditions an order line (joined with its order, and with its variant and product
    for category and product rules) meets when it counts towards ``rule`` for this buyer or
    their chain: the one definition of use, for enforcing and for showing what is left.
    ``orders`` is the orders table or an alias of it that the query joins."""
    start, end = window_bounds(rule.window, now) if rule.window != Window.festival else (None, None)
    return _conditions(rule, orders, subject_id(rule, buyer), start, end)


def _conditions(rule: QuotaRule, orders, subject, start, end) -> list[ColumnElement[bool]]:
    """``counted``, with the subject and the window's bounds given as values or bound parameters."""
    conditions = [orders.buyer_id == subject if rule.scope == Scope.buyer else orders.root_employee_id == subject]
    if rule.audience == Audience.employees:
        conditions.append(orders.buyer_level == 0)
    elif rule.audience == Audience.contacts:
        conditions.append(orders.buyer_level > 0)
    if rule.target == Target.category:
        conditions.append(Product.category_id == rule.category_id)
    elif rule.target == Target.product:
        conditions.append(Variant.product_id == rule.product_id)
    elif rule.target == Target.festival_item:
        conditions.append(OrderLine.festival_item_id == rule.festival_item_id)
    if rule.window == Window.festival:
        conditions.append(orders.festival_id == rule.festival_id)
    else:
        conditions += [orders.created_at >= start, orders.created_at < end]
    return conditions


def wanted_by(rule: QuotaRule, takes: Sequence[Take]) -> dict[int | None, int]:
    wanted: dict[int | None, int] = {}
    for take in takes:
        if matches(rule, take):
            key = take.variant_id if rule.per_sku else None
            amount = take.quantity * take.unit_price if rule.measure == Measure.amount else take.quantity
            wanted[key] = wanted.get(key, 0) + amount
    return wanted


class Enforcement:
    """Every applicable rule for one order about to be placed, its use query built once.

    ``check()`` refuses (QuotaExceeded, naming the rule and what is left) unless every rule
    allows ``takes``. Its answer is final when the buyer's and the chain's employee's rows are
    locked, in the placing transaction, and the rules were read under those locks."""

    def __init__(
        self,
        buyer: Buyer,
        takes: Sequence[Take],
        now: datetime,
        *,
        currency: str,
        rules: Sequence[tuple[QuotaRule, int]] | None = None,
    ):
        self.takes, self.currency = takes, currency
        # What a rule's sentence names is read only when a refusal is worded (most orders pass).
        self.rules = rules_for(buyer, takes, sentences=False) if rules is None else rules
        self._use = _UseQuery([rule for rule, _extra in self.rules], buyer, now)
        self.standings: list[Standing] = []  # as the last check() counted them

    def check(self) -> None:
        self.standings = _standings(self.rules, self._use.run(), self.takes)
        for standing in self.standings:
            if standing.broken:
                outright = standing.wanted > standing.allowance.limit
                raise QuotaExceeded(standing.allowance, standing.wanted, self.currency, outright=outright)


# ---- what is left, for the product and cart pages -----------------------------------------
# The pages ask about several items at once and must stay fast: the rules come with the
# buyer's exceptions in one query, and the use of every rule in one more (none when only
# per-order rules apply), built from the same ``counted`` conditions that enforcement uses.


@dataclass(frozen=True)
class Standing:
    """One rule (for one SKU, when counted per SKU): what is used and what ``takes`` want of it."""

    allowance: Allowance
    wanted: int

    @property
    def rule(self) -> QuotaRule:
        return self.allowance.rule

    @property
    def room(self) -> int:
        """What could still be added on top of ``wanted``; negative when the rule is broken."""
        return self.allowance.limit - self.allowance.used - self.wanted

    @property
    def broken(self) -> bool:
        return self.room < 0

    def covers(self, take: Take) -> bool:
        return matches(self.rule, take) and self.allowance.variant_id in (None, take.variant_id)

    def units_more(self, take: Take) -> int | None:
        """Units of ``take``'s item that still fit; None when the rule cannot bind (money rules
        on a free item)."""
        if self.rule.measure == Measure.units:
            return max(self.room, 0)
        return max(self.room, 0) // take.unit_price if take.unit_price > 0 else None


def _rules_with_extras(
    buyer: Buyer, windows: Collection[Window] | None, festival_ids: Collection[int], *, sentences: bool = True
) -> list[tuple[QuotaRule, int]]:
    """The active rules of the buyer's audience that could apply (festival rules only of
    ``festival_ids``), each with the extra that exceptions give this buyer or chain: read from
    the database in the caller's transaction, the extras only for rules that have exceptions."""
    granted = exists().where(QuotaException.rule_id == QuotaRule.id)
    query = select(QuotaRule, granted).where(QuotaRule.is_active.is_(True), QuotaRule.audience.in_(_audiences(buyer)))
    if windows is not None:
        query = query.where(QuotaRule.window.in_(list(windows)))
    query = query.where(or_(QuotaRule.window != Window.festival, QuotaRule.festival_id.in_(sorted(festival_ids))))
    if sentences:  # the pages say every rule
        query = query.options(*sentence_loads())
    found = list(db.session.execute(query.order_by(QuotaRule.id)).unique())
    extras = _extras(buyer, [rule for rule, has_exceptions in found if has_exceptions])
    return [(rule, extras.get(rule.id, 0)) for rule, _has_exceptions in found]


def _extras(buyer: Buyer, rules: Sequence[QuotaRule]) -> dict[int, int]:
    """{rule id: extra granted to this buyer (buyer rules) or their chain's employee (chain rules)}."""
    if not rules:
        return {}
    subject = case((QuotaRule.scope == Scope.chain, buyer.chain_root_id), else_=buyer.id)
    query = (
        select(QuotaException.rule_id, func.sum(QuotaException.extra))
        .join(QuotaRule, QuotaRule.id == QuotaException.rule_id)
        .where(QuotaException.rule_id.in_([rule.id for rule in rules]), QuotaException.user_id == subject)
        .group_by(QuotaException.rule_id)
    )
    return {rule_id: int(extra) for rule_id, extra in db.session.execute(query)}


class _UseQuery:
    """{rule id: {variant id (per SKU) or None: use}} for every rule, in one grouped query
    (none when only per-order rules apply); run as often as needed."""

    def __init__(self, rules: Sequence[QuotaRule], buyer: Buyer, now: datetime):
        self.counting = [rule for rule in rules if rule.window != Window.order]
        self.query = _build_use_query(self.counting) if self.counting else None
        self.params = {"buyer_id": buyer.id, "root_id": buyer.chain_root_id, "now": now}
        for index, rule in enumerate(self.counting):
            if rule.window != Window.festival:
                self.params[f"start_{index}"], self.params[f"end_{index}"] = window_bounds(rule.window, now)

    def run(self) -> dict[int, dict[int | None, int]]:
        if self.query is None:
            return {}
        use: dict[int, dict[int | None, int]] = {rule.id: {} for rule in self.counting}
        for variant_id, *values in db.session.execute(self.query, self.params):
            for rule, value in zip(self.counting, values, strict=True):
                key = variant_id if rule.per_sku else None
                use[rule.id][key] = use[rule.id].get(key, 0) + int(value or 0)
        return use


def _build_use_query(counting: Sequence[QuotaRule]) -> Select:
    # The buyer's and the chain's live orders first, through their own indexes, then their
    # lines. Materialised, so that the plan cannot start from a hot item's or festival's lines
    # instead (a nested loop over every order of a flash sale, whatever the statistics say).
    buyer_id, root_id = bindparam("buyer_id"), bindparam("root_id")
    subjects = [buyer_id, root_id]
    own = (
        select(Order.id, Order.buyer_id, Order.root_employee_id, Order.buyer_level, Order.festival_id, Order.created_at)
        .where(
            or_(Order.buyer_id.in_(subjects), Order.root_employee_id.in_(subjects)),
            live_orders(bindparam("now", type_=Order.expires_at.type)),
        )
        .cte("subject_orders")
        .prefix_with("MATERIALIZED")
    )
    orders = aliased(Order, own)
    conditions = [
        and_(
            *_conditions(
                rule,
                orders,
                buyer_id if rule.scope == Scope.buyer else root_id,
                bindparam(f"start_{index}"),
                bindparam(f"end_{index}"),
            )
        )
        for index, rule in enumerate(counting)
    ]
    return (
        select(
            OrderLine.variant_id,
            *(
                func.coalesce(func.sum(case((condition, line_measure(rule)), else_=0)), 0)
                for rule, condition in zip(counting, conditions, strict=True)
            ),
        )
        .select_from(orders)
        .join(OrderLine, OrderLine.order_id == orders.id)
        .join(Variant, Variant.id == OrderLine.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .where(or_(*conditions))
        .group_by(OrderLine.variant_id)
    )


def rules_for(
    buyer: Buyer, takes: Sequence[Take], *, windows: Collection[Window] | None = None, sentences: bool = True
) -> list[tuple[QuotaRule, int]]:
    """The active rules (of ``windows``, or all) that apply to ``takes`` for this buyer, each
    with the extra its exceptions give the buyer or chain; one query (with what the rules'
    sentences name, unless ``sentences`` is false)."""
    festival_ids = {take.festival_id for take in takes if take.festival_id is not None}
    return [
        (rule, extra)
        for rule, extra in _rules_with_extras(buyer, windows, festival_ids, sentences=sentences)
        if any(matches(rule, take) for take in takes)
    ]


def standings(
    buyer: Buyer,
    takes: Sequence[Take],
    now: datetime,
    *,
    windows: Collection[Window] | None = None,
    rules: Sequence[tuple[QuotaRule, int]] | None = None,
) -> list[Standing]:
    """Every rule (of ``windows``, or all; or ``rules`` from ``rules_for``) that applies to
    ``takes``: what the buyer or chain has used, what is allowed (exceptions included) and what
    ``takes`` together want. A take of quantity 0 asks what is left without wanting anything."""
    if rules is None:
        rules = rules_for(buyer, takes, windows=windows)
    return _standings(rules, _UseQuery([rule for rule, _extra in rules], buyer, now).run(), takes)


def _standings(
    rules: Sequence[tuple[QuotaRule, int]], use: dict[int, dict[int | None, int]], takes: Sequence[Take]
) -> list[Standing]:
    found = []
    for rule, extra in rules:
        used = use.get(rule.id, {})
        for key, wanted in wanted_by(rule, takes).items():
            found.append(Standing(Allowance(rule, rule.limit_value + extra, used.get(key, 0), key), wanted))
    return found


def tightest(buyer: Buyer, take: Take, now: datetime) -> list[Allowance]:
    """For the product and cart pages: every rule that applies to buying ``take``'s item,
    with what is left; the one with the least left first (units before amounts)."""
    found = [standing.allowance for standing in standings(buyer, [take], now)]
    return sorted(found, key=lambda a: (a.rule.measure != Measure.units, a.left, a.rule.id))


def exceeded_by(buyer: Buyer, takes: Sequence[Take], now: datetime) -> list[tuple[Allowance, int]]:
    """Every rule ``takes`` would break, with what it wants (for showing a cart's problems)."""
    return [(standing.allowance, standing.wanted) for standing in standings(buyer, takes, now) if standing.broken]


__all__ = [
    "Allowance",
    "Enforcement",
    "QuotaExceeded",
    "Standing",
    "Take",
    "exceeded_by",
    "matches",
    "rules_for",
    "standings",
    "tightest",
]
