"""The one place a view commits: ``unit_of_work``.

A view that changes something calls its services inside ``with unit_of_work(...) as work:``.
When the block ends normally the transaction is committed (and ``done`` is flashed); when a
service refuses with a ``DomainError`` nothing of the transaction is kept (it is rolled back,
or committed when it changed nothing: ``_end_refused``), the refusal's message is flashed
(unless the view shows it another way) and the view carries on after the block with
``work.refusal`` set, to re-render its form or redirect; any other exception (a bug,
``abort()``) rolls back and goes on up. Services add and flush, never commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import flash

from shop.database import changed_nothing, write_intent
from shop.errors import DomainError
from shop.extensions import db


@dataclass
class Work:
    """What became of one unit of work: ``refusal`` is the DomainError that rolled it back, and
    ``page`` what ``unit_of_work``'s ``refusal_page`` made of it."""

    refusal: DomainError | None = None
    page: Any = None

    @property
    def refused(self) -> bool:
        return self.refusal is not None


@contextmanager
def unit_of_work(
    done: str | None = None,
    *,
    flash_refusal: bool = True,
    refusal_page: Callable[[DomainError], Any] | None = None,
) -> Iterator[Work]:
    """Commit what the block did, or roll it back (see the module's docstring).

    ``done``: flashed ("success") after the commit. ``flash_refusal``: false when the view puts
    the refusal's message somewhere else (a form field, a page of its own). ``refusal_page``:
    called with a refusal just before the rollback, while the rows the transaction read are
    still loaded (the rollback expires them, and each would be read again); its result is
    ``work.page``. A hot page that names what was refused (buy now) is rendered so."""
    work = Work()
    try:
        yield work
    except DomainError as refusal:
        work.refusal = refusal
        try:
            if refusal_page is not None:
                work.page = refusal_page(refusal)
        finally:
            _end_refused()
        if flash_refusal:
            flash(refusal.message, "error")
        return
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    if done:
        flash(done, "success")


def _end_refused() -> None:
    """Nothing of a refused unit of work is kept. One that changed nothing (it read, and locked
    rows, to decide) is committed, which keeps the same nothing and releases the same locks;
    anything else is rolled back. Committing leaves the database driver's prepared statements
    in place, where a rollback makes psycopg drop every one of the connection's: in a flash
    sale, where most presses are refused, PostgreSQL would parse and plan each statement of
    the next presses again (bench/README.md, "Refusals end with a commit")."""
    if changed_nothing(db.session()):  # the request's Session itself, not its scoped proxy
        db.session.commit()
    else:
        db.session.rollback()


@contextmanager
def fact_recorded_on_read() -> Iterator[Work]:
    """For a GET that records a fact (a visit, a search): end the read transaction, then write
    the fact as a unit of work of its own that takes SQLite's write lock at BEGIN."""
    db.session.commit()  # end the read transaction: the write below begins its own
    with write_intent(), unit_of_work(flash_refusal=False) as work:
        yield work
