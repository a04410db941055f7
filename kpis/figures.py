"""The dashboard's figures: the rollups (and, for the small tables, the raw rows) read with the
operator's cuts, each KPI computed by ``kpis.domain``.

Cuts: a range of company days (both ends included), a festival (or year-round only), the chain
employee's department, a product and the buyer's (actor's) level. The previous period is the
range of the same length just before.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from kpis import domain
from kpis.aggregation import Calendar
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


def active_employees(f: Filters) -> list[User]:
    calendar = Calendar()
    start, end = f.bounds(calendar)
    return list(
        db.session.scalars(
            select(User).where(
                User.kind == Kind.employee,
                User.created_at < end,
                (User.deactivated_at.is_(None)) | (User.deactivated_at >= start),
            )
        )
    )


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


def revenue(f: Filters) -> tuple[int, int]:
    """(paid orders, revenue) in the cut."""
    query = _cut(
        select(func.coalesce(func.sum(RevenueDay.orders), 0), func.coalesce(func.sum(RevenueDay.revenue), 0)),
        RevenueDay,
        f,
        level_column=RevenueDay.buyer_level,
    )
    orders, amount = db.session.execute(query).one()
    return int(orders), int(amount)


def revenue_by_level(f: Filters) -> dict[int, int]:
    query = _cut(
        select(RevenueDay.buyer_level, func.sum(RevenueDay.revenue)), RevenueDay, f, level_column=RevenueDay.buyer_level
    ).group_by(RevenueDay.buyer_level)
    totals = {0: 0, 1: 0, 2: 0}
    for level, amount in db.session.execute(query):
        totals[level] = int(amount)
    return totals


def revenue_by_employee(f: Filters) -> tuple[dict[int, int], set[int]]:
    """Chain revenue per employee, and the employees whose chain has a paid order."""
    query = _cut(
        select(RevenueDay.root_employee_id, func.sum(RevenueDay.revenue), func.sum(RevenueDay.orders)),
        RevenueDay,
        f,
        level_column=RevenueDay.buyer_level,
        department=False,
    ).group_by(RevenueDay.root_employee_id)
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
    is_festival = RevenueDay.festival_id != 0
    query = _cut(
        select(RevenueDay.day, is_festival, func.sum(RevenueDay.revenue)),
        RevenueDay,
        cut,
        level_column=RevenueDay.buyer_level,
    ).group_by(RevenueDay.day, is_festival)
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


def people() -> tuple[list[domain.Person], list[domain.Person]]:
    """Employees and contacts, as chained now."""
    rows = db.session.execute(
        select(
            User.id,
            User.kind,
            User.level,
            User.root_employee_id,
            User.l1_contact_id,
            User.department_id,
            User.created_at,
            User.deactivated_at,
        )
    ).all()
    employees, contacts = [], []
    for uid, kind, level, root, l1, dept, joined, left in rows:
        person = domain.Person(uid, level, root, l1, dept, joined, left)
        (employees if kind == Kind.employee else contacts).append(person)
    return employees, contacts


def expansion_at(employees, contacts, start: datetime, end: datetime, department_id: int | None = None):
    active = [e.id for e in employees if domain.is_active_in(e, start, end)]
    if department_id is not None:
        by_id = {e.id: e for e in employees}
        active = [e for e in active if by_id[e].department_id == department_id]
    joined = [c for c in contacts if c.joined is None or c.joined < end]
    return domain.expansion(active, joined)


def expansion_by_month(months: list[date], department_id: int | None = None) -> list[tuple[date, domain.Expansion]]:
    calendar = Calendar()
    employees, contacts = people()
    rows = []
    for month in months:
        start, end = calendar.start(month), calendar.start(domain.add_months(month, 1))
        rows.append((month, expansion_at(employees, contacts, start, end, department_id)))
    return rows


def utc_bounds(f: Filters) -> tuple[datetime, datetime]:
    return f.bounds(Calendar())


def today() -> date:
    return Calendar().day(datetime.now(UTC))
