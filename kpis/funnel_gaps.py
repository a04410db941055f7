"""The company funnel's median time between stages, read from the gaps the aggregation keeps.

A gap belongs to an event (``kpis.domain.event_gaps``): each event of a stage after the first
that belongs to a chain has one, the time from the chain's latest earlier event of the stage
before, at any time and of any cut (ties count as 0); an event without such an earlier event
has none. The median of a window and cut is that of the gaps of the events in the window and
the cut (the event's own level, festival, product and chain's department).

A median cannot be added up from daily medians, but it can be read from daily histograms: the
gaps' counts by log-spaced bucket (``kpis.event_gaps.gap_bucket``) summed over the window, and
the cumulative counts walked to the middle (``event_gaps.histogram_medians``). Without a
product or department cut the histograms are those of ``kpi_gap_days`` (by day, level,
festival; the window's whole weeks from ``kpi_gap_weeks``, ``kpis.weeks``); with one, the
events' own gaps (``kpi_event_gaps``) of the window and cut are counted into buckets by the
database. Either way the figure is the middle bucket's geometric middle: within 0.5 % of the
exact median for gaps of a second or more (``event_gaps.histogram_median``). The department is
the chain employee's department now, as for every other figure.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from kpis import weeks
from kpis.event_gaps import histogram_medians
from kpis.figures import Filters, _cut
from kpis.models import EventGap, GapWeek


def company_gaps(f: Filters) -> dict[str, timedelta | None]:
    """For each stage after the first: the median time from the stage before, over the cut."""
    if f.product_id is None and f.department_id is None:  # whole weeks from the week table
        rows = weeks.window(
            GapWeek,
            f,
            ["kind", "bucket", "events"],
            cut=lambda query, model, dates: _cut(query, model, f, level_column=model.level, dates=dates),
        )
        query = select(rows.c.kind, rows.c.bucket, func.sum(rows.c.events).label("n"))
        query = query.group_by(rows.c.kind, rows.c.bucket)
    else:
        query = select(EventGap.kind, EventGap.bucket, func.count().label("n"))
        query = _cut(query, EventGap, f, level_column=EventGap.level)
        query = query.group_by(EventGap.kind, EventGap.bucket)
    return histogram_medians(query)
