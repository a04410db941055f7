"""Order rules: place (reserve stock), pay by payroll, cancel, expire, ship, complete."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update

from shop.accounts.models import Kind, User
from shop.audit.services import record
from shop.cart.services import CartError, cart_lines
from shop.catalog.models import PriceTier, Variant
from shop.catalog.sellable import Sellable
from shop.catalog.services import tier_for
from shop.database import utcnow
from shop.driver_sql import DriverStatement
from shop.errors import DomainError, NotAllowed
from shop.extensions import db
from shop.festivals import item_facts
from shop.festivals.item_facts import ItemFacts
from shop.festivals.models import FestivalItem
from shop.orders import notices, stock, writing
from shop.orders.models import Address, Order, OrderLine, OrderStatus, PaymentMethod
from shop.payments import card
from shop.quotas import known_use
from shop.quotas.engine import (
    Enforcement,
    QuotaExceeded,
    Take,
    chain_root_id,
    refuse_from_known,
    rules_for,
    users_to_lock,
)


class OrderError(DomainError):
    pass


@dataclass(frozen=True)
class Shortage:
    variant_id: int
    name: str
    wanted: int
    available: int


class OutOfStock(OrderError):
    def __init__(self, shortages: list[Shortage], *, items_left: dict[int, int] | None = None):
        super().__init__(_("Not enough stock for some items; nothing was ordered."))
        self.shortages = shortages
        self.items_left = items_left or {}  # {festival item id: units left} of the items that fell short


def order_for_buyer(buyer: User, order_id: int) -> Order | None:
    """The buyer's own order; another user's id is not found."""
    return db.session.scalar(select(Order).where(Order.id == order_id, Order.buyer_id == buyer.id))


def lock_user(user: User) -> None:
    """Serialise one buyer's checkouts and payments (quota and payroll cap checks)."""
    lock_users([user.id])


# A checkout locks one user or two (the buyer, and the chain's employee): a statement for each
# case, so that no expanding IN list is rendered again on every checkout. "Buy now" from kept
# facts reads the buyer's row, the item and the address with the lock (``lock_buyer_reading``).
def _locking(*columns, source=None):
    one = select(*columns).where(User.id == bindparam("first"))
    two = select(*columns).where(User.id.in_([bindparam("first"), bindparam("second")])).order_by(User.id)
    if source is None:
        return one.with_for_update(key_share=True), two.with_for_update(key_share=True)
    return tuple(query.select_from(source).with_for_update(key_share=True, of=User.__table__) for query in (one, two))


@dataclass(frozen=True)
class LockedBuyer:
    """What placing an order reads of the buyer's row (duck-typed like ``User`` there), as the
    lock read it."""

    id: int
    kind: Kind
    level: int
    root_employee_id: int | None
    l1_contact_id: int | None
    is_active: bool


_BUYER_COLUMNS = (User.id, User.kind, User.level, User.root_employee_id, User.l1_contact_id, User.is_active_flag)


def _locking_beside_the_buyer() -> tuple[DriverStatement, DriverStatement]:
    columns, source = item_facts.beside(User.__table__, address_of=bindparam("buyer_id"))
    return tuple(DriverStatement(query) for query in _locking(*_BUYER_COLUMNS, *columns, source=source))


_LOCK_USERS = _locking(User.id)
_LOCK_READING = _locking_beside_the_buyer()


def lock_users(user_ids: list[int]) -> None:
    """Lock the buyer's row and the chain's employee's (one or two ids), in id order: the
    first locks of any transaction that takes both. FOR NO KEY UPDATE: orders and audit
    entries inserted meanwhile reference user rows, and the key-share locks those inserts take
    must not conflict with these."""
    one, two = _LOCK_USERS
    db.session.connection().execute(one if len(set(user_ids)) == 1 else two, _lock_params(user_ids))


