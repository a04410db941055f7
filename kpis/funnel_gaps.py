"""The company funnel's median time between stages, with the definition of each employee's own
funnel on /network (``domain.chain_gaps``): within each chain, the time from the chain's latest
earlier event of the stage before to each event of a stage, counting only events in the window
and the cut; the gaps of every chain pooled, and the median taken over them. Events of no chain
(a visit to a link of nobody's) belong to no chain and have no gap.

Read from the raw events of the window (a median cannot be added up from daily rollups): the
columns needed only, streamed in the order the definition reads them (chain, time, stage, id),
so one pass finds every gap.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, select

from kpis import cuts, domain
from kpis.figures import Filters, utc_bounds
from referrals.models import FunnelEvent
from shop.extensions import db

CHUNK = 5000


def company_gaps(f: Filters) -> dict[str, timedelta | None]:
    """For each stage after the first: the median time from the stage before, over the cut."""
    start, end = utc_bounds(f)
    stage = case(domain.STAGE_ORDER, value=FunnelEvent.kind, else_=99)
    query = cuts.events(
        select(FunnelEvent.root_employee_id, FunnelEvent.at, FunnelEvent.kind).where(
            FunnelEvent.at >= start, FunnelEvent.at < end, FunnelEvent.root_employee_id.is_not(None)
        ),
        f,
    ).order_by(FunnelEvent.root_employee_id, FunnelEvent.at, stage, FunnelEvent.id)
    rows = db.session.execute(query.execution_options(yield_per=CHUNK))
    return domain.pooled_stage_gaps((root, at, str(kind)) for root, at, kind in rows)
