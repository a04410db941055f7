"""The dashboard's figures: the rollups (and, for the small tables, the raw rows) read with the
operator's cuts, each KPI computed by ``kpis.domain``.

Cuts: a range of company days (both ends included), a festival (or year-round only), the chain
employee's department, a product (revenue: the orders containing it and the revenue of its
lines) and the buyer's (actor's) level. The previous period is the range of the same length just
before. Figures read from raw rows take the same cuts through ``kpis.cuts``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select

from kpis import concentration, domain, network_gaps
from kpis import expansion as kept_expansion
from kpis.aggregation import Calendar
from kpis.cut_rollups import ProductDay
from kpis.models import (
    BuyerMonth,
    ChainDay,
    ChainRevenueDay,
    CompanyDay,
    CompanyRevenueDay,
    FunnelDay,
    RetentionCell,
    RevenueDay,
    StageDay,
)
from shop.accounts.models import Kind, User
from shop.extensions import db
from shop.input_checks import parse_id

YEAR_ROUND = "none"


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # included
    festival: str = ""  # "" every order, "none" year-round only, or a festival's id
    department_id: int | None = None
    product_id: int | None = None
    level: int | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    def bounds(self, calendar: Calendar) -> tuple[datetime, datetime]:
        return calendar.start(self.start), calendar.start(self.end + timedelta(days=1))

    def festival_id(self) -> int | None:
        return parse_id(self.festival)


def in_department(column, department_id: int):
    """The condition: ``column`` (a chain's employee) is an employee of the department.

    The employees' kind is in it although every chain is rooted at an employee: with it,
    PostgreSQL reads a department's chains through the indexes that lead with the chain (its
    employees' rows of the window) instead of scanning every row of the window (the gaps of 90
    days at a million events: 71 -> 25 ms)."""
    return column.in_(select(User.id).where(User.kind == Kind.employee, User.department_id == department_id))


def _cut(query, model, f: Filters, *, level_column, department: bool = True, dates: tuple | None = None):
    """``query`` of ``model``'s rows in ``f``'s window (or ``dates``: the conditions on a part
    of the window's rows, ``kpis.weeks``) and cuts."""
    query = query.where(*(dates if dates is not None else (model.day >= f.start, model.day <= f.end)))
    if f.festival == YEAR_ROUND:
        query = query.where(model.festival_id == 0)
    elif f.festival_id() is not None:
        query = query.where(model.festival_id == f.festival_id())
    if f.product_id is not None:
        query = query.where(model.product_id == f.product_id)
    if f.level is not None:
        query = query.where(level_column == f.level)
    if department and f.department_id is not None:
        query = query.where(in_department(model.root_employee_id, f.department_id))
    return query


# ---- funnel ------------------------------------------------------------------------------


def company_funnel(f: Filters):
    """The smallest rollup of the company funnel under ``f``'s cuts (no department cut)."""
    return StageDay if f.product_id is None else CompanyDay


def funnel_counts(f: Filters, *, root: int | None = None) -> Counter:
    """Stage counts; ``root`` keeps one employee's chain (an L1 contact's sub-chain is read from
    the raw events, see ``kpis.chain``). A chain or a department is read from the chain table
    unless a product cut needs ``kpi_funnel_days``."""
    model = company_funnel(f) if root is None and f.department_id is None else chain_rollup(f)
    query = _cut(select(*stage_sums(model)), model, f, level_column=model.level)
    if root is not None:
        query = query.where(model.root_employee_id == root)
    return _stage_counter(db.session.execute(query).one())


def chain_rollup(f: Filters):
    """The rollup of per-chain stage counts under ``f``'s cuts: ``ChainDay`` (every cut but the
    product) or ``FunnelDay``."""
    return ChainDay if f.product_id is None else FunnelDay


def stage_sums(model) -> list:
    """Each stage's events over the rows of ``model``, labelled by stage: ``ChainDay``'s stage
    columns, or the other rollups' rows of each stage."""
    if model is ChainDay:
        return [func.sum(getattr(ChainDay, kind)).label(kind) for kind in domain.STAGES]
    return [func.sum(case((model.kind == kind, model.events), else_=0)).label(kind) for kind in domain.STAGES]


def _stage_counter(row) -> Counter:
    """A row of ``stage_sums`` as a Counter of the stages that have events."""
    m = row._mapping
    return Counter({kind: int(m[kind]) for kind in domain.STAGES if m[kind]})


def funnel_counts_by_festival(f: Filters, festival_id: int | None) -> tuple[Counter, Counter]:
    """Stage counts of the festival ``festival_id`` (of any festival when None) and year-round,
    with ``f``'s cuts other than the festival, in one grouped statement (a department's from
    the chain table)."""
    f = replace(f, festival="")
    model = company_funnel(f) if f.department_id is None else chain_rollup(f)
    year_round = model.festival_id == 0
    query = _cut(select(year_round.label("year_round"), *stage_sums(model)), model, f, level_column=model.level)
    if festival_id is not None:
        query = query.where(or_(year_round, model.festival_id == festival_id))
    in_festivals, outside = Counter(), Counter()
    for row in db.session.execute(query.group_by(year_round)):
        (outside if row.year_round else in_festivals).update(_stage_counter(row))
    return in_festivals, outside


def uncut(f: Filters) -> bool:
    """No cut but the dates and the department: the chain revenue table holds the answer."""
    return not f.festival and f.product_id is None and f.level is None


# ---- revenue -------------------------------------------------------------------------------


def revenue_rollup(f: Filters, *, per_chain: bool = False):
    """The smallest rollup that holds a revenue figure under ``f``'s cuts: under a product cut,
    the orders containing the product and the revenue of its lines (``ProductDay``); per chain,
    the chain table when only dates (and the department) cut; else the company table unless a
    department cuts, which needs the chain's employee (``RevenueDay``)."""
    if f.product_id is not None:
        return ProductDay
    if per_chain:
        return ChainRevenueDay if uncut(f) else RevenueDay
    return CompanyRevenueDay if f.department_id is None else RevenueDay


def revenue(f: Filters) -> tuple[int, int]:
    """(paid orders, revenue) in the cut."""
    days = revenue_rollup(f)
    query = _cut(
        select(func.coalesce(func.sum(days.orders), 0), func.coalesce(func.sum(days.revenue), 0)),
        days,
        f,
        level_column=days.buyer_level,
    )
    orders, amount = db.session.execute(query).one()
    return int(orders), int(amount)


def revenue_by_level(f: Filters) -> dict[int, int]:
    days = revenue_rollup(f)
    query = _cut(select(days.buyer_level, func.sum(days.revenue)), days, f, level_column=days.buyer_level).group_by(
        days.buyer_level
    )
    totals = {0: 0, 1: 0, 2: 0}
    for level, amount in db.session.execute(query):
        totals[level] = int(amount)
    return totals


def active(f: Filters):
    """The condition: an employee who had joined before the range ended and not left before it began."""
    start, end = utc_bounds(f)
    return and_(
        User.kind == Kind.employee,
        User.created_at < end,
        or_(User.deactivated_at.is_(None), User.deactivated_at >= start),
    )


@dataclass(frozen=True)
class ChainRevenue:
    """The long tail's inputs: per department (None: none), the active employees, and the
    chain revenue and paid orders of those whose chain has revenue rows in the range."""

    employees: dict[int | None, int]
    revenues: dict[int | None, list[tuple[int, int]]]

    def tail(self, department_id: int | None = None, *, by_orders: bool = True) -> concentration.LongTail:
        """Over one department, or every one (``department_id`` None). ``by_orders``: an
        employee "with an order" has a paid order in the chain; else non-zero revenue."""
        keys = list(self.employees) if department_id is None else [department_id]
        pairs = [pair for key in keys for pair in self.revenues.get(key, ())]
        values = [max(0, amount) for amount, _ in pairs]
        with_order = sum(1 for amount, orders in pairs if (orders if by_orders else amount))
        return concentration.long_tail_of(values, with_order, sum(self.employees.get(k, 0) for k in keys))


def chain_revenue(f: Filters) -> ChainRevenue:
    """Active employees per department (from ``kpi_expansion_days``), and chain revenue per
    active employee who has any (the department cut is not applied)."""
    counted = kept_expansion.employees_by_department(f.start, f.end + timedelta(days=1))
    model = ChainRevenueDay if uncut(f) else RevenueDay
    query = _cut(
        select(User.department_id, func.sum(model.revenue), func.sum(model.orders)),
        model,
        f,
        level_column=getattr(model, "buyer_level", None),
        department=False,
    )
    query = query.join(User, User.id == model.root_employee_id).where(active(f)).group_by(User.id, User.department_id)
    revenues: dict[int | None, list[tuple[int, int]]] = defaultdict(list)
    for department, amount, orders in db.session.execute(query):
        revenues[department].append((int(amount), int(orders)))
    return ChainRevenue(counted, revenues)


def months_back(last: date, n: int = 12) -> list[date]:
    last = last.replace(day=1)
    return [domain.add_months(last, k - n + 1) for k in range(n)]


def monthly_revenue(f: Filters, months: list[date]) -> list[domain.MonthRevenue]:
    """Revenue per month for ``months``, festival and year-round, with the cuts other than dates."""
    end = domain.add_months(months[-1], 1) - timedelta(days=1)
    cut = replace(f, start=months[0], end=end)
    days = revenue_rollup(f)
    is_festival = days.festival_id != 0
    query = _cut(
        select(days.day, is_festival, func.sum(days.revenue)),
        days,
        cut,
        level_column=days.buyer_level,
    ).group_by(days.day, is_festival)
    festival: Counter = Counter()
    year_round: Counter = Counter()
    for day, in_festival, amount in db.session.execute(query):
        (festival if in_festival else year_round)[day.replace(day=1)] += int(amount)
    return [domain.MonthRevenue(m, festival[m], year_round[m]) for m in months]


def buyer_months(first: date | None = None, last: date | None = None) -> dict[int, list[date]]:
    query = select(BuyerMonth.buyer_id, BuyerMonth.month)
    if first is not None:
        query = query.where(BuyerMonth.month >= first)
    if last is not None:
        query = query.where(BuyerMonth.month <= last)
    months: dict[int, list[date]] = defaultdict(list)
    for buyer, month in db.session.execute(query):
        months[buyer].append(month)
    return months


def repeat_buyer_rate(first: date, last: date) -> float | None:
    """``domain.repeat_buyer_rate`` over the months, counted by the database (two numbers
    leave it instead of a row per buyer)."""
    orders = func.sum(BuyerMonth.orders).label("orders")
    per_buyer = (
        select(orders).where(BuyerMonth.month >= first, BuyerMonth.month <= last).group_by(BuyerMonth.buyer_id)
    ).subquery()
    buyers, repeat = db.session.execute(
        select(func.count().filter(per_buyer.c.orders > 0), func.count().filter(per_buyer.c.orders >= 2))
    ).one()
    return domain.ratio(repeat, buyers)


def retention(last_month: date, *, cohorts: int = 12, horizon: int = 12) -> list[domain.Cohort]:
    """The last ``cohorts`` months' cohorts (by first paid order ever), ``horizon`` months on,
    from ``kpi_retention`` (``domain.retention`` over ``buyer_months`` gives the same)."""
    first = domain.add_months(last_month.replace(day=1), -cohorts + 1)
    query = select(RetentionCell.cohort, RetentionCell.month, RetentionCell.buyers).where(
        RetentionCell.cohort >= first, RetentionCell.cohort <= last_month
    )
    return cohorts_of(db.session.execute(query), last_month, horizon=horizon)


def cohorts_of(rows, last_month: date, *, horizon: int = 12) -> list[domain.Cohort]:
    """``domain.Cohort`` rows from (cohort, month, buyers) cells, each cohort's size being its
    own month's cell (as ``domain.retention`` counts them)."""
    cells = {(cohort, month): int(n) for cohort, month, n in rows}
    found = []
    for month in sorted({cohort for cohort, _ in cells}):
        size = cells.get((month, month), 0)
        if not size:
            continue
        shares: list[float | None] = []
        for k in range(1, horizon + 1):
            later = domain.add_months(month, k)
            shares.append(None if later > last_month else cells.get((month, later), 0) / size)
        found.append(domain.Cohort(month, size, shares))
    return found


# ---- expansion ----------------------------------------------------------------------------


def expansions(f: Filters, months: list[date]) -> tuple[domain.Expansion, domain.Expansion, list[domain.Expansion]]:
    """Expansion over the window of ``f``, over the previous period, and in each of ``months``
    (its department cut; others do not apply), from ``kpi_expansion_days`` in one statement."""
    previous = f.previous()
    windows = [(f.start, f.end + timedelta(days=1)), (previous.start, previous.end + timedelta(days=1))]
    windows += [(month, domain.add_months(month, 1)) for month in months]
    now, before, *monthly = kept_expansion.expansion_between(windows, f.department_id)
    return now, before, monthly


def utc_bounds(f: Filters) -> tuple[datetime, datetime]:
    return f.bounds(Calendar())


def today() -> date:
    return Calendar().day(datetime.now(UTC))


def network_window(end: date | None = None) -> Filters:
    """The window of each member's chain funnel on /network: the last 90 days
    (``kpis.network_gaps.NETWORK_DAYS``)."""
    end = end or today()
    return Filters(start=network_gaps.window_start(end), end=end)
