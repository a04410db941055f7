"""One page of a query's results, for any list page, and the one reading of ``?page=``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, request
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


# No list here has ten thousand pages; beyond it the offset would only make the database work
# (or overflow its integers) to show an empty page.
MAX_PAGE = 10_000


def page_arg() -> int:
    """The page number asked for in ``?page=``: 1 when absent, malformed or below 1; a page
    beyond ``MAX_PAGE`` is answered with 404."""
    page = request.args.get("page", 1, type=int) or 1
    if page > MAX_PAGE:
        abort(404)
    return max(1, page)


def paginate(query: Select, page: int, per_page: int) -> Page:
    page = min(max(1, page), MAX_PAGE)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, per_page, total)
