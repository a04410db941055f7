"""The dashboard's figures: the rollups (and, for the small tables, the raw rows) read with the
operator's cuts, each KPI computed by ``kpis.domain``.

Cuts: a range of company days (both ends included), a festival (or year-round only), the chain
employee's department, a product (revenue: the orders containing it and the revenue of its
lines) and the buyer's (actor's) level. The previous period is the range of the same length just
before. Figures read from raw rows take the same cuts through ``kpis.cuts``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from kpis import domain
from kpis.aggregation import Calendar
from kpis.cut_rollups import ProductDay
from kpis.models import BuyerMonth, FunnelDay, RevenueDay
from shop.accounts.models import Department, Kind, User
from shop.extensions import db

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
        return int(self.festival) if self.festival.isdigit() else None


def _cut(query, model, f: Filters, *, level_column, department: bool = True):
    query = query.where(model.day >= f.start, model.day <= f.end)
    if f.festival == YEAR_ROUND:
        query = query.where(model.festival_id == 0)
    elif f.festival_id() is not None:
        query = query.where(model.festival_id == f.festival_id())
    if f.product_id is not None:
        query = query.where(model.product_id == f.product_id)
    if f.level is not None:
        query = query.where(level_column == f.level)
    if department and f.department_id is not None:
        query = query.where(model.root_employee_id.in_(select(User.id).where(User.department_id == f.department_id)))
    return query


# ---- funnel ------------------------------------------------------------------------------


def funnel_counts(f: Filters, *, root: int | None = None, l1: int | None = None) -> Counter:
    """Stage counts; ``root`` keeps one employee's chain (``l1``: its L1 contact's sub-chain is
    read from the raw events, see ``chain_funnel``)."""
    query = _cut(select(FunnelDay.kind, func.sum(FunnelDay.events)), FunnelDay, f, level_column=FunnelDay.level)
    if root is not None:
        query = query.where(FunnelDay.root_employee_id == root)
    return Counter({kind: int(n) for kind, n in db.session.execute(query.group_by(FunnelDay.kind))})


def counts_by_employee(f: Filters) -> dict[int, Counter]:
    """Stage counts per chain employee, every department (medians need the company)."""
    query = _cut(
        select(FunnelDay.root_employee_id, FunnelDay.kind, func.sum(FunnelDay.events)),
        FunnelDay,
        f,
        level_column=FunnelDay.level,
        department=False,
    ).group_by(FunnelDay.root_employee_id, FunnelDay.kind)
    counts: dict[int, Counter] = defaultdict(Counter)
    for root, kind, n in db.session.execute(query):
        counts[root][kind] += int(n)
    return counts


@dataclass(frozen=True)
class EmployeeFunnel:
    id: int
    name: str
    department: str
    department_id: int | None
    counts: Counter
    conversions: dict[str, float | None]
    bottleneck: str | None


@dataclass(frozen=True)
class Employee:
    id: int
    name: str
    department_id: int | None


def active_employees(f: Filters) -> list[Employee]:
    """Employees who had joined before the range ended and not left before it began (plain
    rows: at scale, ORM objects for every employee would cost more than the figures)."""
    calendar = Calendar()
    start, end = f.bounds(calendar)
    rows = db.session.execute(
        select(User.id, User.name, User.department_id).where(
            User.kind == Kind.employee,
            User.created_at < end,
            (User.deactivated_at.is_(None)) | (User.deactivated_at >= start),
        )
    )
    return [Employee(*row) for row in rows]


def employee_funnels(f: Filters) -> list[EmployeeFunnel]:
    """Every active employee's chain funnel and bottleneck (vs their department's medians, or
    the company's for small departments); the department cut filters the rows afterwards."""
    employees = active_employees(f)
    counts = counts_by_employee(f)
    conv = {e.id: domain.conversions(counts.get(e.id, Counter())) for e in employees}
    medians = domain.department_medians(conv, {e.id: e.department_id for e in employees})
    names = dict(db.session.execute(select(Department.id, Department.name)).all())
    rows = [
        EmployeeFunnel(
            id=e.id,
            name=e.name,
            department=names.get(e.department_id, ""),
            department_id=e.department_id,
            counts=counts.get(e.id, Counter()),
            conversions=conv[e.id],
            bottleneck=domain.bottleneck(conv[e.id], medians[e.id]),
        )
        for e in employees
    ]
    if f.department_id is not None:
        rows = [r for r in rows if r.department_id == f.department_id]
    return rows


def bottleneck_distribution(rows: list[EmployeeFunnel]) -> Counter:
    return Counter(r.bottleneck or "" for r in rows)


# ---- revenue -------------------------------------------------------------------------------


def revenue_rollup(f: Filters):
    """The rollup a revenue figure reads: under a product cut, the orders containing the product
    and the revenue of its lines (``kpis.cut_rollups.ProductDay``, the same columns)."""
    return ProductDay if f.product_id is not None else RevenueDay


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


