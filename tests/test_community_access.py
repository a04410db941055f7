"""Who may open which community page: anonymous, contact, employee, operator.

The expectations for anonymous, employee and operator are the app's access matrix
(tests/test_access_matrix.py, which also checks admin); contacts are added here. The objects the
routes need come from ``community_world``, which the app's matrix uses too."""

from __future__ import annotations

import pytest
from flask import url_for

from community.models import ArticleKind
from shop.accounts.models import Kind
from tests.conftest import login
from tests.fixtures.community import make_answer, make_article, make_question, make_ticket
from tests.test_access_matrix import LOGIN, MATRIX


def community_world(employee, operator, product) -> dict[str, dict]:
    """URL parameters for every community route. The employee owns the question, the answer, a
    pending article and the ticket; the operator wrote a published article."""
    published = make_article(operator, "Shipping times", "Two days.", kind=ArticleKind.faq, product_ids=(product.id,))
    pending = make_article(employee, "My tips", "Smile.", kind=ArticleKind.sales_script)
    question = make_question(employee, "Does the tea set ship abroad?", "Asking for a friend.", product_id=product.id)
    answer = make_answer(operator, question, "Only within China.")
    ticket = make_ticket(employee, "Invoice for my order", "I need a company invoice.")
    return {
        "community.article": {"article_id": published.id},
        "community.edit_article": {"article_id": pending.id},
        "community.publish_article": {"article_id": pending.id},
        "community.reject_article": {"article_id": pending.id},
        "community.review_article": {"article_id": published.id},
        "community.question": {"question_id": question.id},
        "community.answer": {"question_id": question.id},
        "community.edit_question": {"question_id": question.id},
        "community.vote_question": {"question_id": question.id},
        "community.edit_answer": {"answer_id": answer.id},
        "community.vote_answer": {"answer_id": answer.id},
        "community.accept_answer": {"answer_id": answer.id},
        "community.moderate_post": {"kind": "question", "post_id": question.id},
        "community.search": {"q": "tea"},
        "community.suggest": {"q": "tea"},
        "community.ticket": {"ticket_id": ticket.id},
        "community.reply_ticket": {"ticket_id": ticket.id},
        "community.assign_ticket": {"ticket_id": ticket.id},
        "community.resolve_ticket": {"ticket_id": ticket.id},
        "community.reopen_ticket": {"ticket_id": ticket.id},
        "community.ticket_to_article": {"ticket_id": ticket.id},
    }


# A contact (someone an employee invited) reads, asks and answers; writes no articles; sees no
# one else's ticket or draft; and none of the operators' pages.
CONTACT: dict[tuple[str, str], int] = {
    ("community.home", "GET"): 200,
    ("community.search", "GET"): 200,
    ("community.suggest", "GET"): 200,
    ("community.articles", "GET"): 200,
    ("community.article", "GET"): 200,
    ("community.new_article", "GET"): 403,
    ("community.new_article", "POST"): 403,
    ("community.edit_article", "GET"): 404,  # the employee's pending article
    ("community.edit_article", "POST"): 404,
    ("community.publish_article", "POST"): 403,
    ("community.reject_article", "POST"): 403,
    ("community.review_article", "POST"): 403,
    ("community.questions", "GET"): 200,
    ("community.question", "GET"): 200,
    ("community.ask", "GET"): 200,
    ("community.ask", "POST"): 422,
    ("community.answer", "GET"): 302,  # to the question, where the form is
    ("community.answer", "POST"): 422,
    ("community.edit_question", "GET"): 403,
    ("community.edit_question", "POST"): 403,
    ("community.edit_answer", "GET"): 403,
    ("community.edit_answer", "POST"): 403,
    ("community.vote_question", "POST"): 302,
    ("community.vote_answer", "POST"): 302,
    ("community.accept_answer", "POST"): 403,  # only the asker or an operator
    ("community.moderate_post", "POST"): 403,
    ("community.tickets", "GET"): 200,
    ("community.ticket", "GET"): 404,  # the employee's ticket
    ("community.reply_ticket", "POST"): 404,
    ("community.reopen_ticket", "POST"): 404,
    ("community.assign_ticket", "POST"): 403,
    ("community.resolve_ticket", "POST"): 403,
    ("community.ticket_to_article", "POST"): 403,
    ("community.ticket_queue", "GET"): 403,
    ("community.review_queue", "GET"): 403,
    ("community.metrics", "GET"): 403,
}

ROLES = ("anonymous", "contact", "employee", "operator")


def test_every_community_route_is_in_both_tables(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("community.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == {key for key in MATRIX if key[0].startswith("community.")}
    assert routes == set(CONTACT)


@pytest.mark.parametrize("role", ROLES)
def test_community_access(app, client, make_user, employee, operator, product, role):
    params = community_world(employee, operator, product)
    users = {
        "employee": employee,
        "operator": operator,
        "contact": make_user(kind=Kind.contact, level=1, referrer_id=employee.id, root_employee_id=employee.id),
    }
    if role != "anonymous":
        login(client, users[role])
    token = client.csrf_token("/login" if role == "anonymous" else "/")
    failures = []
    for endpoint, method in sorted(CONTACT):
        expected = CONTACT[(endpoint, method)] if role == "contact" else MATRIX[(endpoint, method)][role]
        with app.test_request_context():
            url = url_for(endpoint, **params.get(endpoint, {}))
        response = client.get(url) if method == "GET" else client.post(url, data={"csrf_token": token})
        response.close()
        if expected == LOGIN:
            ok = response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            ok = response.status_code == expected
        if not ok:
            failures.append(f"{method} {url} ({endpoint}): {response.status_code}, expected {expected}")
    assert failures == [], "\n".join(failures)


def test_posts_without_a_csrf_token_are_refused(client, employee, operator, product):
    params = community_world(employee, operator, product)
    login(client, employee)
    with client.application.test_request_context():
        url = url_for("community.answer", **params["community.answer"])
    assert client.post(url, data={"body_md": "Yes"}).status_code == 400
