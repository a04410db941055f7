"""Rows in bulk for the synthetic data: Core executemany in batches (the driver batches them),
never one ORM object at a time, moving the command's progress bar (``shop.demo.progress``)."""

from __future__ import annotations

from sqlalchemy import insert

from shop.extensions import db

BATCH = 5_000


def insert_rows(table, rows: list[dict], bar=None) -> None:
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        db.session.execute(insert(table), chunk)
        if bar is not None:
            bar.update(len(chunk))


def insert_returning(table, rows: list[dict], bar=None) -> list[int]:
    """``insert_rows``, returning the new ids in the order of ``rows``."""
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        result = db.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), chunk)
        ids.extend(row[0] for row in result)
        if bar is not None:
            bar.update(len(chunk))
    return ids
