"""The community's demo data: every article type (in Chinese), questions with answers, tickets
in every state, self-service and search logs; made once, through the services, without mail."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from community.demo import seed_community
from community.models import (
    Answer,
    Article,
    ArticleKind,
    ArticleStatus,
    Question,
    SearchQuery,
    SelfServiceResolution,
    Ticket,
    TicketStatus,
)
from community.services import articles, metrics
from community.services.search import search
from shop import demo
from shop.database import utcnow, write_intent
from shop.extensions import db
from tests.conftest import outbox

MODELS = (Article, Question, Answer, Ticket, SelfServiceResolution, SearchQuery)


def counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in MODELS}


def test_demo_community(app):
    now = utcnow()
    with write_intent():
        demo._seed_people(None, now)
        demo._seed_catalog(None)
        seed_community(None, now)
        db.session.commit()

    found = db.session.scalars(select(Article)).all()
    assert set(Counter(a.kind for a in found)) == set(ArticleKind)
    assert sum(1 for a in found if any("\u4e00" <= ch <= "\u9fff" for ch in a.title)) >= 4
    assert Counter(a.status for a in found) == {
        ArticleStatus.published: 11,
        ArticleStatus.pending: 1,
        ArticleStatus.draft: 1,
    }
    assert any(a.products for a in found) and any(a.source_ticket_id for a in found)
    assert [a.title for a in articles.review_queue().due] == ["内购买到的商品可以转卖吗？"]

    questions = db.session.scalars(select(Question)).all()
    assert len(questions) == 6 and sum(q.is_solved for q in questions) == 2
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 6
    assert Counter(t.status for t in db.session.scalars(select(Ticket))) == {
        TicketStatus.open: 1,
        TicketStatus.answered: 1,
        TicketStatus.resolved: 2,
    }

    # The data make every metric show something.
    m = metrics.compute(now - timedelta(days=30), now)
    assert m.self_service_rate and m.tickets_per_operator_week and m.median_first_response
    assert m.articles_from_tickets == 1 and m.unanswered and ("发票", 2) in m.top_misses
    assert search("退货").hits and search("工资代扣").hits and search("降噪耳机").hits
    assert outbox(app) == []  # the demo's replies send no mail

    before = counts()
    with write_intent():
        seed_community(None, utcnow())
        db.session.commit()
    assert counts() == before
