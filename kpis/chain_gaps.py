"""Each chain's median time between stages over the /network window (``kpi_chain_gaps``), kept
by the aggregation run so that /network reads a few rows instead of the chain's raw events.

The gaps are those of ``domain.stage_gaps`` over the chain's events of the window, found by one
pass over the events in the order the definition reads them (chain, time, stage, id). A run
recounts the chains that have an event the run recounts a day for (``kpis.aggregation``: new
ids, or written since the last run less the overlap), or every chain when the window's last day
is not the one kept: a recount from the raw rows, so exactly-once in the same way as the days.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import groupby

from sqlalchemy import case, delete, insert, select

from kpis import domain
from kpis.models import AggregationState, ChainGap
from referrals.models import FunnelEvent
from shop.extensions import db

CHUNK = 5000
WINDOW_DAYS = 90  # as kpis.figures.NETWORK_DAYS (this module is imported by the aggregation)


def microseconds(gap: timedelta) -> int:
    return gap // timedelta(microseconds=1)


def chain_gaps(rows) -> list[dict]:
    """Rows of ``kpi_chain_gaps`` from (chain, at, kind) rows sorted as the definition reads them."""
    found = []
    for root, events in groupby(rows, key=lambda row: row[0]):
        gaps = domain.sorted_gaps(events)
        for kind, values in gaps.items():
            if values:
                found.append({"root_employee_id": root, "kind": kind, "gap_us": microseconds(domain.median(values))})
    return found


def recount(calendar, state: AggregationState, last_day: date, changed_roots) -> None:
    """Bring ``kpi_chain_gaps`` to the window ending on ``last_day`` (the run's company day):
    the chains of ``changed_roots`` (a subquery of root ids), or every chain when the window
    moved. Does not commit."""
    start = calendar.start(last_day - timedelta(days=WINDOW_DAYS - 1))
    end = calendar.start(last_day + timedelta(days=1))
    everything = state.chain_gaps_end != last_day
    stage = case(domain.STAGE_ORDER, value=FunnelEvent.kind, else_=99)
    query = select(FunnelEvent.root_employee_id, FunnelEvent.at, FunnelEvent.kind).where(
        FunnelEvent.at >= start, FunnelEvent.at < end, FunnelEvent.root_employee_id.is_not(None)
    )
    if everything:
        db.session.execute(delete(ChainGap))
    else:
        db.session.execute(delete(ChainGap).where(ChainGap.root_employee_id.in_(changed_roots)))
        query = query.where(FunnelEvent.root_employee_id.in_(changed_roots))
    query = query.order_by(FunnelEvent.root_employee_id, FunnelEvent.at, stage, FunnelEvent.id)
    rows = ((root, at, str(kind)) for root, at, kind in db.session.execute(query.execution_options(yield_per=CHUNK)))
    found = chain_gaps(rows)
    for first in range(0, len(found), CHUNK):
        db.session.execute(insert(ChainGap), found[first : first + CHUNK])
    state.chain_gaps_end = last_day


def kept(root_employee_id: int, last_day: date) -> dict[str, timedelta | None] | None:
    """The chain's gaps for the window ending on ``last_day`` when kept for it, else None."""
    end = db.session.scalar(select(AggregationState.chain_gaps_end))
    if end != last_day:
        return None
    rows = db.session.execute(
        select(ChainGap.kind, ChainGap.gap_us).where(ChainGap.root_employee_id == root_employee_id)
    ).all()
    found = {kind: timedelta(microseconds=us) for kind, us in rows}
    return {kind: found.get(kind) for kind in domain.STAGES[1:]}
