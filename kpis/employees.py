"""Every active employee's chain funnel, conversions and bottleneck over any window, computed by
the database in one statement: the dashboard needs all of them (the bottleneck distribution, a
sorted page of the employees table) and shows 25, so no row per employee reaches Python.

The statement follows ``kpis.domain`` step by step, in SQL that PostgreSQL and SQLite both run:
stage counts from the chain rollups; a conversion is a count over the stage before's as a float
(NULL when that is 0); the medians are ``statistics.median``'s (the middle value, or the mean of
the two middle ones) over the employees whose conversion is defined, per department with at
least ``domain.SMALL_DEPARTMENT`` active employees and for the whole company; the bottleneck is
``domain.bottleneck`` (the stage furthest below, by more than 1e-12, ties to the earlier stage).
The tests compare the result with ``kpis.domain`` over the same counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from sqlalchemy import Float, and_, case, cast, func, literal, null, or_, select, union_all

from kpis import domain
from kpis.figures import ChainDay, Filters, FunnelDay, _cut, uncut, utc_bounds
from shop.accounts.models import Department, Kind, User
from shop.extensions import db

STAGES = domain.STAGES
STEPS = STAGES[1:]
EPSILON = 1e-12


def _counts(f: Filters):
    model = ChainDay if uncut(f) else FunnelDay
    sums = [func.sum(case((model.kind == kind, model.events), else_=0)).label(kind) for kind in STAGES]
    query = _cut(
        select(model.root_employee_id.label("root"), *sums),
        model,
        f,
        level_column=getattr(model, "level", None),
        department=False,
    )
    return _materialized(query.group_by(model.root_employee_id), "counts")


def _median(source, column, partition):
    """The median of ``column`` over the rows of ``source`` where it is defined, per
    ``partition`` (None: the whole table), as (partition, median) rows."""
    keys = [] if partition is None else [partition]
    ranked = (
        select(
            *keys,
            column.label("v"),
            func.row_number().over(partition_by=keys or None, order_by=column).label("rn"),
            func.count().over(partition_by=keys or None).label("n"),
        )
        .where(column.is_not(None))
        .subquery()
    )
    middle = or_(ranked.c.rn * 2 == ranked.c.n, ranked.c.rn * 2 == ranked.c.n + 1, ranked.c.rn * 2 == ranked.c.n + 2)
    found = [ranked.c[partition.name]] if partition is not None else []
    return select(*found, func.avg(ranked.c.v).label("m")).where(middle).group_by(*found)


def _base(f: Filters):
    """A CTE of one row per employee active in the window: id, name, department_id,
    department, the six stage counts (by stage name), ``conv_<stage>`` and ``dept_n`` (the
    department's active employees)."""
    start, end = utc_bounds(f)
    counts = _counts(f)
    people = (
        select(
            User.id,
            User.name,
            User.department_id,
            func.coalesce(Department.name, "").label("department"),
            *(func.coalesce(counts.c[k], 0).label(k) for k in STAGES),
        )
        .select_from(User)
        .outerjoin(counts, counts.c.root == User.id)
        .outerjoin(Department, Department.id == User.department_id)
        .where(
            User.kind == Kind.employee,
            User.created_at < end,
            or_(User.deactivated_at.is_(None), User.deactivated_at >= start),
        )
        .subquery("people")
    )
    conv = {
        kind: case((people.c[before] > 0, cast(people.c[kind], Float) / people.c[before]), else_=null())
        for before, kind in zip(STAGES, STEPS, strict=False)
    }
    base = select(
        people,
        *(conv[k].label(f"conv_{k}") for k in STEPS),
        func.count().over(partition_by=people.c.department_id).label("dept_n"),
    )
    return _materialized(base, "base")


def funnels(f: Filters):
    """``_base`` with each employee's ``bottleneck``."""
    base = _base(f)
    # The medians each employee is compared with: their department's, or the company's.
    company = {k: _median(base, base.c[f"conv_{k}"], None).scalar_subquery() for k in STEPS}
    by_department = {
        k: _materialized(_median(base, base.c[f"conv_{k}"], base.c.department_id), f"dm_{k}") for k in STEPS
    }
    own_department = and_(base.c.department_id.is_not(None), base.c.dept_n >= domain.SMALL_DEPARTMENT)
    gaps = select(
        base.c.id,
        *(
            (case((own_department, by_department[k].c.m), else_=company[k]) - base.c[f"conv_{k}"]).label(f"gap_{k}")
            for k in STEPS
        ),
    ).select_from(base)
    for k in STEPS:
        gaps = gaps.outerjoin(by_department[k], by_department[k].c.department_id == base.c.department_id)
    step = _materialized(gaps, "gaps")
    # domain.bottleneck's loop, one stage per step: (worst, gap) carried from stage to stage;
    # each step materialized, or the planner would inline the nested cases into 2^5 copies.
    # Narrow rows (the id and what is left to compare) through the steps.
    carried = select(step, literal(0.0, Float).label("worst_gap"), cast(null(), db.String(16)).label("bottleneck"))
    for i, k in enumerate(STEPS):
        prev = _materialized(carried, f"b{i}")
        worse = prev.c[f"gap_{k}"] > prev.c.worst_gap + EPSILON
        carried = select(
            *(c for c in prev.c if c.name not in ("worst_gap", "bottleneck", f"gap_{k}")),
            case((worse, prev.c[f"gap_{k}"]), else_=prev.c.worst_gap).label("worst_gap"),
            case((worse, literal(k)), else_=prev.c.bottleneck).label("bottleneck"),
        )
    last = carried.subquery("last")
    return _materialized(select(base, last.c.bottleneck).join(last, last.c.id == base.c.id), "funnels")


def _materialized(query, name: str):
    """A CTE computed once: with fresh tables the planner may think a step has one row and
    run the next one per row of it."""
    return query.cte(name).prefix_with("MATERIALIZED")


def medians(f: Filters) -> dict[str, dict[str, float | None]]:
    """``kpis.medians.medians_by_department`` in the database, in one statement: the company's
    medians ("company") and those of each department with at least ``domain.SMALL_DEPARTMENT``
    active employees (by id as text)."""
    table = _base(f)
    parts = [
        select(literal("size"), table.c.department_id, cast(func.count(), Float))
        .where(table.c.department_id.is_not(None))
        .group_by(table.c.department_id)
    ]
    for kind in STEPS:
        column = table.c[f"conv_{kind}"]
        company = _median(table, column, None).subquery()
        parts.append(select(literal(kind), null(), company.c.m))
        department = _median(table, column, table.c.department_id).subquery()
        parts.append(select(literal(kind), department.c.department_id, department.c.m))
    sizes: dict[int, float] = {}
    found: dict[tuple[str, int | None], float] = {}
    found_rows = db.session.execute(union_all(*parts)).all()
    for part, department, value in found_rows:
        if part == "size":
            sizes[department] = value
        else:
            found[(part, department)] = value
    result = {"company": {kind: found.get((kind, None)) for kind in STEPS}}
    for department, n in sizes.items():
        if n >= domain.SMALL_DEPARTMENT:
            result[str(department)] = {kind: found.get((kind, department)) for kind in STEPS}
    return result


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    department: str
    department_id: int | None
    counts: Counter
    conversions: dict[str, float | None]
    bottleneck: str | None


def _row(r) -> Row:
    m = r._mapping
    return Row(
        id=m["id"],
        name=m["name"],
        department=m["department"],
        department_id=m["department_id"],
        counts=Counter({k: int(m[k]) for k in STAGES if m[k]}),
        conversions={k: m[f"conv_{k}"] for k in STEPS},
        bottleneck=m["bottleneck"],
    )


def _sort_key(table, sort: str):
    if sort in STAGES:
        return table.c[sort]
    if sort.endswith("_rate") and sort[: -len("_rate")] in STEPS:
        return func.coalesce(table.c[f"conv_{sort[: -len('_rate')]}"], -1.0)
    if sort == "bottleneck":
        return func.coalesce(table.c.bottleneck, "~")
    return func.lower(table.c.name)


def _shown(table, f: Filters, q: str):
    conditions = []
    if f.department_id is not None:
        conditions.append(table.c.department_id == f.department_id)
    needle = q.strip().lower()
    if needle:
        conditions.append(
            or_(
                func.lower(table.c.name).contains(needle, autoescape=True),
                func.lower(table.c.department).contains(needle, autoescape=True),
            )
        )
    return conditions


def distribution(f: Filters) -> Counter:
    """Employees (of the department cut) by bottleneck stage ("" for none)."""
    table = funnels(f)
    query = select(table.c.bottleneck, func.count()).where(*_shown(table, f, "")).group_by(table.c.bottleneck)
    return Counter({kind or "": int(n) for kind, n in db.session.execute(query)})


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int  # rows found by the search
    bottlenecks: Counter  # employees of the department cut by bottleneck stage ("" none)


def page(
    f: Filters, *, q: str = "", sort: str = "name", descending: bool = False, offset: int = 0, limit: int | None = None
) -> Page:
    """The employees table's rows (of the department cut, searched by name or department),
    sorted, from ``offset``; how many the search found; and the bottleneck distribution of the
    department cut, all from one statement (the distribution rides on every row)."""
    table = funnels(f)
    stages = {kind: func.sum(case((table.c.bottleneck == kind, 1), else_=0)).over() for kind in STEPS}
    inner = (
        select(
            table,
            *(n.label(f"n_{kind}") for kind, n in stages.items()),
            func.count().over().label("n_all"),
        )
        .where(*_shown(table, f, ""))
        .subquery("cut")
    )
    key = _sort_key(inner, sort)
    query = (
        select(inner, func.count().over().label("total"))
        .where(*_shown(inner, replace(f, department_id=None), q))
        .order_by(key.desc() if descending else key, inner.c.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = db.session.execute(query).all()
    if not rows:
        total = (
            0 if not offset else db.session.scalar(select(func.count()).select_from(table).where(*_shown(table, f, q)))
        )
        return Page([], int(total or 0), distribution(f))
    first = rows[0]._mapping
    bottlenecks = Counter({kind: int(first[f"n_{kind}"]) for kind in STEPS if first[f"n_{kind}"]})
    none = int(first["n_all"]) - sum(bottlenecks.values())
    if none:
        bottlenecks[""] = none
    return Page([_row(r) for r in rows], int(first["total"]), bottlenecks)
