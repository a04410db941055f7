"""A buyer's shipping addresses."""

from __future__ import annotations

from sqlalchemy import select

from shop.accounts.models import Buyer, User
from shop.extensions import db
from shop.orders.models import Address


def addresses_of(user: User) -> list[Address]:
    return list(db.session.scalars(select(Address).where(Address.user_id == user.id).order_by(Address.id.desc())))


def address_for(user: User | Buyer, address_id: int) -> Address | None:
    """The user's own address ``address_id``; another user's is not found. By primary key:
    no query when this request has read it already."""
    address = db.session.get(Address, address_id)
    return address if address is not None and address.user_id == user.id else None


def add_address(user: User, **fields) -> Address:
    address = Address(user_id=user.id, **{k: (v or "").strip() for k, v in fields.items()})
    db.session.add(address)
    db.session.flush()
    return address
