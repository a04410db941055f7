"""What placing and changing orders refuse with."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from shop.errors import DomainError


class OrderError(DomainError):
    pass


class NotYourAddress(OrderError):
    """The address is another user's (the pages answer 404, as for any object not found)."""


@dataclass(frozen=True)
class Shortage:
    variant_id: int
    name: str
    wanted: int
    available: int


class OutOfStock(OrderError):
    def __init__(self, shortages: list[Shortage]):
        super().__init__(_("Not enough stock for some items; nothing was ordered."))
        self.shortages = shortages
