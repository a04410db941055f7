"""Core statements run on the driver's cursor: compiled once per dialect, then run without
SQLAlchemy's work per execution.

For every execution SQLAlchemy derives the statement's cache key by walking its whole
expression, processes each parameter through the compiled statement, and builds a result
object with its row metadata. For the few large statements of "buy now" (the lock that reads
the buyer, the item and the address; the quota use; the take with the order's inserts) that
work cost more of the worker's CPU than the driver's own (measured in bench/README.md). A
``DriverStatement`` compiles its statement once per dialect, with the same SQL text, the
same type processing of parameters and results, and the same ``before_cursor_execute`` /
``after_cursor_execute`` events (tests count statements through them); driver errors come
out as SQLAlchemy's, and a lost connection is invalidated, as ``Connection.execute`` does.

Only statements whose parameters are all plain values qualify: an "expanding" IN list must be
fixed in the statement (literal values), not a parameter.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import Select


class _Compiled:
    """One statement compiled for one dialect: its SQL, the values fixed in it, and how each
    parameter and each result column is converted."""

    def __init__(self, statement: Select, dialect: Dialect):
        compiled = statement.compile(dialect=dialect)
        required = {name for name, bind in compiled.binds.items() if bind.required}
        if any(compiled.binds[name].expanding for name in required):
            raise ValueError("a DriverStatement's IN lists are fixed in the statement, not parameters")
        expanded = compiled.construct_expanded_state(dict.fromkeys(required))
        escaped = compiled.escaped_bind_names or {}
        self.sql: str = expanded.statement
        self.positions = expanded.positiontup  # the parameters' order for a positional paramstyle, else None
        names = {escaped.get(name, name): name for name in compiled.binds}
        self.fixed: dict[str, Any] = {}
        for key, value in expanded.parameters.items():
            name = names.get(key)
            if name in required:
                continue
            # A value fixed in the statement, or one value of a fixed IN list.
            processor = expanded.processors.get(key) if name is None else _bind_processor(compiled.binds[name], dialect)
            self.fixed[key] = processor(value) if processor is not None and value is not None else value
        self.processors = {
            name: (escaped.get(name, name), _bind_processor(compiled.binds[name], dialect)) for name in required
        }
        self.results = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in statement.selected_columns
        ]
        self.converts_results = any(self.results)

    def values(self, params: Mapping[str, Any]):
        values = dict(self.fixed)
        for name, (key, processor) in self.processors.items():
            value = params[name]
            values[key] = processor(value) if processor is not None and value is not None else value
        if self.positions is not None:
            return [values[key] for key in self.positions]
        return values

    def convert(self, rows: list) -> list[tuple]:
        if not self.converts_results:
            return rows
        results = self.results
        return [
            tuple(value if convert is None else convert(value) for convert, value in zip(results, row, strict=True))
            for row in rows
        ]


def _bind_processor(bind, dialect: Dialect):
    return bind.type.dialect_impl(dialect).bind_processor(dialect)


class DriverStatement:
    """A Core ``SELECT`` (locks, CTEs and data-modifying CTEs included) run on the cursor of
    the caller's connection: ``rows(connection, params)`` gives its rows as tuples, converted
    as SQLAlchemy converts them. Every parameter the statement names must be given."""

    def __init__(self, statement: Select):
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def compiled_for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            with self._lock:
                found = self._compiled.get(dialect.name) or _Compiled(self.statement, dialect)
                self._compiled[dialect.name] = found
        return found

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple]:
        dialect = connection.dialect
        compiled = self.compiled_for(dialect)
        sql, values = compiled.sql, compiled.values(params)
        dbapi_connection = connection.connection.dbapi_connection
        cursor = dbapi_connection.cursor()
        try:
            dispatch = connection.dispatch
            if dispatch.before_cursor_execute:
                dispatch.before_cursor_execute(connection, cursor, sql, values, None, False)
            cursor.execute(sql, values)
            rows = cursor.fetchall()
            if dispatch.after_cursor_execute:
                dispatch.after_cursor_execute(connection, cursor, sql, values, None, False)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, cursor):
                connection.invalidate(error)
            raise exc.DBAPIError.instance(sql, values, error, dialect.loaded_dbapi.Error, dialect=dialect) from error
        finally:
            cursor.close()
        return compiled.convert(rows)
