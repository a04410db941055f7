"""What an order line copies of a variant and its product, as plain values.

Placing an order (shop/checkout/placing.py) reads it from the variant of a cart line or of a
festival item; the order's lines copy these values."""

from __future__ import annotations

from dataclasses import dataclass

from shop.catalog.models import SalesMode, Variant


@dataclass(frozen=True)
class Sellable:
    variant_id: int
    product_id: int
    category_id: int
    product_name: str
    variant_name: str
    sku: str
    currency: str
    market_price: int
    for_sale: bool  # the variant and the product are active, and the product is sold directly

    @classmethod
    def of(cls, variant: Variant) -> Sellable:
        product = variant.product
        return cls(
            variant.id,
            product.id,
            product.category_id,
            product.name,
            variant.name,
            variant.sku,
            variant.currency,
            variant.market_price,
            for_sale(variant.is_active, product.is_active, product.sales_mode),
        )

    @property
    def name(self) -> str:
        return f"{self.product_name} ({self.variant_name})"


def for_sale(variant_active: bool, product_active: bool, sales_mode: SalesMode) -> bool:
    return variant_active and product_active and sales_mode == SalesMode.direct
