"""The dashboard's per-employee figures recounted in Python from the rollups, with
``kpis.domain``: what the database's statements (``kpis.employees``, ``kpis.medians``, the long
tail's) are checked against. Every active employee's rows are read, as no page may."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select

from kpis import domain
from kpis import medians as medians_module
from kpis.employees import Row
from kpis.figures import Filters, _cut, _stage_counter, active, chain_rollup, revenue_rollup, stage_sums
from shop.accounts.models import Department, User
from shop.extensions import db


def counts_by_employee(f: Filters) -> dict[int, Counter]:
    """Stage counts per chain employee, every department (medians need the company)."""
    model = chain_rollup(f)
    query = _cut(
        select(model.root_employee_id, *stage_sums(model)), model, f, level_column=model.level, department=False
    ).group_by(model.root_employee_id)
    return {row.root_employee_id: _stage_counter(row) for row in db.session.execute(query)}


@dataclass(frozen=True)
class Employee:
    id: int
    name: str
    department_id: int | None


def active_employees(f: Filters) -> list[Employee]:
    """Employees who had joined before the range ended and not left before it began (plain
    rows: at scale, ORM objects for every employee would cost more than the figures)."""
    rows = db.session.execute(select(User.id, User.name, User.department_id).where(active(f)))
    return [Employee(*row) for row in rows]


def employee_funnels(f: Filters) -> list[Row]:
    """Every active employee's chain funnel and bottleneck (vs their department's medians, or
    the company's for small departments); the department cut filters the rows afterwards."""
    employees = active_employees(f)
    counts = counts_by_employee(f)
    conv = {e.id: domain.conversions(counts.get(e.id, Counter())) for e in employees}
    medians = domain.department_medians(conv, {e.id: e.department_id for e in employees})
    names = dict(db.session.execute(select(Department.id, Department.name)).all())
    rows = [
        Row(
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


def bottleneck_distribution(rows: list[Row]) -> Counter:
    return Counter(r.bottleneck or "" for r in rows)


def revenue_by_employee(f: Filters) -> tuple[dict[int, int], set[int]]:
    """Chain revenue per employee, and the employees whose chain has a paid order."""
    days = revenue_rollup(f, per_chain=True)
    query = _cut(
        select(days.root_employee_id, func.sum(days.revenue), func.sum(days.orders)),
        days,
        f,
        level_column=getattr(days, "buyer_level", None),
        department=False,
    ).group_by(days.root_employee_id)
    amounts, buyers = {}, set()
    for root, amount, orders in db.session.execute(query):
        amounts[root] = int(amount)
        if orders:
            buyers.add(root)
    return amounts, buyers


def counted_here(f: Filters) -> dict[str, dict[str, float | None]]:
    """``kpis.medians.medians_by_department`` from every employee's rows in Python, with ``kpis.domain``."""
    active = active_employees(f)
    counts = counts_by_employee(f)
    conversions = {e.id: domain.conversions(counts.get(e.id, {})) for e in active}

    def medians(ids: list[int]) -> dict[str, float | None]:
        return {
            kind: domain.median(c for e in ids if (c := conversions[e].get(kind)) is not None)
            for kind in domain.STAGES[1:]
        }

    by_department: dict[int, list[int]] = {}
    for e in active:
        if e.department_id is not None:
            by_department.setdefault(e.department_id, []).append(e.id)
    result = {medians_module.COMPANY: medians(list(conversions))}
    for department, ids in by_department.items():
        if len(ids) >= domain.SMALL_DEPARTMENT:
            result[str(department)] = medians(ids)
    return result
