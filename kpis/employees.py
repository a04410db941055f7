"""Every active employee's chain funnel, conversions and bottleneck over any window, computed by
the database in one statement: the dashboard needs all of them (the bottleneck distribution, a
sorted page of the employees table) and shows 25, so no row per employee reaches Python.

The statement follows ``kpis.domain`` step by step, in SQL that PostgreSQL and SQLite both run:
stage counts from the chain rollups; a conversion is a count over the stage before's as a float
(NULL when that is 0); the medians are ``statistics.median``'s (``shop.database.median``) over
the employees whose conversion is defined, per department with at least
``domain.SMALL_DEPARTMENT`` active employees and for the whole company; the bottleneck is
``domain.bottleneck`` (the stage furthest below, by more than ``domain.GAP_TOLERANCE``; stages as
far below within the tolerance go to the earliest).
The tests compare the result with ``kpis.domain`` over the same counts.

Only the employees with an event in the window have a conversion, so only they go through the
medians and the bottleneck, as narrow rows (ids, counts, conversions); names and departments
join at the end, for the rows of the page. An employee without events still has a row in the
table (zero counts, no bottleneck) and counts towards their department's size.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Float, and_, case, cast, func, literal, not_, null, or_, select, true, union_all

from kpis import domain
from kpis.figures import Filters, _cut, active, chain_rollup, stage_sums
from shop.accounts.models import Department, User
from shop.database import median
from shop.extensions import db

STAGES = domain.STAGES
STEPS = STAGES[1:]
TOLERANCE = domain.GAP_TOLERANCE


def _counts(f: Filters):
    model = chain_rollup(f)
    query = _cut(
        select(model.root_employee_id.label("root"), *stage_sums(model)),
        model,
        f,
        level_column=model.level,
        department=False,
    )
    return _materialized(query.group_by(model.root_employee_id), "counts")


def _sizes(f: Filters):
    """Active employees per department (departments only)."""
    return (
        select(User.department_id, func.count().label("n"))
        .where(active(f), User.department_id.is_not(None))
        .group_by(User.department_id)
    )


def _medians(rated, *keys) -> list:
    """Each step's median conversion over ``rated``'s rows where it is defined, by stage name
    (with ``keys`` first, to group by)."""
    return [*keys, *(median(rated.c[f"conv_{k}"]).label(k) for k in STEPS)]


def _rated(f: Filters):
    """A CTE of one row per active employee with events in the window: id, department_id, the
    six stage counts (by stage name), ``conv_<stage>``, and ``own`` (true when compared with
    their own department: one of at least ``domain.SMALL_DEPARTMENT`` active employees)."""
    counts = _counts(f)
    sizes = _sizes(f).subquery("sizes")
    conv = {
        kind: case((counts.c[before] > 0, cast(counts.c[kind], Float) / counts.c[before]), else_=null())
        for before, kind in zip(STAGES, STEPS, strict=False)
    }
    rated = (
        select(
            User.id,
            User.department_id,
            *(counts.c[k] for k in STAGES),
            *(conv[k].label(f"conv_{k}") for k in STEPS),
            case((sizes.c.n >= domain.SMALL_DEPARTMENT, 1), else_=0).label("own"),
        )
        .select_from(counts)
        .join(User, User.id == counts.c.root)
        .outerjoin(sizes, sizes.c.department_id == User.department_id)
        .where(active(f))
    )
    return _materialized(rated, "rated")


def funnels(f: Filters):
    """``_rated`` with each employee's ``bottleneck``."""
    rated = _rated(f)
    # The medians each employee is compared with: their department's, or the company's.
    company = _materialized(select(*_medians(rated)), "company_medians")
    by_department = _materialized(
        select(*_medians(rated, rated.c.department_id)).group_by(rated.c.department_id), "department_medians"
    )
    compared = {k: case((rated.c.own == 1, by_department.c[k]), else_=company.c[k]) for k in STEPS}
    gaps = (
        select(rated, *((compared[k] - rated.c[f"conv_{k}"]).label(f"gap_{k}") for k in STEPS))
        .select_from(rated)
        .join(company, true())
        .outerjoin(by_department, by_department.c.department_id == rated.c.department_id)
    )
    # Materialized: inlined, each gap's expression would be copied into every comparison of
    # the bottleneck's CASE.
    gaps = _materialized(gaps, "gaps")
    return _materialized(select(*(gaps.c[c.name] for c in rated.c), _bottleneck(gaps)), "funnels")


def _bottleneck(gaps):
    """``domain.bottleneck`` of each row's ``gap_<stage>`` (NULL where the conversion or the
    median is): the earliest stage whose gap is within the tolerance of every other stage's,
    when one gap is above it. A missing gap compares as 0, which never changes the largest
    when that is above the tolerance."""
    gap = {k: gaps.c[f"gap_{k}"] for k in STEPS}
    known = {k: func.coalesce(gap[k], 0.0) for k in STEPS}
    furthest = [
        (and_(*(gap[k] >= known[other] - TOLERANCE for other in STEPS if other != k)), literal(k)) for k in STEPS
    ]
    return case((not_(or_(*(known[k] > TOLERANCE for k in STEPS))), null()), *furthest, else_=null()).label(
        "bottleneck"
    )


def _materialized(query, name: str):
    """A CTE computed once: with fresh tables the planner may think a step has one row and
    run the next one per row of it."""
    return query.cte(name).prefix_with("MATERIALIZED")


