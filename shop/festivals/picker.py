"""The operators' item picker: the options a festival can be given (sold directly, active, in
stock), found by words of their product's name, their own name or their SKU."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from shop.catalog.models import Product, SalesMode, Variant
from shop.extensions import db

PICKER_SIZE = 30


def _pickable():
    return (
        select(Variant)
        .join(Variant.product)
        .where(
            Product.sales_mode == SalesMode.direct,
            Product.is_active.is_(True),
            Variant.is_active.is_(True),
            Variant.stock > 0,
        )
        .options(contains_eager(Variant.product).selectinload(Product.images))
    )


def find_variants(query: str, limit: int = PICKER_SIZE) -> list[Variant]:
    """Pickable options whose product name, option name or SKU holds every word of ``query``
    (case does not matter), by product name; the first ``limit`` when ``query`` is empty."""
    statement = _pickable()
    for word in query.split()[:8]:
        word = word.lower()[:100]
        statement = statement.where(
            sa.or_(
                *(
                    sa.func.lower(column).contains(word, autoescape=True)
                    for column in (Product.name, Variant.name, Variant.sku)
                )
            )
        )
    return list(db.session.scalars(statement.order_by(Product.name, Variant.name, Variant.id).limit(limit)).unique())


def variant_for_pick(variant_id: int | None) -> Variant | None:
    """The option an operator picked, when it exists (whether it may be allocated is the
    allocation's rule, which says why not)."""
    if variant_id is None:
        return None
    return db.session.scalar(
        select(Variant)
        .where(Variant.id == variant_id)
        .options(selectinload(Variant.product).selectinload(Product.images))
    )
