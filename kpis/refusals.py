"""Refusals of placing an order, by reason: one row per refusal (platform effectiveness).

A refusal is a fact written once, never a counter: during a flash sale a shared counter row
would make every refused buyer wait for the one before. The pages that place orders (festival
"buy now", checkout) send ``shop.orders.signals.order_refused`` after their rollback, so the
locks of the refused attempt are already released; ``record`` then writes one row in a
transaction of its own (one INSERT ... SELECT that reads the buyer's level and chain, and the
commit). On PostgreSQL that commit does not wait for the disk (``synchronous_commit`` off for
this transaction only): a crash may lose the last few refusals, never an order.

Reason codes are stable (CSV and tests read them): ``reason_of`` names each DomainError that
placing raises. A checkout refusal has no festival and no product (a cart holds several); it
counts as "during a festival" when a festival was selling at that moment.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import Insert, and_, bindparam, exists, func, insert, or_, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from kpis.aggregation import Calendar
from kpis.figures import YEAR_ROUND, Filters, in_department
from kpis.tables import Column, Table
from shop.accounts.models import User
from shop.cart.services import CartError
from shop.catalog.festival_models import Festival
from shop.database import UTCDateTime, utcnow
from shop.errors import DomainError
from shop.extensions import db
from shop.orders.errors import NotYourAddress, OutOfStock
from shop.quotas.engine import QuotaExceeded
from shop.quotas.models import Scope, Window

logger = logging.getLogger(__name__)

BUY_NOW, CHECKOUT = "buy_now", "checkout"

# code -> what the page calls it, in the order the page lists them
REASONS = {
    "sold_out": _l("Sold out"),
    "per_buyer_limit": _l("Per-buyer limit"),
    "chain_cap": _l("Chain cap"),
    "per_order_limit": _l("Per-order limit"),
    "not_selling": _l("Not selling at that moment"),
    "not_for_sale": _l("No longer for sale"),
    "no_address": _l("No address of the buyer's"),
    "quantity": _l("Invalid quantity"),
    "account": _l("Account cannot order"),
    "cart_empty": _l("Empty cart"),
    "currencies": _l("Mixed currencies"),
    "other": _l("Other"),
}


class OrderRefusal(db.Model):
    """One refused attempt to place an order. Append-only; ids are keys, not links (no foreign
    keys: the insert on the refusal path checks nothing it does not need)."""

    __tablename__ = "kpi_order_refusals"
    __table_args__ = (sa.Index("ix_kpi_order_refusals_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(sa.String(16))  # buy_now, checkout
    reason: Mapped[str] = mapped_column(sa.String(32))
    buyer_id: Mapped[int]
    buyer_level: Mapped[int] = mapped_column(sa.SmallInteger)
    root_employee_id: Mapped[int | None]  # the buyer's chain when refused
    festival_id: Mapped[int | None]  # the festival of the item ("buy now"); none at checkout
    product_id: Mapped[int | None]  # the item's product ("buy now"); none at checkout


def reason_of(refusal: DomainError) -> str:
    """The stable code of a refusal of placing an order."""
    if isinstance(refusal, OutOfStock):
        return "sold_out"
    if isinstance(refusal, QuotaExceeded):
        if refusal.scope == Scope.chain:
            return "chain_cap"
        return "per_order_limit" if refusal.window == Window.order else "per_buyer_limit"
    if isinstance(refusal, NotYourAddress):
        return "no_address"
    if isinstance(refusal, CartError):
        return "not_for_sale"
    code = refusal.details.get("code")
    return code if code in REASONS else "other"


def record(refusal: DomainError, *, buyer_id: int, festival_id: int | None, product_id: int | None, now=None) -> None:
    """The receiver of ``order_refused``: one row, committed. A failure to write it is logged
    and never turns the refusal's page into an error."""
    values = {
        "at": now or utcnow(),
        "source": BUY_NOW if festival_id is not None else CHECKOUT,
        "reason": reason_of(refusal),
        "buyer_id": buyer_id,
        "festival_id": festival_id,
        "product_id": product_id,
    }
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        db.session.execute(_recording(), values)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        logger.exception("could not record a refused order")


