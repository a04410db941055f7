"""Articles: FAQ, manuals, competitor comparisons, sales scripts, announcements.

Operators publish directly; an employee's article waits for an operator's approval (pending).
An article not reviewed for ``ARTICLE_REVIEW_DAYS`` is due for review in the operators' queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, or_, select
from sqlalchemy.orm import selectinload

from community.errors import CommunityError, IllegalTransition
from community.models import Article, ArticleKind, ArticleStatus, Tag, article_products
from community.services.common import active_product, can_write_articles, parse_tags, tags_named
from shop.accounts.models import User
from shop.audit.services import record
from shop.database import utcnow
from shop.errors import NotAllowed
from shop.extensions import db
from shop.i18n import in_language_of
from shop.mail import queue_mail
from shop.pagination import Page, paginate
from shop.urls import public_url

PRODUCT_BOX_LIMIT = 5


def _public():
    return (Article.status == ArticleStatus.published) & Article.is_hidden.is_(False)


def article_for(viewer: User, article_id: int) -> Article | None:
    """The article if ``viewer`` may read it: public ones for every member; drafts, pending,
    rejected and hidden ones for their author and the operators only (others: not found)."""
    article = db.session.scalar(
        select(Article)
        .where(Article.id == article_id)
        .options(selectinload(Article.tags), selectinload(Article.products), selectinload(Article.author))
    )
    if article is None:
        return None
    if article.is_public or viewer.is_operator or article.author_id == viewer.id:
        return article
    return None


def may_edit(user: User, article: Article) -> bool:
    if user.is_operator:
        return True
    return article.author_id == user.id and article.status != ArticleStatus.published and not article.is_hidden


def is_due_for_review(article: Article, now: datetime | None = None) -> bool:
    if article.status != ArticleStatus.published:
        return False
    last = article.reviewed_at or article.published_at
    return last is None or last <= (now or utcnow()) - review_period()


def review_period() -> timedelta:
    return timedelta(days=current_app.config["ARTICLE_REVIEW_DAYS"])


@dataclass
class ArticleInput:
    kind: ArticleKind
    title: str
    body_md: str
    tags: str = ""
    product_ids: tuple[int, ...] = ()


def save_article(
    actor: User, article: Article | None, data: ArticleInput, *, publish: bool, now: datetime | None = None
) -> Article:
    """Create or edit an article. ``publish``: an operator publishes it; anyone else submits it
    for approval (pending). Without it a new article is a draft and an existing one keeps its state."""
    now = now or utcnow()
    if not can_write_articles(actor):
        raise NotAllowed(_("Only employees and operators write articles."))
    creating = article is None
    if not creating and not may_edit(actor, article):
        raise NotAllowed(_("This article can no longer be edited by you."))
    title = " ".join(data.title.split())
    if not title:
        raise CommunityError(_("Give the article a title."))
    tag_names = parse_tags(data.tags)
    products = [active_product(pid) for pid in dict.fromkeys(data.product_ids) if pid]

    before = None if creating else _state(article)
    article = article or Article(author_id=actor.id, status=ArticleStatus.draft, created_at=now, updated_at=now)
    article.kind, article.title, article.body_md = data.kind, title, data.body_md
    article.tags = tags_named(tag_names)
    article.products = products
    db.session.add(article)
    record("article.create" if creating else "article.edit", article, actor=actor, before=before, after=_state(article))
    if publish and article.status != ArticleStatus.published:
        if actor.is_operator:
            publish_article(actor, article, now=now)
        else:
            _submit(actor, article)
    return article


def _submit(actor: User, article: Article) -> None:
    if article.status not in (ArticleStatus.draft, ArticleStatus.rejected, ArticleStatus.pending):
        raise IllegalTransition(_("This article cannot be submitted now."))
    if article.status != ArticleStatus.pending:
        before = article.status.value
        article.status = ArticleStatus.pending
        record("article.submit", article, actor=actor, before={"status": before}, after={"status": "pending"})


def publish_article(actor: User, article: Article, *, now: datetime | None = None) -> Article:
    """An operator publishes a draft or approves a pending article (also one sent back before)."""
    now = now or utcnow()
    if not actor.is_operator:
        raise NotAllowed(_("Only operators publish articles."))
    if article.status == ArticleStatus.published:
        raise IllegalTransition(_("This article is published already."))
    before = article.status
    article.status = ArticleStatus.published
    article.published_at = article.published_at or now
    article.reviewed_at, article.reviewed_by_id = now, actor.id
    db.session.flush()
    action = "article.approve" if before == ArticleStatus.pending else "article.publish"
    record(action, article, actor=actor, before={"status": before.value}, after={"status": "published"})
    return article


def reject_article(actor: User, article: Article, reason: str) -> Article:
    """Send a pending article back to its author with a reason (they get an e-mail)."""
    if not actor.is_operator:
        raise NotAllowed(_("Only operators review articles."))
    if article.status != ArticleStatus.pending:
        raise IllegalTransition(_("Only an article waiting for approval can be sent back."))
    reason = reason.strip()
    if not reason:
        raise CommunityError(_("Tell the author what to change."))
    article.status = ArticleStatus.rejected
    record(
        "article.reject",
        article,
        actor=actor,
        before={"status": "pending"},
        after={"status": "rejected"},
        reason=reason[:500],
    )
    link = public_url("community.article", article_id=article.id)
    with in_language_of(article.author):
        queue_mail(
            article.author.email,
            _("Your article needs changes: %(title)s", title=article.title),
            _(
                "An operator sent your article back:\n\n%(reason)s\n\nEdit it and submit it again: %(link)s",
                reason=reason,
                link=link,
            ),
        )
    return article


def mark_reviewed(actor: User, article: Article, *, now: datetime | None = None) -> Article:
    """An operator confirms a published article is still right; it leaves the review queue."""
    now = now or utcnow()
    if not actor.is_operator:
        raise NotAllowed(_("Only operators review articles."))
    if article.status != ArticleStatus.published:
        raise IllegalTransition(_("Only a published article can be marked reviewed."))
    before = article.reviewed_at
    article.reviewed_at, article.reviewed_by_id = now, actor.id
    record(
        "article.review",
        article,
        actor=actor,
        before={"reviewed_at": before.isoformat() if before else None},
        after={"reviewed_at": now.isoformat()},
    )
    return article


def _state(article: Article) -> dict:
    return {
        "kind": article.kind.value,
        "title": article.title,
        "status": article.status.value,
        "tags": [t.name for t in article.tags],
        "products": [p.id for p in article.products],
        "body_md": article.body_md,
    }


# ---- lists ----------------------------------------------------------------------------------


def public_articles(
    *, kind: ArticleKind | None = None, tag: str | None = None, page: int = 1, per_page: int = 20
) -> Page:
    query = select(Article).where(_public()).options(selectinload(Article.tags), selectinload(Article.author))
    if kind:
        query = query.where(Article.kind == kind)
    if tag:
        query = query.where(Article.tags.any(Tag.name == tag.lower()))
    return paginate(query.order_by(Article.published_at.desc(), Article.id.desc()), page, per_page)


def articles_for_product(product_id: int) -> list[Article]:
    """The "Know before you share" box of a product page: its public articles, FAQs first."""
    faq_first = case((Article.kind == ArticleKind.faq, 0), else_=1)
    return list(
        db.session.scalars(
            select(Article)
            .join(article_products, article_products.c.article_id == Article.id)
            .where(article_products.c.product_id == product_id, _public())
            .order_by(faq_first, Article.published_at.desc(), Article.id.desc())
            .limit(PRODUCT_BOX_LIMIT)
        )
    )


def my_articles(user: User) -> list[Article]:
    return list(
        db.session.scalars(
            select(Article)
            .where(Article.author_id == user.id, Article.status != ArticleStatus.published)
            .order_by(Article.id.desc())
        )
    )


@dataclass
class ReviewQueue:
    pending: list[Article]
    due: list[Article]  # published, not reviewed for ARTICLE_REVIEW_DAYS
    drafts: list[Article]
    hidden: list[Article]


def review_queue(*, now: datetime | None = None) -> ReviewQueue:
    now = now or utcnow()
    cutoff = now - review_period()

    def of(*conditions, order):
        return list(
            db.session.scalars(
                select(Article).where(*conditions).options(selectinload(Article.author)).order_by(*order).limit(200)
            )
        )

    return ReviewQueue(
        pending=of(Article.status == ArticleStatus.pending, order=(Article.updated_at,)),
        due=of(
            Article.status == ArticleStatus.published,
            Article.is_hidden.is_(False),
            or_(Article.reviewed_at.is_(None), Article.reviewed_at <= cutoff),
            order=(Article.reviewed_at, Article.id),
        ),
        drafts=of(Article.status.in_((ArticleStatus.draft, ArticleStatus.rejected)), order=(Article.id.desc(),)),
        hidden=of(Article.is_hidden.is_(True), order=(Article.id.desc(),)),
    )
