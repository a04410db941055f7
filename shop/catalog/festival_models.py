"""Festivals and the stock and prices set apart for them: what is for sale, when and at which
price, as the catalog holds it. Orders and quota rules refer to these rows, so they live below
those packages; what festivals do (allocating, the pages, reminders, forecasts) is
``shop/festivals/``."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import PriceTier, Variant
from shop.database import UTCDateTime, utcnow
from shop.extensions import db


class Phase(enum.StrEnum):
    draft = "draft"
    preheat = "preheat"
    launch = "launch"
    continuation = "continuation"
    ended = "ended"


SELLING_PHASES = frozenset({Phase.launch, Phase.continuation})


class Festival(db.Model):
    __tablename__ = "festivals"
    __table_args__ = (
        sa.CheckConstraint("preheat_at < launch_at", name="preheat_before_launch"),
        sa.CheckConstraint(
            "continuation_at IS NULL OR (launch_at < continuation_at AND continuation_at < ends_at)",
            name="continuation_inside",
        ),
        sa.CheckConstraint("launch_at < ends_at", name="launch_before_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    preheat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    launch_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    continuation_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # launch reminders sent
    # The banner picture (a bounded copy under instance/uploads, see shop/catalog/images.py).
    banner_filename: Mapped[str | None] = mapped_column(sa.String(255))
    banner_width: Mapped[int | None]
    banner_height: Mapped[int | None]

    items: Mapped[list[FestivalItem]] = relationship(back_populates="festival", order_by="FestivalItem.id")

    def phase(self, now: datetime | None = None) -> Phase:
        """The phase follows from the clock alone; no scheduler has to move it."""
        now = now or utcnow()
        if now < self.preheat_at:
            return Phase.draft
        if now < self.launch_at:
            return Phase.preheat
        if now >= self.ends_at:
            return Phase.ended
        if self.continuation_at is not None and now >= self.continuation_at:
            return Phase.continuation
        return Phase.launch

    def is_selling(self, now: datetime | None = None) -> bool:
        return self.phase(now) in SELLING_PHASES

    def next_change(self, now: datetime | None = None) -> datetime | None:
        """When the phase changes next (for the countdown), or None once ended."""
        now = now or utcnow()
        for moment in (self.preheat_at, self.launch_at, self.continuation_at, self.ends_at):
            if moment is not None and moment > now:
                return moment
        return None


class FestivalItem(db.Model):
    """A variant's share of stock set apart for one festival, sold at festival prices.

    ``allocated`` units were taken from the variant's general stock. ``sold`` counts units held
    by orders (unpaid reserved ones too). At the end, ``allocated - sold`` goes back to general
    stock once (``returned_units``, ``returned_at``); units given back by orders after that go
    straight to general stock and are added to ``returned_units``, so that afterwards
    ``allocated == sold + returned_units`` always holds.
    """

    __tablename__ = "festival_items"
    __table_args__ = (
        sa.UniqueConstraint("festival_id", "variant_id"),
        sa.CheckConstraint("sold >= 0", name="sold_not_negative"),
        sa.CheckConstraint("sold + returned_units <= allocated", name="sold_within_allocation"),
        sa.CheckConstraint("returned_units >= 0", name="returned_not_negative"),
        sa.CheckConstraint("employee_price >= 0 AND contact_price >= 0", name="prices_not_negative"),
        sa.CheckConstraint("per_buyer_limit IS NULL OR per_buyer_limit > 0", name="limit_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    festival_id: Mapped[int] = mapped_column(sa.ForeignKey("festivals.id"), index=True)
    variant_id: Mapped[int] = mapped_column(sa.ForeignKey("variants.id"), index=True)
    employee_price: Mapped[int]
    contact_price: Mapped[int]
    allocated: Mapped[int] = mapped_column(default=0, server_default="0")
    sold: Mapped[int] = mapped_column(default=0, server_default="0")
    returned_units: Mapped[int] = mapped_column(default=0, server_default="0")
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    per_buyer_limit: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    festival: Mapped[Festival] = relationship(back_populates="items")
    variant: Mapped[Variant] = relationship()

    def price_for(self, tier: PriceTier) -> int:
        return self.employee_price if tier == PriceTier.employee else self.contact_price

    @property
    def available(self) -> int:
        return 0 if self.returned_at is not None else self.allocated - self.sold

    @property
    def currency(self) -> str:
        return self.variant.currency
