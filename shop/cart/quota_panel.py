"""The product page's panel of what is left of the buyer's and their chain's quotas, on top of
what their cart holds: the cart is the next order (shop/catalog/signals.py's
``product_quota_panel``, answered here because the cart builds on the quotas, not they on it)."""

from __future__ import annotations

from collections.abc import Hashable

from flask import render_template
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from shop.accounts.models import User
from shop.cart.models import CartLine
from shop.catalog import page_cache
from shop.catalog.models import PriceTier, Product, SalesMode, Variant
from shop.catalog.services import product_by_slug
from shop.database import utcnow
from shop.extensions import db
from shop.quotas.engine import Take
from shop.quotas.left import items_left, variant_takes


def cart_takes(buyer: User, tier: PriceTier) -> list[tuple[Hashable, Take]]:
    """The buyer's cart as what the next order wants, keyed ``("cart", variant id)``; lines no
    longer for sale are left out (checkout refuses them, they will not be ordered). One query."""
    rows = db.session.execute(
        select(Variant, CartLine.quantity)
        .join(CartLine, CartLine.variant_id == Variant.id)
        .join(Product, Product.id == Variant.product_id)
        .where(
            CartLine.user_id == buyer.id,
            Variant.is_active.is_(True),
            Product.is_active.is_(True),
            Product.sales_mode == SalesMode.direct,
        )
        .options(joinedload(Variant.product))
    )
    return [(("cart", variant.id), Take.of(variant, quantity, tier)) for variant, quantity in rows]


def on_product_quota_panel(slug: str, *, tier, **_signal) -> Markup:
    """``shop.catalog.signals.product_quota_panel``: what is left of the buyer's and their
    chain's quotas for each option in stock, on top of what the buyer's cart already holds
    (the cart is the next order: its lines count as wanted, as on the cart page and in the
    cart's check of the per-order rules). Personal, so outside the product's cached fragment
    (two queries, the cart and the rules; none when nothing is for sale); inside the buyer's
    own cached page, which the cart's pages renew when they change the cart, so it may lag
    like the stock shown. Placing an order reads the rules and the use afresh."""
    product = page_cache.cached_value(("product-takes", slug, tier), lambda: variant_takes(product_by_slug(slug), tier))
    if not product.takes:
        return Markup("")
    keyed = [*product.takes, *cart_takes(current_user, tier)]
    options = {name for name, _take in product.takes}
    items = [item for item in items_left(current_user, keyed, utcnow())[0] if item.key in options]
    if not items:
        return Markup("")
    return Markup(render_template("catalog/_quota_left.html", items=items, labelled=product.several))
