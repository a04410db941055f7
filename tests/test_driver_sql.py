"""shop.driver_sql: a Core statement run on the driver's cursor gives what Connection.execute gives."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.audit.models import AuditEntry
from shop.database import utcnow
from shop.driver_sql import DriverStatement
from shop.extensions import db
from shop.orders.models import Order, OrderStatus


def both_ways(statement, params):
    connection = db.session.connection()
    through_sqlalchemy = [tuple(row) for row in connection.execute(statement, params)]
    return DriverStatement(statement).rows(connection, params), through_sqlalchemy


def test_rows_are_converted_as_sqlalchemy_converts_them(employee, product, place):
    placed = place(employee, product.variants[0], 2)
    cancelled = place(employee, product.variants[0], 1)
    cancelled.status = OrderStatus.cancelled
    db.session.commit()
    # Enums and UTC timestamps in the results and as parameters; an IN list fixed in the statement.
    statement = (
        sa.select(Order.id, Order.status, Order.created_at, Order.price_tier, Order.total_amount)
        .where(
            Order.buyer_id == sa.bindparam("buyer"),
            Order.status.in_([OrderStatus.pending_payment, OrderStatus.paid]),
            Order.created_at > sa.bindparam("since", type_=Order.created_at.type),
        )
        .order_by(Order.id)
    )
    rows, expected = both_ways(statement, {"buyer": employee.id, "since": utcnow() - timedelta(hours=1)})
    assert rows == expected
    assert [(row[0], row[1]) for row in rows] == [(placed.id, OrderStatus.pending_payment)]
    assert rows[0][2].tzinfo is not None and rows[0][2] == placed.created_at


def test_values_fixed_in_the_statement_and_json_parameters(employee):
    entries = (
        sa.insert(AuditEntry)
        .values(
            action=sa.bindparam("action"),
            entity_type="Order",
            entity_id=7,
            actor_id=employee.id,
            after=sa.bindparam("after", type_=AuditEntry.after.type),
            at=sa.bindparam("at", type_=AuditEntry.at.type),
        )
        .returning(AuditEntry.id)
    )
    if db.session.get_bind().dialect.name == "postgresql":  # a data-modifying CTE, as placing writes
        statement = sa.select(entries.cte("written").c.id)
        [(entry_id,)] = DriverStatement(statement).rows(
            db.session.connection(), {"action": "driver.test", "after": {"lines": {"3": 2}}, "at": utcnow()}
        )
    else:
        entry_id = db.session.execute(
            entries, {"action": "driver.test", "after": {"lines": {"3": 2}}, "at": utcnow()}
        ).scalar_one()
    statement = sa.select(AuditEntry.after, AuditEntry.entity_type).where(
        AuditEntry.id == sa.bindparam("id"), AuditEntry.action == "driver.test"
    )
    rows, expected = both_ways(statement, {"id": entry_id})
    assert rows == expected == [({"lines": {"3": 2}}, "Order")]


def test_every_named_parameter_must_be_given(employee):
    statement = sa.select(Order.id).where(Order.buyer_id == sa.bindparam("buyer"))
    with pytest.raises(KeyError):
        DriverStatement(statement).rows(db.session.connection(), {})


def test_an_in_list_as_a_parameter_is_refused():
    statement = sa.select(Order.id).where(Order.id.in_(sa.bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="IN lists"):
        DriverStatement(statement).rows(db.session.connection(), {"ids": [1, 2]})


def test_statement_events_see_it(statements, employee):
    statement = sa.select(Order.id).where(Order.buyer_id == sa.bindparam("buyer"))
    assert DriverStatement(statement).rows(db.session.connection(), {"buyer": employee.id}) == []
    assert any("FROM orders" in seen for seen in statements)


def test_driver_errors_come_out_as_sqlalchemy_errors():
    missing = sa.table("no_such_table", sa.column("x"))
    with pytest.raises(sa.exc.DBAPIError):
        DriverStatement(sa.select(missing.c.x)).rows(db.session.connection(), {})
    db.session.rollback()
