"""Card payments through Stripe: one PaymentIntent per order, and every Stripe event we saw."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.database import UTCDateTime, utcnow
from shop.extensions import db
from shop.orders.models import Order
from shop.payments import declines


class CardPayment(db.Model):
    """The order's PaymentIntent and what Stripe last told us about it.

    ``status`` mirrors the PaymentIntent's status as last read from Stripe's API (never from the
    browser); the order itself becomes paid only when that status is ``succeeded``.
    """

    __tablename__ = "card_payments"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), unique=True)
    payment_intent_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    attempt: Mapped[int] = mapped_column(default=1, server_default="1")  # a new intent only if Stripe cancelled one
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(40))
    last_error: Mapped[str | None] = mapped_column(sa.String(500))  # Stripe's own words, for operators
    # Stripe's code for it (shop/payments/declines.py): what the buyer is told, in their language.
    last_error_code: Mapped[str | None] = mapped_column(sa.String(64))
    amount_refunded: Mapped[int] = mapped_column(default=0, server_default="0")  # at Stripe
    # A payment that succeeded after its order was closed is refunded at once (see card.py).
    late_refund_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # last read from Stripe
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship()

    @property
    def failure_reason(self) -> str | None:
        """Why the last attempt failed, for the buyer, in the request's language (a failure
        kept before its code was: a plain decline)."""
        if self.last_error_code is None and self.last_error is not None:
            return declines.reason("card_declined")
        return declines.reason(self.last_error_code)


class StripeEvent(db.Model):
    """Every Stripe event handled, by its id: a second delivery of the same event is ignored.

    The id, type and PaymentIntent id are what the sender wrote, stored as text of any length
    (a signed event with a long id must be recorded, not fail on PostgreSQL's varchar limit)."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    type: Mapped[str] = mapped_column(sa.Text)
    payment_intent_id: Mapped[str | None] = mapped_column(sa.Text, index=True)
    source: Mapped[str] = mapped_column(sa.String(16))  # webhook or reconcile
    outcome: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when Stripe created it
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
