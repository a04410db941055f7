"""A festival item as buying it reads it: plain values from one Core query, without the ORM.

"Buy now" is the hottest request of a flash sale. Loading the item with its festival, variant
and product as ORM objects cost more than placing the order; these facts come from one
statement. Answering a refusal from what is known (shop/quotas/known_use.py) reads them from a
per-process cache (``cached``: ``KNOWN_USE_SECONDS``, dropped here when an operator changes a
festival or an allocation); placing an order always reads them afresh (``read``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, select

from shop.catalog.models import Product, Variant
from shop.catalog.sellable import Sellable, for_sale
from shop.extensions import db
from shop.festivals.models import Festival, FestivalItem
from shop.orders.models import Address
from shop.ttl_cache import ConfiguredCache


@dataclass(frozen=True)
class ItemFacts:
    item_id: int
    festival_id: int
    festival_name: str
    festival_slug: str
    preheat_at: datetime
    launch_at: datetime
    ends_at: datetime
    sellable: Sellable
    employee_price: int
    contact_price: int

    @classmethod
    def of(cls, item: FestivalItem) -> ItemFacts:
        festival = item.festival
        return cls(
            item.id,
            festival.id,
            festival.name,
            festival.slug,
            festival.preheat_at,
            festival.launch_at,
            festival.ends_at,
            Sellable.of(item.variant),
            item.employee_price,
            item.contact_price,
        )

    @property
    def name(self) -> str:
        return self.sellable.name

    def is_draft(self, now: datetime) -> bool:
        return now < self.preheat_at

    def is_selling(self, now: datetime) -> bool:
        return self.launch_at <= now < self.ends_at  # launch and continuation, as Festival.is_selling


_COLUMNS = (
    FestivalItem.id,
    Festival.id,
    Festival.name,
    Festival.slug,
    Festival.preheat_at,
    Festival.launch_at,
    Festival.ends_at,
    FestivalItem.employee_price,
    FestivalItem.contact_price,
    Variant.id,
    Product.id,
    Product.category_id,
    Product.name,
    Variant.name,
    Variant.sku,
    Variant.currency,
    Variant.market_price,
    Variant.is_active,
    Product.is_active,
    Product.sales_mode,
)
_JOINED = (
    FestivalItem.__table__.join(Festival.__table__, Festival.id == FestivalItem.festival_id)
    .join(Variant.__table__, Variant.id == FestivalItem.variant_id)
    .join(Product.__table__, Product.id == Variant.product_id)
)
_WHICH = and_(Festival.slug == bindparam("slug"), FestivalItem.id == bindparam("item_id"))
_READ = select(*_COLUMNS).select_from(_JOINED).where(_WHICH)


def read(slug: str, item_id: int) -> ItemFacts | None:
    """The item ``item_id`` of the festival called ``slug``, as committed now; one query."""
    row = db.session.connection().execute(_READ, {"slug": slug, "item_id": item_id}).one_or_none()
    return None if row is None else _facts(row)


def _facts(row) -> ItemFacts:
    *festival, employee_price, contact_price = row[:9]
    *variant, variant_active, product_active, sales_mode = row[9:]
    return ItemFacts(
        *festival,
        Sellable(*variant, for_sale(variant_active, product_active, sales_mode)),
        employee_price,
        contact_price,
    )


# "Buy now" reads the buyer's address with the item: the same statement, one round trip.
_ADDRESS_COLUMNS = tuple(Address.__table__.c)


_ADDRESS_KEYS = tuple(column.key for column in _ADDRESS_COLUMNS)


def _address(values) -> Address | None:
    """An address as a query would load it, but outside the session: what an order copies of it
    (``shop.orders.services.address_for`` gives the same), not something to change."""
    if values[0] is None:
        return None
    address = Address.__mapper__.class_manager.new_instance()  # no constructor, no change events
    address.__dict__.update(zip(_ADDRESS_KEYS, values, strict=True))
    return address


def beside(source, *, address_of):
    """For a statement that reads other rows (``source``) and, beside each of them, this item
    (parameters ``slug`` and ``item_id``) and the address ``address_id`` if it belongs to the
    user whose id is the column or parameter ``address_of``: the columns to select and the
    FROM clause, outer joins, so that the rows of ``source`` come back whatever is found.
    ``facts_and_address`` reads them from the end of each row."""
    return (*_COLUMNS, *_ADDRESS_COLUMNS), (
        source.outerjoin(_JOINED, _WHICH).outerjoin(
            Address.__table__, and_(Address.id == bindparam("address_id"), Address.user_id == address_of)
        )
    )


def facts_and_address(row) -> tuple[ItemFacts | None, Address | None]:
    """The item and the address that ``beside`` added to the end of ``row`` (None when not found)."""
    values = tuple(row)[-(len(_COLUMNS) + len(_ADDRESS_COLUMNS)) :]
    item, address = values[: len(_COLUMNS)], values[len(_COLUMNS) :]
    return (None if item[0] is None else _facts(item)), _address(address)


_READ_WITH_ADDRESS = _READ.add_columns(*_ADDRESS_COLUMNS).outerjoin(
    Address.__table__, and_(Address.id == bindparam("address_id"), Address.user_id == bindparam("user_id"))
)


def read_with_address(
    slug: str, item_id: int, *, user_id: int, address_id: int
) -> tuple[ItemFacts | None, Address | None]:
    """``read``, and the user's own address ``address_id``, in one query."""
    row = (
        db.session.connection()
        .execute(_READ_WITH_ADDRESS, {"slug": slug, "item_id": item_id, "user_id": user_id, "address_id": address_id})
        .one_or_none()
    )
    if row is None:
        return None, None
    return facts_and_address(row)


_cache = ConfiguredCache("KNOWN_USE_SECONDS", "ITEM_FACTS_ENTRIES", 1_000)


def cached(slug: str, item_id: int) -> ItemFacts | None:
    """``read``, kept per process for ``KNOWN_USE_SECONDS``: for refusals only."""
    key = (slug, item_id)
    facts = _cache.get(key)
    if facts is None:
        facts = read(slug, item_id)
        if facts is not None:
            _cache.set(key, facts)
    return facts


def forget() -> None:
    """After a festival or an allocation changed here."""
    _cache.clear()
