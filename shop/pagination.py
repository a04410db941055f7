"""One page of a query's results, for any list page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from shop.extensions import db


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def paginate(query: Select, page: int, per_page: int) -> Page:
    page = max(1, page)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, per_page, total)
