"""The dashboard's sections as tables (``kpis.tables``): each figure beside the previous
period's. A section is a function of the cuts returning its tables, in page order."""

from __future__ import annotations

from collections import Counter

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from kpis import cut_figures, cuts, domain, festival_report, figures, funnel_gaps, operations_sections
from kpis.chain import STAGE_NAMES
from kpis.figures import Filters
from kpis.sections_base import figure as _figure
from kpis.sections_base import figures_table as _figures_table
from kpis.sections_base import stage_name
from kpis.tables import Column, Table
from shop.accounts.models import Department
from shop.extensions import db

LEVELS = {0: _l("Employees' own"), 1: _l("L1 contacts"), 2: _l("L2 contacts")}
# Expansion counts people (employees and the contacts they brought in), not orders or events.
PEOPLE_CUTS = (cuts.DEPARTMENT,)


def _people_note(note: str | None) -> str | None:
    return note and str(_l("%(note)s: expansion counts people, not orders or events.", note=note))


# ---- funnel -------------------------------------------------------------------------------


def funnel(f: Filters) -> list[Table]:
    now, before = figures.funnel_counts(f), figures.funnel_counts(f.previous())
    stages = domain.funnel(now, funnel_gaps.company_gaps(f))
    previous = domain.funnel(before, funnel_gaps.company_gaps(f.previous()))
    table = Table(
        "funnel",
        _l("Company funnel"),
        [
            Column(_l("Stage"), "text"),
            Column(_l("Count"), "int"),
            Column(_l("Conversion from the stage before"), "ratio"),
            Column(_l("Previous period"), "int"),
            Column(_l("Previous conversion"), "ratio"),
            Column(_l("Median time from the stage before"), "duration"),
            Column(_l("Previous median time"), "duration"),
        ],
        chart="funnel",
    )
    table.rows = [
        [stage_name(s.kind), s.count, s.conversion, p.count, p.conversion, s.median_gap, p.median_gap]
        for s, p in zip(stages, previous, strict=True)
    ]
    return [table]


def bottlenecks_table(counts: Counter) -> Table:
    """Employees by bottleneck stage ("" for none)."""
    table = Table(
        "bottlenecks",
        _l("Employees by bottleneck stage"),
        [Column(_l("Bottleneck"), "text"), Column(_l("Employees"), "int")],
        chart="bars",
    )
    table.rows = [[stage_name(kind or None), counts.get(kind, 0)] for kind in [*domain.STAGES[1:], ""]]
    return table


def employees(rows: list) -> Table:
    """The employees table of ``rows`` (``kpis.employees.Row``), in their order: the database
    searched and sorted them."""
    columns = [Column(_l("Employee"), "text", "name"), Column(_l("Department"), "text")]
    for kind in domain.STAGES:
        columns.append(Column(STAGE_NAMES[kind], "int", kind))
        if kind != domain.STAGES[0]:
            columns.append(Column(_l("%(stage)s rate", stage=STAGE_NAMES[kind]), "ratio", f"{kind}_rate"))
    columns.append(Column(_l("Bottleneck"), "text", "bottleneck"))
    table = Table("employees", _l("Employees"), columns)
    for r in rows:
        row = [r.name, r.department]
        for kind in domain.STAGES:
            row.append(r.counts.get(kind, 0))
            if kind != domain.STAGES[0]:
                row.append(r.conversions.get(kind))
        row.append(stage_name(r.bottleneck) if r.bottleneck else "")
        table.rows.append(row)
    table.ids = [r.id for r in rows]
    return table


# ---- expansion ----------------------------------------------------------------------------


def expansion(f: Filters) -> list[Table]:
    months = figures.months_back(f.end)
    now, before, by_month = figures.expansions(f, months)
    people_note = cuts.not_applied(f, PEOPLE_CUTS)
    summary = _figures_table(
        "expansion",
        _l("Expansion"),
        [
            _figure(_l("L1 expansion rate"), "ratio", now.l1_rate, before.l1_rate, people_note),
            _figure(_l("L2 expansion rate"), "ratio", now.l2_rate, before.l2_rate, people_note),
            _figure(
                _l("Contacts per employee"),
                "float",
                now.contacts_per_employee,
                before.contacts_per_employee,
                people_note,
            ),
            _figure(_l("Active employees"), "int", now.employees, before.employees, people_note),
        ],
    )
    monthly = Table(
        "expansion_monthly",
        _l("Expansion month by month"),
        [
            Column(_l("Month"), "month"),
            Column(_l("L1 expansion rate"), "ratio"),
            Column(_l("L2 expansion rate"), "ratio"),
            Column(_l("Contacts per employee"), "float"),
        ],
        chart="line",
    )
    for month, e in zip(months, by_month, strict=True):
        monthly.rows.append([month, e.l1_rate, e.l2_rate, e.contacts_per_employee])
    monthly.note = _people_note(people_note)
    by_level = Table(
        "revenue_by_level",
        _l("Revenue by buyer level"),
        [
            Column(_l("Buyers"), "text"),
            Column(_l("Revenue"), "money"),
            Column(_l("Share"), "ratio"),
            Column(_l("Previous period"), "money"),
        ],
        chart="bars",
    )
    levels, previous = figures.revenue_by_level(f), figures.revenue_by_level(f.previous())
    total = sum(levels.values())
    for level, label in LEVELS.items():
        by_level.rows.append([str(label), levels[level], domain.ratio(levels[level], total), previous[level]])
    return [summary, monthly, by_level]


