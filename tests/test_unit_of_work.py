"""The one place views commit (shop/web.py): commit on success, roll back and flash a refusal,
roll back and re-raise anything else. Called directly, in a request, on the suite's database."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from sqlalchemy import event, func, select, text, update

from shop.catalog.models import Category
from shop.database import after_commit
from shop.errors import DomainError
from shop.extensions import db
from shop.web import fact_recorded_on_read, unit_of_work


def _categories() -> set[str]:
    """What is committed, read on a connection of its own (not the session's transaction)."""
    with db.engine.connect() as conn:
        return set(conn.scalars(select(Category.name)))


@pytest.fixture
def request_context(app):
    with app.test_request_context("/"):
        yield


def test_the_block_is_committed_and_done_is_flashed(request_context):
    with unit_of_work("Saved.") as work:
        db.session.add(Category(name="Tea", slug="tea", position=1))
    assert not work.refused and work.refusal is None
    assert _categories() == {"Tea"}
    assert get_flashed_messages(with_categories=True) == [("success", "Saved.")]


def test_a_refusal_rolls_everything_back_and_is_flashed(request_context):
    with unit_of_work("Saved.") as work:
        db.session.add(Category(name="Tea", slug="tea", position=1))
        db.session.flush()  # written in the transaction...
        raise DomainError("Not today.")
    assert work.refused and work.refusal.message == "Not today."
    assert _categories() == set()  # ...and nothing of it kept
    assert db.session.scalar(select(func.count(Category.id))) == 0  # the session goes on, clean
    assert get_flashed_messages(with_categories=True) == [("error", "Not today.")]  # no "Saved."


def test_code_after_the_refusal_in_the_block_does_not_run(request_context):
    reached = []
    with unit_of_work() as work:
        raise DomainError("No.")
        reached.append(True)  # unreachable on purpose: the refusal left the block
    assert work.refused and reached == []


def test_a_refusal_shown_elsewhere_is_not_flashed(request_context):
    with unit_of_work("Saved.", flash_refusal=False) as work:
        db.session.add(Category(name="Tea", slug="tea", position=1))
        raise DomainError("Say why.")
    assert work.refusal.message == "Say why."
    assert _categories() == set()
    assert get_flashed_messages() == []


def test_an_unexpected_exception_rolls_back_and_goes_on_up(request_context):
    with pytest.raises(ZeroDivisionError), unit_of_work("Saved."):
        db.session.add(Category(name="Tea", slug="tea", position=1))
        db.session.flush()
        1 / 0  # noqa: B018 - a bug in the block
    assert _categories() == set()
    assert db.session.scalar(select(func.count(Category.id))) == 0
    assert get_flashed_messages() == []


def test_a_fact_recorded_on_a_read_is_committed_in_its_own_unit(request_context):
    with fact_recorded_on_read() as work:
        db.session.add(Category(name="Visits", slug="visits", position=1))
    assert not work.refused
    assert _categories() == {"Visits"}


@pytest.fixture
def ends(app):
    """How each transaction of the suite's engine ended, in order ("commit" or "rollback")."""
    seen: list[str] = []
    engine = db.engine

    def on_commit(_conn):
        seen.append("commit")

    def on_rollback(_conn):
        seen.append("rollback")

    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)
    yield seen
    event.remove(engine, "commit", on_commit)
    event.remove(engine, "rollback", on_rollback)


def _category() -> Category:
    db.session.add(Category(name="Tea", slug="tea", position=1))
    db.session.commit()
    return db.session.scalar(select(Category))


def test_a_refusal_that_only_read_and_locked_ends_with_a_commit_that_keeps_nothing(request_context, ends):
    """Committing a transaction that changed nothing keeps what a rollback would, releases
    the same locks and leaves the driver's prepared statements in place (shop/web.py)."""
    tea = _category()
    ends.clear()
    with unit_of_work("Saved.") as work:
        db.session.scalar(select(Category).where(Category.id == tea.id).with_for_update())
        raise DomainError("Sold out.")
    assert work.refused and ends == ["commit"]
    assert _categories() == {"Tea"}
    assert get_flashed_messages(with_categories=True) == [("error", "Sold out.")]


def _add_coffee(flush: bool) -> None:
    db.session.add(Category(name="Coffee", slug="coffee", position=2))
    if flush:
        db.session.flush()


called: list[str] = []


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda tea: _add_coffee(flush=True), id="an-insert-flushed"),
        pytest.param(lambda tea: _add_coffee(flush=False), id="an-insert-pending"),
        pytest.param(lambda tea: setattr(tea, "position", 9), id="a-change-pending"),
        pytest.param(lambda tea: db.session.execute(update(Category).values(position=7)), id="a-core-update"),
        pytest.param(lambda tea: db.session.execute(text("SELECT 1")), id="textual-sql"),
        pytest.param(lambda tea: after_commit(lambda: called.append("after commit")), id="an-after-commit-callback"),
    ],
)
def test_a_refusal_that_may_have_changed_something_is_rolled_back(request_context, ends, change):
    tea = _category()
    ends.clear()
    called.clear()
    with unit_of_work("Saved.") as work:
        change(tea)
        raise DomainError("No.")
    assert work.refused and ends == ["rollback"]
    assert _categories() == {"Tea"} and called == []
    assert db.session.scalar(select(Category.position)) == 1