def medians(f: Filters) -> dict[str, dict[str, float | None]]:
    """``kpis.medians.medians_by_department`` in the database, in one statement: the company's
    medians ("company") and those of each department with at least ``domain.SMALL_DEPARTMENT``
    active employees (by id as text; None for a step no employee of it converts at)."""
    rated = _rated(f)
    sizes = _sizes(f).subquery("sizes")
    by_department = (
        select(*_medians(rated, rated.c.department_id)).group_by(rated.c.department_id).subquery("by_department")
    )
    company = select(null().label("department_id"), *_medians(rated))
    # Not the employees without a department: their row would read as the company's.
    departments = (
        select(sizes.c.department_id, *(by_department.c[k] for k in STEPS))
        .outerjoin(by_department, by_department.c.department_id == sizes.c.department_id)
        .where(sizes.c.n >= domain.SMALL_DEPARTMENT)
    )
    result = {}
    for row in db.session.execute(union_all(company, departments)):
        m = row._mapping
        key = "company" if m["department_id"] is None else str(m["department_id"])
        result[key] = {k: m[k] for k in STEPS}
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


# The sorts by a figure; any other sorts by name.
FIGURE_SORTS = frozenset((*STAGES, *(f"{k}_rate" for k in STEPS), "bottleneck"))


def _figure_key(table, sort: str):
    """The sort key of ``sort`` (one of ``FIGURE_SORTS``) over ``table``'s figures."""
    if sort in STAGES:
        return table.c[sort]
    if sort == "bottleneck":  # in the funnel's order, none last (whatever the collation)
        return case(*((table.c.bottleneck == kind, i) for i, kind in enumerate(STEPS)), else_=len(STEPS))
    return func.coalesce(table.c[f"conv_{sort[: -len('_rate')]}"], -1.0)


def _people(f: Filters):
    """Active employees of the department cut: id, name, department_id, department (its name)."""
    query = (
        select(User.id, User.name, User.department_id, func.coalesce(Department.name, "").label("department"))
        .outerjoin(Department, Department.id == User.department_id)
        .where(active(f))
    )
    if f.department_id is not None:
        query = query.where(User.department_id == f.department_id)
    return query


def _searched(people, q: str) -> tuple:
    needle = q.strip().lower()
    if not needle:
        return ()
    return (
        or_(
            func.lower(people.c.name).contains(needle, autoescape=True),
            func.lower(people.c.department).contains(needle, autoescape=True),
        ),
    )


def _summary(f: Filters, table, people, q: str) -> list:
    """One-row figures riding on the page's statement: how many employees the search finds
    (``total``), how many the department cut holds (``n_all``) and, of them, how many have
    each stage as their bottleneck (``n_<stage>``): one pass over the people, one over the
    funnels."""
    searched = _searched(people, q)
    found = func.count().filter(*searched) if searched else func.count()
    by_person = select(found.label("total"), func.count().label("n_all")).select_from(people).cte("people_counts")
    of_cut = () if f.department_id is None else (table.c.department_id == f.department_id,)
    by_stage = (
        select(*(func.count().filter(table.c.bottleneck == kind).label(f"n_{kind}") for kind in STEPS))
        .where(*of_cut)
        .cte("bottlenecks")
    )
    return [
        *(select(by_person.c[name]).scalar_subquery().label(name) for name in ("total", "n_all")),
        *(select(by_stage.c[f"n_{kind}"]).scalar_subquery().label(f"n_{kind}") for kind in STEPS),
    ]


def _bottlenecks(m) -> Counter:
    found = Counter({kind: int(m[f"n_{kind}"]) for kind in STEPS if m[f"n_{kind}"]})
    none = int(m["n_all"]) - sum(found.values())
    if none:
        found[""] = none
    return found


def distribution(f: Filters) -> Counter:
    """Employees (of the department cut) by bottleneck stage ("" for none)."""
    table, people = funnels(f), _people(f).cte("people")
    return _bottlenecks(db.session.execute(select(*_summary(f, table, people, ""))).one()._mapping)


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
    department cut, all from one statement (the figures ride on every row).

    Sorted by name, the page's people are chosen before their figures are attached (25 rows
    joined instead of every employee); sorted by a figure, every employee's figures are needed
    to choose them."""
    table, people = funnels(f), _people(f).cte("people")
    summary = _summary(f, table, people, q)

    def in_order(key, rows) -> tuple:
        return (key.desc() if descending else key, rows.c.id)

    if sort in FIGURE_SORTS:
        listed = _with_figures(people, table).where(*_searched(people, q)).subquery("listed")
        query = select(listed, *summary).order_by(*in_order(_figure_key(listed, sort), listed))
        query = query.offset(offset).limit(limit)
    else:  # by name
        # From the table, not the CTE the counts share: PostgreSQL takes the page's 25 from the
        # index of employees' names (``User``) instead of sorting every active employee.
        candidates = _people(f).subquery("candidates")
        chosen = select(candidates).where(*_searched(candidates, q))
        chosen = chosen.order_by(*in_order(func.lower(candidates.c.name), candidates))
        listed = _with_figures(chosen.offset(offset).limit(limit).subquery("chosen"), table).subquery("listed")
        query = select(listed, *summary).order_by(*in_order(func.lower(listed.c.name), listed))
    rows = db.session.execute(query).all()
    if not rows:
        found = db.session.execute(select(*summary)).one()._mapping
        return Page([], int(found["total"]), _bottlenecks(found))
    first = rows[0]._mapping
    return Page([_row(r) for r in rows], int(first["total"]), _bottlenecks(first))


def _with_figures(people, table):
    """``people``'s rows with their funnel figures (zero counts for those without events)."""
    return select(
        people,
        *(func.coalesce(table.c[k], 0).label(k) for k in STAGES),
        *(table.c[f"conv_{k}"] for k in STEPS),
        table.c.bottleneck,
    ).outerjoin(table, table.c.id == people.c.id)
