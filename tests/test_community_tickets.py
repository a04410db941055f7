"""Consultation tickets: the lifecycle, legal and illegal transitions, the operators' queue, the
e-mail on an operator's reply, the article-from-ticket flow, and the consultation-event hook."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from community import events
from community.errors import CommunityError, IllegalTransition
from community.models import Article, ArticleKind, ArticleStatus, Question, Ticket, TicketStatus
from community.services import tickets
from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.database import utcnow
from shop.errors import NotAllowed
from shop.extensions import db
from tests.conftest import login, outbox
from tests.fixtures.community import make_ticket


def actions(ticket) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "Ticket", AuditEntry.entity_id == ticket.id)
            .order_by(AuditEntry.id)
        )
    )


def test_the_whole_lifecycle(app, employee, operator, product):
    opened = utcnow() - timedelta(hours=5)
    ticket = make_ticket(employee, "  Gift   wrapping? ", "Can you wrap it?", product_id=product.id, now=opened)
    assert (ticket.status, ticket.subject, ticket.product_id, ticket.assignee_id) == (
        TicketStatus.open,
        "Gift wrapping?",
        product.id,
        None,
    )
    with app.test_request_context():
        tickets.reply(operator, ticket, "Yes, for free.", now=opened + timedelta(hours=2))
    db.session.commit()
    assert ticket.status == TicketStatus.answered
    assert ticket.first_response_at == opened + timedelta(hours=2)
    assert ticket.assignee_id == operator.id  # the first operator to reply takes it
    [mail] = outbox(app)
    assert f"To: {employee.email}" in mail and f"/community/tickets/{ticket.id}" in mail

    tickets.reply(employee, ticket, "Great, and a card?")
    db.session.commit()
    assert ticket.status == TicketStatus.open and len(outbox(app)) == 1  # no mail for the requester's own reply
    tickets.resolve(operator, ticket)
    db.session.commit()
    assert ticket.status == TicketStatus.resolved and ticket.resolved_by_id == operator.id and ticket.resolved_at
    tickets.reopen(employee, ticket)
    db.session.commit()
    assert (ticket.status, ticket.resolved_at, ticket.resolved_by_id) == (TicketStatus.open, None, None)
    with app.test_request_context():
        tickets.reply(operator, ticket, "A card too.")
    tickets.resolve(operator, ticket)
    db.session.commit()
    assert ticket.first_response_at == opened + timedelta(hours=2)  # the first response stays the first
    assert [m.from_operator for m in ticket.messages] == [False, True, False, True]
    assert actions(ticket) == [
        "ticket.open",
        "ticket.reply",
        "ticket.reply",
        "ticket.resolve",
        "ticket.reopen",
        "ticket.reply",
        "ticket.resolve",
    ]


# (state to reach, step, who) -> allowed?
LEGAL = [
    ("open", "reply_operator", True),
    ("open", "reply_requester", True),
    ("open", "resolve", True),
    ("open", "reopen", False),
    ("answered", "reply_operator", True),
    ("answered", "reply_requester", True),
    ("answered", "resolve", True),
    ("answered", "reopen", False),
    ("resolved", "reply_operator", False),
    ("resolved", "reply_requester", False),
    ("resolved", "resolve", False),
    ("resolved", "reopen", True),
]
RESULT = {
    "reply_operator": TicketStatus.answered,
    "reply_requester": TicketStatus.open,
    "resolve": TicketStatus.resolved,
    "reopen": TicketStatus.open,
}


@pytest.mark.parametrize(("state", "step", "allowed"), LEGAL)
def test_transitions(app, employee, operator, state, step, allowed):
    ticket = make_ticket(employee, "A question")
    if state in ("answered", "resolved"):
        tickets.reply(operator, ticket, "An answer", notify=False)
    if state == "resolved":
        tickets.resolve(operator, ticket)
    db.session.commit()
    assert ticket.status == TicketStatus(state)
    run = {
        "reply_operator": lambda: tickets.reply(operator, ticket, "More", notify=False),
        "reply_requester": lambda: tickets.reply(employee, ticket, "More"),
        "resolve": lambda: tickets.resolve(operator, ticket),
        "reopen": lambda: tickets.reopen(employee, ticket),
    }[step]
    if allowed:
        run()
        db.session.commit()
        assert ticket.status == RESULT[step]
    else:
        with pytest.raises(IllegalTransition):
            run()
        db.session.rollback()
        assert ticket.status == TicketStatus(state)


def test_who_may_take_each_step(employee, operator, make_user):
    stranger = make_user()
    ticket = make_ticket(employee, "A question")
    with pytest.raises(NotAllowed):
        tickets.reply(stranger, ticket, "Me too")
    with pytest.raises(NotAllowed):
        tickets.resolve(employee, ticket)
    with pytest.raises(NotAllowed):
        tickets.assign(employee, ticket, employee)
    with pytest.raises(CommunityError):
        tickets.assign(operator, ticket, stranger)  # only to operators
    with pytest.raises(NotAllowed):
        tickets.article_from_ticket(employee, ticket)
    with pytest.raises(CommunityError):
        tickets.reply(operator, ticket, "   ")
    tickets.resolve(operator, ticket)
    with pytest.raises(NotAllowed):
        tickets.reopen(stranger, ticket)
    with pytest.raises(IllegalTransition):
        tickets.assign(operator, ticket, operator)
    for bad in (
        {"subject": " ", "body_md": "x"},
        {"subject": "x" * 201, "body_md": "x"},
        {"subject": "x", "body_md": " "},
    ):
        with pytest.raises(CommunityError):
            tickets.open_ticket(employee, **bad)


def test_assignment(employee, operator, make_user):
    other = make_user(role=Role.operator, name="Oscar")
    ticket = make_ticket(employee, "A question")
    tickets.assign(operator, ticket, other)
    tickets.assign(operator, ticket, None)
    db.session.commit()
    assert ticket.assignee_id is None
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "ticket.assign").order_by(AuditEntry.id)
    ).all()
    assert [(e.before, e.after) for e in entries] == [
        ({"assignee_id": None}, {"assignee_id": other.id}),
        ({"assignee_id": other.id}, {"assignee_id": None}),
    ]


def test_article_from_a_resolved_ticket(client, employee, operator, product):
    ticket = make_ticket(employee, "Does the rice cooker keep warm?", "For how long?", product_id=product.id)
    login(client, operator)
    client.post_form(
        f"/community/tickets/{ticket.id}/reply",
        {"body_md": "Up to **24 hours**."},
        token_from=f"/community/tickets/{ticket.id}",
    )
    # Not resolved yet: refused, nothing made.
    response = client.post_form(f"/community/tickets/{ticket.id}/article", token_from=f"/community/tickets/{ticket.id}")
    assert response.status_code == 302 and db.session.scalar(select(Article.id)) is None
    client.post_form(f"/community/tickets/{ticket.id}/resolve", token_from=f"/community/tickets/{ticket.id}")
    page = client.get(f"/community/tickets/{ticket.id}").get_data(as_text=True)
    assert "Turn into an FAQ article" in page

    response = client.post_form(f"/community/tickets/{ticket.id}/article", token_from=f"/community/tickets/{ticket.id}")
    article = db.session.scalar(select(Article))
    assert response.headers["Location"].endswith(f"/community/articles/{article.id}/edit")
    assert (article.kind, article.status, article.source_ticket_id, article.author_id) == (
        ArticleKind.faq,
        ArticleStatus.draft,
        ticket.id,
        operator.id,
    )
    assert article.title == ticket.subject and [p.id for p in article.products] == [product.id]
    assert "For how long?" in article.body_md and "Up to **24 hours**." in article.body_md
    assert "ticket.article" in actions(ticket)

    # Once only; the draft is not public until the operator publishes it.
    with pytest.raises(CommunityError):
        tickets.article_from_ticket(operator, db.session.get(Ticket, ticket.id))
    db.session.rollback()
    login(client, employee)
    assert client.get(f"/community/articles/{article.id}").status_code == 404
    login(client, operator)
    edit = client.get(f"/community/articles/{article.id}/edit").get_data(as_text=True)
    assert "remove names and anything personal" in edit
    response = client.post_form(
        f"/community/articles/{article.id}/edit",
        {
            "kind": "faq",
            "title": "How long does the rice cooker keep warm?",
            "body_md": "Up to 24 hours.",
            "tags": "rice cooker",
            "product_ids": [product.id],
            "publish": "Publish",
        },
    )
    assert response.status_code == 302
    db.session.refresh(article)
    assert article.status == ArticleStatus.published and article.is_public
    login(client, employee)
    assert client.get(f"/community/articles/{article.id}").status_code == 200
    assert "How long does the rice cooker keep warm?" in client.get(f"/community/tickets/{ticket.id}").get_data(
        as_text=True
    )


def test_asking_an_operator_through_the_ask_page(app, client, employee, operator, make_user, product):
    login(client, employee)
    empty = client.post_form(
        "/community/ask", {"title": "Invoice please", "open_ticket": "Ask an operator"}, token_from="/community/ask"
    )
    assert empty.status_code == 422 and "Describe your question for the operator." in empty.get_data(as_text=True)
    response = client.post_form(
        "/community/ask",
        {
            "title": "Invoice please",
            "body_md": "For my company.",
            "product_id": product.id,
            "open_ticket": "Ask an operator",
        },
        token_from="/community/ask",
    )
    ticket = db.session.scalar(select(Ticket))
    assert response.headers["Location"].endswith(f"/community/tickets/{ticket.id}")
    assert (ticket.requester_id, ticket.subject, ticket.product_id) == (employee.id, "Invoice please", product.id)
    assert "Invoice please" in client.get("/community/tickets").get_data(as_text=True)

    # Private: another member does not find it; the operators do, in their queue.
    login(client, make_user())
    assert client.get(f"/community/tickets/{ticket.id}").status_code == 404
    assert "Invoice please" not in client.get("/community/tickets").get_data(as_text=True)
    login(client, operator)
    queue = client.get("/community/ops/tickets").get_data(as_text=True)
    assert "Invoice please" in queue and "open" in queue and employee.name in queue
    assert "Invoice please" not in client.get("/community/ops/tickets?show=resolved").get_data(as_text=True)
    assert "Invoice please" in client.get("/community/ops/tickets?assignee=none").get_data(as_text=True)
    assert "Invoice please" not in client.get("/community/ops/tickets?assignee=me").get_data(as_text=True)

    bad = client.post_form(
        f"/community/tickets/{ticket.id}/reply", {"body_md": ""}, token_from=f"/community/tickets/{ticket.id}"
    )
    assert bad.status_code == 422
    client.post_form(
        f"/community/tickets/{ticket.id}/reply",
        {"body_md": "Sent to your e-mail."},
        token_from=f"/community/tickets/{ticket.id}",
    )
    assert "Invoice please" in client.get("/community/ops/tickets?assignee=me").get_data(as_text=True)
    assert any(employee.email in message for message in outbox(app))
    client.post_form(
        f"/community/tickets/{ticket.id}/assign", {"assignee_id": 0}, token_from=f"/community/tickets/{ticket.id}"
    )
    assert db.session.get(Ticket, ticket.id).assignee_id is None

    login(client, employee)
    thread = client.get(f"/community/tickets/{ticket.id}").get_data(as_text=True)
    assert "Sent to your e-mail." in thread and "answered" in thread
    # The requester's illegal step is refused with a message, nothing changes.
    client.post_form(f"/community/tickets/{ticket.id}/reopen", token_from=f"/community/tickets/{ticket.id}")
    assert db.session.get(Ticket, ticket.id).status == TicketStatus.answered


def test_questions_and_tickets_are_consultation_events(monkeypatch, client, employee, product):
    calls = []

    def spy(user, *, product_id=None, source, key=None):
        # Called in the transaction that creates the post: the post is flushed, not yet committed.
        model, owner = (Ticket, Ticket.requester_id) if source == "ticket" else (Question, Question.author_id)
        pending = db.session.scalar(select(model).where(owner == user.id))
        calls.append((user.id, product_id, source, pending is not None and db.session().in_transaction()))

    monkeypatch.setattr(events, "record_consultation", spy)
    login(client, employee)
    client.post_form(
        "/community/ask",
        {"title": "Is it dishwasher safe?", "product_id": product.id, "post_question": "Ask the community"},
        token_from="/community/ask",
    )
    client.post_form(
        "/community/ask",
        {"title": "Invoice", "body_md": "Please", "open_ticket": "Ask an operator"},
        token_from="/community/ask",
    )
    assert calls == [(employee.id, product.id, "question", True), (employee.id, None, "ticket", True)]


def test_a_failed_post_records_no_consultation(monkeypatch, employee):
    calls = []
    monkeypatch.setattr(events, "record_consultation", lambda *args, **kwargs: calls.append(args))
    with pytest.raises(CommunityError):
        tickets.open_ticket(employee, subject="", body_md="x")
    assert calls == []


def test_a_ticket_writes_one_consultation_event_of_the_askers_chain(employee):
    from referrals.models import EventKind, FunnelEvent

    ticket = tickets.open_ticket(employee, subject="Invoice", body_md="Please")
    events.record_consultation(employee, source="ticket", key=ticket.id)  # reported twice, counted once
    db.session.commit()
    rows = db.session.scalars(select(FunnelEvent).where(FunnelEvent.kind == EventKind.consultation)).all()
    assert [(row.actor_id, row.root_employee_id, row.source) for row in rows] == [(employee.id, employee.id, "ticket")]
