"""Stock reservation and release, from general stock or from a festival's allocation.

Locks are always taken in one order (users, then orders, then festival items by id, then
variants by id), so concurrent transactions wait for each other instead of deadlocking; every
take is a conditional update, so stock and allocations can never go below zero.

Festival items and variants are locked FOR NO KEY UPDATE (``key_share=True``), the lock an
UPDATE of their non-key columns takes anyway. A plain FOR UPDATE would conflict with the KEY
SHARE lock PostgreSQL takes on a referenced row when an order line is inserted: two checkouts
that insert their lines first and lock the variant after would each wait for the other."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from sqlalchemy import select, update

from shop.catalog.festival_models import FestivalItem
from shop.catalog.models import Variant
from shop.extensions import db


def lock_variants(variant_ids: Iterable[int]) -> None:
    """Row-lock the variants in id order (PostgreSQL); SQLite already holds the write lock."""
    ids = sorted(set(variant_ids))
    if ids:
        db.session.execute(
            select(Variant.id).where(Variant.id.in_(ids)).order_by(Variant.id).with_for_update(key_share=True)
        )


def lock_holdings(lines) -> None:
    """Lock what these order lines hold: their festival items, then their variants."""
    lines = list(lines)
    item_ids = sorted({line.festival_item_id for line in lines if line.festival_item_id})
    if item_ids:
        db.session.execute(
            select(FestivalItem.id)
            .where(FestivalItem.id.in_(item_ids))
            .order_by(FestivalItem.id)
            .with_for_update(key_share=True)
        )
    lock_variants(line.variant_id for line in lines)


def take_allocation(wanted: Mapping[int, int]) -> dict[int, int]:
    """Take ``wanted`` units per festival item id from its allocation, in id order, where enough
    is left and it has not been returned (a conditional update: the row lock it takes is the
    item's lock). Returns the ids that fell short with what is left."""
    short: dict[int, int] = {}
    for item_id in sorted(wanted):
        quantity = wanted[item_id]
        taken = db.session.execute(
            update(FestivalItem)
            .where(
                FestivalItem.id == item_id,
                FestivalItem.returned_at.is_(None),
                FestivalItem.sold + quantity <= FestivalItem.allocated,
            )
            .values(sold=FestivalItem.sold + quantity)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken == 1:
            continue
        left = db.session.execute(
            select(FestivalItem.allocated - FestivalItem.sold, FestivalItem.returned_at).where(
                FestivalItem.id == item_id
            )
        ).one_or_none()
        short[item_id] = 0 if left is None or left[1] is not None else max(left[0], 0)
    _forget_loaded(FestivalItem, wanted, ["sold"])
    return short


def give_back(lines, quantities: Mapping[int, int] | None = None) -> None:
    """Give back what order lines took (``quantities`` by line id, default all of each line):
    to the festival allocation while it is open, else to general stock. The caller holds
    ``lock_holdings(lines)`` and makes sure each unit is given back once."""
    to_stock: Counter = Counter()
    to_items: Counter = Counter()
    for line in lines:
        quantity = line.quantity if quantities is None else quantities.get(line.id, 0)
        if quantity <= 0:
            continue
        if line.festival_item_id:
            to_items[line.festival_item_id] += quantity
        else:
            to_stock[line.variant_id] += quantity
    for item_id in sorted(to_items):
        quantity = to_items[item_id]
        variant_id, returned_at = db.session.execute(
            select(FestivalItem.variant_id, FestivalItem.returned_at).where(FestivalItem.id == item_id)
        ).one()
        after_return = returned_at is not None
        db.session.execute(
            update(FestivalItem)
            .where(FestivalItem.id == item_id)
            .values(
                sold=FestivalItem.sold - quantity,
                returned_units=FestivalItem.returned_units + (quantity if after_return else 0),
            )
            .execution_options(synchronize_session=False)
        )
        if after_return:  # the festival's leftovers went back already; so does this
            to_stock[variant_id] += quantity
    _forget_loaded(FestivalItem, to_items, ["sold", "returned_units"])
    release(to_stock)


def reserve(wanted: Mapping[int, int]) -> dict[int, int]:
    """Take ``wanted`` units per variant id where there is enough; return the ids that fell short
    with what is available. The caller rolls back (a savepoint) when anything fell short."""
    short: dict[int, int] = {}
    for variant_id in sorted(wanted):
        quantity = wanted[variant_id]
        taken = db.session.execute(
            update(Variant)
            .where(Variant.id == variant_id, Variant.stock >= quantity, Variant.is_active.is_(True))
            .values(stock=Variant.stock - quantity)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            short[variant_id] = db.session.scalar(select(Variant.stock).where(Variant.id == variant_id)) or 0
    _forget_loaded_stock(wanted)
    return short


def release(given_back: Mapping[int, int]) -> None:
    """Put units back into stock, in variant-id order."""
    for variant_id in sorted(given_back):
        if given_back[variant_id] > 0:
            db.session.execute(
                update(Variant)
                .where(Variant.id == variant_id)
                .values(stock=Variant.stock + given_back[variant_id])
                .execution_options(synchronize_session=False)
            )
    _forget_loaded_stock(given_back)


def _forget_loaded_stock(variant_ids: Iterable[int]) -> None:
    _forget_loaded(Variant, variant_ids, ["stock"])


def _forget_loaded(model, ids: Iterable[int], attributes: list[str]) -> None:
    """Rows already loaded in this session reload these columns on next access."""
    for row_id in ids:
        loaded = db.session.identity_map.get(db.session.identity_key(model, row_id))
        if loaded is not None:
            db.session.expire(loaded, attributes)


def units_by_variant(lines) -> Counter:
    counts: Counter = Counter()
    for line in lines:
        counts[line.variant_id] += line.quantity
    return counts
