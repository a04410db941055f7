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


Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class Workload:
    """The figures of one window that both this page and the operators' dashboard show."""

    start: datetime
    end: datetime
    questions_posted: int
    self_service: int
    solved_without_ticket: int
    tickets: int
    resolved: list[tuple[int, int]]  # (operator id, tickets resolved), most first, then by name
    waits: list[timedelta]  # first response - opened, of the tickets answered before ``end``

    @property
    def self_service_rate(self) -> float | None:
        denominator = self.questions_posted + self.self_service + self.tickets
        return (self.self_service + self.solved_without_ticket) / denominator if denominator else None

    @property
    def weeks(self) -> float:
        return (self.end - self.start) / timedelta(days=7)

    @property
    def tickets_per_operator_week(self) -> float | None:
        per_week = [n / self.weeks for _, n in self.resolved]
        return sum(per_week) / len(per_week) if per_week else None

    @property
    def median_first_response(self) -> timedelta | None:
        return statistics.median(self.waits) if self.waits else None


def workloads(windows: list[Window]) -> list[Workload]:
    """``Workload`` of each window, read in four statements whatever the number of windows
    (the dashboard shows a period beside the one before): each count a filter per window over
    the rows of all of them."""
    for start, end in windows:
        if end <= start:
            raise ValueError("the window must end after it starts")
    first, last = min(start for start, _ in windows), max(end for _, end in windows)
    spanned = lambda column: and_(column >= first, column < last)  # noqa: E731
    within = lambda column, window: and_(column >= window[0], column < window[1])  # noqa: E731

    escalated = exists().where(
        Ticket.requester_id == Question.author_id,
        Ticket.created_at >= Question.created_at,
        Ticket.created_at <= Question.solved_at,
    )
    question_counts = db.session.execute(
        select(
            *(
                count
                for window in windows
                for count in (
                    func.count().filter(within(Question.created_at, window)),
                    func.count().filter(
                        within(Question.created_at, window),
                        Question.solved_at.is_not(None),
                        Question.solved_at < window[1],
                        ~escalated,
                    ),
                )
            )
        ).where(spanned(Question.created_at), Question.is_hidden.is_(False))
    ).one()
    clicks = db.session.execute(
        select(*(func.count().filter(within(SelfServiceResolution.created_at, w)) for w in windows)).where(
            spanned(SelfServiceResolution.created_at)
        )
    ).one()
    resolved = db.session.execute(
        select(Ticket.resolved_by_id, User.name, *(func.count().filter(within(Ticket.resolved_at, w)) for w in windows))
        .join(User, User.id == Ticket.resolved_by_id)
        .where(spanned(Ticket.resolved_at))
        .group_by(Ticket.resolved_by_id, User.name)
    ).all()
    opened = db.session.execute(
        select(Ticket.created_at, Ticket.first_response_at).where(spanned(Ticket.created_at))
    ).all()

    found = []
    for i, (start, end) in enumerate(windows):
        mine = [(created, reply) for created, reply in opened if start <= created < end]
        loads = sorted(((row[1], row[0], row[2 + i]) for row in resolved if row[2 + i]), key=lambda r: (-r[2], r[0]))
        found.append(
            Workload(
                start=start,
                end=end,
                questions_posted=question_counts[2 * i],
                self_service=clicks[i],
                solved_without_ticket=question_counts[2 * i + 1],
                tickets=len(mine),
                resolved=[(uid, n) for _, uid, n in loads],
                waits=[reply - created for created, reply in mine if reply is not None and reply < end],
            )
        )
    return found


def compute(start: datetime, end: datetime, *, now: datetime | None = None) -> Metrics:
    now = now or utcnow()
    if end <= start:
        raise ValueError("the window must end after it starts")
    in_window = lambda column: and_(column >= start, column < end)  # noqa: E731
    visible = Question.is_hidden.is_(False)
    (work,) = workloads([(start, end)])
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([uid for uid, _ in work.resolved])))}
    loads = [OperatorLoad(people[uid], n, n / work.weeks) for uid, n in work.resolved]

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
        questions_posted=work.questions_posted,
        self_service=work.self_service,
        solved_without_ticket=work.solved_without_ticket,
        tickets=work.tickets,
        self_service_rate=work.self_service_rate,
        operators=loads,
        tickets_per_operator_week=work.tickets_per_operator_week,
        median_first_response=work.median_first_response,
        tickets_waiting=work.tickets - len(work.waits),
        articles_from_tickets=articles,
        unanswered=unanswered,
        top_misses=[(query, n) for query, n in misses],
    )
