"""The buyers who asked to be reminded when a festival opens (the festivals themselves and
their items: ``shop/catalog/festival_models.py``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shop.database import UTCDateTime, utcnow
from shop.extensions import db


class FestivalReminder(db.Model):
    """A buyer asked during preheat to be told when buying opens."""

    __tablename__ = "festival_reminders"
    __table_args__ = (sa.UniqueConstraint("festival_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    festival_id: Mapped[int] = mapped_column(sa.ForeignKey("festivals.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
