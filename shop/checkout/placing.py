"""Placing an order: the one way, for cart checkout and festival "buy now" alike.

``place_order(buyer_id, address_id)`` orders the buyer's cart; with ``item_id`` and
``quantity`` it buys a festival item at its festival price from its allocation. Either way, in
the caller's transaction, all or nothing:

1. Lock the buyer's row and the chain's employee's, in user-id order (FOR NO KEY UPDATE: the
   orders and audit entries inserted meanwhile take KEY SHARE locks on user rows, which must
   not conflict), and read the buyer as locked (``Buyer``). Every order that could add to a
   quota sum takes these locks first (``shop/orders/locks.py``), so the counts below cannot
   change under this order.
2. Read what is ordered (the cart, or the festival item with its festival) and the address.
3. Read the active quota rules and the exceptions granted, and count the use, afresh: a rule
   saved by any process is enforced by the next order. One check, under the locks.
4. Take the units: festival allocations, then general stock, by id (``shop/orders/stock.py``
   explains the lock order and the conditional update); overdue unpaid orders standing in the
   way are expired once, then the take is tried again.
5. Write the order, its lines and its audit entry; empty the cart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _

from shop.accounts.models import Buyer
from shop.audit.services import record
from shop.cart.services import CartError, cart_lines
from shop.catalog.festival_models import Festival, FestivalItem
from shop.catalog.models import PriceTier, Variant
from shop.catalog.sellable import Sellable
from shop.catalog.services import tier_of_kind
from shop.database import utcnow
from shop.extensions import db
from shop.orders import stock
from shop.orders.addresses import address_for
from shop.orders.errors import NotYourAddress, OrderError, OutOfStock, Shortage
from shop.orders.expiry import expire_overdue_of
from shop.orders.locks import lock_buyer
from shop.orders.models import Address, Order, OrderLine, OrderStatus
from shop.quotas.engine import Enforcement, Take


def place_order(
    buyer_id: int,
    address_id: int,
    *,
    item_id: int | None = None,
    quantity: int | None = None,
    now: datetime | None = None,
) -> Order:
    """Place an order for ``buyer_id``, shipped to their address ``address_id``: their cart,
    or ``quantity`` units of festival item ``item_id``. Raises OrderError (OutOfStock),
    CartError or QuotaExceeded with nothing written; the caller commits or rolls back. An
    OrderError's ``details["code"]`` names its reason for the refusal counts (kpis.refusals)."""
    now = now or utcnow()
    buyer = lock_buyer(buyer_id)
    address = address_for(buyer, address_id)
    if address is None:
        raise NotYourAddress(_("Choose one of your own addresses."))
    cart = None
    if item_id is None:
        cart = cart_lines(buyer)
        if not cart:
            raise OrderError(_("Your cart is empty."), code="cart_empty")
        wanted = [Wanted.of_variant(line.variant, line.quantity) for line in cart]
        festival_id = None
    else:
        wanted = [_festival_wanted(item_id, quantity or 0, now)]
        festival_id = wanted[0].festival_id
    for line in wanted:
        if not line.sellable.for_sale:
            raise CartError(
                _("“%(name)s” is no longer for sale; remove it from your cart.", name=line.sellable.product_name)
            )
    currencies = {line.sellable.currency for line in wanted}
    if len(currencies) != 1:
        raise OrderError(_("Items in different currencies cannot be ordered together."), code="currencies")
    currency = currencies.pop()
    tier = tier_of_kind(buyer.kind)
    Enforcement(buyer, [line.take(tier) for line in wanted], now, currency=currency).check()
    _take_stock(wanted, now)
    order = _write(buyer, address, wanted, tier=tier, currency=currency, festival_id=festival_id, now=now)
    for line in cart or ():
        db.session.delete(line)
    return order


# ---- what is ordered ----------------------------------------------------------------------


@dataclass(frozen=True)
class Wanted:
    """One line of an order about to be placed: what it sells, at which prices, how many."""

    sellable: Sellable
    employee_price: int
    contact_price: int
    quantity: int
    festival_item_id: int | None = None
    festival_id: int | None = None

    @classmethod
    def of_variant(cls, variant: Variant, quantity: int) -> Wanted:
        return cls(Sellable.of(variant), variant.employee_price, variant.contact_price, quantity)

    @classmethod
    def of_festival_item(cls, item: FestivalItem, quantity: int) -> Wanted:
        return cls(
            Sellable.of(item.variant),
            item.employee_price,
            item.contact_price,
            quantity,
            item.id,
            item.festival_id,
        )

    @property
    def variant_id(self) -> int:
        return self.sellable.variant_id

    @property
    def name(self) -> str:
        return self.sellable.name

    def unit_price(self, tier: PriceTier) -> int:
        return self.employee_price if tier == PriceTier.employee else self.contact_price

    def take(self, tier: PriceTier) -> Take:
        return Take(
            self.variant_id,
            self.sellable.product_id,
            self.sellable.category_id,
            self.quantity,
            self.unit_price(tier),
            self.festival_item_id,
            self.festival_id,
        )


