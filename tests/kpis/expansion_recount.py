"""Expansion counted directly from everyone as chained now: the recount that
``kpi_expansion_days`` (``kpis.expansion``) is checked against. Employees, and per employee the
sorted moments at which their chain gained contacts, so that any window is counted with binary
searches."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime

from kpis import domain
from kpis import expansion as kept_expansion


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
    """Everyone as chained now, read whole: the direct count ``kpis.expansion`` keeps."""
    employees, l1_joins, l1_with_l2, l2_joins = kept_expansion.moments()
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
