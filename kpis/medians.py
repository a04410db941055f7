"""The medians every chain's funnel on /network is compared with, counted once per aggregation
run instead of once per page: each needs every active employee's conversions over the window
(20,000 employees' rollups at scale), while a page needs one chain's."""

from __future__ import annotations

from sqlalchemy import select

from kpis import employees, figures
from kpis.aggregation import STATE_ID
from kpis.models import AggregationState
from shop.extensions import db

COMPANY = "company"


def medians_by_department(f: figures.Filters) -> dict[str, dict[str, float | None]]:
    """For the window: the company's medians, and each department's with enough employees
    (counted by the database: ``kpis.employees.medians``)."""
    return employees.medians(f)


def refresh() -> None:
    """Count the /network window's medians and keep them on the state row (commits)."""
    f = figures.network_window()
    found = medians_by_department(f)
    state = db.session.scalar(select(AggregationState).where(AggregationState.id == STATE_ID).with_for_update())
    if state is not None:
        state.network_medians, state.network_window_end = found, f.end
    db.session.commit()


def for_department(f: figures.Filters, department_id: int | None) -> dict[str, float | None]:
    """The medians a chain of ``department_id`` is compared with over ``f``: kept ones when they
    are for this window, else counted now."""
    kept = db.session.execute(
        select(AggregationState.network_medians, AggregationState.network_window_end).where(
            AggregationState.id == STATE_ID
        )
    ).first()
    if kept is not None and kept[0] and kept[1] == f.end and f == figures.network_window(f.end):
        found = kept[0]
    else:
        found = medians_by_department(f)
    return found.get(str(department_id), found[COMPANY])
