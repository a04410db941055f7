"""The one place a view commits: ``unit_of_work``.

A view that changes something calls its services inside ``with unit_of_work(...) as work:``.
When the block ends normally the transaction is committed (and ``done`` is flashed); when a
service refuses with a ``DomainError`` the transaction is rolled back, nothing of it is kept,
the refusal's message is flashed (unless the view shows it another way) and the view carries on
after the block with ``work.refusal`` set, to re-render its form or redirect; any other
exception (a bug, ``abort()``) rolls back and goes on up. Services add and flush, never commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash

from shop.database import write_intent
from shop.errors import DomainError
from shop.extensions import db


@dataclass
class Work:
    """What became of one unit of work: ``refusal`` is the DomainError that rolled it back."""

    refusal: DomainError | None = None

    @property
    def refused(self) -> bool:
        return self.refusal is not None


@contextmanager
def unit_of_work(done: str | None = None, *, flash_refusal: bool = True) -> Iterator[Work]:
    """Commit what the block did, or roll it back (see the module's docstring).

    ``done``: flashed ("success") after the commit. ``flash_refusal``: false when the view puts
    the refusal's message somewhere else (a form field, a page of its own)."""
    work = Work()
    try:
        yield work
    except DomainError as refusal:
        db.session.rollback()
        work.refusal = refusal
        if flash_refusal:
            flash(refusal.message, "error")
        return
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    if done:
        flash(done, "success")


@contextmanager
def fact_recorded_on_read() -> Iterator[Work]:
    """For a GET that records a fact (a visit, a search): end the read transaction, then write
    the fact as a unit of work of its own that takes SQLite's write lock at BEGIN."""
    db.session.commit()  # end the read transaction: the write below begins its own
    with write_intent(), unit_of_work(flash_refusal=False) as work:
        yield work
