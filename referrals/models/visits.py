"""Link visits (one row per visitor, link and day) and sign-ups through links."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shop.database import UTCDateTime, utcnow
from shop.extensions import db


class Visit(db.Model):
    """A link opened. ``visitor`` is ``a:<cookie>`` for anonymous visitors and ``u:<id>`` for
    members; an anonymous visitor's rows get ``user_id`` when they sign up."""

    __tablename__ = "referral_visits"
    __table_args__ = (
        sa.UniqueConstraint("visitor", "link_owner_id", "product_key", "day", name="uq_referral_visits_once_a_day"),
        sa.Index("ix_referral_visits_link_owner_id_day", "link_owner_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor: Mapped[str] = mapped_column(sa.String(40), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    link_owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id"))
    product_key: Mapped[int] = mapped_column(default=0, server_default="0")  # product id, 0 for an invite link
    day: Mapped[date] = mapped_column(sa.Date)  # in the company's time zone
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Join(db.Model):
    """How a contact joined: whose link, which product, from which address. For abuse checks."""

    __tablename__ = "referral_joins"
    __table_args__ = (sa.Index("ix_referral_joins_ip_at", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    link_owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id"))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
