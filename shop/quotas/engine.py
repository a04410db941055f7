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

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import ColumnElement, Select, and_, bindparam, case, func, not_, or_, select, true
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
        return ngettext("%(num)d unit", "%(num)d units", amount)


class QuotaExceeded(DomainError):
    """``outright``: the order wants more than the rule allows in all, whatever was used before
    (said without naming the use)."""

    def __init__(self, allowance: Allowance, wanted: int, currency: str, *, outright: bool = False):
        Exception.__init__(self, allowance, wanted)
        self.allowance, self.wanted, self.currency, self.outright = allowance, wanted, currency, outright
        self.details: dict = {}
        # Whose use and which window, as the rule was when it refused: the rule's row is expired
        # by the rollback that follows, and reading it again would be one more query.
        self.scope, self.window = allowance.rule.scope, allowance.rule.window

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


def live_orders(now):
    """Orders that still hold what they took."""
    return and_(
        Order.status.not_in((OrderStatus.cancelled, OrderStatus.expired, OrderStatus.refunded)),
        not_(and_(Order.status == OrderStatus.pending_payment, Order.expires_at <= now)),
    )


def wanted_by(rule: QuotaRule, takes: Sequence[Take]) -> dict[int | None, int]:
    wanted: dict[int | None, int] = {}
    for take in takes:
        if matches(rule, take):
            key = take.variant_id if rule.per_sku else None
            amount = take.quantity * take.unit_price if rule.measure == Measure.amount else take.quantity
            wanted[key] = wanted.get(key, 0) + amount
    return wanted


class Enforcement:
    """Every applicable rule for one order about to be placed.

    ``check()`` refuses (QuotaExceeded, naming the rule and what is left) unless every rule
    allows ``takes``. Its answer is final when the buyer's and the chain's employee's rows are
    locked, in the placing transaction: the rules, their exceptions and the use are read then,
    in one statement."""

    def __init__(self, buyer: Buyer, takes: Sequence[Take], now: datetime, *, currency: str):
        self.buyer, self.takes, self.now, self.currency = buyer, takes, now, currency
        self.standings: list[Standing] = []  # as the last check() counted them

    def check(self) -> None:
        # What a rule's sentence names is read only when a refusal is worded (most orders pass).
        self.standings = standings(self.buyer, self.takes, self.now, sentences=False)
        for standing in self.standings:
            if standing.broken:
                outright = standing.wanted > standing.allowance.limit
                raise QuotaExceeded(standing.allowance, standing.wanted, self.currency, outright=outright)


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


# ---- the rules, their exceptions and the use, in one statement ----------------------------
# Placing an order and the pages' "what is left" ask the same statement: the active rules that
# could apply to the takes, each with the extra its exceptions give the buyer or the chain,
# and its use so far per SKU, counted from the buyer's and the chain's live orders. How a rule
# counts (whose orders, which audience, which items, which window, units or money) is read
# from the rule's own columns inside the statement, so its text is the same for every set of
# rules: built once, compiled once.


def _candidate(rule) -> list[ColumnElement[bool]]:
    """Active rules of the buyer's audience whose target is among the takes' (``matches``
    decides exactly, in Python)."""
    return [
        rule.is_active.is_(True),
        or_(rule.audience == Audience.everyone, rule.audience == bindparam("audience", type_=rule.audience.type)),
        or_(rule.window != Window.festival, rule.festival_id.in_(bindparam("festival_ids", expanding=True))),
        or_(
            rule.target == Target.all,
            and_(rule.target == Target.category, rule.category_id.in_(bindparam("category_ids", expanding=True))),
            and_(rule.target == Target.product, rule.product_id.in_(bindparam("product_ids", expanding=True))),
            and_(
                rule.target == Target.festival_item,
                rule.festival_item_id.in_(bindparam("festival_item_ids", expanding=True)),
            ),
        ),
    ]


