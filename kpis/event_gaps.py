"""Each funnel event's time between stages, kept by the aggregation run (``kpi_event_gaps``),
and its daily histograms (``kpi_gap_days``) that the company funnel's medians are read from.

The gap is ``kpis.domain.event_gaps``: from the chain's latest earlier event of the stage
before, at any time and of any cut. A late event (an earlier time, written later) changes the
gaps of its chain's later events, which may lie on later days, so a run recounts every event
from the earliest day it recounts (``kpis.aggregation``: new ids, or written since the last run
less the overlap; today in production, every day when seeding) to the last, from the raw rows,
and replaces those days' rows: exactly-once in the same way as the other day tables. The
chains' latest events before that day are read with one grouped statement.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta

from sqlalchemy import delete, func, insert, select

from kpis import domain
from kpis.models import EventGap, GapDay
from referrals.models import EventKind, FunnelEvent
from shop.extensions import db

CHUNK = 5000
SLICE_DAYS = 7  # events read and written a week at a time

# The kept gaps are counted into log-spaced buckets, so that a window's median is read from
# daily histograms: bucket 0 holds the gaps under a second, bucket k >= 1 those in
# [GAP_RATIO ** (k - 1), GAP_RATIO ** k) seconds. A median read from a histogram takes the
# geometric middle of the middle gap's bucket (the mean of the two middle ones' for an even
# count): within 0.5 % and a second of the exact median (tested): under 0.05 h for medians
# under 10 h, so the page's hours with one decimal are at most one off in the last digit.
GAP_RATIO = 1.01
_LOG_RATIO = math.log(GAP_RATIO)
SECOND_US = 1_000_000


def gap_bucket(gap_us: int) -> int:
    return 0 if gap_us < SECOND_US else 1 + int(math.log(gap_us / SECOND_US) / _LOG_RATIO)


def bucket_middle(bucket: int) -> timedelta:
    return timedelta(0) if bucket <= 0 else timedelta(seconds=GAP_RATIO ** (bucket - 0.5))


def histogram_median(counts: Mapping[int, int]) -> timedelta | None:
    """The median of a histogram of gaps (bucket: count), to the buckets' precision."""
    total = sum(counts.values())
    if not total:
        return None
    ranks = sorted({(total - 1) // 2, total // 2})
    middles, seen = [], 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        while ranks and ranks[0] < seen:
            ranks.pop(0)
            middles.append(bucket_middle(bucket))
    return sum(middles, timedelta(0)) / len(middles)


def histogram_medians(counts) -> dict[str, timedelta | None]:
    """``histogram_median`` of each stage's histogram: ``counts`` is a statement of (kind,
    bucket, n) rows, at most one per kind and bucket, summed by the database. Stages without
    gaps are None. (Walking the histogram in SQL instead, with window sums, cost a chain's
    funnel on /network more than it saved: 20.9 against 14.7 ms for the largest chain.)"""
    histograms: dict[str, dict[int, int]] = defaultdict(dict)
    for kind, bucket, n in db.session.execute(counts):
        histograms[kind][bucket] = int(n)
    return stage_medians(histograms)


def stage_medians(histograms: Mapping[str, Mapping[int, int]]) -> dict[str, timedelta | None]:
    """``histogram_median`` of each stage's histogram (by kind); None for a stage without one."""
    return {kind: histogram_median(histograms.get(kind, {})) for kind in domain.STAGES[1:]}


def microseconds(gap: timedelta) -> int:
    return gap // timedelta(microseconds=1)


def recount(calendar, first: date) -> None:
    """Recount the gaps of the events from day ``first`` on, and their histograms. Does not
    commit."""
    for model in (EventGap, GapDay):
        db.session.execute(delete(model).where(model.day >= first))
    start = calendar.start(first)
    high = db.session.scalar(select(func.max(FunnelEvent.at)).where(FunnelEvent.at >= start))
    last = first if high is None else calendar.day(high)
    chain = FunnelEvent.root_employee_id
    later = select(chain).where(chain.is_not(None), FunnelEvent.at >= start)
    latest: dict[int, dict[str, object]] = {}
    before = db.session.execute(
        select(chain, FunnelEvent.kind, func.max(FunnelEvent.at))
        .where(FunnelEvent.at < start, chain.in_(later))
        .group_by(chain, FunnelEvent.kind)
    )
    for root, kind, at in before:
        latest.setdefault(root, {})[str(kind)] = at
    day = first
    while day <= last:
        following = min(day + timedelta(days=SLICE_DAYS), last + timedelta(days=1))
        _recount_slice(calendar, calendar.start(day), calendar.start(following), latest)
        day = following
    keys = (EventGap.day, EventGap.level, EventGap.festival_id, EventGap.kind, EventGap.bucket)
    db.session.execute(
        insert(GapDay).from_select(
            ["day", "level", "festival_id", "kind", "bucket", "events"],
            select(*keys, func.count()).where(EventGap.day >= first).group_by(*keys),
        )
    )


def _recount_slice(calendar, start, end, latest) -> None:
    rows = db.session.execute(
        select(
            FunnelEvent.id,
            FunnelEvent.root_employee_id,
            FunnelEvent.at,
            FunnelEvent.kind,
            FunnelEvent.actor_id,
            FunnelEvent.l1_contact_id,
            FunnelEvent.festival_id,
            FunnelEvent.product_id,
        ).where(
            FunnelEvent.kind.in_(list(EventKind)),  # lets PostgreSQL read through the (kind, at) index
            FunnelEvent.at >= start,
            FunnelEvent.at < end,
            FunnelEvent.root_employee_id.is_not(None),
        )
    ).all()
    rows.sort(key=lambda r: domain.event_order(r.at, str(r.kind), r.id))
    by_id = {r.id: r for r in rows}
    found = []
    for event_id, gap in domain.event_gaps(((r.id, r.root_employee_id, r.at, str(r.kind)) for r in rows), latest):
        r = by_id[event_id]
        gap_us = microseconds(gap)
        found.append(
            {
                "event_id": event_id,
                "day": calendar.day(r.at),
                "root_employee_id": r.root_employee_id,
                "level": domain.event_level(r.actor_id, r.root_employee_id, r.l1_contact_id),
                "festival_id": r.festival_id or 0,
                "product_id": r.product_id or 0,
                "kind": str(r.kind),
                "bucket": gap_bucket(gap_us),
                "gap_us": gap_us,
            }
        )
    for i in range(0, len(found), CHUNK):
        db.session.execute(insert(EventGap), found[i : i + CHUNK])