def _festival_item(item_id: int) -> FestivalItem | None:
    """The item; its festival, variant and product through its relationships. By primary key:
    no query when this request has read them already (the "buy now" page has; what decides the
    order, the allocation and the quotas, is read under the locks afterwards)."""
    return db.session.get(FestivalItem, item_id)


def _festival_wanted(item_id: int, quantity: int, now: datetime) -> Wanted:
    item = _festival_item(item_id)
    if item is None:
        raise OrderError(_("This item is not on sale."), code="not_selling")
    festival: Festival = item.festival
    if not festival.is_selling(now):
        raise OrderError(_("“%(festival)s” is not selling now.", festival=festival.name), code="not_selling")
    if quantity < 1:
        raise OrderError(_("Choose at least one unit."), code="quantity")
    return Wanted.of_festival_item(item, quantity)


# ---- taking the units ---------------------------------------------------------------------


def _take_stock(wanted: list[Wanted], now: datetime) -> None:
    """Take every line's units from its festival allocation or from general stock, or raise
    OutOfStock with nothing taken. Overdue unpaid orders are expired when they stand in the
    way: only when something fell short, and then the take is tried once more."""
    shortages = _try_take(wanted)
    if shortages and expire_overdue_of({line.variant_id for line in wanted}, now):
        shortages = _try_take(wanted)
    if shortages:
        raise OutOfStock(shortages)


def _try_take(wanted: list[Wanted]) -> list[Shortage]:
    from_stock = stock.units_by_variant(line for line in wanted if line.festival_item_id is None)
    from_items = Counter({line.festival_item_id: line.quantity for line in wanted if line.festival_item_id})
    # A single take that falls short has written nothing; several need a savepoint to undo the
    # ones that succeeded (and to release their row locks before overdue orders are swept).
    savepoint = db.session.begin_nested() if len(from_stock) + len(from_items) > 1 else None
    short_items = stock.take_allocation(from_items)
    stock.lock_variants(from_stock)
    short = stock.reserve(from_stock)
    by_variant = {line.variant_id: line for line in wanted if line.festival_item_id is None}
    by_item = {line.festival_item_id: line for line in wanted if line.festival_item_id}
    shortages = [Shortage(vid, by_variant[vid].name, from_stock[vid], short[vid]) for vid in sorted(short)]
    shortages += [
        Shortage(by_item[iid].variant_id, by_item[iid].name, from_items[iid], short_items[iid])
        for iid in sorted(short_items)
    ]
    if savepoint is not None and shortages:
        savepoint.rollback()
    elif savepoint is not None:
        savepoint.commit()
    return shortages


# ---- writing the order --------------------------------------------------------------------


def _write(
    buyer: Buyer,
    address: Address,
    wanted: list[Wanted],
    *,
    tier: PriceTier,
    currency: str,
    festival_id: int | None,
    now: datetime,
) -> Order:
    order = Order(
        buyer_id=buyer.id,
        status=OrderStatus.pending_payment,
        currency=currency,
        price_tier=tier,
        total_amount=sum(line.unit_price(tier) * line.quantity for line in wanted),
        refunded_amount=0,
        buyer_level=buyer.level,
        root_employee_id=buyer.chain_root_id,
        l1_contact_id=buyer.l1_of_order,
        festival_id=festival_id,
        ship_to=address.one_line(),
        created_at=now,
        expires_at=now + timedelta(minutes=current_app.config["RESERVATION_MINUTES"]),
        lines=[
            OrderLine(
                variant_id=line.variant_id,
                festival_item_id=line.festival_item_id,
                product_name=line.sellable.product_name,
                variant_name=line.sellable.variant_name,
                sku=line.sellable.sku,
                unit_price=line.unit_price(tier),
                market_price=line.sellable.market_price,
                quantity=line.quantity,
                refunded_quantity=0,
            )
            for line in wanted
        ],
    )
    db.session.add(order)
    db.session.flush()
    record(
        "order.place",
        order,
        actor=buyer.id,
        after={
            "status": str(order.status),
            "total": order.total_amount,
            "festival_id": festival_id,
            "lines": {str(line.variant_id): line.quantity for line in wanted},
        },
    )
    return order