def _use_of_every_rule():
    """{rule, variant: use}: the live lines of the buyer's and the chain's orders that count
    towards each candidate rule, summed per rule and SKU (only rules with some use appear)."""
    buyer_id, root_id = bindparam("buyer_id"), bindparam("root_id")
    subjects = [buyer_id, root_id]
    # The buyer's and the chain's live orders first, through their own indexes, then their
    # lines. Materialised, so that the plan cannot start from a hot item's or festival's lines
    # instead (a nested loop over every order of a flash sale, whatever the statistics say).
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
    rule = aliased(QuotaRule, name="counting_rule")

    def within(window: Window):
        start = bindparam(f"{window}_start", type_=Order.created_at.type)
        end = bindparam(f"{window}_end", type_=Order.created_at.type)
        return and_(rule.window == window, orders.created_at >= start, orders.created_at < end)

    held = OrderLine.quantity - OrderLine.refunded_quantity
    counts = [
        or_(
            and_(rule.scope == Scope.buyer, orders.buyer_id == buyer_id),
            and_(rule.scope == Scope.chain, orders.root_employee_id == root_id),
        ),
        or_(
            rule.audience == Audience.everyone,
            and_(rule.audience == Audience.employees, orders.buyer_level == 0),
            and_(rule.audience == Audience.contacts, orders.buyer_level > 0),
        ),
        or_(
            rule.target == Target.all,
            and_(rule.target == Target.category, Product.category_id == rule.category_id),
            and_(rule.target == Target.product, Variant.product_id == rule.product_id),
            and_(rule.target == Target.festival_item, OrderLine.festival_item_id == rule.festival_item_id),
        ),
        or_(
            and_(rule.window == Window.festival, orders.festival_id == rule.festival_id),
            *(within(window) for window in CALENDAR_WINDOWS),
        ),
    ]
    return (
        select(
            rule.id.label("rule_id"),
            OrderLine.variant_id,
            func.sum(case((rule.measure == Measure.amount, held * OrderLine.unit_price), else_=held)).label("used"),
        )
        .select_from(rule)
        .join(orders, true())
        .join(OrderLine, OrderLine.order_id == orders.id)
        .join(Variant, Variant.id == OrderLine.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .where(*_candidate(rule), *counts)
        .group_by(rule.id, OrderLine.variant_id)
        .subquery("rule_use")
    )


def _standings_statement(*, windows: Collection[Window] | None = None, sentences: bool = True) -> Select:
    use = _use_of_every_rule()
    subject = case((QuotaRule.scope == Scope.chain, bindparam("root_id")), else_=bindparam("buyer_id"))
    extra = (
        select(func.coalesce(func.sum(QuotaException.extra), 0))
        .where(QuotaException.rule_id == QuotaRule.id, QuotaException.user_id == subject)
        .scalar_subquery()
    )
    query = (
        select(QuotaRule, extra.label("extra"), use.c.variant_id, use.c.used)
        .outerjoin(use, use.c.rule_id == QuotaRule.id)
        .where(*_candidate(QuotaRule))
        .order_by(QuotaRule.id, use.c.variant_id)
    )
    if windows is not None:
        query = query.where(QuotaRule.window.in_(sorted(windows)))
    if sentences:  # the pages say every rule
        query = query.options(*sentence_loads())
    return query


CALENDAR_WINDOWS = (Window.day, Window.month, Window.year)


@functools.cache  # one statement, built on first use: at import the models are not all mapped yet
def _enforcing() -> Select:
    return _standings_statement(sentences=False)


def standings(
    buyer: Buyer,
    takes: Sequence[Take],
    now: datetime,
    *,
    windows: Collection[Window] | None = None,
    sentences: bool = True,
) -> list[Standing]:
    """Every rule (of ``windows``, or all) that applies to ``takes``: what the buyer or chain
    has used, what is allowed (exceptions included) and what ``takes`` together want, read in
    one statement in the caller's transaction. A take of quantity 0 asks what is left without
    wanting anything. With ``sentences``, what the rules' sentences name is loaded too."""
    params = {
        "buyer_id": buyer.id,
        "root_id": buyer.chain_root_id,
        "audience": _audiences(buyer)[1],
        "festival_ids": sorted({take.festival_id for take in takes if take.festival_id is not None}),
        "category_ids": sorted({take.category_id for take in takes}),
        "product_ids": sorted({take.product_id for take in takes}),
        "festival_item_ids": sorted({take.festival_item_id for take in takes if take.festival_item_id is not None}),
        "now": now,
    }
    for window in CALENDAR_WINDOWS:
        params[f"{window}_start"], params[f"{window}_end"] = window_bounds(window, now)
    if windows is None and not sentences:
        statement = _enforcing()  # placing an order: the same text every time
    else:
        statement = _standings_statement(windows=windows, sentences=sentences)
    rules: dict[int, tuple[QuotaRule, int]] = {}
    use: dict[int, dict[int | None, int]] = {}
    for rule, extra, variant_id, used in db.session.execute(statement, params):
        rules[rule.id] = (rule, int(extra or 0))
        if used is not None:
            counted = use.setdefault(rule.id, {})
            key = variant_id if rule.per_sku else None
            counted[key] = counted.get(key, 0) + int(used)
    applicable = [(rule, extra) for rule, extra in rules.values() if any(matches(rule, take) for take in takes)]
    return _standings(applicable, use, takes)


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
    "standings",
    "tightest",
]
