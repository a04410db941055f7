"""Orders, their lines (a price snapshot each), and the buyers' saved addresses."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.catalog.festival_models import FestivalItem
from shop.catalog.models import PriceTier, Variant
from shop.database import UTCDateTime, utcnow
from shop.extensions import db
from shop.labels import register as register_labels
from shop.orders.places import country_name
from shop.phones import as_written, masked


class OrderStatus(enum.StrEnum):
    pending_payment = "pending_payment"
    paid = "paid"
    shipped = "shipped"
    completed = "completed"
    cancelled = "cancelled"
    expired = "expired"
    partially_refunded = "partially_refunded"
    refunded = "refunded"


# The order state machine (DESIGN.md, Orders and payment). Anything else is refused.
# A refund (shop/refunds) may follow payment at any point of fulfilment, because goods can come
# back after delivery; a partly refunded order keeps its fulfilment in shipped_at / completed_at,
# and ``Order.can_become`` lets it be shipped or completed only once.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.pending_payment: frozenset({OrderStatus.paid, OrderStatus.cancelled, OrderStatus.expired}),
    OrderStatus.paid: frozenset({OrderStatus.shipped, OrderStatus.refunded, OrderStatus.partially_refunded}),
    OrderStatus.partially_refunded: frozenset(
        {OrderStatus.shipped, OrderStatus.completed, OrderStatus.refunded, OrderStatus.partially_refunded}
    ),
    OrderStatus.shipped: frozenset({OrderStatus.completed, OrderStatus.refunded, OrderStatus.partially_refunded}),
    OrderStatus.completed: frozenset({OrderStatus.refunded, OrderStatus.partially_refunded}),
    OrderStatus.cancelled: frozenset(),
    OrderStatus.expired: frozenset(),
    OrderStatus.refunded: frozenset(),
}

# Orders in these states hold stock (and, later, quota): a partly refunded order holds what was
# not refunded (OrderLine.quantity - OrderLine.refunded_quantity).
HOLDING_STATUSES = frozenset(
    {
        OrderStatus.pending_payment,
        OrderStatus.paid,
        OrderStatus.shipped,
        OrderStatus.completed,
        OrderStatus.partially_refunded,
    }
)


class PaymentMethod(enum.StrEnum):
    payroll = "payroll"
    card = "card"


class Address(db.Model):
    """A shipping address. In mainland China (``country`` CN): recipient, mobile phone (stored
    as ``+86`` and eleven digits), province / city / district from shop/orders/regions.py (names
    as chosen, and the code of the most precise one), the street address in ``line1`` and an
    optional postcode. Elsewhere: two address lines, city, postcode and country."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    recipient: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str] = mapped_column(sa.String(40))
    province: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    city: Mapped[str] = mapped_column(sa.String(100))
    district: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    region_code: Mapped[str | None] = mapped_column(sa.String(12))
    line1: Mapped[str] = mapped_column(sa.String(200))
    line2: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    postcode: Mapped[str] = mapped_column(sa.String(20))
    country: Mapped[str] = mapped_column(sa.String(2), default="CN", server_default="CN")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def chinese_form(self) -> bool:
        """Written the Chinese way: in mainland China with its divisions chosen from the list
        (an address saved before the list, whose city was not recognised, keeps its lines)."""
        return self.country == "CN" and self.region_code is not None

    def one_line(self, *, mask_phone: bool = False) -> str:
        """The address on one line, as a Chinese or a Western envelope has it; the phone masked
        for lists (``mask_phone``), whole for the order's record and the parcel."""
        phone = masked(self.phone) if mask_phone else self.phone
        if self.chinese_form:
            # Largest to smallest, no separators between the divisions and the street
            # (上海市浦东新区世纪大道1号); a municipality's city has the province's name and is not
            # repeated. A mainland mobile as people write it (13812345678), parts apart by "，".
            place = "".join(p for p in dict.fromkeys([self.province, self.city, self.district, self.line1]) if p)
            parts = [self.recipient, phone if mask_phone else as_written(phone), place, self.postcode]
            return "，".join(p for p in parts if p)
        # The country by its English name, as an international parcel's label writes it ("Japan",
        # not the code "JP", which no reader of the order knows by).
        country = country_name(self.country, "en") if self.country else ""
        parts = [self.recipient, phone, self.line1, self.line2, self.city, self.postcode, country]
        return ", ".join(p for p in parts if p)


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        sa.CheckConstraint("total_amount >= 0", name="total_not_negative"),
        sa.CheckConstraint("refunded_amount >= 0 AND refunded_amount <= total_amount", name="refund_within_total"),
        sa.Index("ix_orders_status_expires_at", "status", "expires_at"),
        sa.Index("ix_orders_root_employee_id_created_at", "root_employee_id", "created_at"),
        sa.Index("ix_orders_buyer_id_created_at", "buyer_id", "created_at"),
        # The KPI pages count the orders placed, and read those shipped, in a window.
        sa.Index("ix_orders_created_at", "created_at"),
        sa.Index("ix_orders_shipped_at", "shipped_at"),
        # The festival report: its orders, paid and by whom, read from the index alone; and
        # each chain's first paid order, one probe per chain.
        sa.Index("ix_orders_festival_chain_paid", "festival_id", "root_employee_id", "paid_at", "buyer_id", "status"),
        sa.Index("ix_orders_root_employee_id_paid_at", "root_employee_id", "paid_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[OrderStatus] = mapped_column(
        sa.Enum(OrderStatus, native_enum=False, length=24), default=OrderStatus.pending_payment
    )
    currency: Mapped[str] = mapped_column(sa.String(3))
    total_amount: Mapped[int]
    refunded_amount: Mapped[int] = mapped_column(default=0, server_default="0")
    price_tier: Mapped[PriceTier] = mapped_column(sa.Enum(PriceTier, native_enum=False, length=16))
    payment_method: Mapped[PaymentMethod | None] = mapped_column(sa.Enum(PaymentMethod, native_enum=False, length=16))

    # Attribution at the moment the order was placed (DESIGN.md); never recomputed.
    buyer_level: Mapped[int]
    root_employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    l1_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    # The festival whose allocated stock the order was bought from, if any.
    festival_id: Mapped[int | None] = mapped_column(sa.ForeignKey("festivals.id"))

    # Shipping address as it was at checkout.
    ship_to: Mapped[str] = mapped_column(sa.String(600))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    carrier: Mapped[str | None] = mapped_column(sa.String(80))
    tracking_number: Mapped[str | None] = mapped_column(sa.String(80))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # cancelled or expired

    buyer: Mapped[User] = relationship(foreign_keys=[buyer_id])
    root_employee: Mapped[User | None] = relationship(foreign_keys=[root_employee_id])
    l1_contact: Mapped[User | None] = relationship(foreign_keys=[l1_contact_id])
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )

    @property
    def number(self) -> str:
        return f"NG{self.id:08d}"

    @property
    def unit_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    def display_status(self, now: datetime | None = None) -> OrderStatus:
        """The status a person should see: an unpaid order past its deadline is expired,
        even before the expiry job has written it down."""
        if self.status == OrderStatus.pending_payment and self.expires_at and self.expires_at <= (now or utcnow()):
            return OrderStatus.expired
        return self.status

    def can_become(self, status: OrderStatus) -> bool:
        if status not in TRANSITIONS[self.status]:
            return False
        if status == OrderStatus.shipped:  # a partly refunded order may already be on its way
            return self.shipped_at is None
        if status == OrderStatus.completed:
            return self.shipped_at is not None and self.completed_at is None
        return True

    @property
    def open_to_refunds(self) -> bool:
        """Paid, in a state a refund may follow, and with money left to refund: the order page
        offers its refund form."""
        return bool(self.payment_method) and self.can_become(OrderStatus.refunded) and self.refundable_amount > 0

    @property
    def refundable_amount(self) -> int:
        """What is paid and not yet refunded (or held by a refund in progress)."""
        return self.total_amount - self.refunded_amount


