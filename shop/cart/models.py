"""A cart stored per user: one line per variant."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import Variant
from shop.database import UTCDateTime, utcnow
from shop.extensions import db


class CartLine(db.Model):
    __tablename__ = "cart_lines"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "variant_id", name="uq_cart_lines_user_variant"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    variant_id: Mapped[int] = mapped_column(sa.ForeignKey("variants.id"))
    quantity: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    variant: Mapped[Variant] = relationship()
