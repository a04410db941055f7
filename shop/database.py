"""Database plumbing shared by every model: UTC time, SQLite tuning, write transactions, and a
median aggregate that both databases run."""

from __future__ import annotations

import logging
import statistics
import warnings
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from shop.extensions import db

logger = logging.getLogger(__name__)

_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored as naive UTC and always returned timezone-aware (UTC)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use shop.database.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


@contextmanager
def write_intent():
    """Outside a request (CLI, threads in tests), begin the next SQLite transaction IMMEDIATE.

    SQLite allows one writer; a transaction that reads first and writes later can fail with
    SQLITE_BUSY instead of waiting. Taking the write lock at BEGIN makes writers queue on the
    busy timeout instead. Unsafe HTTP methods get this automatically.
    """
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def _wants_write_lock() -> bool:
    if _write_intent.get():
        return True
    return has_request_context() and request.method not in SAFE_METHODS


# SQLite cannot reflect an index on an expression (``ix_users_kind_lower_name``): SQLAlchemy
# leaves it out when it reads a table, and Alembic when it compares the models, each with a
# warning. PostgreSQL reflects and compares it. (A batch migration of such a table on SQLite
# recreates the table without it: the migration must create it again; tests/test_migrations.py
# checks every index of the models by name.)
_UNREFLECTED_EXPRESSION_INDEX = (
    "Skipped unsupported reflection of expression-based index",
    "autogenerate skipping metadata-specified expression-based index",
)


def ignore_unreflected_expression_indexes() -> None:
    """Silence those two warnings (for the migrations' comparison on SQLite)."""
    for message in _UNREFLECTED_EXPRESSION_INDEX:
        warnings.filterwarnings("ignore", message=message)


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL, foreign keys, a busy timeout, and BEGIN issued by us (pysqlite's own is off)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.create_aggregate("median", 1, _SQLiteMedian)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock() else "BEGIN")


class median(FunctionElement):  # noqa: N801 - named as SQL functions are
    """The median of a numeric column over a group, ignoring NULLs (NULL for none), as
    ``statistics.median`` has it: the middle value, or the mean of the two middle ones.

    PostgreSQL: the mean of the lower and the upper middle value, each one ``percentile_disc``
    (the same float as ``statistics.median``'s, where ``percentile_cont``'s interpolation may
    differ in the last bit). SQLite: an aggregate registered on every connection
    (``configure_sqlite``)."""

    type = sa.Float()
    inherit_cache = True


@compiles(median)
def _median_sqlite(element, compiler, **kw):
    return f"median({compiler.process(element.clauses, **kw)})"


@compiles(median, "postgresql")
def _median_postgresql(element, compiler, **kw):
    value = compiler.process(element.clauses, **kw)
    lower = f"percentile_disc(0.5) WITHIN GROUP (ORDER BY {value})"
    upper = f"percentile_disc(0.5) WITHIN GROUP (ORDER BY {value} DESC)"
    return f"(({lower}) + ({upper})) / 2.0"


class _SQLiteMedian:
    def __init__(self):
        self.values = []

    def step(self, value):
        if value is not None:
            self.values.append(value)

    def finalize(self):
        return statistics.median(self.values) if self.values else None


_AFTER_COMMIT_KEY = "after_commit"
_AFTER_ROLLBACK_KEY = "after_rollback"


def after_commit(callback, session: Session | None = None) -> None:
    """Run ``callback`` once the current transaction (of ``session``, by default the request's)
    commits; drop it if it rolls back.

    For side effects that must not happen unless the data is saved: mail, file deletion,
    calls to payment providers.
    """
    (db.session if session is None else session).info.setdefault(_AFTER_COMMIT_KEY, []).append(callback)


def after_rollback(callback) -> None:
    """Run ``callback`` if the current transaction rolls back (undo a file written for it)."""
    db.session.connection()  # make sure there is a transaction for the callback to follow
    db.session.info.setdefault(_AFTER_ROLLBACK_KEY, []).append(callback)


def _run(callbacks) -> None:
    for callback in callbacks or ():
        try:
            callback()
        except Exception:  # the transaction has ended either way; report and go on
            logger.exception("transaction callback %r failed", callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session):
    session.info.pop(_AFTER_ROLLBACK_KEY, None)
    _run(session.info.pop(_AFTER_COMMIT_KEY, None))


@event.listens_for(Session, "after_transaction_end")
def _run_after_rollback(session, transaction):
    # Also reached by close() without commit; after a commit the rollback list is empty.
    if transaction.parent is None:
        session.info.pop(_AFTER_COMMIT_KEY, None)
        _run(session.info.pop(_AFTER_ROLLBACK_KEY, None))


# Connection.info: a statement of the connection's current transaction may have changed data.
_WROTE = "transaction_wrote"


@event.listens_for(Engine, "begin")
def _transaction_began(connection) -> None:
    connection.info.pop(_WROTE, None)


@event.listens_for(Engine, "before_cursor_execute")
def _note_possible_write(connection, _cursor, statement, _parameters, context, _executemany) -> None:
    """Any statement but a SELECT (row locks included) or the BEGIN we emit may change data:
    INSERT, UPDATE, DELETE, textual SQL, savepoints."""
    compiled = context.compiled if context is not None else None
    if compiled is not None and compiled.statement is not None and compiled.statement.is_select:
        return
    if compiled is None and statement.lstrip()[:5].upper() == "BEGIN":
        return
    connection.info[_WROTE] = True


def changed_nothing(session: Session) -> bool:
    """True when ``session``'s transaction has changed no data and promised nothing: only
    SELECTs ran (locking rows or not), nothing waits to be flushed, and no ``after_commit`` or
    ``after_rollback`` callback is waiting. Committing it keeps exactly what rolling it back
    would (nothing) and releases the same locks."""
    if session.new or session.dirty or session.deleted:
        return False
    if session.info.get(_AFTER_COMMIT_KEY) or session.info.get(_AFTER_ROLLBACK_KEY):
        return False
    return not session.in_transaction() or not session.connection().info.get(_WROTE)


def insert_ignoring_duplicates(model):
    """INSERT ... ON CONFLICT DO NOTHING for the current database (PostgreSQL or SQLite)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model)
