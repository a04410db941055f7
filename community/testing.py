"""Helpers for tests: make community content through the real services, committed.

Used by tests/test_community_*.py (the suite's own fixtures live in tests/conftest.py and
tests/fixtures/; these are plain functions, so any test module imports them)."""

from __future__ import annotations

from datetime import datetime

from community.models import Answer, Article, ArticleKind, Question, Ticket
from community.services import articles, questions, tickets
from shop.accounts.models import User
from shop.extensions import db


def make_article(
    author: User,
    title: str,
    body_md: str = "",
    *,
    kind: ArticleKind = ArticleKind.faq,
    publish: bool = True,
    tags: str = "",
    product_ids: tuple[int, ...] = (),
    now: datetime | None = None,
) -> Article:
    """Operators' articles are published (or drafts); employees' are pending (or drafts)."""
    data = articles.ArticleInput(kind=kind, title=title, body_md=body_md or title, tags=tags, product_ids=product_ids)
    article = articles.save_article(author, None, data, publish=publish, now=now)
    if now is not None:
        article.created_at = now
    db.session.commit()
    return article


def make_question(
    author: User,
    title: str,
    body_md: str = "",
    *,
    product_id: int | None = None,
    tags: str = "",
    now: datetime | None = None,
) -> Question:
    question = questions.ask_question(author, title=title, body_md=body_md, product_id=product_id, tags=tags, now=now)
    db.session.commit()
    return question


def make_answer(
    author: User, question: Question, body_md: str, *, accepted_by: User | None = None, now: datetime | None = None
) -> Answer:
    answer = questions.post_answer(author, question, body_md, now=now)
    if accepted_by is not None:
        questions.accept_answer(accepted_by, answer, now=now)
    db.session.commit()
    return answer


def make_ticket(
    requester: User,
    subject: str,
    body_md: str = "Please help.",
    *,
    product_id: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    ticket = tickets.open_ticket(requester, subject=subject, body_md=body_md, product_id=product_id, now=now)
    db.session.commit()
    return ticket
