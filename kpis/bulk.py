"""Rows in bulk for the synthetic data: Core executemany in batches (the driver batches them),
never one ORM object at a time, with a progress bar when the command shows one."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy import insert

from shop.extensions import db

BATCH = 5_000

Progress = Callable[[str, int], AbstractContextManager]


class _Quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False

    def update(self, n: int, current_item=None) -> None:
        pass


def progress_of(progress: Progress | None, label: str, total: int):
    """A progress bar for ``total`` steps, or one that shows nothing."""
    return progress(label, total) if progress else _Quiet()


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
