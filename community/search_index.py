"""The community's full-text index, kept by the database in the same transaction as the content.

SQLite: one FTS5 table, ``community_fts``, with the trigram tokenizer (SQLite >= 3.34), so that
Chinese text, which has no spaces between words, is found by any substring of three characters
or more. Triggers on articles, questions and answers keep it in step with every insert, update
and delete; a row's ``rowid`` encodes what it indexes (``id * 4 + kind``), so a trigger finds its
row without a scan, and deleting content (tests empty every table between tests) empties it.

PostgreSQL: the ``pg_trgm`` extension and a GIN trigram index on the text of each content table;
PostgreSQL maintains those indexes itself, and they serve ``ILIKE '%term%'`` for any language.

None of this is in the SQLAlchemy models: the migration creates it, and so do the DDL events at
the bottom of this module when ``db.create_all()`` builds a database (the tests). Alembic's
comparison must not mistake these objects for drift; ``include_name`` is the filter for that.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import event

from community.models import Answer, Article, Question
from shop.extensions import db

PREFIX = "community_fts"  # every raw search object's name starts with this
MIN_SQLITE = (3, 34, 0)  # the trigram tokenizer

# The kind part of an FTS5 rowid: rowid = id * 4 + kind.
KIND_ARTICLE, KIND_QUESTION, KIND_ANSWER = 1, 2, 3
KINDS = {KIND_ARTICLE: "article", KIND_QUESTION: "question", KIND_ANSWER: "answer"}

SQLITE_FTS = f"CREATE VIRTUAL TABLE IF NOT EXISTS {PREFIX} USING fts5(title, body, tokenize='trigram')"

# What is indexed: (content table, kind, has a title). Answers have only a body.
SOURCES = (
    (Article.__tablename__, KIND_ARTICLE, True),
    (Question.__tablename__, KIND_QUESTION, True),
    (Answer.__tablename__, KIND_ANSWER, False),
)


def sqlite_triggers(table: str, kind: int, has_title: bool) -> list[str]:
    short = table.removeprefix("community_")
    title = "new.title" if has_title else "''"
    insert = f"INSERT INTO {PREFIX}(rowid, title, body) VALUES (new.id * 4 + {kind}, {title}, new.body_md);"
    delete = f"DELETE FROM {PREFIX} WHERE rowid = old.id * 4 + {kind};"
    text_columns = "title, body_md" if has_title else "body_md"
    return [
        f"CREATE TRIGGER {PREFIX}_{short}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {PREFIX}_{short}_au AFTER UPDATE OF {text_columns} ON {table} BEGIN {delete} {insert} END",
        f"CREATE TRIGGER {PREFIX}_{short}_ad AFTER DELETE ON {table} BEGIN {delete} END",
    ]


def postgres_index(table: str, kind: int, has_title: bool) -> str:
    short = table.removeprefix("community_")
    columns = "title gin_trgm_ops, body_md gin_trgm_ops" if has_title else "body_md gin_trgm_ops"
    return f"CREATE INDEX {PREFIX}_{short} ON {table} USING gin ({columns})"


def check_sqlite_version() -> None:
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise RuntimeError(
            f"the community search needs SQLite >= 3.34 (trigram tokenizer); this is {sqlite3.sqlite_version}"
        )


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic ``include_name`` filter: leave the raw search objects out of autogenerate.

    Without it, ``flask db migrate`` would propose dropping the FTS5 table and its shadow
    tables (SQLite) or the trigram indexes (PostgreSQL), which are not in the models."""
    return not (type_ in ("table", "index") and name and name.startswith(PREFIX))


# ---- create_all / drop_all ----------------------------------------------------------------


def _before_create(target, connection, **kw) -> None:
    if connection.dialect.name == "sqlite":
        check_sqlite_version()
        connection.exec_driver_sql(SQLITE_FTS)
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")


def _after_create_source(table: str, kind: int, has_title: bool):
    def create(target, connection, **kw) -> None:
        if connection.dialect.name == "sqlite":
            for statement in sqlite_triggers(table, kind, has_title):
                connection.exec_driver_sql(statement)
        elif connection.dialect.name == "postgresql":
            connection.exec_driver_sql(postgres_index(table, kind, has_title))

    return create


def _after_drop(target, connection, **kw) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {PREFIX}")


event.listen(db.metadata, "before_create", _before_create)
event.listen(db.metadata, "after_drop", _after_drop)
for _model, (_table, _kind, _has_title) in zip((Article, Question, Answer), SOURCES, strict=True):
    event.listen(_model.__table__, "after_create", _after_create_source(_table, _kind, _has_title))
