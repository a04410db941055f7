"""Stock reservation and release. Locks are always taken in variant-id order, so concurrent
transactions wait for each other instead of deadlocking, and stock can never go below zero."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from sqlalchemy import select, update

from shop.catalog.models import Variant
from shop.extensions import db


def lock_variants(variant_ids: Iterable[int]) -> None:
    """Row-lock the variants in id order (PostgreSQL); SQLite already holds the write lock."""
    ids = sorted(set(variant_ids))
    if ids:
        db.session.execute(select(Variant.id).where(Variant.id.in_(ids)).order_by(Variant.id).with_for_update())


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
    """Variants already loaded in this session reload their stock on next access."""
    for variant_id in variant_ids:
        loaded = db.session.identity_map.get(db.session.identity_key(Variant, variant_id))
        if loaded is not None:
            db.session.expire(loaded, ["stock"])


def units_by_variant(lines) -> Counter:
    counts: Counter = Counter()
    for line in lines:
        counts[line.variant_id] += line.quantity
    return counts