def revenue_by_employee(f: Filters) -> tuple[dict[int, int], set[int]]:
    """Chain revenue per employee, and the employees whose chain has a paid order."""
    days = revenue_rollup(f)
    query = _cut(
        select(days.root_employee_id, func.sum(days.revenue), func.sum(days.orders)),
        days,
        f,
        level_column=days.buyer_level,
        department=False,
    ).group_by(days.root_employee_id)
    amounts, buyers = {}, set()
    for root, amount, orders in db.session.execute(query):
        amounts[root] = int(amount)
        if orders:
            buyers.add(root)
    return amounts, buyers


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
    query = (
        select(BuyerMonth.buyer_id, func.sum(BuyerMonth.orders))
        .where(BuyerMonth.month >= first, BuyerMonth.month <= last)
        .group_by(BuyerMonth.buyer_id)
    )
    return domain.repeat_buyer_rate({b: int(n) for b, n in db.session.execute(query)})


def retention(last_month: date, *, cohorts: int = 12, horizon: int = 12) -> list[domain.Cohort]:
    """The last ``cohorts`` months' cohorts (by first paid order ever), ``horizon`` months on."""
    all_months = buyer_months(last=last_month)
    found = domain.retention(all_months, last_month=last_month, horizon=horizon)
    first = domain.add_months(last_month.replace(day=1), -cohorts + 1)
    return [c for c in found if c.month >= first]


# ---- expansion ----------------------------------------------------------------------------


@dataclass
class Population:
    """Everyone as chained now, arranged for counting any window quickly: employees (id,
    department, joined, left), and per employee the sorted moments at which their chain gained
    an L1 contact, an L1 contact with a first L2 contact, and an L2 contact."""

    employees: list[tuple]
    l1_joins: dict[int, list[datetime]]
    l1_with_l2: dict[int, list[datetime]]
    l2_joins: dict[int, list[datetime]]


def population() -> Population:
    employees = db.session.execute(
        select(User.id, User.department_id, User.created_at, User.deactivated_at).where(User.kind == Kind.employee)
    ).all()
    l1 = db.session.execute(
        select(User.id, User.root_employee_id, User.created_at).where(User.kind == Kind.contact, User.level == 1)
    ).all()
    l2 = db.session.execute(
        select(User.l1_contact_id, User.created_at).where(User.kind == Kind.contact, User.level == 2)
    ).all()
    parent = {uid: (root, joined) for uid, root, joined in l1}
    l1_joins: dict[int, list[datetime]] = defaultdict(list)
    for _uid, root, joined in l1:
        l1_joins[root].append(joined)
    first_l2: dict[int, datetime] = {}
    l2_joins: dict[int, list[datetime]] = defaultdict(list)
    for l1_id, joined in l2:
        if l1_id not in parent:
            continue
        root, l1_joined = parent[l1_id]
        moment = max(joined, l1_joined)  # counted once both had joined
        l2_joins[root].append(moment)
        first_l2[l1_id] = min(first_l2.get(l1_id, moment), moment)
    l1_with_l2: dict[int, list[datetime]] = defaultdict(list)
    for l1_id, moment in first_l2.items():
        l1_with_l2[parent[l1_id][0]].append(moment)
    for table in (l1_joins, l1_with_l2, l2_joins):
        for moments in table.values():
            moments.sort()
    return Population(employees, l1_joins, l1_with_l2, l2_joins)


def expansion_at(people: Population, start: datetime, end: datetime, department_id: int | None = None):
    """``domain.expansion`` over the employees active in [start, end) (of one department when
    given) and the contacts who had joined before ``end``."""
    employees = with_l1 = l1 = l1_l2 = l2 = 0
    for uid, dept, joined, left in people.employees:
        if joined >= end or (left is not None and left < start):
            continue
        if department_id is not None and dept != department_id:
            continue
        employees += 1
        if uid not in people.l1_joins:
            continue
        found = bisect_left(people.l1_joins[uid], end)
        l1 += found
        with_l1 += found > 0
        l1_l2 += bisect_left(people.l1_with_l2.get(uid, ()), end)
        l2 += bisect_left(people.l2_joins.get(uid, ()), end)
    return domain.Expansion(
        employees=employees, employees_with_l1=with_l1, l1_contacts=l1, l1_with_l2=l1_l2, l2_contacts=l2
    )


def expansion_by_month(
    months: list[date], department_id: int | None = None, people: Population | None = None
) -> list[tuple[date, domain.Expansion]]:
    calendar = Calendar()
    people = people or population()
    rows = []
    for month in months:
        start, end = calendar.start(month), calendar.start(domain.add_months(month, 1))
        rows.append((month, expansion_at(people, start, end, department_id)))
    return rows


def utc_bounds(f: Filters) -> tuple[datetime, datetime]:
    return f.bounds(Calendar())


def today() -> date:
    return Calendar().day(datetime.now(UTC))


NETWORK_DAYS = 90


def network_window(end: date | None = None) -> Filters:
    """The window of each member's chain funnel on /network: the last 90 days."""
    end = end or today()
    return Filters(start=end - timedelta(days=NETWORK_DAYS - 1), end=end)
