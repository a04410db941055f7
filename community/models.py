"""The knowledge community: articles, questions and answers, votes, consultation tickets, and the
two logs its metrics read (self-service resolutions and searches).

The full-text index is not a model: it is kept by the database itself (an FTS5 table fed by
triggers on SQLite, trigram GIN indexes on PostgreSQL); see ``community.search_index``.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.catalog.models import Product
from shop.database import UTCDateTime, utcnow
from shop.extensions import db
from shop.labels import register as register_labels


class ArticleKind(enum.StrEnum):
    faq = "faq"
    manual = "manual"
    comparison = "comparison"  # a competitor comparison
    sales_script = "sales_script"
    announcement = "announcement"


class ArticleStatus(enum.StrEnum):
    draft = "draft"  # being written (also: made from a ticket, not yet published)
    pending = "pending"  # an employee's article waiting for an operator's approval
    published = "published"
    rejected = "rejected"  # sent back to its author; they may edit and submit it again


class TicketStatus(enum.StrEnum):
    open = "open"  # waiting for an operator
    answered = "answered"  # an operator replied; waiting for the requester
    resolved = "resolved"


# The ticket state machine: step -> {from: to}. A step from any other state is refused; who may
# take each step is decided in community.services.tickets.
TICKET_STEPS: dict[str, dict[TicketStatus, TicketStatus]] = {
    "reply_by_operator": {TicketStatus.open: TicketStatus.answered, TicketStatus.answered: TicketStatus.answered},
    "reply_by_requester": {TicketStatus.open: TicketStatus.open, TicketStatus.answered: TicketStatus.open},
    "resolve": {TicketStatus.open: TicketStatus.resolved, TicketStatus.answered: TicketStatus.resolved},
    "reopen": {TicketStatus.resolved: TicketStatus.open},
}


class Tag(db.Model):
    __tablename__ = "community_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), unique=True)


article_tags = sa.Table(
    "community_article_tags",
    db.metadata,
    sa.Column("article_id", sa.ForeignKey("community_articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("community_tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)

question_tags = sa.Table(
    "community_question_tags",
    db.metadata,
    sa.Column("question_id", sa.ForeignKey("community_questions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("community_tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)

article_products = sa.Table(
    "community_article_products",
    db.metadata,
    sa.Column("article_id", sa.ForeignKey("community_articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("product_id", sa.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Article(db.Model):
    __tablename__ = "community_articles"
    __table_args__ = (
        sa.Index("ix_community_articles_status_reviewed_at", "status", "reviewed_at"),
        sa.CheckConstraint("status != 'published' OR published_at IS NOT NULL", name="published_has_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ArticleKind] = mapped_column(sa.Enum(ArticleKind, native_enum=False, length=16))
    title: Mapped[str] = mapped_column(sa.String(200))
    body_md: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    status: Mapped[ArticleStatus] = mapped_column(
        sa.Enum(ArticleStatus, native_enum=False, length=16), default=ArticleStatus.draft
    )
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # The resolved ticket this FAQ was made from (one article per ticket at most).
    source_ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("community_tickets.id"), unique=True)
    is_hidden: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last checked by an operator
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    tags: Mapped[list[Tag]] = relationship(secondary=article_tags, order_by=Tag.name)
    products: Mapped[list[Product]] = relationship(secondary=article_products, order_by=Product.name)
    source_ticket: Mapped[Ticket | None] = relationship(back_populates="article")

    @property
    def is_public(self) -> bool:
        return self.status == ArticleStatus.published and not self.is_hidden


class Question(db.Model):
    __tablename__ = "community_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body_md: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id"), index=True)
    score: Mapped[int] = mapped_column(default=0, server_default="0")  # sum of votes, kept by the vote service
    is_hidden: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    is_locked: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when an answer was accepted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    author: Mapped[User] = relationship()
    product: Mapped[Product | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=question_tags, order_by=Tag.name)
    answers: Mapped[list[Answer]] = relationship(back_populates="question", order_by="Answer.id")

    @property
    def is_solved(self) -> bool:
        return self.solved_at is not None


class Answer(db.Model):
    __tablename__ = "community_answers"
    __table_args__ = (
        sa.CheckConstraint("NOT is_accepted OR accepted_at IS NOT NULL", name="accepted_has_date"),
        # At most one accepted answer per question.
        sa.Index(
            "ix_community_answers_one_accepted",
            "question_id",
            unique=True,
            sqlite_where=sa.text("is_accepted"),
            postgresql_where=sa.text("is_accepted"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("community_questions.id"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    body_md: Mapped[str] = mapped_column(sa.Text)
    score: Mapped[int] = mapped_column(default=0, server_default="0")
    is_hidden: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    is_accepted: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    question: Mapped[Question] = relationship(back_populates="answers")
    author: Mapped[User] = relationship()


class Vote(db.Model):
    """One vote per user per post: +1 or -1 on a question or on an answer."""

    __tablename__ = "community_votes"
    __table_args__ = (
        sa.CheckConstraint("value IN (-1, 1)", name="value_is_one"),
        sa.CheckConstraint("(question_id IS NULL) != (answer_id IS NULL)", name="one_post"),
        sa.UniqueConstraint("user_id", "question_id", name="uq_community_votes_user_question"),
        sa.UniqueConstraint("user_id", "answer_id", name="uq_community_votes_user_answer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    question_id: Mapped[int | None] = mapped_column(sa.ForeignKey("community_questions.id"), index=True)
    answer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("community_answers.id"), index=True)
    value: Mapped[int] = mapped_column(sa.SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Ticket(db.Model):
    """A consultation ("ask an operator"): private to its requester and the operators."""

    __tablename__ = "community_tickets"
    __table_args__ = (
        sa.Index("ix_community_tickets_status_created_at", "status", "created_at"),
        sa.CheckConstraint("status != 'resolved' OR resolved_at IS NOT NULL", name="resolved_has_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id"))
    subject: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[TicketStatus] = mapped_column(
        sa.Enum(TicketStatus, native_enum=False, length=16), default=TicketStatus.open
    )
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first operator reply
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    product: Mapped[Product | None] = relationship()
    messages: Mapped[list[TicketMessage]] = relationship(back_populates="ticket", order_by="TicketMessage.id")
    article: Mapped[Article | None] = relationship(back_populates="source_ticket")


class TicketMessage(db.Model):
    __tablename__ = "community_ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("community_tickets.id"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    from_operator: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    body_md: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author: Mapped[User] = relationship()


class SelfServiceResolution(db.Model):
    """ "This answered it": a user's question answered by an article or a solved question,
    without posting anything. The numerator (and part of the denominator) of the self-service rate."""

    __tablename__ = "community_self_service"
    __table_args__ = (sa.CheckConstraint("(article_id IS NULL) != (question_id IS NULL)", name="one_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    query: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    article_id: Mapped[int | None] = mapped_column(sa.ForeignKey("community_articles.id"))
    question_id: Mapped[int | None] = mapped_column(sa.ForeignKey("community_questions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SearchQuery(db.Model):
    """A search a member ran, with how many results it found (operators read the misses): one
    row per user, query and minute, so reloading or re-requesting the page logs nothing more."""

    __tablename__ = "community_query_log"
    __table_args__ = (sa.Index("ix_community_query_log_once_a_minute", "user_id", "query", "created_at", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    query: Mapped[str] = mapped_column(sa.String(200))  # normalised: trimmed, spaces collapsed, lower case
    results: Mapped[int]
    # The minute of the search (seconds dropped); rows logged before 2026-12 keep their seconds.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# What people read for these values (shop/labels.py).
register_labels(
    {
        ArticleKind.faq: _l("FAQ"),
        ArticleKind.manual: _l("Manual"),
        ArticleKind.comparison: _l("Competitor comparison"),
        ArticleKind.sales_script: _l("Sales script"),
        ArticleKind.announcement: _l("Announcement"),
        ArticleStatus.draft: _l("draft"),
        ArticleStatus.pending: _l("waiting for approval"),
        ArticleStatus.published: _l("published"),
        ArticleStatus.rejected: _l("sent back"),
        TicketStatus.open: _l("open"),
        TicketStatus.answered: _l("answered"),
        TicketStatus.resolved: _l("resolved"),
    }
)