# ---- sustainability -----------------------------------------------------------------------


def sustainability(f: Filters) -> list[Table]:
    months = figures.months_back(f.end)
    earlier = [domain.add_months(m, -12) for m in months]
    rows, previous = figures.monthly_revenue(f, months), figures.monthly_revenue(f, earlier)
    monthly = Table(
        "revenue_monthly",
        _l("Revenue month by month (paid less refunds)"),
        [
            Column(_l("Month"), "month"),
            Column(_l("Festivals (special forces)"), "money"),
            Column(_l("Year-round (field army)"), "money"),
            Column(_l("Total"), "money"),
            Column(_l("Year-round share"), "ratio"),
        ],
        chart="stacked",
    )
    monthly.rows = [[r.month, r.festival, r.year_round, r.total, r.year_round_share] for r in rows]
    cohorts = cut_figures.retention(f, months[-1])
    summary = _figures_table(
        "sustainability",
        _l("Sustainability, trailing 12 months"),
        [
            _figure(_l("Year-round share"), "ratio", domain.sustainability(rows), domain.sustainability(previous)),
            _figure(
                _l("Repeat-buyer rate"),
                "ratio",
                cut_figures.repeat_buyer_rate(f, months[0], months[-1]),
                cut_figures.repeat_buyer_rate(f, earlier[0], earlier[-1]),
            ),
            _figure(
                _l("Buyers ordering again the month after their first order"),
                "ratio",
                cut_figures.one_month_retention(cohorts),
                cut_figures.one_month_retention(cut_figures.retention(f, earlier[-1])),
            ),
        ],
    )
    horizon = 12
    retention = Table(
        "retention",
        _l("Retention by month of first order"),
        [Column(_l("First order in"), "month"), Column(_l("Buyers"), "int")]
        + [Column(_l("+%(k)d months", k=k), "ratio") for k in range(1, horizon + 1)],
        chart="heatmap",
    )
    retention.rows = [[c.month, c.buyers, *c.shares] for c in cohorts]
    if cut_figures.is_cut(f):
        retention.note = str(_l("In the cut: each buyer's first order in the cut, and their later orders in it."))
    return [summary, monthly, retention]


# ---- long tail ----------------------------------------------------------------------------


def long_tail(f: Filters) -> list[Table]:
    chains, p_chains = figures.chain_revenue(f), figures.chain_revenue(f.previous())
    # The department cut counts an employee "with an order" by non-zero revenue, as it did; the
    # previous period takes the same cut.
    if f.department_id is None:
        now, before = chains.tail(), p_chains.tail()
    else:
        now = chains.tail(f.department_id, by_orders=False)
        before = p_chains.tail(f.department_id, by_orders=False)
    summary = _figures_table(
        "long_tail",
        _l("Long tail"),
        [
            _figure(_l("Chain revenue"), "money", now.revenue, before.revenue),
            _figure(_l("Share outside the top 10%"), "ratio", now.share_outside_top, before.share_outside_top),
            _figure(_l("Gini coefficient"), "float", now.gini, before.gini),
            _figure(_l("Employees with a chain order / active employees"), "ratio", now.reach, before.reach),
        ],
    )
    lorenz = Table(
        "lorenz",
        _l("Lorenz curve of chain revenue"),
        [Column(_l("Share of employees (smallest first)"), "ratio"), Column(_l("Share of revenue"), "ratio")],
        chart="lorenz",
    )
    lorenz.rows = [list(point) for point in now.lorenz]
    names = dict(db.session.execute(select(Department.id, Department.name)).all())
    per_department = Table(
        "long_tail_departments",
        _l("Long tail by department"),
        [
            Column(_l("Department"), "text"),
            Column(_l("Employees"), "int"),
            Column(_l("Chain revenue"), "money"),
            Column(_l("Share outside the top 10%"), "ratio"),
            Column(_l("Gini coefficient"), "float"),
            Column(_l("Employees with a chain order / active employees"), "ratio"),
        ],
    )
    for dept in sorted(chains.employees, key=lambda d: names.get(d, "~")):
        tail = chains.tail(dept, by_orders=False)
        per_department.rows.append(
            [
                names.get(dept, str(_l("No department"))),
                tail.employees,
                tail.revenue,
                tail.share_outside_top,
                tail.gini,
                tail.reach,
            ]
        )
    return [summary, lorenz, per_department]


SECTIONS = {
    "expansion": (_l("Expansion"), expansion),
    "sustainability": (_l("Sustainability"), sustainability),
    "long-tail": (_l("Long tail"), long_tail),
    "operators": (_l("Operator efficiency"), operations_sections.operators),
    "platform": (_l("Platform effectiveness"), operations_sections.platform),
    "festivals": (_l("Festivals"), festival_report.festivals),
}
