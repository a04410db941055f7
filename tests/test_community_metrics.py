"""Each community metric's formula on a fixed data set with known results (community.services.metrics).

The window is [2026-01-05, 2026-01-19) UTC, two weeks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from community.services import metrics as metric_services
from community.services import questions, search, selfservice, tickets
from community.services.moderation import Action, moderate
from shop.accounts.models import Role
from shop.extensions import db
from tests.conftest import login
from tests.fixtures.community import make_article

START = datetime(2026, 1, 5, tzinfo=UTC)
END = datetime(2026, 1, 19, tzinfo=UTC)
NOW = datetime(2026, 1, 25, tzinfo=UTC)


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)


@pytest.fixture
def data(make_user, operator):
    people = {name: make_user(name=name) for name in ("a1", "a2", "a3", "a4", "a5", "a6", "helper")}
    o1 = operator
    o2 = make_user(name="o2", role=Role.operator)
    a1, a2, a3, a4, a5, a6, helper = people.values()

    def ask(user, day, hour=9, hidden=False):
        question = questions.ask_question(
            user, title=f"Question of {user.name} on the {day}th", body_md="", now=at(day, hour)
        )
        if hidden:
            moderate(o1, question, Action.hide)
        return question

    def answer(question, day, hour=12, *, accepted_day=None, hidden=False):
        made = questions.post_answer(helper, question, "An answer", now=at(day, hour))
        if accepted_day:
            questions.accept_answer(question.author, made, now=at(accepted_day, 12))
        if hidden:
            moderate(o1, made, Action.hide)
        return made

    def ticket(user, day, hour, *, reply=None, resolve=None):
        made = tickets.open_ticket(user, subject=f"Ticket of {user.name}", body_md="Help", now=at(day, hour))
        if reply:
            operator_, when = reply
            tickets.reply(operator_, made, "Here you are", now=when, notify=False)
        if resolve:
            operator_, when = resolve
            tickets.resolve(operator_, made, now=when)
        return made

    # Questions. q0 is before the window; q7 is hidden.
    q0 = ask(a1, 2)
    answer(q0, 2, accepted_day=6)
    q1 = ask(a1, 6, 10)
    answer(q1, 6, accepted_day=7)  # solved, the asker opened no ticket meanwhile: self-service
    q2 = ask(a2, 7)
    answer(q2, 7, 10, accepted_day=8)  # solved, but a2 opened t1 at 12:00 on the 7th: escalated
    q3 = ask(a3, 8)
    answer(q3, 8, accepted_day=20)  # solved after the window ends
    q4 = ask(a4, 9)  # no answer: unanswered for more than 48 h
    ask(a1, 18, 20)  # q5, no answer, but less than 48 h old at the end of the window
    q6 = ask(a3, 10)
    answer(q6, 10)  # answered, not solved
    ask(a4, 10, hidden=True)  # q7
    q8 = ask(a4, 9, 15)
    answer(q8, 9, 16, hidden=True)  # only a hidden answer: unanswered

    # "This answered it": two in the window (the end is excluded).
    for user, when in ((a5, at(4)), (a5, at(6)), (a6, at(12)), (a6, END)):
        selfservice.record_self_service(user, make_article(o1, f"Article {when.day}", now=at(1)), now=when)

    # Tickets. t0 opened before the window, answered and resolved in it.
    t0 = ticket(a6, 3, 9, reply=(o2, at(5, 9)), resolve=(o2, at(6, 9)))
    ticket(a2, 7, 12, reply=(o1, at(7, 14)), resolve=(o1, at(8)))  # t1: 2 h
    ticket(a5, 9, 9, reply=(o2, at(9, 13)), resolve=(o2, at(12)))  # t2: 4 h
    t3 = ticket(a5, 13, 8, reply=(o1, at(14, 8)), resolve=(o1, at(15)))  # t3: 24 h
    ticket(a6, 14, 8, reply=(o1, at(14, 9)), resolve=(o1, at(16)))  # t5: 1 h
    ticket(a6, 18, 10)  # t4: still waiting
    tickets.article_from_ticket(o1, t3, now=at(16))  # in the window
    tickets.article_from_ticket(o2, t0, now=at(20))  # after it

    # Searches: misses are grouped by the normalised query.
    for query, results, day in (
        ("invoice", 0, 6),
        ("Invoice ", 0, 8),
        ("INVOICE", 0, 12),
        ("发票", 0, 9),
        ("发票", 0, 10),
        ("blender", 0, 11),
        ("tea", 2, 6),
        ("tea", 3, 7),
        ("invoice", 0, 20),
        ("blender", 0, 4),
    ):
        search.log_search(a1, query, results, now=at(day, 9))
    db.session.commit()
    return {"o1": o1, "o2": o2, "q4": q4, "q8": q8}


def test_every_metric_on_a_fixed_data_set(data):
    m = metric_services.compute(START, END, now=NOW)
    # Self-service rate: (2 clicks + 1 solved question) / (7 questions + 2 clicks + 5 tickets).
    assert (m.questions_posted, m.self_service, m.solved_without_ticket, m.tickets) == (7, 2, 1, 5)
    assert (m.questions, m.resolved_without_ticket) == (9, 3)
    assert m.self_service_rate == pytest.approx(3 / 14)
    # Tickets per operator per week: o1 resolved t1, t3, t5; o2 resolved t0, t2; two weeks.
    assert [(load.operator.name, load.resolved, load.per_week) for load in m.operators] == [
        (data["o1"].name, 3, 1.5),
        ("o2", 2, 1.0),
    ]
    assert m.tickets_per_operator_week == pytest.approx(1.25)
    # Median first response of t1..t5 opened in the window: 1 h, 2 h, 4 h, 24 h -> 3 h; t4 waits.
    assert m.median_first_response == timedelta(hours=3)
    assert m.tickets_waiting == 1
    assert m.articles_from_tickets == 1
    assert [q.id for q in m.unanswered] == [data["q4"].id, data["q8"].id]
    assert m.top_misses == [("invoice", 3), ("发票", 2), ("blender", 1)]


def test_metrics_follow_the_window_and_the_present(data):
    # Seen on the 10th at noon, q4 (asked on the 9th at 09:00) is not 48 h old yet.
    early = metric_services.compute(START, END, now=at(10, 12))
    assert early.unanswered == []
    first_week = metric_services.compute(START, at(12), now=NOW)  # t2 was resolved at the very end: not in it
    assert (first_week.tickets, first_week.median_first_response) == (2, timedelta(hours=3))
    assert [(load.operator.name, load.resolved) for load in first_week.operators] == [(data["o1"].name, 1), ("o2", 1)]
    empty = metric_services.compute(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 8, tzinfo=UTC), now=NOW)
    assert (empty.self_service_rate, empty.tickets_per_operator_week, empty.median_first_response) == (None, None, None)
    with pytest.raises(ValueError):
        metric_services.compute(END, START)


def test_metrics_page_shows_the_range(client, operator, data):
    login(client, operator)
    page = client.get("/community/ops/metrics?date_from=2026-01-05&date_to=2026-01-18")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # The page's window is in the company's time zone (Asia/Shanghai, UTC+8).
    expected = metric_services.compute(START - timedelta(hours=8), END - timedelta(hours=8))
    assert f"{expected.self_service_rate * 100:.1f}%" in html
    assert "invoice" in html and "发票" in html
    assert client.get("/community/ops/metrics").status_code == 200  # the last 30 days
    assert client.get("/community/ops/metrics?date_from=2026-01-18&date_to=2026-01-05").status_code == 422
    assert client.get("/community/ops/metrics?date_from=yesterday").status_code == 422
