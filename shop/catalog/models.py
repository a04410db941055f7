"""The catalog: categories, products, their pictures and their variants (SKUs)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.database import UTCDateTime, utcnow
from shop.extensions import db
from shop.labels import register as register_labels


class SalesMode(enum.StrEnum):
    direct = "direct"  # cart and checkout
    lead = "lead"  # referred to a professional sales rep
    share_only = "share_only"  # exposure only: share tools, no purchase


class PriceTier(enum.StrEnum):
    employee = "employee"
    contact = "contact"


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    position: Mapped[int] = mapped_column(default=0, server_default="0")

    products: Mapped[list[Product]] = relationship(back_populates="category")


class Product(db.Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    summary: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    description_md: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    sales_mode: Mapped[SalesMode] = mapped_column(
        sa.Enum(SalesMode, native_enum=False, length=16), default=SalesMode.direct
    )
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[Category] = relationship(back_populates="products")
    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", order_by="Variant.id", cascade="all, delete-orphan"
    )
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", order_by="ProductImage.position", cascade="all, delete-orphan"
    )

    @property
    def cover(self) -> ProductImage | None:
        return self.images[0] if self.images else None

    @property
    def active_variants(self) -> list[Variant]:
        return [v for v in self.variants if v.is_active]


class ProductImage(db.Model):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(120), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    position: Mapped[int] = mapped_column(default=0, server_default="0")

    product: Mapped[Product] = relationship(back_populates="images")


class Variant(db.Model):
    """A SKU. Prices are integer minor units of ``currency``; stock never goes below zero."""

    __tablename__ = "variants"
    __table_args__ = (
        sa.CheckConstraint("stock >= 0", name="stock_not_negative"),
        sa.CheckConstraint(
            "market_price >= 0 AND employee_price >= 0 AND contact_price >= 0", name="prices_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    currency: Mapped[str] = mapped_column(sa.String(3))
    market_price: Mapped[int]
    employee_price: Mapped[int]
    contact_price: Mapped[int]
    stock: Mapped[int] = mapped_column(default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    product: Mapped[Product] = relationship(back_populates="variants")

    def price_for(self, tier: PriceTier) -> int:
        return self.employee_price if tier == PriceTier.employee else self.contact_price


# What people read for these values (shop/labels.py).
register_labels(
    {
        PriceTier.employee: _l("employee"),
        PriceTier.contact: _l("contact"),
        SalesMode.direct: _l("direct"),
        SalesMode.lead: _l("lead"),
        SalesMode.share_only: _l("share only"),
    }
)