class OrderLine(db.Model):
    __tablename__ = "order_lines"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("refunded_quantity >= 0 AND refunded_quantity <= quantity", name="refund_within_quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    variant_id: Mapped[int] = mapped_column(sa.ForeignKey("variants.id"), index=True)
    festival_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("festival_items.id"), index=True)
    product_name: Mapped[str] = mapped_column(sa.String(200))
    variant_name: Mapped[str] = mapped_column(sa.String(120))
    sku: Mapped[str] = mapped_column(sa.String(64))
    unit_price: Mapped[int]
    market_price: Mapped[int]
    quantity: Mapped[int]
    refunded_quantity: Mapped[int] = mapped_column(default=0, server_default="0")

    order: Mapped[Order] = relationship(back_populates="lines")
    variant: Mapped[Variant] = relationship()
    festival_item: Mapped[FestivalItem | None] = relationship()

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity

    @property
    def saving(self) -> int:
        """What the buyer saves on this line against the market price (never negative)."""
        return max(self.market_price - self.unit_price, 0) * self.quantity

    @property
    def refundable_quantity(self) -> int:
        return self.quantity - self.refunded_quantity


# What people read for these values (shop/labels.py).
register_labels(
    {
        OrderStatus.pending_payment: _l("pending payment"),
        OrderStatus.paid: _l("paid"),
        OrderStatus.shipped: _l("shipped"),
        OrderStatus.completed: _l("completed"),
        OrderStatus.cancelled: _l("cancelled"),
        OrderStatus.expired: _l("expired"),
        OrderStatus.partially_refunded: _l("partially refunded"),
        OrderStatus.refunded: _l("refunded"),
        PaymentMethod.payroll: _l("payroll"),
        PaymentMethod.card: _l("card"),
    }
)
