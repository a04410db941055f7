"""Questions and answers: asking (self-service first, with and without JavaScript), answering,
one vote per user per post, accepting, ranking, moderation (hide, lock, edit; audited)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from community.errors import CommunityError
from community.models import Answer, Question, SearchQuery, SelfServiceResolution, Vote
from community.services import questions
from community.services.moderation import Action, moderate
from community.services.selfservice import record_self_service
from shop.audit.models import AuditEntry
from shop.errors import NotAllowed
from shop.extensions import db
from tests.conftest import login
from tests.fixtures.community import make_answer, make_article, make_question


def audit_actions(entity) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == type(entity).__name__, AuditEntry.entity_id == entity.id)
            .order_by(AuditEntry.id)
        )
    )


def test_asking_the_community_with_product_and_tags(client, employee, product):
    login(client, employee)
    page = client.get(f"/community/ask?product={product.id}").get_data(as_text=True)
    assert f'<option selected value="{product.id}">' in page or f'value="{product.id}" selected' in page
    assert "/static/community.js" in page and 'data-suggest-url="/community/suggest"' in page  # on this page only
    assert "/static/community.js" not in client.get("/community/").get_data(as_text=True)
    response = client.post_form(
        "/community/ask",
        {
            "title": "Can the  tea set go in the dishwasher?",
            "body_md": "The *celadon* one.",
            "product_id": product.id,
            "tags": "Tea, 洗碗机，care, tea",
            "post_question": "Ask the community",
        },
        token_from="/community/ask",
    )
    question = db.session.scalar(select(Question))
    assert response.headers["Location"].endswith(f"/community/questions/{question.id}")
    assert (question.title, question.product_id, [t.name for t in question.tags]) == (
        "Can the tea set go in the dishwasher?",
        product.id,
        ["care", "tea", "洗碗机"],
    )
    html = client.get(f"/community/questions/{question.id}").get_data(as_text=True)
    assert "<em>celadon</em>" in html and product.name in html
    assert question.title in client.get("/community/questions?tag=洗碗机").get_data(as_text=True)
    assert question.title not in client.get("/community/questions?tag=care-free").get_data(as_text=True)
    too_many = client.post_form(
        "/community/ask",
        {"title": "Tags", "tags": ",".join("abcdefghij"), "post_question": "x"},
        token_from="/community/ask",
    )
    assert too_many.status_code == 422 and "At most 8 tags." in too_many.get_data(as_text=True)
    assert (
        client.post_form("/community/ask", {"title": "", "post_question": "x"}, token_from="/community/ask").status_code
        == 422
    )


def test_find_answers_without_javascript_and_this_answered_it(client, employee, operator):
    article = make_article(operator, "Payroll deduction for friends", "Only for your own orders.")
    asker = employee
    login(client, asker)
    found = client.post_form(
        "/community/ask", {"title": "pay by payroll for a friend", "find": "Find answers"}, token_from="/community/ask"
    )
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and "Payroll deduction for friends" in html
    assert f'name="answered_by" value="article:{article.id}"' in html
    assert db.session.execute(select(SearchQuery.query, SearchQuery.results)).all() == [
        ("pay by payroll for a friend", 1)
    ]
    # Enter in the title field presses the first submit button: "Find answers", not a suggestion.
    buttons = re.findall(r'<(?:input|button)[^>]*type="submit"[^>]*>', html[html.index('id="ask-form"') :])
    assert 'name="find"' in buttons[0]

    for _ in range(2):  # twice on the same day counts once
        done = client.post_form(
            "/community/ask",
            {"title": "pay by payroll for a friend", "answered_by": f"article:{article.id}"},
            token_from="/community/ask",
        )
        assert done.headers["Location"].endswith(f"/community/articles/{article.id}")
    [resolution] = db.session.scalars(select(SelfServiceResolution)).all()
    assert (resolution.user_id, resolution.article_id, resolution.query) == (
        asker.id,
        article.id,
        "pay by payroll for a friend",
    )
    assert db.session.scalar(select(Question.id)) is None  # nothing was posted
    bad = client.post_form("/community/ask", {"title": "x", "answered_by": "order:1"}, token_from="/community/ask")
    assert bad.status_code == 400
    assert (
        client.post_form(
            "/community/ask", {"title": "x", "answered_by": "article:999"}, token_from="/community/ask"
        ).status_code
        == 404
    )


def test_self_service_needs_something_public(employee, operator):
    draft = make_article(operator, "Draft", publish=False)
    with pytest.raises(CommunityError):
        record_self_service(employee, draft)
    question = make_question(operator, "Hidden one")
    moderate(operator, question, Action.hide)
    with pytest.raises(CommunityError):
        record_self_service(employee, question)


def test_suggestions_as_the_title_is_typed(client, employee, operator, make_user):
    asker = make_user()
    solved = make_question(asker, "Does the smart watch work with iPhone?")
    make_answer(operator, solved, "Yes, with the companion app.", accepted_by=asker)
    make_question(asker, "Smart watch strap sizes?")  # not solved: not suggested
    login(client, employee)
    items = client.get("/community/suggest?q=smart watch iphone").get_json()["items"]
    assert [(i["kind"], i["id"]) for i in items] == [("question", solved.id)]
    html = client.get("/community/ask?title=smart watch").get_data(as_text=True)
    assert f'value="question:{solved.id}"' in html and "Smart watch strap sizes?" not in html


def test_answering(client, employee, operator, make_user):
    question = make_question(make_user(), "Which kettle for the tea set?")
    login(client, employee)
    page = f"/community/questions/{question.id}"
    assert client.post_form(f"{page}/answers", {"body_md": ""}, token_from=page).status_code == 422
    response = client.post_form(f"{page}/answers", {"body_md": "The **gooseneck** one."}, token_from=page)
    answer = db.session.scalar(select(Answer))
    assert response.headers["Location"].endswith(f"{page}#answer-{answer.id}")
    assert "<strong>gooseneck</strong>" in client.get(page).get_data(as_text=True)


def test_votes_one_per_user_per_post(employee, operator, make_user):
    asker, voter = make_user(), make_user()
    question = make_question(asker, "Votes?")
    answer = make_answer(employee, question, "An answer")
    assert questions.vote(voter, answer, 1) == 1
    assert questions.vote(operator, answer, 1) == 2
    assert questions.vote(voter, answer, 1) == 1  # the same vote again takes it back
    assert questions.vote(voter, answer, -1) == 0
    assert questions.vote(voter, answer, 1) == 2  # from down to up moves two
    assert questions.vote(voter, question, -1) == -1
    db.session.commit()
    assert db.session.scalar(select(sa.func.count()).select_from(Vote)) == 3
    with pytest.raises(NotAllowed):
        questions.vote(employee, answer, 1)  # your own post
    with pytest.raises(CommunityError):
        questions.vote(voter, answer, 2)
    # The database keeps it to one vote per user per post, whatever the code does.
    db.session.add(Vote(user_id=voter.id, answer_id=answer.id, value=1))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(Vote(user_id=voter.id, answer_id=answer.id, question_id=question.id, value=1))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_voting_through_the_page(client, employee, make_user):
    question = make_question(make_user(), "Votes by form?")
    answer = make_answer(make_user(), question, "Yes")
    login(client, employee)
    page = f"/community/questions/{question.id}"
    client.post_form(f"/community/answers/{answer.id}/vote", {"value": "1"}, token_from=page)
    client.post_form(f"{page}/vote", {"value": "-1"}, token_from=page)
    db.session.refresh(answer)
    db.session.refresh(question)
    assert (answer.score, question.score) == (1, -1)
    assert 'class="vote pressed"' in client.get(page).get_data(as_text=True)


def test_accepting_an_answer(client, employee, operator, make_user):
    asker, stranger = make_user(), make_user()
    question = make_question(asker, "Which size?")
    first = make_answer(employee, question, "Take the small one.")
    second = make_answer(stranger, question, "Take the big one.")
    popular = make_answer(operator, question, "Depends on the room.")
    questions.vote(asker, popular, 1)
    db.session.commit()
    with pytest.raises(NotAllowed):
        questions.accept_answer(stranger, first)
    questions.accept_answer(asker, second)
    db.session.commit()
    assert question.is_solved and second.is_accepted
    # Accepted first, then by votes, then oldest first.
    viewer = employee
    assert [a.id for a in questions.ranked_answers(viewer, question)] == [second.id, popular.id, first.id]
    login(client, employee)
    html = client.get(f"/community/questions/{question.id}").get_data(as_text=True)
    order = [int(n) for n in re.findall(r'id="answer-(\d+)"', html)]
    assert order == [second.id, popular.id, first.id]
    assert "Accept this answer" not in html  # only the asker and the operators see the button

    solved_at = question.solved_at
    questions.accept_answer(operator, first)  # an operator changes it: one accepted answer at a time
    db.session.commit()
    db.session.refresh(second)
    assert first.is_accepted and not second.is_accepted and question.solved_at == solved_at
    with pytest.raises(CommunityError):
        questions.accept_answer(asker, first)
    db.session.rollback()
    assert audit_actions(second) == ["answer.accept"] and audit_actions(first) == ["answer.accept"]
    # The database allows one accepted answer per question.
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.update(Answer).where(Answer.id == popular.id).values(is_accepted=True, accepted_at=first.accepted_at)
        )
    db.session.rollback()


def test_moderation_hide_lock_and_edit(client, employee, operator, make_user):
    other = make_user()
    question = make_question(employee, "Where is my order?", "Ordered on Monday.")
    answer = make_answer(other, question, "Buy from me instead! cheap-tea.example")
    page = f"/community/questions/{question.id}"
    login(client, operator)
    client.post_form(f"/community/moderate/answer/{answer.id}", {"action": "hide", "reason": "spam"}, token_from=page)
    client.post_form(f"/community/moderate/question/{question.id}", {"action": "lock"}, token_from=page)
    db.session.refresh(answer)
    db.session.refresh(question)
    assert answer.is_hidden and question.is_locked
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "answer.hide")).all()
    assert (entry.actor_id, entry.reason, entry.after) == (operator.id, "spam", {"is_hidden": True})
    assert "question.lock" in audit_actions(question)
    assert "cheap-tea" in client.get(page).get_data(as_text=True)  # operators still see it

    login(client, employee)
    html = client.get(page).get_data(as_text=True)
    assert "cheap-tea" not in html and "Locked: no new answers." in html and "Your answer" not in html
    refused = client.post_form(f"{page}/answers", {"body_md": "Any news?"}, token_from=page)
    assert refused.status_code == 422 and "This question is locked." in refused.get_data(as_text=True)
    login(client, other)
    assert client.get(f"/community/answers/{answer.id}/edit").status_code == 200  # its author still sees it
    with pytest.raises(NotAllowed):
        questions.edit_answer(other, db.session.get(Answer, answer.id), "Sorry")
    db.session.rollback()

    # An operator edits the question (audited, before and after) and hides it.
    login(client, operator)
    client.post_form(
        f"{page}/edit",
        {"title": "Where is my order (Monday)?", "body_md": "Ordered on Monday.", "product_id": 0, "tags": ""},
        token_from=f"{page}/edit",
    )
    [edit] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "question.edit")).all()
    assert edit.before["title"] == "Where is my order?" and edit.after["title"] == "Where is my order (Monday)?"
    client.post_form(f"/community/moderate/question/{question.id}", {"action": "hide"}, token_from=page)
    login(client, other)
    assert client.get(page).status_code == 404
    assert "Where is my order" not in client.get("/community/questions").get_data(as_text=True)
    login(client, employee)
    assert client.get(page).status_code == 200  # the asker sees it, marked hidden
    # Nothing to change twice; articles cannot be locked.
    with pytest.raises(CommunityError):
        moderate(operator, db.session.get(Question, question.id), Action.hide)
    with pytest.raises(CommunityError):
        moderate(operator, make_article(operator, "An article"), Action.lock)
    with pytest.raises(NotAllowed):
        moderate(employee, answer, Action.unhide)


def test_the_asker_edits_and_lists_filter(client, employee, make_user, operator):
    unanswered = make_question(employee, "Nobody knows?")
    answered = make_question(employee, "Somebody knows")
    make_answer(operator, answered, "Me", accepted_by=employee)
    login(client, employee)
    page = f"/community/questions/{unanswered.id}"
    client.post_form(
        f"{page}/edit",
        {"title": "Nobody knows at all?", "body_md": "", "product_id": 0, "tags": "x"},
        token_from=f"{page}/edit",
    )
    assert db.session.get(Question, unanswered.id).title == "Nobody knows at all?"
    assert (
        client.post_form(f"{page}/edit", {"title": "", "product_id": 0}, token_from=f"{page}/edit").status_code == 422
    )
    listing = client.get("/community/questions?show=unanswered").get_data(as_text=True)
    assert "Nobody knows at all?" in listing and "Somebody knows" not in listing
    listing = client.get("/community/questions?show=solved").get_data(as_text=True)
    assert "Nobody knows at all?" not in listing and "Somebody knows" in listing
    listing = client.get("/community/questions?show=open").get_data(as_text=True)
    assert "Nobody knows at all?" in listing and "Somebody knows" not in listing
    home = client.get("/community/").get_data(as_text=True)
    assert "Nobody knows at all?" in home and "Waiting for an answer" in home
    with pytest.raises(NotAllowed):
        questions.edit_question(make_user(), unanswered, title="Mine now", body_md="", product_id=None, tags="")
    with pytest.raises(CommunityError):
        questions.ask_question(employee, title="x" * 201, body_md="")
