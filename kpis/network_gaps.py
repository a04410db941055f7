"""Each chain's median time between stages over the /network window, kept by the aggregation
run (``kpi_network_gaps``), so that an employee's page reads five numbers instead of counting
its chain's kept gaps by bucket (2,641 (stage, bucket) rows for the largest chain at 1,000,000
events: about 5 ms of the database and 5 ms of the web process a page).

The numbers are those ``kpis.chain.counted_gaps`` counts for the chain and the window: the
median of each stage's histogram (``kpis.event_gaps.stage_medians``). A chain's kept gaps change
only when one of its events is new (a gap is measured within the chain, from earlier events),
so a run recounts the chains of the events it found new, and every chain when the window has
moved on (the first run of a company day) or when it recounts everything. An event committed
while a run reads may reach the run's kept gaps but not its chains: its id is above the highest
the run saw, so the next run recounts its chain (as it recounts its day). The state row says
which window the table is counted for; a page whose window it is not counts the chain itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date, timedelta

from sqlalchemy import bindparam, delete, func, insert, select

from kpis import domain
from kpis.event_gaps import microseconds, stage_medians
from kpis.models import STATE_ID, AggregationState, EventGap, NetworkGaps
from shop.extensions import db

NETWORK_DAYS = 90  # the window of each chain's funnel on /network: the last 90 company days
STAGES = domain.STAGES[1:]  # the stages that have a time from the stage before
# Above this many chains of new events, a run recounts every chain in one grouped pass instead
# (at 1,000,000 events: 1.4 s for the window's 4,247 chains, where a thousand chains by id took
# 0.85 s), so that no statement names more than a thousand ids.
WHOLE_ABOVE = 1000


def window_start(end: date) -> date:
    return end - timedelta(days=NETWORK_DAYS - 1)


def recount(state: AggregationState, end: date, chains: Collection[int] | None) -> None:
    """Bring ``kpi_network_gaps`` to the window ending on company day ``end``: the chains of
    ``chains`` (those with a new event), or every chain when ``chains`` is None, when the table
    holds another window or when there are more than ``WHOLE_ABOVE`` of them. In the caller's
    transaction."""
    if chains is None or state.network_gaps_window_end != end or len(chains) > WHOLE_ABOVE:
        db.session.execute(delete(NetworkGaps))
        _insert(_medians(end, None))
    elif chains:
        ids = sorted(chains)
        db.session.execute(delete(NetworkGaps).where(NetworkGaps.root_employee_id.in_(ids)))
        _insert(_medians(end, ids))
    state.network_gaps_window_end = end


def _medians(end: date, chains: list[int] | None) -> dict[int, dict[str, int | None]]:
    query = select(EventGap.root_employee_id, EventGap.kind, EventGap.bucket, func.count()).where(
        EventGap.day >= window_start(end), EventGap.day <= end
    )
    if chains is not None:
        # Integers written into the statement: at most WHOLE_ABOVE of them.
        query = query.where(EventGap.root_employee_id.in_(bindparam("chains", chains, literal_execute=True)))
    histograms: dict[int, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for root, kind, bucket, n in db.session.execute(
        query.group_by(EventGap.root_employee_id, EventGap.kind, EventGap.bucket)
    ):
        histograms[root][kind][bucket] = int(n)
    return {
        root: {kind: None if gap is None else microseconds(gap) for kind, gap in stage_medians(by_stage).items()}
        for root, by_stage in histograms.items()
    }


def _insert(medians: dict[int, dict[str, int | None]]) -> None:
    if medians:
        db.session.execute(insert(NetworkGaps), [{"root_employee_id": root, **gaps} for root, gaps in medians.items()])


def kept(root_id: int, end: date) -> dict[str, timedelta | None] | None:
    """The chain's kept medians for the window ending on ``end`` (None for each stage without a
    gap), or None when the table is not counted for that window."""
    row = db.session.execute(
        select(AggregationState.network_gaps_window_end, *(getattr(NetworkGaps, kind) for kind in STAGES))
        .outerjoin(NetworkGaps, NetworkGaps.root_employee_id == root_id)
        .where(AggregationState.id == STATE_ID)
    ).first()
    if row is None or row[0] != end:
        return None
    return {kind: None if us is None else timedelta(microseconds=us) for kind, us in zip(STAGES, row[1:], strict=True)}
