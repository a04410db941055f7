"""Quota rules and the exceptions operators grant to them."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.catalog.festival_models import Festival, FestivalItem
from shop.catalog.models import Category, Product
from shop.database import UTCDateTime, utcnow
from shop.extensions import db
from shop.labels import register as register_labels


class Scope(enum.StrEnum):
    buyer = "buyer"  # each buyer on their own
    chain = "chain"  # an employee and everyone they brought in, together


class Target(enum.StrEnum):
    all = "all"
    category = "category"
    product = "product"
    festival_item = "festival_item"


class Window(enum.StrEnum):
    order = "order"
    day = "day"
    month = "month"
    year = "year"
    festival = "festival"


class Measure(enum.StrEnum):
    units = "units"
    amount = "amount"  # money spent, in minor units


class Audience(enum.StrEnum):
    employees = "employees"
    contacts = "contacts"
    everyone = "everyone"


def _enum(kind) -> sa.Enum:
    return sa.Enum(kind, native_enum=False, length=16)


class QuotaRule(db.Model):
    __tablename__ = "quota_rules"
    __table_args__ = (
        sa.CheckConstraint("limit_value > 0", name="limit_positive"),
        sa.CheckConstraint(
            "(target = 'category') = (category_id IS NOT NULL) AND (target = 'product') = (product_id IS NOT NULL)"
            " AND (target = 'festival_item') = (festival_item_id IS NOT NULL)",
            name="target_matches",
        ),
        sa.CheckConstraint("\"window\" != 'festival' OR festival_id IS NOT NULL", name="festival_window_has_festival"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[Scope] = mapped_column(_enum(Scope))
    target: Mapped[Target] = mapped_column(_enum(Target))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"))
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id"))
    festival_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("festival_items.id"))
    window: Mapped[Window] = mapped_column(_enum(Window))
    festival_id: Mapped[int | None] = mapped_column(sa.ForeignKey("festivals.id"), index=True)
    measure: Mapped[Measure] = mapped_column(_enum(Measure))
    limit_value: Mapped[int]
    # Count each SKU on its own ("5 units of any one item") rather than everything together.
    per_sku: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    audience: Mapped[Audience] = mapped_column(_enum(Audience), default=Audience.everyone)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[Category | None] = relationship()
    product: Mapped[Product | None] = relationship()
    festival_item: Mapped[FestivalItem | None] = relationship()
    festival: Mapped[Festival | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    exceptions: Mapped[list[QuotaException]] = relationship(back_populates="rule", order_by="QuotaException.id")


class QuotaException(db.Model):
    """Extra allowance on one rule for one buyer (scope buyer) or one chain's employee (scope chain)."""

    __tablename__ = "quota_exceptions"
    __table_args__ = (
        sa.CheckConstraint("extra > 0", name="extra_positive"),
        sa.Index("ix_quota_exceptions_rule_id_user_id", "rule_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(sa.ForeignKey("quota_rules.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    extra: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(300))
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rule: Mapped[QuotaRule] = relationship(back_populates="exceptions")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])


# What people read for these values (shop/labels.py).
register_labels(
    {
        Scope.buyer: _l("each buyer"),
        Scope.chain: _l("each chain"),
        Target.all: _l("all items"),
        Target.category: _l("a category"),
        Target.product: _l("a product"),
        Target.festival_item: _l("a festival item"),
        Window.order: _l("per order"),
        Window.day: _l("per day"),
        Window.month: _l("per month"),
        Window.year: _l("per year"),
        Window.festival: _l("during a festival"),
        Measure.units: _l("units"),
        Measure.amount: _l("money spent"),
        Audience.employees: _l("employees"),
        Audience.contacts: _l("contacts"),
        Audience.everyone: _l("everyone"),
    }
)
