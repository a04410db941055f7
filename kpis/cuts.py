"""The dashboard's cuts applied to raw rows (funnel events, orders) where a figure is not read
from a rollup, and the note a figure carries when a chosen cut cannot apply to it.

The cuts mean the same as on the rollups (``kpis.figures``): a festival (or year-round only),
the chain employee's department, a product (an order is in the cut when one of its lines is of
the product), the buyer's (actor's) level.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select

from kpis.figures import YEAR_ROUND, Filters, in_department
from referrals.models import FunnelEvent
from shop.catalog.models import Variant
from shop.orders.models import Order, OrderLine

FESTIVAL, DEPARTMENT, PRODUCT, LEVEL = "festival", "department", "product", "level"
CUT_NAMES = {
    FESTIVAL: _l("festival"),
    DEPARTMENT: _l("department"),
    PRODUCT: _l("product"),
    LEVEL: _l("buyer level"),
}


def chosen(f: Filters) -> list[str]:
    """The cuts other than dates that the operator chose."""
    found = []
    if f.festival:
        found.append(FESTIVAL)
    if f.department_id is not None:
        found.append(DEPARTMENT)
    if f.product_id is not None:
        found.append(PRODUCT)
    if f.level is not None:
        found.append(LEVEL)
    return found


def not_applied(f: Filters, applies: tuple[str, ...] | set[str]) -> str | None:
    """ "Not cut by product, buyer level" for the chosen cuts a figure cannot take, else None."""
    missing = [str(CUT_NAMES[c]) for c in chosen(f) if c not in applies]
    return str(_l("Not cut by %(cuts)s", cuts=", ".join(missing))) if missing else None


def events(query, f: Filters):
    """``query`` over FunnelEvent with the cuts other than dates."""
    if f.festival == YEAR_ROUND:
        query = query.where(or_(FunnelEvent.festival_id.is_(None), FunnelEvent.festival_id == 0))
    elif f.festival_id() is not None:
        query = query.where(FunnelEvent.festival_id == f.festival_id())
    if f.product_id is not None:
        query = query.where(FunnelEvent.product_id == f.product_id)
    if f.level is not None:
        query = query.where(event_level_is(f.level))
    if f.department_id is not None:
        query = query.where(in_department(FunnelEvent.root_employee_id, f.department_id))
    return query


def event_level_is(level: int):
    """``domain.event_level`` in SQL: -1 anonymous, 0 the chain's employee, 2 with an L1, else 1."""
    actor, root, l1 = FunnelEvent.actor_id, FunnelEvent.root_employee_id, FunnelEvent.l1_contact_id
    if level < 0:
        return actor.is_(None)
    if level == 0:
        return and_(actor.is_not(None), actor == root)
    known = and_(actor.is_not(None), or_(root.is_(None), actor != root))
    return and_(known, l1.is_not(None) if level == 2 else l1.is_(None))


def product_lines(product_id: int):
    """An order with at least one line of the product."""
    return exists(
        select(OrderLine.id)
        .join(Variant, Variant.id == OrderLine.variant_id)
        .where(OrderLine.order_id == Order.id, Variant.product_id == product_id)
    )


def orders(f: Filters) -> list:
    """Conditions on Order for the cuts other than dates."""
    conditions = []
    if f.festival == YEAR_ROUND:
        conditions.append(Order.festival_id.is_(None))
    elif f.festival_id() is not None:
        conditions.append(Order.festival_id == f.festival_id())
    if f.product_id is not None:
        conditions.append(product_lines(f.product_id))
    if f.level is not None:
        conditions.append(Order.buyer_level == f.level)
    if f.department_id is not None:
        conditions.append(in_department(Order.root_employee_id, f.department_id))
    return conditions
