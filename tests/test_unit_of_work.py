"""The one place views commit (shop/web.py): commit on success, roll back and flash a refusal,
roll back and re-raise anything else. Called directly, in a request, on the suite's database."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from sqlalchemy import func, select

from shop.catalog.models import Category
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