def lock_buyer_reading(
    user_ids: list[int], *, buyer_id: int, slug: str, item_id: int, address_id: int
) -> tuple[LockedBuyer | None, ItemFacts | None, Address | None]:
    """``lock_users(user_ids)``, and in the same statement the buyer's row, the festival item
    as committed now and the buyer's own address ``address_id`` (as
    ``item_facts.read_with_address`` gives them): one round trip for what placing from kept
    facts checks them against. The item and the address are read as the statement starts, as
    a read before the lock would read them."""
    one, two = _LOCK_READING
    params = {
        **_lock_params(user_ids),
        "buyer_id": buyer_id,
        "slug": slug,
        "item_id": item_id,
        "address_id": address_id,
    }
    rows = (one if len(set(user_ids)) == 1 else two).rows(db.session.connection(), params)
    row = next((row for row in rows if row[0] == buyer_id), None)
    if row is None:
        return None, None, None
    facts, address = item_facts.facts_and_address(row)
    return LockedBuyer(*row[: len(_BUYER_COLUMNS)]), facts, address


def _lock_params(user_ids: list[int]) -> dict:
    ids = sorted(set(user_ids))
    if not 1 <= len(ids) <= 2:
        raise ValueError(f"a checkout locks the buyer and the chain's employee, not {len(ids)} users")
    return dict(zip(("first", "second"), ids, strict=False))


class FactsChanged(Exception):  # noqa: N818 -- not an error: the caller places again from the rows
    """Placing from facts kept a moment (the session's about the buyer,
    shop.accounts.session.BuyerFacts; the worker's about the item, ``item_facts.cached``): the
    rows read under the lock no longer match them (the buyer is gone, inactive or in another
    chain; the item changed), or the address is not the buyer's. The caller rolls back and
    places again from the rows, as for any request."""


def _lock(
    buyer, rules, *, kept: ItemFacts | None = None, address_id: int | None = None
) -> tuple[User | LockedBuyer, Address | None]:
    """Lock the rows ``users_to_lock`` names. Placing from the item's ``kept`` facts, the
    buyer's row, the item and the address ``address_id`` are read with the lock and returned
    (FactsChanged when they are not what the facts say); else ``buyer`` comes back as it is."""
    ids = users_to_lock(buyer, rules)
    if kept is None:
        lock_users(ids)
        return buyer, None
    row, facts, address = lock_buyer_reading(
        ids, buyer_id=buyer.id, slug=kept.festival_slug, item_id=kept.item_id, address_id=address_id
    )
    if (
        row is None
        or not row.is_active
        or (row.kind, row.level, row.root_employee_id) != (buyer.kind, buyer.level, buyer.root_employee_id)
        or facts != kept
        or address is None
    ):
        raise FactsChanged
    return row, address


