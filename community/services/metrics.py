"""Community metrics for operators, over a window [start, end) (DESIGN.md, Events and KPIs).

Definitions, as computed here:

- **questions** in the window = visible questions posted in it (a moderator's hidden ones do not
  count) + self-service resolutions recorded in it ("this answered it": a question the user had,
  answered by what is written, never posted).
- **resolved without a ticket** = the self-service resolutions recorded in the window + the
  questions posted in the window that were solved (an answer accepted) before ``end``, whose
  asker opened no ticket between posting the question and the acceptance (they did not escalate
  while waiting).
- **self-service rate** = resolved without a ticket / (questions + tickets opened in the window);
  ``None`` when the denominator is 0. It lies in [0, 1].
- **tickets per operator per week** = tickets each operator resolved in the window, divided by the
  window's length in weeks (days / 7); one row per operator who resolved any, plus the mean.
- **median first-response time** = median of (first operator reply - opened) over the tickets
  opened in the window that had a reply before ``end``; tickets still waiting are counted apart.
- **articles from tickets** = articles made from a ticket ("turn into FAQ") created in the window.
- **unanswered questions older than 48 h** = visible questions posted in the window, at least
  ``UNANSWERED_HOURS`` before ``min(end, now)``, with no visible answer posted before that moment.
- **top searches with no result** = the most frequent normalised queries in the window that found
  nothing.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select

from community.models import Answer, Article, Question, SearchQuery, SelfServiceResolution, Ticket
from shop.accounts.models import User
from shop.database import utcnow
from shop.extensions import db

UNANSWERED_HOURS = 48
TOP_MISSES = 10


@dataclass
class OperatorLoad:
    operator: User
    resolved: int
    per_week: float


@dataclass
class Metrics:
    start: datetime
    end: datetime
    questions_posted: int
    self_service: int  # "this answered it" clicks
    solved_without_ticket: int
    tickets: int
    self_service_rate: float | None
    operators: list[OperatorLoad]
    tickets_per_operator_week: float | None
    median_first_response: timedelta | None
    tickets_waiting: int  # opened in the window, no operator reply before ``end``
    articles_from_tickets: int
    unanswered: list[Question]
    top_misses: list[tuple[str, int]]

    @property
    def questions(self) -> int:
        return self.questions_posted + self.self_service

    @property
    def resolved_without_ticket(self) -> int:
        return self.self_service + self.solved_without_ticket


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def compute(start: datetime, end: datetime, *, now: datetime | None = None) -> Metrics:
    now = now or utcnow()
    if end <= start:
        raise ValueError("the window must end after it starts")
    in_window = lambda column: and_(column >= start, column < end)  # noqa: E731

    visible = Question.is_hidden.is_(False)
    questions_posted = _count(Question, in_window(Question.created_at), visible)
    self_service = _count(SelfServiceResolution, in_window(SelfServiceResolution.created_at))
    escalated = exists().where(
        Ticket.requester_id == Question.author_id,
        Ticket.created_at >= Question.created_at,
        Ticket.created_at <= Question.solved_at,
    )
    solved_without_ticket = _count(
        Question,
        in_window(Question.created_at),
        visible,
        Question.solved_at.is_not(None),
        Question.solved_at < end,
        ~escalated,
    )
    tickets = _count(Ticket, in_window(Ticket.created_at))
    denominator = questions_posted + self_service + tickets
    rate = (self_service + solved_without_ticket) / denominator if denominator else None

    weeks = (end - start) / timedelta(days=7)
    rows = db.session.execute(
        select(Ticket.resolved_by_id, func.count())
        .where(in_window(Ticket.resolved_at), Ticket.resolved_by_id.is_not(None))
        .group_by(Ticket.resolved_by_id)
    ).all()
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([r[0] for r in rows])))}
    loads = sorted(
        (OperatorLoad(people[uid], n, n / weeks) for uid, n in rows),
        key=lambda load: (-load.resolved, load.operator.name),
    )
    per_operator = sum(load.per_week for load in loads) / len(loads) if loads else None

    opened = db.session.execute(
        select(Ticket.created_at, Ticket.first_response_at).where(in_window(Ticket.created_at))
    ).all()
    waits = [first - created for created, first in opened if first is not None and first < end]
    median = statistics.median(waits) if waits else None

    articles = _count(Article, in_window(Article.created_at), Article.source_ticket_id.is_not(None))

    moment = min(end, now)
    answered_by_then = exists().where(
        Answer.question_id == Question.id, Answer.is_hidden.is_(False), Answer.created_at < moment
    )
    unanswered = list(
        db.session.scalars(
            select(Question)
            .where(
                in_window(Question.created_at),
                Question.created_at <= moment - timedelta(hours=UNANSWERED_HOURS),
                visible,
                ~answered_by_then,
            )
            .order_by(Question.created_at, Question.id)
        )
    )

    misses = db.session.execute(
        select(SearchQuery.query, func.count().label("n"))
        .where(in_window(SearchQuery.created_at), SearchQuery.results == 0)
        .group_by(SearchQuery.query)
        .order_by(func.count().desc(), SearchQuery.query)
        .limit(TOP_MISSES)
    ).all()

    return Metrics(
        start=start,
        end=end,
        questions_posted=questions_posted,
        self_service=self_service,
        solved_without_ticket=solved_without_ticket,
        tickets=tickets,
        self_service_rate=rate,
        operators=loads,
        tickets_per_operator_week=per_operator,
        median_first_response=median,
        tickets_waiting=len(opened) - len(waits),
        articles_from_tickets=articles,
        unanswered=unanswered,
        top_misses=[(query, n) for query, n in misses],
    )
