"""Leads: a customer referred by a chain member to a professional sales rep (the guest agency)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.catalog.models import Product
from shop.database import UTCDateTime, utcnow
from shop.extensions import db
from shop.labels import register as register_labels


class LeadStatus(enum.StrEnum):
    new = "new"
    contacted = "contacted"
    qualified = "qualified"
    won = "won"
    lost = "lost"


# The pipeline. Won and lost are final; anything else is refused.
LEAD_TRANSITIONS: dict[LeadStatus, frozenset[LeadStatus]] = {
    LeadStatus.new: frozenset({LeadStatus.contacted, LeadStatus.lost}),
    LeadStatus.contacted: frozenset({LeadStatus.qualified, LeadStatus.lost}),
    LeadStatus.qualified: frozenset({LeadStatus.won, LeadStatus.lost}),
    LeadStatus.won: frozenset(),
    LeadStatus.lost: frozenset(),
}


class Timeline(enum.StrEnum):
    now = "now"
    quarter = "quarter"  # within three months
    half_year = "half_year"
    later = "later"


class Lead(db.Model):
    __tablename__ = "leads"
    __table_args__ = (
        sa.CheckConstraint("customer_phone <> '' OR customer_email <> ''", name="phone_or_email"),
        sa.CheckConstraint("budget IS NULL OR budget >= 0", name="budget_not_negative"),
        sa.CheckConstraint("status <> 'won' OR (amount IS NOT NULL AND amount > 0)", name="won_has_amount"),
        sa.CheckConstraint(
            "status <> 'lost' OR (lost_reason IS NOT NULL AND lost_reason <> '')", name="lost_has_reason"
        ),
        sa.Index("ix_leads_assignee_id_status", "assignee_id", "status"),
        sa.Index("ix_leads_root_employee_id_created_at", "root_employee_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"))
    referrer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # Attribution at submission, as for orders.
    referrer_level: Mapped[int]
    root_employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    l1_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    customer_name: Mapped[str] = mapped_column(sa.String(120))
    customer_phone: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    customer_email: Mapped[str] = mapped_column(sa.String(254), default="", server_default="")
    company: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    need: Mapped[str] = mapped_column(sa.Text)
    budget: Mapped[int | None]  # minor units of ``currency``
    currency: Mapped[str] = mapped_column(sa.String(3))
    timeline: Mapped[Timeline] = mapped_column(sa.Enum(Timeline, native_enum=False, length=16))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)

    status: Mapped[LeadStatus] = mapped_column(
        sa.Enum(LeadStatus, native_enum=False, length=16), default=LeadStatus.new
    )
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    amount: Mapped[int | None]  # won amount, minor units
    lost_reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    follow_up_on: Mapped[date | None] = mapped_column(sa.Date)  # the rep's next step, a day in the company's zone

    product: Mapped[Product] = relationship()
    referrer: Mapped[User] = relationship(foreign_keys=[referrer_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    notes: Mapped[list[LeadNote]] = relationship(
        back_populates="lead", order_by="LeadNote.id.desc()", cascade="all, delete-orphan"
    )

    def can_become(self, status: LeadStatus) -> bool:
        return status in LEAD_TRANSITIONS[self.status]

    @property
    def is_open(self) -> bool:
        return bool(LEAD_TRANSITIONS[self.status])


class LeadNote(db.Model):
    """What the rep (or an admin) wrote down about a lead: calls, what the customer said."""

    __tablename__ = "lead_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(sa.ForeignKey("leads.id"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="notes")
    author: Mapped[User] = relationship()


class LeadCursor(db.Model):
    """The one row that remembers who got the last lead, for round-robin assignment. Taking
    a lead locks it, so concurrent submissions go to different reps in turn."""

    __tablename__ = "lead_cursor"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_assignee_id: Mapped[int | None]


# What people read for these values (shop/labels.py).
register_labels(
    {
        LeadStatus.new: _l("new"),
        LeadStatus.contacted: _l("contacted"),
        LeadStatus.qualified: _l("qualified"),
        LeadStatus.won: _l("won"),
        LeadStatus.lost: _l("lost"),
        Timeline.now: _l("As soon as possible"),
        Timeline.quarter: _l("Within three months"),
        Timeline.half_year: _l("Within six months"),
        Timeline.later: _l("Later or not sure"),
    }
)