def lock_order(order: Order) -> Order:
    db.session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    db.session.refresh(order)
    return order


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
    def of_festival_item(cls, facts: ItemFacts, quantity: int) -> Wanted:
        return cls(
            facts.sellable, facts.employee_price, facts.contact_price, quantity, facts.item_id, facts.festival_id
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


def place_order(buyer: User, address: Address, *, now: datetime | None = None) -> Order:
    """Turn the buyer's cart into a pending order, reserving stock; all or nothing."""
    if address.user_id != buyer.id:
        raise OrderError(_("Choose one of your own addresses."))
    # Read the cart under the buyer's lock, or two tabs checking out one cart both order it.
    # Every user row _place may lock, in id order, so that it takes no new lock out of order.
    lock_users([buyer.id, chain_root_id(buyer)])
    lines = cart_lines(buyer)
    if not lines:
        raise OrderError(_("Your cart is empty."))
    wanted = [Wanted.of_variant(line.variant, line.quantity) for line in lines]
    order = _place(buyer, address, wanted, now=now or utcnow(), users_locked=True).loaded()
    for line in lines:
        db.session.delete(line)
    return order


def place_festival_order(
    buyer: User,
    item: FestivalItem | ItemFacts,
    quantity: int,
    address: Address | int,
    *,
    now: datetime | None = None,
    known: known_use.Known | None = None,
) -> Order:
    """``place_festival_order_id``, giving the new order as a loaded ORM object."""
    return _place_festival(buyer, item, quantity, address, now=now, known=known).loaded()


def place_festival_order_id(
    buyer: User,
    item: FestivalItem | ItemFacts,
    quantity: int,
    address: Address | int,
    *,
    now: datetime | None = None,
    known: known_use.Known | None = None,
) -> int:
    """Buy a festival item at its festival price from its allocation ("buy now"); the new
    order's id (no ORM object is built for it, or expired by the commit). ``item``: the
    row, or its facts as ``shop.festivals.item_facts.read`` gives them (the hot path).
    ``known``: what is known of quota use, already read and refused from by the caller
    (``shop.festivals.services.check_known``). ``address``: the buyer's address; or its id,
    when ``item`` are facts kept a moment (``item_facts.cached``) and ``buyer`` may be the
    session's facts about the user (``shop.accounts.session.BuyerFacts``): the buyer's row, the
    item and the address are then read with the lock, and FactsChanged when they do not match."""
    return _place_festival(buyer, item, quantity, address, now=now, known=known).order_id


def _place_festival(
    buyer: User,
    item: FestivalItem | ItemFacts,
    quantity: int,
    address: Address | int,
    *,
    now: datetime | None,
    known: known_use.Known | None,
) -> writing.Written:
    now = now or utcnow()
    facts = item if isinstance(item, ItemFacts) else ItemFacts.of(item)
    if not facts.is_selling(now):
        raise OrderError(_("“%(festival)s” is not selling now.", festival=facts.festival_name))
    if quantity < 1:
        raise OrderError(_("Choose at least one unit."))
    return _place(
        buyer,
        address,
        [Wanted.of_festival_item(facts, quantity)],
        now=now,
        festival_id=facts.festival_id,
        known=known,
        kept=facts if isinstance(address, int) else None,
    )


def _place(
    buyer: User,
    address: Address | int,
    wanted: list[Wanted],
    *,
    now: datetime,
    festival_id: int | None = None,
    users_locked: bool = False,
    known: known_use.Known | None = None,
    kept: ItemFacts | None = None,
) -> writing.Written:
    """Check, lock, enforce every quota rule, take stock or allocation, and write the order:
    all in the caller's transaction, all or nothing. ``known``: what the caller already read
    of known use (shop/quotas/known_use.py) and refused from, else it is read and refused from
    here. ``kept``: the facts of the one item wanted, kept a moment; ``address`` is then its
    id, and the item and the address are read with the locks (``_lock``)."""
    if (
        (kept is not None) != isinstance(address, int)
        or (kept is not None and users_locked)
        or (kept is None and not isinstance(buyer, User))
    ):
        raise ValueError(
            "an address id goes with the item's kept facts, read with the locks taken here; "
            "only they read the buyer's row for facts about the buyer"
        )
    if kept is None and address.user_id != buyer.id:
        raise OrderError(_("Choose one of your own addresses."))
    for line in wanted:
        if not line.sellable.for_sale:
            raise CartError(
                _("“%(name)s” is no longer for sale; remove it from your cart.", name=line.sellable.product_name)
            )
    currencies = {line.sellable.currency for line in wanted}
    if len(currencies) != 1:
        raise OrderError(_("Items in different currencies cannot be ordered together."))
    currency = currencies.pop()

    tier = tier_for(buyer)
    takes = [line.take(tier) for line in wanted]
    rules = rules_for(buyer, takes)
    quotas = Enforcement(buyer, takes, now, currency=currency, rules=rules)
    item_ids = [line.festival_item_id for line in wanted if line.festival_item_id]
    buyer_ids = {"buyer_id": buyer.id, "root_id": chain_root_id(buyer)}
    if known is None:
        known = known_use.look([rule for rule, _extra in rules], takes, item_ids=item_ids, now=now, **buyer_ids)
        if not users_locked:
            # Most refusals of a flash sale are already certain: a sold-out allocation, or a
            # rule the buyer or chain has used up. Say so before taking any lock, so that a
            # refusal never queues behind the orders being placed: from what is known
            # (shop/quotas/known_use.py), or else from what is committed. (The cart's checkout
            # holds its locks already; "buy now" passes ``known`` having refused from it.)
            # Whatever passes is counted again under the locks. A refusal from what is known
            # teaches nothing new, so it is not learnt again (that would keep it alive forever).
            refuse_if_known(
                rules, takes, known, currency=currency, names={line.variant_id: line.name for line in wanted}
            )
    try:
        if not users_locked:
            if not known_use.enabled():
                quotas.check()
            buyer, read = _lock(
                buyer, [rule for rule, _extra in rules], kept=kept, address_id=address if kept is not None else None
            )
            address = read or address
        quotas.check()
        db.session.flush()  # the Core statements below see what the caller added with the ORM
        written, left_after = _take_and_write(
            buyer, address, wanted, tier=tier, currency=currency, festival_id=festival_id, now=now
        )
    except QuotaExceeded:
        known_use.learn(known, use=quotas.use_seen(with_wanted=False), now=now, **buyer_ids)
        raise
    except OutOfStock as refused:
        known_use.learn(
            known,
            use=quotas.use_seen(with_wanted=False),
            now=now,
            sold_out=[iid for iid, left in refused.items_left.items() if left == 0],
            **buyer_ids,
        )
        raise
    known_use.learn(
        known,
        use=quotas.use_seen(with_wanted=True),
        now=now,
        after_commit_only=True,
        sold_out=[iid for iid, left in left_after.items() if left == 0],
        **buyer_ids,
    )
    return written


def refuse_if_known(
    rules: list[tuple], takes: list[Take], known: known_use.Known, *, currency: str, names: dict[int, str]
) -> None:
    """QuotaExceeded or OutOfStock when what is known already rules the purchase of ``takes``
    out; the quota rules first, as when counted. ``names``: {variant id: name}."""
    refuse_from_known(rules, takes, known, currency=currency)
    sold_out = [take for take in takes if take.festival_item_id in known.sold_out]
    if sold_out:
        raise OutOfStock(
            [Shortage(take.variant_id, names[take.variant_id], take.quantity, 0) for take in sold_out],
            items_left={take.festival_item_id: 0 for take in sold_out},
        )


def _take_stock(wanted: list[Wanted], now: datetime) -> dict[int, int]:
    """Take every line's units from its festival allocation or from general stock, or raise
    OutOfStock with nothing taken. Overdue unpaid orders are expired when they stand in the
    way: only when something fell short, and then the take is tried once more. Returns what
    each festival item has left after the take."""
    shortages, items_left = _try_take(wanted)
    if shortages and _expire_overdue_of({line.variant_id for line in wanted}, now):
        shortages, items_left = _try_take(wanted)
    if shortages:
        raise OutOfStock(shortages, items_left=items_left)
    return items_left


def _try_take(wanted: list[Wanted]) -> tuple[list[Shortage], dict[int, int]]:
    from_stock = stock.units_by_variant(line for line in wanted if line.festival_item_id is None)
    from_items = Counter({line.festival_item_id: line.quantity for line in wanted if line.festival_item_id})
    # A single take that falls short has written nothing; several need a savepoint to undo the
    # ones that succeeded (and to release their row locks before overdue orders are swept).
    savepoint = db.session.begin_nested() if len(from_stock) + len(from_items) > 1 else None
    short_items, left_after = stock.take_allocation(from_items)
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
    return shortages, (short_items if shortages else left_after)


def _expire_overdue_of(variant_ids: set[int], now: datetime) -> bool:
    """Expire the overdue unpaid orders holding these variants; True when any gave units back."""
    overdue = _lock_overdue_orders(now, variant_ids=variant_ids)
    if not overdue:
        return False
    stock.lock_holdings([line for order in overdue for line in order.lines])
    _close_orders(overdue, OrderStatus.expired, actor=None, now=now)
    return True


def _take_and_write(
    buyer: User, address: Address, wanted: list[Wanted], *, tier, currency: str, festival_id: int | None, now: datetime
) -> tuple[writing.Written, dict[int, int]]:
    """Take the units, then write the order (shop/orders/writing.py); returns it with what each
    festival item has left. The take is the first write: one that falls short has written
    nothing. "Buy now" on PostgreSQL takes and writes in one statement; if that falls short,
    the general way below decides (sweeping overdue orders), as for every other order."""
    lines = [
        {
            "variant_id": line.variant_id,
            "festival_item_id": line.festival_item_id,
            "product_name": line.sellable.product_name,
            "variant_name": line.sellable.variant_name,
            "sku": line.sellable.sku,
            "unit_price": line.unit_price(tier),
            "market_price": line.sellable.market_price,
            "quantity": line.quantity,
            "refunded_quantity": 0,
        }
        for line in wanted
    ]
    placing = dict(
        buyer=buyer, ship_to=address.one_line(), currency=currency, tier=tier, festival_id=festival_id, now=now
    )
    if lines[0]["festival_item_id"] is not None and writing.in_one_statement(lines):
        placed = writing.take_and_write_order(line=lines[0], **placing)
        if placed is not None:
            written, left = placed
            return written, {lines[0]["festival_item_id"]: left}
    left_after = _take_stock(wanted, now)
    return writing.write_order(lines=lines, **placing), left_after


# A checkout that falls short sweeps its items' overdue orders: the statement is built once.
_OVERDUE_OF_VARIANTS = (
    select(Order)
    .where(
        Order.status == OrderStatus.pending_payment,
        Order.expires_at <= bindparam("overdue_at"),
        Order.id.in_(
            select(OrderLine.order_id).where(OrderLine.variant_id.in_(bindparam("overdue_variant_ids", expanding=True)))
        ),
    )
    .order_by(Order.id)
    .with_for_update(skip_locked=True)
)


def _lock_overdue_orders(now: datetime, *, variant_ids=None, buyer_id: int | None = None) -> list[Order]:
    """Pending orders past their deadline, locked; ones another transaction holds are skipped."""
    if variant_ids is not None and buyer_id is None:
        return list(
            db.session.scalars(_OVERDUE_OF_VARIANTS, {"overdue_at": now, "overdue_variant_ids": sorted(variant_ids)})
        )
    query = select(Order).where(Order.status == OrderStatus.pending_payment, Order.expires_at <= now)
    if variant_ids is not None:
        query = query.where(Order.id.in_(select(OrderLine.order_id).where(OrderLine.variant_id.in_(list(variant_ids)))))
    if buyer_id is not None:
        query = query.where(Order.buyer_id == buyer_id)
    return list(db.session.scalars(query.order_by(Order.id).with_for_update(skip_locked=True)))


def _close_orders(orders: list[Order], status: OrderStatus, *, actor: User | None, now: datetime) -> int:
    """Cancel or expire pending orders and give their stock back, each exactly once. Returns how
    many this call closed (another transaction may have closed or paid some first)."""
    closed_lines = []
    closed_ids = []
    for order in orders:
        closed = db.session.execute(
            update(Order)
            .where(Order.id == order.id, Order.status == OrderStatus.pending_payment)
            .values(status=status, closed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if closed != 1:
            continue  # someone else closed or paid it first
        closed_lines += order.lines
        closed_ids.append(order.id)
        record(
            f"order.{status.value}",
            order,
            actor=actor,
            before={"status": "pending_payment"},
            after={"status": status.value},
        )
        db.session.expire(order, ["status", "closed_at"])
    stock.give_back(closed_lines)
    known_use.gave_back(
        user_ids={
            user_id
            for order in orders
            if order.id in closed_ids
            for user_id in (order.buyer_id, order.root_employee_id)
        }
    )
    card.cancel_intents_for_orders_after_commit(closed_ids)  # at Stripe, once this commits
    return len(closed_ids)


def expire_overdue(*, now: datetime | None = None, buyer_id: int | None = None) -> int:
    """Expire every unpaid order past its deadline; safe to run twice or concurrently. Returns
    how many this call expired."""
    now = now or utcnow()
    overdue = _lock_overdue_orders(now, buyer_id=buyer_id)
    if not overdue:
        return 0
    stock.lock_holdings(line for order in overdue for line in order.lines)
    return _close_orders(overdue, OrderStatus.expired, actor=None, now=now)


def _expire_if_overdue(order: Order, now: datetime) -> bool:
    """Lazy expiry: an unpaid order past its deadline is expired now. True when it was."""
    if order.status == OrderStatus.pending_payment and order.expires_at and order.expires_at <= now:
        stock.lock_holdings(order.lines)
        _close_orders([order], OrderStatus.expired, actor=None, now=now)
        db.session.refresh(order)
        return True
    return False


def cancel_order(buyer: User, order: Order, *, now: datetime | None = None) -> OrderStatus:
    """Cancel an unpaid order and give its stock back. Returns the order's status afterwards:
    ``expired`` when its deadline had already passed."""
    now = now or utcnow()
    lock_user(buyer)
    lock_order(order)
    if _expire_if_overdue(order, now):
        return order.status
    _check_transition(order, OrderStatus.cancelled)
    stock.lock_holdings(order.lines)
    _close_orders([order], OrderStatus.cancelled, actor=buyer, now=now)
    db.session.refresh(order)
    return order.status


def _check_transition(order: Order, target: OrderStatus) -> None:
    if not order.can_become(target):
        raise NotAllowed(
            _(
                "An order that is %(current)s cannot become %(target)s.",
                current=_status_label(order.status),
                target=_status_label(target),
            )
        )


def _status_label(status: OrderStatus) -> str:
    return status.value.replace("_", " ")


# ---- payroll deduction ---------------------------------------------------------------------


class PayrollCapExceeded(OrderError):
    pass


def pay_by_payroll(buyer: User, order: Order, *, now: datetime | None = None) -> Order:
    """Employees pay at once by payroll deduction, within the monthly cap. An order whose
    deadline has passed is expired instead (check the returned order's status)."""
    from shop.company_calendar import month_bounds
    from shop.payments.payroll import payroll_used

    now = now or utcnow()
    if not buyer.is_employee:
        raise OrderError(_("Payroll deduction is for employees only."))
    lock_user(buyer)
    lock_order(order)
    if _expire_if_overdue(order, now):
        return order
    _check_transition(order, OrderStatus.paid)
    cap = current_app.config["PAYROLL_MONTHLY_CAP"]
    used = payroll_used(buyer, *month_bounds(now))
    if used + order.total_amount > cap:
        raise PayrollCapExceeded(
            _(
                "This order is above your payroll deduction limit for this month: %(left)s left.",
                left=_money(max(cap - used, 0), order.currency),
            )
        )
    order.status = OrderStatus.paid
    order.payment_method = PaymentMethod.payroll
    order.paid_at = now
    record(
        "order.paid",
        order,
        actor=buyer,
        before={"status": "pending_payment"},
        after={"status": "paid", "method": "payroll", "amount": order.total_amount},
    )
    became_paid(order)
    return order


def became_paid(order: Order) -> None:
    """Everything that follows an order becoming paid, in the same transaction: the funnel's
    first or repeat order event. Every way of paying (payroll, card) calls this."""
    from referrals.services.events import record_order_paid

    record_order_paid(order)


def _money(amount: int, currency: str) -> str:
    from shop.i18n import format_money

    return format_money(amount, currency)


# ---- fulfilment (operators) ---------------------------------------------------------------


def mark_shipped(
    actor: User, order: Order, carrier: str, tracking_number: str, *, now: datetime | None = None, notify: bool = True
) -> None:
    """Ship a paid order; the buyer is mailed after the commit (``notify``: not for demo history)."""
    lock_order(order)
    _check_transition(order, OrderStatus.shipped)
    before = {"status": order.status.value}
    order.status, order.shipped_at = OrderStatus.shipped, now or utcnow()
    order.carrier, order.tracking_number = carrier.strip(), tracking_number.strip()
    record(
        "order.shipped",
        order,
        actor=actor,
        before=before,
        after={"status": "shipped", "carrier": order.carrier, "tracking_number": order.tracking_number},
    )
    if notify:
        notices.tell_buyer_shipped(order)


def mark_completed(actor: User, order: Order, *, now: datetime | None = None) -> None:
    lock_order(order)
    _check_transition(order, OrderStatus.completed)
    before = {"status": order.status.value}
    order.status, order.completed_at = OrderStatus.completed, now or utcnow()
    record("order.completed", order, actor=actor, before=before, after={"status": "completed"})


# ---- addresses -----------------------------------------------------------------------------


def addresses_of(user: User) -> list[Address]:
    return list(db.session.scalars(select(Address).where(Address.user_id == user.id).order_by(Address.id.desc())))


_ADDRESS_FOR = select(Address.__table__).where(
    Address.id == bindparam("address_id"), Address.user_id == bindparam("user_id")
)


def address_for(user: User, address_id: int) -> Address | None:
    """The user's own address ``address_id``, read with Core (every checkout reads it), as an
    object outside the session: what an order copies of it, not something to change."""
    row = db.session.connection().execute(_ADDRESS_FOR, {"address_id": address_id, "user_id": user.id}).one_or_none()
    return None if row is None else Address(**row._mapping)


def add_address(user: User, **fields) -> Address:
    address = Address(user_id=user.id, **{k: (v or "").strip() for k, v in fields.items()})
    db.session.add(address)
    db.session.flush()
    return address
