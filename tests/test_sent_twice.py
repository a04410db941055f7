"""The same form sent twice (a double tap on a phone, a page sent again, two taps at the same
moment) makes one lead, question, ticket or answer: the second sender lands where the first
submission took them and is told so. What is really new (other content, another person, later)
still goes through. On SQLite and PostgreSQL, with real parallel transactions."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from community.errors import AlreadyPosted
from community.models import Answer, Question, Ticket
from community.services import questions, tickets
from community.services.common import REPOST_WINDOW
from referrals.models import EventKind, FunnelEvent, Lead, LeadStatus
from referrals.services import leads
from shop.accounts.models import Role, User
from shop.audit.models import AuditEntry
from shop.catalog.models import Product, SalesMode
from shop.database import utcnow
from shop.errors import AlreadySubmitted
from shop.extensions import db
from tests.conftest import login, outbox
from tests.fixtures.community import make_answer, make_question, make_ticket
from tests.racing import race
from tests.referrals.test_leads import FORM, lead_input


def rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audited(action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def consultations() -> int:
    return db.session.scalar(
        select(func.count()).select_from(FunnelEvent).where(FunnelEvent.kind == EventKind.consultation)
    )


def follow(client, response) -> str:
    """The page a redirect leads to, as a browser would show it (with its flash messages)."""
    assert response.status_code == 302, response.status_code
    return client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.fixture
def lead_product(make_product) -> Product:
    return make_product(name="Water Purifier", sales_mode=SalesMode.lead)


@pytest.fixture
def rep(make_user) -> User:
    return make_user(name="Rita Rep", role=Role.sales)


def refer(referrer: User, product: Product, **changes) -> Lead:
    lead = leads.submit_lead(referrer, product, lead_input(**changes))
    db.session.commit()
    return lead


# ---- leads: one open lead per referrer, customer and product, whenever the form comes again ----


def test_a_lead_sent_twice_is_one_lead(app, client, employee, make_contact, lead_product, rep):
    contact = make_contact(employee)
    login(client, contact)
    first = client.post_form(f"/refer/{lead_product.slug}", FORM)
    assert "a sales consultant will contact the customer" in follow(client, first)
    again = client.post_form(f"/refer/{lead_product.slug}", FORM)
    assert again.headers["Location"] == first.headers["Location"] == "/leads"
    page = follow(client, again)
    assert 'class="flash info"' in page
    assert "You already referred this customer for Water Purifier, and the lead is still open." in page
    [lead] = db.session.scalars(select(Lead)).all()
    assert (lead.referrer_id, lead.assignee_id, lead.status) == (contact.id, rep.id, LeadStatus.new)
    # Nothing of the second submission: no audit entry, no consultation, no second mail to the rep.
    assert (audited("lead.create"), consultations(), len(outbox(app))) == (1, 1, 1)


def test_the_same_customer_however_the_number_or_address_is_written(app, employee, lead_product, rep):
    with app.test_request_context():
        first = refer(employee, lead_product, customer_phone="+86 139 1234 5678", customer_email="Carl@Example.com")
        for phone, email in [("13912345678", ""), ("0086-139-1234-5678", ""), ("", "carl@example.com")]:
            with pytest.raises(leads.AlreadyReferred) as again:
                leads.submit_lead(employee, lead_product, lead_input(customer_phone=phone, customer_email=email))
            assert again.value.existing.id == first.id
            db.session.rollback()
        # Another need for the same customer and product is still the open lead: the rep hears it there.
        with pytest.raises(leads.AlreadyReferred):
            leads.submit_lead(employee, lead_product, lead_input(customer_phone="139 1234 5678", need="Two more"))
        db.session.rollback()
    assert rows(Lead) == 1


def test_a_lead_that_is_really_new_goes_through(app, employee, make_user, make_product, lead_product, rep):
    with app.test_request_context():
        first = refer(employee, lead_product, customer_phone="+86 139 1234 5678")
        other_customer = refer(employee, lead_product, customer_phone="+86 139 8765 4321")
        other_product = refer(
            employee, make_product(name="Air Purifier", sales_mode=SalesMode.lead), customer_phone="13912345678"
        )
        other_referrer = refer(make_user(), lead_product, customer_phone="13912345678")
        # Open for weeks, it is still the same lead; closed, the customer can be referred again.
        db.session.execute(update(Lead).where(Lead.id == first.id).values(created_at=utcnow() - timedelta(days=40)))
        with pytest.raises(leads.AlreadyReferred):
            refer(employee, lead_product, customer_phone="13912345678")
        db.session.rollback()
        leads.move_lead(rep, db.session.get(Lead, first.id), LeadStatus.lost, reason="no budget", notify=False)
        db.session.commit()
        once_more = refer(employee, lead_product, customer_phone="13912345678")
    assert len({first.id, other_customer.id, other_product.id, other_referrer.id, once_more.id}) == 5
    assert audited("lead.create") == 5


# ---- questions and tickets: the same title and text within REPOST_WINDOW ----------------------

QUESTION = {"title": "Does the tea set go in the dishwasher?", "body_md": "The celadon one.", "tags": "tea"}


def test_a_question_sent_twice_is_one_question(client, employee, product):
    login(client, employee)
    form = QUESTION | {"product_id": product.id, "post_question": "Ask the community"}
    first = client.post_form("/community/ask", form, token_from="/community/ask")
    assert "Your question is posted." in follow(client, first)
    again = client.post_form("/community/ask", form, token_from="/community/ask")
    assert again.headers["Location"] == first.headers["Location"]
    page = follow(client, again)
    assert 'class="flash info"' in page and "You already posted this question." in page
    [question] = db.session.scalars(select(Question)).all()
    assert first.headers["Location"].endswith(f"/community/questions/{question.id}")
    assert consultations() == 1
    # Once the window has passed, the same words are a question of their own.
    earlier = question.created_at - REPOST_WINDOW - timedelta(seconds=1)
    db.session.execute(update(Question).where(Question.id == question.id).values(created_at=earlier))
    later = client.post_form("/community/ask", form, token_from="/community/ask")
    assert later.headers["Location"] != first.headers["Location"]
    assert "Your question is posted." in follow(client, later)
    assert (rows(Question), consultations()) == (2, 2)


def test_a_question_that_is_really_new_goes_through(app, employee, make_user):
    with app.test_request_context():
        first = make_question(employee, QUESTION["title"], QUESTION["body_md"])
        # Other spaces and line breaks are the same words: the same question.
        with pytest.raises(AlreadyPosted) as again:
            questions.ask_question(employee, title=f"  {QUESTION['title']} ", body_md="The celadon\r\none.\r\n")
        assert again.value.existing.id == first.id
        db.session.rollback()
        other_text = make_question(employee, QUESTION["title"], "The white one.")
        other_asker = make_question(make_user(), QUESTION["title"], QUESTION["body_md"])
        later = make_question(
            employee,
            QUESTION["title"],
            QUESTION["body_md"],
            now=first.created_at + REPOST_WINDOW + timedelta(seconds=1),
        )
    assert len({first.id, other_text.id, other_asker.id, later.id}) == 4


def test_a_ticket_sent_twice_is_one_ticket(client, employee, operator):
    login(client, employee)
    text = {"title": "Invoice please", "body_md": "For my company."}
    form = text | {"open_ticket": "Ask an operator"}
    first = client.post_form("/community/ask", form, token_from="/community/ask")
    assert "An operator will answer you here" in follow(client, first)
    again = client.post_form("/community/ask", form, token_from="/community/ask")
    assert again.headers["Location"] == first.headers["Location"]
    page = follow(client, again)
    assert 'class="flash info"' in page and "You already sent this question to an operator." in page
    [ticket] = db.session.scalars(select(Ticket)).all()
    assert first.headers["Location"].endswith(f"/community/tickets/{ticket.id}")
    assert (audited("ticket.open"), consultations()) == (1, 1)
    # Asking the community the same thing is another way out, not the same post.
    asked = client.post_form(
        "/community/ask", text | {"post_question": "Ask the community"}, token_from="/community/ask"
    )
    assert "/community/questions/" in asked.headers["Location"]
    assert (rows(Ticket), rows(Question)) == (1, 1)


def test_a_ticket_that_is_really_new_goes_through(app, employee, make_user):
    with app.test_request_context():
        first = make_ticket(employee, "Invoice please", "For my company.")
        with pytest.raises(AlreadyPosted) as again:
            tickets.open_ticket(employee, subject="Invoice  please", body_md=" For my company. ")
        assert again.value.existing.id == first.id
        db.session.rollback()
        other_text = make_ticket(employee, "Invoice please", "For my mother's order.")
        other_subject = make_ticket(employee, "Invoice, please", "For my company.")
        other_requester = make_ticket(make_user(), "Invoice please", "For my company.")
        later = make_ticket(
            employee, "Invoice please", "For my company.", now=first.created_at + REPOST_WINDOW + timedelta(seconds=1)
        )
    assert len({first.id, other_text.id, other_subject.id, other_requester.id, later.id}) == 5
    assert audited("ticket.open") == 5


# ---- answers: the same text on the same question within REPOST_WINDOW --------------------------


def test_an_answer_sent_twice_is_one_answer(client, employee, make_user):
    question = make_question(make_user(), "Which filter fits?", "The 2024 model.")
    login(client, employee)
    url = f"/community/questions/{question.id}"
    first = client.post_form(f"{url}/answers", {"body_md": "The **F2** one."}, token_from=url)
    again = client.post_form(f"{url}/answers", {"body_md": "The **F2** one."}, token_from=url)
    [answer] = db.session.scalars(select(Answer)).all()
    assert again.headers["Location"] == first.headers["Location"] == f"{url}#answer-{answer.id}"
    page = follow(client, again)
    assert 'class="flash info"' in page and "You already posted this answer." in page


def test_an_answer_that_is_really_new_goes_through(app, employee, make_user):
    asker = make_user()
    question, other_question = make_question(asker, "Which filter fits?"), make_question(asker, "Which hose fits?")
    with app.test_request_context():
        first = make_answer(employee, question, "The F2 one.")
        with pytest.raises(AlreadyPosted) as again:
            questions.post_answer(employee, question, "The F2\n one.")
        assert again.value.existing.id == first.id
        db.session.rollback()
        question = db.session.get(Question, question.id)
        other_text = make_answer(employee, question, "The F3 one, for the 2025 model.")
        other_question_ = make_answer(employee, db.session.get(Question, other_question.id), "The F2 one.")
        other_author = make_answer(make_user(), question, "The F2 one.")
        later = make_answer(
            employee, question, "The F2 one.", now=first.created_at + REPOST_WINDOW + timedelta(seconds=1)
        )
    assert len({first.id, other_text.id, other_question_.id, other_author.id, later.id}) == 5


# ---- at the same moment: real parallel transactions --------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["lead", "question", "ticket", "answer"])
def test_the_same_post_sent_at_the_same_moment_is_made_once(app, employee, make_user, lead_product, rep, kind):
    """Six identical submissions released together by a barrier, each in its own transaction:
    one makes the row, the five others find it (on PostgreSQL they wait on the author's row)."""
    author_id, product_id = employee.id, lead_product.id
    question_id = make_question(make_user(), "Which filter fits?").id
    customer = lead_input()
    model = {"lead": Lead, "question": Question, "ticket": Ticket, "answer": Answer}[kind]
    before = rows(model), consultations()

    def post(author: User):
        if kind == "lead":
            return leads.submit_lead(author, db.session.get(Product, product_id), customer)
        if kind == "question":
            return questions.ask_question(author, title="Is it in stock?", body_md="The blue one.")
        if kind == "ticket":
            return tickets.open_ticket(author, subject="Is it in stock?", body_md="The blue one.")
        return questions.post_answer(author, db.session.get(Question, question_id), "Yes, in blue.")

    def job():
        with app.test_request_context(method="POST"):
            try:
                return "made", post(db.session.get(User, author_id)).id
            except AlreadySubmitted as again:
                return "found", again.existing.id

    outcomes, _watch = race(app, [job] * 6)
    assert Counter(kind for kind, _id in outcomes) == {"made": 1, "found": 5}, outcomes
    assert len({post_id for _kind, post_id in outcomes}) == 1
    assert (rows(model), consultations()) == (before[0] + 1, before[1] + (kind != "answer"))
