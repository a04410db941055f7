"""Expansion (L1 and L2 contacts per employee) kept in ``kpi_expansion_days`` by each
aggregation run, so that the page sums a few thousand rows per window instead of arranging
every person of the company per request (see ``kpis.models.ExpansionDay`` for the rows).

Contacts count as they are chained now (a moved contact counts in its new chain, from when it
joined); an employee is active in a window when they joined before its end and had not left
before its start; a contact counts once it had joined before the window's end, an L2 contact
once both it and its L1 contact had.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime

from sqlalchemy import BigInteger, case, cast, delete, func, insert, select

from kpis import domain
from kpis.models import NEVER, ExpansionDay
from shop.accounts.models import Kind, User
from shop.extensions import db

MEASURES = ("employees", "with_l1", "l1", "l1_with_l2", "l2")  # in the order of domain.Expansion's fields


def moments() -> tuple[list[tuple], dict, dict, dict]:
    """Employees (id, department, joined, left) and, per employee as chained now, the moments
    at which their chain gained an L1 contact, an L1 contact's first L2 and an L2 contact."""
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
    return employees, l1_joins, l1_with_l2, l2_joins


def fingerprint() -> str:
    """What the expansion rows depend on, summed over every user in one statement: a new
    person, a chain move, a promotion, a department change or a departure changes it (each
    column weighted by the user's id, so that two people swapping chains change it too)."""
    weighted = [
        func.count(),
        func.coalesce(func.max(User.id), 0),
        *(
            func.coalesce(func.sum(cast(User.id, BigInteger) * func.coalesce(column, 0)), 0)
            for column in (User.root_employee_id, User.l1_contact_id, User.level, User.department_id)
        ),
        func.coalesce(func.sum(case((User.kind == Kind.employee, cast(User.id, BigInteger)), else_=0)), 0),
        func.count(User.deactivated_at),
        func.coalesce(func.sum(case((User.deactivated_at.is_not(None), cast(User.id, BigInteger)), else_=0)), 0),
    ]
    return ":".join(str(int(v)) for v in db.session.execute(select(*weighted)).one())


def recount(calendar) -> int:
    """Replace ``kpi_expansion_days`` with a count from the users as they are now (``calendar``:
    ``kpis.aggregation.Calendar``). Returns the number of rows."""
    employees, l1_joins, l1_with_l2, l2_joins = moments()
    cells: dict[tuple[int, date, date], Counter] = defaultdict(Counter)
    day_of: dict[datetime, date] = {}

    def day(moment: datetime) -> date:
        found = day_of.get(moment)
        if found is None:
            found = day_of[moment] = calendar.day(moment)
        return found

    for uid, department, joined, left in employees:
        key = (department or 0, day(left) if left is not None else NEVER)
        joined_day = day(joined)
        cells[(*key, joined_day)]["employees"] += 1
        own = l1_joins.get(uid)
        if own:
            cells[(*key, max(joined_day, day(min(own))))]["with_l1"] += 1
            for measure, found in (
                ("l1", own),
                ("l1_with_l2", l1_with_l2.get(uid, ())),
                ("l2", l2_joins.get(uid, ())),
            ):
                for moment in found:
                    cells[(*key, max(joined_day, day(moment)))][measure] += 1
    db.session.execute(delete(ExpansionDay))
    rows = [
        dict(department_id=d, left_day=left, day=at, **{m: counts[m] for m in MEASURES})
        for (d, left, at), counts in cells.items()
    ]
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(ExpansionDay), rows[start : start + 5000])
    return len(rows)


def expansion_between(windows: list[tuple[date, date]], department_id: int | None = None) -> list[domain.Expansion]:
    """``domain.Expansion`` for each window [first day, day after the last) of company days,
    in one statement.

    A row counts in a window when its ``day`` is before the window's end and its ``left_day``
    not before its start. The database groups the rows by how many of the windows' ends are at
    or before their day and how many starts at or before their left day (a few hundred groups
    at most, one pass); a window is then the sum of the groups on the right side of both."""
    if not windows:
        return []
    ends = sorted({end for _, end in windows})
    starts = sorted({start for start, _ in windows})
    joined = _bounds_up_to(ExpansionDay.day, ends).label("joined")
    stayed = _bounds_up_to(ExpansionDay.left_day, starts).label("stayed")
    query = select(joined, stayed, *(func.sum(getattr(ExpansionDay, m)) for m in MEASURES)).where(
        ExpansionDay.day < ends[-1], ExpansionDay.left_day >= starts[0]
    )
    if department_id is not None:
        query = query.where(ExpansionDay.department_id == department_id)
    groups = db.session.execute(query.group_by(joined, stayed)).all()
    found = []
    for start, end in windows:
        last_end, first_start = ends.index(end), starts.index(start)
        inside = [g[2:] for g in groups if g.joined <= last_end and g.stayed > first_start]
        found.append(domain.Expansion(*(sum(int(g[i]) for g in inside) for i in range(len(MEASURES)))))
    return found


def employees_by_department(start: date, end: date) -> dict[int | None, int]:
    """The employees active in [start, end) of company days (joined before the end, not left
    before the start) per department (None: none), from the same rows."""
    query = (
        select(ExpansionDay.department_id, func.sum(ExpansionDay.employees))
        .where(ExpansionDay.day < end, ExpansionDay.left_day >= start)
        .group_by(ExpansionDay.department_id)
    )
    return {department or None: int(n) for department, n in db.session.execute(query) if n}


def _bounds_up_to(column, bounds: list[date]):
    """How many of the sorted ``bounds`` are at or before ``column``."""
    return case(*((column < bound, i) for i, bound in enumerate(bounds)), else_=len(bounds))
