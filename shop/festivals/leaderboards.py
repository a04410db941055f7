"""A festival's leaderboards, which reward the many as well as the few.

Revenue of an order is what was paid less refunds (``total_amount - refunded_amount``) of the
festival's orders that are paid, shipped, completed or partially refunded; it belongs to the
chain the order was attributed to when placed (``Order.root_employee_id``). A chain with no
such revenue is not ranked. Ranks are shared on ties (1, 2, 2, 4), ties ordered by name.

- top chains: every chain by revenue;
- newcomers: chains whose first paid order ever (whatever became of it later) was an order of
  this festival;
- departments: the chains ranked within the department of their employee (as it is today);
- the long tail: the share of revenue outside the top 10% of the ranked chains. The top group
  is the best ceil(10% of the ranked chains) — so with fewer than ten chains it is the best one
  — together with every chain tied with the last of them, so a tie is never split.

Each board is one grouped query that returns its leaders and the viewer's own chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, and_, case, func, or_, select

from shop.accounts.models import Department, User
from shop.catalog.festival_models import Festival
from shop.extensions import db
from shop.orders.models import Order, OrderStatus

REVENUE_STATUSES = (OrderStatus.paid, OrderStatus.shipped, OrderStatus.completed, OrderStatus.partially_refunded)
TOP_CHAINS = 10
PER_DEPARTMENT = 5


@dataclass(frozen=True)
class Rank:
    position: int
    employee_id: int
    name: str
    revenue: int
    orders: int


@dataclass
class Board:
    leaders: list[Rank] = field(default_factory=list)
    mine: Rank | None = None  # the viewer's chain; None when it is not ranked (yet)


@dataclass
class DepartmentBoard(Board):
    department: str | None = None  # None: employees without a department


@dataclass(frozen=True)
class LongTail:
    revenue: int  # all ranked chains together
    outside_top: int  # revenue of the chains outside the top group
    chains: int  # ranked chains
    top_chains: int  # chains in the top group (more than 10% only when tied)
    mine_in_top: bool | None  # None when the viewer's chain is not ranked

    @property
    def share_outside(self) -> float | None:
        return self.outside_top / self.revenue if self.revenue else None


def _chain_revenue(festival: Festival) -> Select:
    revenue = func.sum(Order.total_amount - Order.refunded_amount)
    return (
        select(
            Order.root_employee_id.label("employee_id"), revenue.label("revenue"), func.count(Order.id).label("orders")
        )
        .where(
            Order.festival_id == festival.id, Order.status.in_(REVENUE_STATUSES), Order.root_employee_id.is_not(None)
        )
        .group_by(Order.root_employee_id)
        .having(revenue > 0)
    )


def _first_paid(festival: Festival | None):
    """When each chain was first paid for: ever, or in ``festival``."""
    query = select(Order.root_employee_id.label("employee_id"), func.min(Order.paid_at).label("first_paid_at")).where(
        Order.paid_at.is_not(None), Order.root_employee_id.is_not(None)
    )
    if festival is not None:
        query = query.where(Order.festival_id == festival.id)
    return query.group_by(Order.root_employee_id).subquery()


def _board(chains: Select, viewer: User, limit: int, *, by_department: bool = False) -> list:
    """Rank ``chains`` (employee_id, revenue, orders) and return the rows of the leaders and
    of the viewer's chain, with names (and departments)."""
    chains = chains.subquery()
    department = User.department_id if by_department else None
    ranked = (
        select(
            chains.c.employee_id,
            chains.c.revenue,
            chains.c.orders,
            User.name,
            User.department_id,
            func.rank().over(order_by=chains.c.revenue.desc(), partition_by=department).label("position"),
        ).join(User, User.id == chains.c.employee_id)
    ).subquery()
    query = (
        select(ranked, Department.name.label("department"))
        .outerjoin(Department, Department.id == ranked.c.department_id)
        .where(or_(ranked.c.position <= limit, ranked.c.employee_id == viewer.chain_root_id))
    )
    if by_department:
        query = query.order_by(Department.name.is_(None), Department.name, ranked.c.department_id)
    query = query.order_by(ranked.c.position, ranked.c.name, ranked.c.employee_id)
    return list(db.session.execute(query))


def _rank(row) -> Rank:
    return Rank(int(row.position), row.employee_id, row.name, int(row.revenue), int(row.orders))


def _split(rows: list, viewer: User, limit: int) -> Board:
    mine = next((_rank(row) for row in rows if row.employee_id == viewer.chain_root_id), None)
    return Board([_rank(row) for row in rows if row.position <= limit], mine)


def top_chains(festival: Festival, viewer: User, limit: int = TOP_CHAINS) -> Board:
    return _split(_board(_chain_revenue(festival), viewer, limit), viewer, limit)


def newcomers(festival: Festival, viewer: User, limit: int = TOP_CHAINS) -> Board:
    """Chains whose first paid order ever was one of this festival's, by festival revenue."""
    ever, here = _first_paid(None), _first_paid(festival)
    chains = (
        _chain_revenue(festival)
        .join(ever, ever.c.employee_id == Order.root_employee_id)
        .join(here, and_(here.c.employee_id == Order.root_employee_id, here.c.first_paid_at == ever.c.first_paid_at))
    )
    return _split(_board(chains, viewer, limit), viewer, limit)


def department_boards(festival: Festival, viewer: User, limit: int = PER_DEPARTMENT) -> list[DepartmentBoard]:
    """A board per department with ranked chains, by department name (no department last)."""
    boards: dict[int | None, DepartmentBoard] = {}
    for row in _board(_chain_revenue(festival), viewer, limit, by_department=True):
        board = boards.setdefault(row.department_id, DepartmentBoard(department=row.department))
        rank = _rank(row)
        if row.position <= limit:
            board.leaders.append(rank)
        if row.employee_id == viewer.chain_root_id:
            board.mine = rank
    return list(boards.values())


def long_tail(festival: Festival, viewer: User) -> LongTail:
    chains = _chain_revenue(festival).subquery()
    ranked = select(
        chains.c.employee_id,
        chains.c.revenue,
        func.rank().over(order_by=chains.c.revenue.desc()).label("position"),
        func.count().over().label("chains"),
    ).subquery()
    in_top = ranked.c.position * 10 <= ranked.c.chains + 9  # position <= ceil(chains / 10)
    row = db.session.execute(
        select(
            func.coalesce(func.sum(ranked.c.revenue), 0),
            func.coalesce(func.sum(case((in_top, 0), else_=ranked.c.revenue)), 0),
            func.count(),
            func.coalesce(func.sum(case((in_top, 1), else_=0)), 0),
            func.max(case((ranked.c.employee_id == viewer.chain_root_id, case((in_top, 1), else_=0)))),
        )
    ).one()
    total, outside, count, top, mine = row
    return LongTail(int(total), int(outside), int(count), int(top), None if mine is None else bool(mine))