@functools.cache  # one statement, built on first use (every refused "buy now" writes one)
def _recording() -> Insert:
    """One row from the buyer's row as it is now: their level and chain."""
    buyer = select(
        bindparam("at", type_=UTCDateTime),
        bindparam("source", type_=sa.String),
        bindparam("reason", type_=sa.String),
        User.id,
        User.level,
        User.chain_root_id,
        bindparam("festival_id", type_=sa.Integer),
        bindparam("product_id", type_=sa.Integer),
    ).where(User.id == bindparam("buyer_id"))
    columns = ["at", "source", "reason", "buyer_id", "buyer_level", "root_employee_id", "festival_id", "product_id"]
    # the table's insert, a Core statement: the ORM would take the values for a bulk insert
    return insert(OrderRefusal.__table__).from_select(columns, buyer)


def on_order_refused(refusal: DomainError, **keys) -> None:
    record(refusal, **keys)


# ---- the counts --------------------------------------------------------------------------


def _selling(festival_id: int | None = None):
    """A festival (any, or the given one) was selling when the refusal happened."""
    condition = and_(Festival.launch_at <= OrderRefusal.at, Festival.ends_at > OrderRefusal.at)
    if festival_id is not None:
        condition = and_(condition, Festival.id == festival_id)
    return exists(select(Festival.id).where(condition))


def counts(f: Filters) -> Counter:
    """Refusals in the cut by (source, reason). Festivals: "buy now" of the festival(s) and
    checkouts while it (any) was selling; year-round only: checkouts while none was."""
    start, end = f.bounds(Calendar())
    query = select(OrderRefusal.source, OrderRefusal.reason, func.count()).where(
        OrderRefusal.at >= start, OrderRefusal.at < end
    )
    query = _cut(query, f).group_by(OrderRefusal.source, OrderRefusal.reason)
    return Counter({(source, reason): int(n) for source, reason, n in db.session.execute(query)})


def counts_and_before(f: Filters) -> tuple[Counter, Counter]:
    """``counts`` of the period and of the one before (the same cuts), in one statement."""
    calendar = Calendar()
    start, end = f.bounds(calendar)
    earlier, _ = f.previous().bounds(calendar)
    now = OrderRefusal.at >= start
    query = select(now, OrderRefusal.source, OrderRefusal.reason, func.count()).where(
        OrderRefusal.at >= earlier, OrderRefusal.at < end
    )
    query = _cut(query, f).group_by(now, OrderRefusal.source, OrderRefusal.reason)
    found: tuple[Counter, Counter] = (Counter(), Counter())
    for is_now, source, reason, n in db.session.execute(query):
        found[0 if is_now else 1][(source, reason)] = int(n)
    return found


def _cut(query, f: Filters):
    """``query`` over OrderRefusal with the cuts other than dates."""
    festival = f.festival_id()
    if f.festival == YEAR_ROUND:
        query = query.where(OrderRefusal.festival_id.is_(None), ~_selling())
    elif festival is not None:
        query = query.where(
            or_(
                OrderRefusal.festival_id == festival,
                and_(OrderRefusal.festival_id.is_(None), _selling(festival)),
            )
        )
    else:
        query = query.where(or_(OrderRefusal.festival_id.is_not(None), _selling()))
    if f.product_id is not None:
        query = query.where(OrderRefusal.product_id == f.product_id)
    if f.level is not None:
        query = query.where(OrderRefusal.buyer_level == f.level)
    if f.department_id is not None:
        query = query.where(in_department(OrderRefusal.root_employee_id, f.department_id))
    return query


def table(f: Filters) -> Table:
    """Refusals by reason, "buy now" and checkout, beside the previous period's total."""
    now, before = counts_and_before(f)
    result = Table(
        "refusals",
        _l("Order refusals during festivals, by reason"),
        [
            Column(_l("Reason"), "text"),
            Column(_l("Code"), "text"),
            Column(_l("Buy now"), "int"),
            Column(_l("Checkout"), "int"),
            Column(_l("Total"), "int"),
            Column(_l("Previous period"), "int"),
        ],
        chart="bars",
        series=[4, 5],
    )
    for code, label in REASONS.items():
        buy_now, checkout = now[(BUY_NOW, code)], now[(CHECKOUT, code)]
        previous = before[(BUY_NOW, code)] + before[(CHECKOUT, code)]
        if buy_now or checkout or previous:
            result.rows.append([str(label), code, buy_now, checkout, buy_now + checkout, previous])
    notes = [_l("Checkouts count while a festival was selling (year-round only: while none was).")]
    if f.product_id is not None:
        notes.append(_l("A checkout has no single product: under a product cut only “buy now” refusals count."))
    result.note = " ".join(str(n) for n in notes)
    return result
