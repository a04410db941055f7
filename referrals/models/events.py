"""The funnel event log: one append-only row per fact (share, visit, sign-up, consultation,
first order, repeat order), written in the transaction of the fact it records."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from shop.database import UTCDateTime, utcnow
from shop.extensions import db


class EventKind(enum.StrEnum):
    share = "share"  # a share link or a poster was made
    visit = "visit"  # a link was opened (once per visitor, link and day)
    signup = "signup"  # someone joined through a link
    consultation = "consultation"  # a lead, a question or a ticket by a chain member
    first_order = "first_order"  # a buyer's first paid order
    repeat_order = "repeat_order"  # any later paid order


class FunnelEvent(db.Model):
    """``root_employee_id`` and ``l1_contact_id`` follow the order rule: the chain's employee,
    and the L1 contact when the chain member is at level 2. ``dedupe_key`` names the fact, so
    a fact is written once however often it is reported."""

    __tablename__ = "funnel_events"
    __table_args__ = (
        sa.Index("ix_funnel_events_root_employee_id_at", "root_employee_id", "at"),
        # A chain's shares, visits and sign-ups on /network, counted from the index alone.
        sa.Index("ix_funnel_events_root_employee_id_kind", "root_employee_id", "kind"),
        sa.Index("ix_funnel_events_l1_contact_id_at", "l1_contact_id", "at"),
        sa.Index("ix_funnel_events_kind_at", "kind", "at"),
        sa.Index("ix_funnel_events_actor_id_kind", "actor_id", "kind"),
        sa.Index("ix_funnel_events_link_owner_id_kind_at", "link_owner_id", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[EventKind] = mapped_column(sa.Enum(EventKind, native_enum=False, length=16))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))  # none for anonymous visitors
    root_employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    l1_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    link_owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))  # whose link (share, visit, sign-up)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id"), index=True)
    festival_id: Mapped[int | None]  # the festival, once festivals exist
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"))
    lead_id: Mapped[int | None] = mapped_column(sa.ForeignKey("leads.id"))
    source: Mapped[str | None] = mapped_column(sa.String(32))  # link, poster, invite, lead, question, ticket
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(160), unique=True)


class AppendOnlyError(RuntimeError):
    """Funnel events are facts: they are never changed or deleted."""


@event.listens_for(FunnelEvent, "before_update")
@event.listens_for(FunnelEvent, "before_delete")
def _refuse_change(_mapper, _connection, target):
    raise AppendOnlyError(f"funnel event {target.id} is append-only")
