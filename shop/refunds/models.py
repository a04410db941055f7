"""A refund of (part of) a paid order, and the order lines it gives back."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.database import UTCDateTime, utcnow
from shop.extensions import db
from shop.labels import register as register_labels
from shop.orders.models import Order, OrderLine, PaymentMethod

if TYPE_CHECKING:  # resolved by name: a settlement reads the refunds it credits
    from shop.settlement.models import PayrollSettlement


class RefundStatus(enum.StrEnum):
    pending = "pending"  # card: recorded, Stripe not yet confirmed; its amount is held on the order
    succeeded = "succeeded"
    failed = "failed"  # Stripe refused; what it held was given back to the order


class Refund(db.Model):
    __tablename__ = "refunds"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3))
    method: Mapped[PaymentMethod] = mapped_column(sa.Enum(PaymentMethod, native_enum=False, length=16))
    status: Mapped[RefundStatus] = mapped_column(sa.Enum(RefundStatus, native_enum=False, length=16))
    reason: Mapped[str] = mapped_column(sa.String(500))
    restock: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # succeeded or failed

    # Card refunds: the key sent with every attempt, and Stripe's refund once it answered.
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    stripe_refund_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    failure_message: Mapped[str | None] = mapped_column(sa.String(500))

    # Payroll refunds: the settlement whose export carried this refund as a credit line.
    payroll_settlement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payroll_settlements.id"), index=True)

    order: Mapped[Order] = relationship()
    actor: Mapped[User | None] = relationship()
    payroll_settlement: Mapped[PayrollSettlement | None] = relationship("PayrollSettlement")
    lines: Mapped[list[RefundLine]] = relationship(
        back_populates="refund", order_by="RefundLine.id", cascade="all, delete-orphan"
    )

    @property
    def quantities(self) -> dict[int, int]:
        """Refunded units per order line id."""
        return {line.order_line_id: line.quantity for line in self.lines}


class RefundLine(db.Model):
    __tablename__ = "refund_lines"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.UniqueConstraint("refund_id", "order_line_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(sa.ForeignKey("refunds.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_lines.id"), index=True)
    quantity: Mapped[int]

    refund: Mapped[Refund] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()


# What people read for these values (shop/labels.py).
register_labels(
    {
        RefundStatus.pending: _l("waiting for Stripe"),
        RefundStatus.succeeded: _l("refunded"),
        RefundStatus.failed: _l("failed"),
    }
)
