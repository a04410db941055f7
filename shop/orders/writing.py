"""Writing a placed order: the order row, its lines and its audit entry, in the caller's transaction.

Placing writes with Core: the ORM's unit of work costs more than the INSERTs it runs. Every
column is written, so only the new ids come back, and ``Written.loaded`` builds the ORM objects
from what was written (tests/test_orders.py compares them with the rows, column by column).

On PostgreSQL an order of one line is written by a single statement, the three inserts as
data-modifying CTEs; for "buy now" (every post of a flash sale that gets an order) the take
from the festival item's allocation comes first in the same statement. One round trip instead
of four, so the item's row, locked by the take, is held only until the commit that follows.
SQLite has no such CTEs and orders of several lines are rare: they take one statement each.
The one-statement forms run on the driver's cursor (shop/driver_sql.py), compiled once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, bindparam, insert, select, true
from sqlalchemy.orm.attributes import set_committed_value

from shop.audit.models import AuditEntry
from shop.audit.services import entry_values, record_inserted
from shop.database import attach_loaded, utcnow
from shop.driver_sql import DriverStatement
from shop.extensions import db
from shop.orders import stock
from shop.orders.models import Order, OrderLine, OrderStatus

_ORDERS, _LINES, _ENTRIES = Order.__table__, OrderLine.__table__, AuditEntry.__table__
_INSERT_ORDER = insert(_ORDERS).returning(_ORDERS.c.id)
_INSERT_LINES = insert(_LINES).returning(_LINES.c.id, sort_by_parameter_order=True)
_ORDER_NOT_YET = dict.fromkeys(
    ("payment_method", "paid_at", "shipped_at", "carrier", "tracking_number", "completed_at", "closed_at")
)


def _params(prefix: str, table, skip: tuple[str, ...]) -> dict:
    """{column key: a bound parameter of the column's type named ``prefix`` + key}, but ``skip``."""
    return {
        column.key: bindparam(prefix + column.key, type_=column.type) for column in table.c if column.key not in skip
    }


def _build_one_line_order(*, take: bool) -> Select:
    """INSERT the order, then its one line and its audit entry with the order's new id: one
    statement returning (order id, line id). Parameters: ``order_<column>``, ``line_<column>``
    and ``entry_<column>`` for every column but the ids. With ``take``, the units are first
    taken from the festival item's allocation (``stock.allocation_take_cte``: ``take_item_id``,
    ``take_units``), the order is written only if that succeeds, and what the item has left
    comes back third; no row at all when the take fell short."""
    order = _params("order_", _ORDERS, ("id",))
    if take:
        taken = stock.allocation_take_cte()
        new_order = insert(_ORDERS).from_select(list(order), select(*order.values()).select_from(taken))
    else:
        new_order = insert(_ORDERS).values(order)
    new_order = new_order.returning(_ORDERS.c.id).cte("new_order")
    line = _params("line_", _LINES, ("id", "order_id"))
    new_line = (
        insert(_LINES)
        .from_select(["order_id", *line], select(new_order.c.id, *line.values()))
        .returning(_LINES.c.id, _LINES.c.order_id)
        .cte("new_line")
    )
    entry = _params("entry_", _ENTRIES, ("id", "entity_id"))
    new_entry = insert(_ENTRIES).from_select(["entity_id", *entry], select(new_order.c.id, *entry.values()))
    query = select(new_order.c.id, new_line.c.id).join_from(new_order, new_line, new_line.c.order_id == new_order.c.id)
    if take:
        query = query.add_columns(taken.c.left).join(taken, true())
    return query.add_cte(new_entry.cte("new_entry"))


_ONE_LINE_ORDER = DriverStatement(_build_one_line_order(take=False))
_TAKE_AND_ONE_LINE_ORDER = DriverStatement(_build_one_line_order(take=True))


def in_one_statement(lines: list) -> bool:
    """Whether an order of ``lines`` is written by one statement here (PostgreSQL, one line)."""
    return len(lines) == 1 and db.session.get_bind().dialect.name == "postgresql"


@dataclass(frozen=True)
class Written:
    """An order just written: every column of it and of its lines, and the new ids."""

    values: dict
    order_id: int
    lines: list[dict]
    line_ids: list[int]

    def loaded(self) -> Order:
        """The order as a loaded ORM object with its lines, in the session: no SQL. "Buy now"
        needs only the id, and skips building (and, at the commit, expiring) these."""
        order = attach_loaded(db.session, Order, {**self.values, "id": self.order_id})
        loaded = [
            attach_loaded(db.session, OrderLine, {**line, "order_id": self.order_id, "id": line_id})
            for line, line_id in zip(self.lines, self.line_ids, strict=True)
        ]
        set_committed_value(order, "lines", loaded)
        for line in loaded:
            set_committed_value(line, "order", order)
        return order


def write_order(
    *, buyer, ship_to: str, lines: list[dict], currency: str, tier, festival_id: int | None, now: datetime
) -> Written:
    """Insert a pending order of ``lines`` (order line columns but the ids), its lines and its
    audit entry."""
    values, audit = _order_values(buyer, ship_to, lines, currency, tier, festival_id, now)
    connection = db.session.connection()
    if in_one_statement(lines):
        [(order_id, line_id)] = _ONE_LINE_ORDER.rows(connection, _one_statement_params(values, lines[0], audit))
        line_ids = [line_id]
    else:
        order_id = connection.execute(_INSERT_ORDER, values).scalar_one()
        line_ids = connection.execute(_INSERT_LINES, [{**line, "order_id": order_id} for line in lines]).scalars().all()
        action, entity_type, options = audit
        record_inserted(action, entity_type, order_id, **options)
    return Written(values, order_id, lines, line_ids)


def take_and_write_order(
    *, buyer, ship_to: str, line: dict, currency: str, tier, festival_id: int, now: datetime
) -> tuple[Written, int] | None:
    """``write_order`` of one line from a festival item, its units taken from the item's
    allocation in the same statement (only where ``in_one_statement``): the order and what the
    item has left, or None when the allocation fell short and nothing was written."""
    values, audit = _order_values(buyer, ship_to, [line], currency, tier, festival_id, now)
    params = _one_statement_params(values, line, audit)
    params.update(take_item_id=line["festival_item_id"], take_units=line["quantity"])
    written = _TAKE_AND_ONE_LINE_ORDER.rows(db.session.connection(), params)
    stock.taken_from_items([line["festival_item_id"]])
    if not written:
        return None
    [(order_id, line_id, left)] = written
    return Written(values, order_id, [line], [line_id]), left


def _order_values(
    buyer, ship_to: str, lines: list[dict], currency: str, tier, festival_id: int | None, now: datetime
) -> tuple[dict, tuple]:
    """The order's columns, and its audit entry as (action, entity type, options)."""
    values = {
        "buyer_id": buyer.id,
        "status": OrderStatus.pending_payment,
        "currency": currency,
        "price_tier": tier,
        "total_amount": sum(line["unit_price"] * line["quantity"] for line in lines),
        "refunded_amount": 0,
        "buyer_level": buyer.level,
        "root_employee_id": buyer.id if buyer.level == 0 else buyer.root_employee_id,
        "l1_contact_id": buyer.l1_contact_id if buyer.level == 2 else None,
        "festival_id": festival_id,
        "ship_to": ship_to,
        "created_at": now,
        "expires_at": now + timedelta(minutes=current_app.config["RESERVATION_MINUTES"]),
        **_ORDER_NOT_YET,
    }
    audit = (
        "order.place",
        "Order",
        dict(
            actor_id=buyer.id,
            after={
                "status": str(values["status"]),
                "total": values["total_amount"],
                "festival_id": festival_id,
                "lines": {str(line["variant_id"]): line["quantity"] for line in lines},
            },
        ),
    )
    return values, audit


def _one_statement_params(values: dict, line: dict, audit: tuple) -> dict:
    action, entity_type, options = audit
    entry = entry_values(action, entity_type, None, **options)
    params = {f"order_{key}": value for key, value in values.items()}
    params.update({f"line_{key}": value for key, value in line.items()})
    params.update({f"entry_{key}": value for key, value in entry.items() if key != "entity_id"})
    params["entry_at"] = utcnow()
    return params
