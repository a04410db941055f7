"""Articles: operators publish directly, employees' articles wait for approval, review after
ARTICLE_REVIEW_DAYS, rendering, tags and products, the product page's "Know before you share"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import render_template
from sqlalchemy import select

from community.errors import CommunityError, IllegalTransition
from community.models import Article, ArticleKind, ArticleStatus
from community.services import articles
from community.services.moderation import Action, moderate
from shop.accounts.models import Kind
from shop.audit.models import AuditEntry
from shop.database import utcnow
from shop.errors import NotAllowed
from shop.extensions import db
from tests.conftest import login, outbox
from tests.fixtures.community import make_article

FORM = {
    "kind": "manual",
    "title": "Using the rice cooker",
    "body_md": "| Mode | Time |\n| --- | --- |\n| Rice | 40 min |",
    "tags": "kitchen, 电饭煲",
}


def actions(article) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "Article", AuditEntry.entity_id == article.id)
            .order_by(AuditEntry.id)
        )
    )


def test_operators_publish_directly(client, operator, product):
    login(client, operator)
    response = client.post_form(
        "/community/articles/new",
        FORM | {"product_ids": [product.id], "publish": "Publish"},
        token_from="/community/articles/new",
    )
    article = db.session.scalar(select(Article))
    assert response.headers["Location"].endswith(f"/community/articles/{article.id}")
    assert (article.status, article.author_id, article.kind) == (
        ArticleStatus.published,
        operator.id,
        ArticleKind.manual,
    )
    assert article.published_at and article.reviewed_at == article.published_at
    assert [t.name for t in article.tags] == ["kitchen", "电饭煲"] and [p.id for p in article.products] == [product.id]
    html = client.get(f"/community/articles/{article.id}").get_data(as_text=True)
    assert "<table>" in html and "<td>40 min</td>" in html and "Last reviewed" in html
    assert actions(article) == ["article.create", "article.publish"]
    listing = client.get("/community/articles?kind=manual").get_data(as_text=True)
    assert "Using the rice cooker" in listing
    assert "Using the rice cooker" not in client.get("/community/articles?kind=faq").get_data(as_text=True)
    assert "Using the rice cooker" in client.get("/community/articles?tag=电饭煲").get_data(as_text=True)
    assert (
        client.post_form(
            "/community/articles/new",
            {"kind": "manual", "title": "", "body_md": "x"},
            token_from="/community/articles/new",
        ).status_code
        == 422
    )


def test_an_employees_article_waits_for_approval(app, client, employee, operator, make_user):
    reader = make_user()
    login(client, employee)
    client.post_form(
        "/community/articles/new", FORM | {"publish": "Submit for review"}, token_from="/community/articles/new"
    )
    article = db.session.scalar(select(Article))
    assert article.status == ArticleStatus.pending and article.published_at is None
    assert "waiting for approval" in client.get("/community/articles").get_data(as_text=True)  # in "mine"
    login(client, reader)
    assert client.get(f"/community/articles/{article.id}").status_code == 404
    assert "Using the rice cooker" not in client.get("/community/articles").get_data(as_text=True)

    # Sent back with a reason: the author gets an e-mail, edits, submits again.
    login(client, operator)
    assert "Using the rice cooker" in client.get("/community/ops/articles").get_data(as_text=True)
    page = f"/community/articles/{article.id}"
    client.post_form(f"{page}/reject", {"reason": "Add the porridge mode."}, token_from=page)
    assert db.session.get(Article, article.id).status == ArticleStatus.rejected
    [mail] = outbox(app)
    assert employee.email in mail and "Add the porridge mode." in mail
    login(client, employee)
    client.post_form(
        f"{page}/edit",
        FORM | {"body_md": "Rice 40 min, porridge 90 min.", "publish": "Submit"},
        token_from=f"{page}/edit",
    )
    assert db.session.get(Article, article.id).status == ArticleStatus.pending

    login(client, operator)
    client.post_form(f"{page}/publish", token_from=page)
    article = db.session.get(Article, article.id)
    assert article.status == ArticleStatus.published and article.reviewed_by_id == operator.id
    assert actions(article) == [
        "article.create",
        "article.submit",
        "article.reject",
        "article.edit",
        "article.submit",
        "article.approve",
    ]
    login(client, reader)
    assert client.get(page).status_code == 200
    # Published: the author can no longer edit it; an operator can.
    login(client, employee)
    assert client.get(f"{page}/edit").status_code == 403


def test_who_writes_and_what_can_be_done_when(employee, operator, make_user):
    contact = make_user(kind=Kind.contact, level=1, root_employee_id=employee.id, referrer_id=employee.id)
    data = articles.ArticleInput(kind=ArticleKind.faq, title="Mine", body_md="x")
    with pytest.raises(NotAllowed):
        articles.save_article(contact, None, data, publish=True)
    draft = make_article(employee, "Draft", publish=False)
    assert draft.status == ArticleStatus.draft
    with pytest.raises(NotAllowed):
        articles.publish_article(employee, draft)
    with pytest.raises(IllegalTransition):
        articles.reject_article(operator, draft, "No")  # only pending articles are sent back
    with pytest.raises(IllegalTransition):
        articles.mark_reviewed(operator, draft)
    with pytest.raises(NotAllowed):
        articles.save_article(make_user(), draft, data, publish=False)  # someone else's draft
    with pytest.raises(CommunityError):
        articles.save_article(
            employee, None, articles.ArticleInput(kind=ArticleKind.faq, title="  ", body_md="x"), publish=False
        )
    published = articles.publish_article(operator, draft)
    with pytest.raises(IllegalTransition):
        articles.publish_article(operator, published)
    with pytest.raises(CommunityError):
        articles.save_article(
            operator,
            published,
            articles.ArticleInput(kind=ArticleKind.faq, title="x", body_md="x", tags="a" * 41),
            publish=False,
        )


def test_review_queue_after_article_review_days(app, client, operator):
    days = app.config["ARTICLE_REVIEW_DAYS"]
    old = make_article(operator, "Old rules", now=utcnow() - timedelta(days=days + 1))
    fresh = make_article(operator, "New rules", now=utcnow() - timedelta(days=days - 1))
    queue = articles.review_queue()
    assert [a.id for a in queue.due] == [old.id]
    assert articles.is_due_for_review(old) and not articles.is_due_for_review(fresh)
    login(client, operator)
    page = f"/community/articles/{old.id}"
    assert "Due for review" in client.get(page).get_data(as_text=True)
    assert "Old rules" in client.get("/community/ops/articles").get_data(as_text=True)
    client.post_form(f"{page}/review", token_from=page)
    assert articles.review_queue().due == []
    assert "article.review" in actions(old)
    app.config["ARTICLE_REVIEW_DAYS"] = 0  # everything is due at once
    try:
        assert {a.id for a in articles.review_queue().due} == {old.id, fresh.id}
    finally:
        app.config["ARTICLE_REVIEW_DAYS"] = days


def test_know_before_you_share(app, employee, operator, make_product):
    product, other = make_product(name="Tea Set"), make_product()
    manual = make_article(
        operator, "Tea set manual", kind=ArticleKind.manual, product_ids=(product.id,), now=utcnow() - timedelta(days=1)
    )
    faq = make_article(
        operator, "Tea set FAQ", kind=ArticleKind.faq, product_ids=(product.id,), now=utcnow() - timedelta(days=2)
    )
    make_article(operator, "Draft about the tea set", publish=False, product_ids=(product.id,))
    make_article(employee, "Pending about the tea set", product_ids=(product.id,))
    hidden = make_article(operator, "Hidden about the tea set", product_ids=(product.id,))
    make_article(operator, "Other product", product_ids=(other.id,))
    moderate(operator, hidden, Action.hide)
    db.session.commit()
    assert [a.id for a in articles.articles_for_product(product.id)] == [faq.id, manual.id]  # FAQ first
    with app.test_request_context():
        html = render_template("community/_product_articles.html", product=product)
        assert "Know before you share" in html and "Tea set FAQ" in html and "Hidden" not in html
        assert f"/community/ask?product={product.id}" in html
        bare = make_product()
        assert render_template("community/_product_articles.html", product=bare).strip() == ""
