"""Cart rules: add, change and remove lines, within what one order may hold under the quota rules."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from shop.accounts.models import User
from shop.cart.models import CartLine
from shop.catalog.models import PriceTier, SalesMode, Variant
from shop.catalog.sellable import for_sale
from shop.catalog.services import tier_for
from shop.database import utcnow
from shop.errors import DomainError
from shop.extensions import db
from shop.quotas.left import order_rule_breach


class CartError(DomainError):
    pass


def cart_lines(user: User) -> list[CartLine]:
    return list(
        db.session.scalars(
            select(CartLine)
            .where(CartLine.user_id == user.id)
            .options(joinedload(CartLine.variant).joinedload(Variant.product))
            .order_by(CartLine.id)
        ).unique()
    )


def line_for(user: User, line_id: int) -> CartLine | None:
    """The user's own cart line; another user's id is simply not found."""
    return db.session.scalar(select(CartLine).where(CartLine.id == line_id, CartLine.user_id == user.id))


def is_for_sale(line: CartLine) -> bool:
    """The line's option and product are still sold here (checkout refuses the cart until a
    line that is not is removed)."""
    product = line.variant.product
    return for_sale(line.variant.is_active, product.is_active, product.sales_mode)


def _check_buyable(variant: Variant | None) -> Variant:
    if variant is None or not variant.is_active or not variant.product.is_active:
        raise CartError(_("This item is not for sale."))
    if variant.product.sales_mode != SalesMode.direct:
        raise CartError(_("This product cannot be bought online."))
    return variant


def _check_order_rules(user: User, line: CartLine | None, variant: Variant, quantity: int) -> None:
    """The cart is the next order: refuse a change that one order could not hold under the
    per-order quota rules (the rules themselves are the quota engine's). Lines no longer for
    sale are not counted: they will not be ordered (checkout refuses them until removed)."""
    wanted = {other.variant: other.quantity for other in cart_lines(user) if other is not line and is_for_sale(other)}
    wanted[variant] = quantity
    breach = order_rule_breach(user, wanted, tier_for(user), utcnow())
    if breach is not None:
        left, want = breach.amounts(variant.currency)
        raise CartError(
            _(
                "The rule “%(rule)s” allows %(left)s in one order; your cart would hold %(wanted)s.",
                rule=breach.sentence,
                left=left,
                wanted=want,
            )
        )


def add_to_cart(user: User, variant_id: int, quantity: int) -> CartLine:
    variant = _check_buyable(db.session.get(Variant, variant_id))
    if quantity < 1:
        raise CartError(_("Choose at least one unit."))
    line = db.session.scalar(select(CartLine).where(CartLine.user_id == user.id, CartLine.variant_id == variant.id))
    new_quantity = quantity + (line.quantity if line else 0)
    _check_order_rules(user, line, variant, new_quantity)
    if line is None:
        line = CartLine(user_id=user.id, variant_id=variant.id, quantity=0)
        db.session.add(line)
    line.quantity = new_quantity
    return line


def set_quantity(line: CartLine, quantity: int) -> CartLine | None:
    if quantity == 0:
        db.session.delete(line)
        return None
    if quantity < 1:
        raise CartError(_("Choose at least one unit."))
    _check_order_rules(db.session.get(User, line.user_id), line, line.variant, quantity)
    line.quantity = quantity
    return line


def remove_line(line: CartLine) -> None:
    db.session.delete(line)


@dataclass
class CartSummary:
    """Every line of the cart; the totals count only the lines still for sale."""

    lines: list[CartLine]
    tier: PriceTier
    currency: str
    total: int
    market_total: int
    unit_count: int
    off_sale: frozenset[int] = frozenset()  # ids of the lines no longer for sale

    @property
    def saving(self) -> int:
        return self.market_total - self.total

    @property
    def for_sale(self) -> list[CartLine]:
        return [line for line in self.lines if line.id not in self.off_sale]


def summarise(user: User, lines: list[CartLine]) -> CartSummary:
    tier = tier_for(user)
    selling = [line for line in lines if is_for_sale(line)]
    total = sum(line.variant.price_for(tier) * line.quantity for line in selling)
    market = sum(line.variant.market_price * line.quantity for line in selling)
    first = (selling or lines)[:1]
    currency = first[0].variant.currency if first else current_app.config["CURRENCY"]
    off_sale = frozenset(line.id for line in lines if line not in selling)
    return CartSummary(lines, tier, currency, total, market, sum(line.quantity for line in selling), off_sale)
