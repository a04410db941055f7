"""Rollup tables of the KPIs, kept by ``kpis.aggregation`` and read by the pages.

Each row is a bucket: a company day (or month) and the cuts the dashboard filters by. A bucket
is always recounted whole from the raw rows and replaced, never incremented, so counting a
bucket twice gives the same row (see ``kpis.aggregation`` for why that makes it exactly-once).
Absent dimensions are stored as 0 (no root, no festival, no product): they are keys, not links.

The tables every dashboard request reads a window of (``kpi_chain_days``, ``kpi_gap_days``,
``kpi_gap_weeks``) have an index that leads with the day and holds every column, so that
PostgreSQL reads the window from the index alone (an index-only scan) instead of visiting the
table's pages, once the pages are marked all-visible (by autovacuum; by ``flask shop
seed-synthetic`` right after a bulk load). At a million events, a 30-day window: the gap
histograms 18 -> 7.6 ms, the chains' counts 11 -> 5.6 ms.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kpis.domain import STAGES
from shop.database import UTCDateTime
from shop.extensions import db


class FunnelDay(db.Model):
    """Funnel events of one company day, by chain, actor level, festival, product and stage."""

    __tablename__ = "kpi_funnel_days"
    __table_args__ = (sa.Index("ix_kpi_funnel_days_root_employee_id_day", "root_employee_id", "day"),)

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    root_employee_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    level: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    festival_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    events: Mapped[int]


class RevenueCuts:
    """The columns of a day's paid orders and revenue by every cut: the key (day, chain, buyer
    level, festival, product) and the two sums. ``RevenueDay`` and ``kpis.cut_rollups.ProductDay``
    count different things into the same shape."""

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    root_employee_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    buyer_level: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    festival_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    orders: Mapped[int]
    revenue: Mapped[int] = mapped_column(sa.BigInteger)


class RevenueDay(RevenueCuts, db.Model):
    """Paid orders of one company day (of ``paid_at``) and their revenue (paid less refunded)."""

    __tablename__ = "kpi_revenue_days"
    __table_args__ = (sa.Index("ix_kpi_revenue_days_root_employee_id_day", "root_employee_id", "day"),)


class BuyerMonth(db.Model):
    """How many paid orders a buyer placed in a company month (repeat buyers, retention)."""

    __tablename__ = "kpi_buyer_months"

    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    orders: Mapped[int]


class ChainDay(db.Model):
    """``kpi_funnel_days`` without the product, the stages side by side: one row per company
    day, chain, actor level and festival with that day's events of each stage. What the
    per-employee figures read (the employees table, the department cut, /network) whenever no
    product cut is asked for."""

    __tablename__ = "kpi_chain_days"
    __table_args__ = (
        # One chain's days (its funnel on /network): the key leads with the day.
        sa.Index("ix_kpi_chain_days_root_employee_id_day", "root_employee_id", "day"),
        # Every column: a window's rows (the employees table) are read from the index alone
        # (module docstring).
        sa.Index("ix_kpi_chain_days_day_with_counts", "day", "root_employee_id", "level", "festival_id", *STAGES),
    )

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    root_employee_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    level: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    festival_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    share: Mapped[int]
    visit: Mapped[int]
    signup: Mapped[int]
    consultation: Mapped[int]
    first_order: Mapped[int]
    repeat_order: Mapped[int]


class CompanyDay(db.Model):
    """``kpi_funnel_days`` without the chain: the company funnel of one day by its cuts."""

    __tablename__ = "kpi_company_days"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    level: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    festival_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    events: Mapped[int]


class StageDay(db.Model):
    """``kpi_company_days`` without the product: the company funnel of one day by level and
    festival, a few rows a day, read whenever no product or department cut is asked for."""

    __tablename__ = "kpi_stage_days"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    level: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    festival_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    events: Mapped[int]


class ChainRevenueDay(db.Model):
    """``kpi_revenue_days`` without the cuts: paid orders and revenue of one day by chain."""

    __tablename__ = "kpi_chain_revenue_days"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    root_employee_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    orders: Mapped[int]
    revenue: Mapped[int] = mapped_column(sa.BigInteger)


class CompanyRevenueDay(db.Model):
    """``kpi_revenue_days`` without the chain: the company's revenue of one day by its cuts."""

    __tablename__ = "kpi_company_revenue_days"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    buyer_level: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    festival_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    orders: Mapped[int]
    revenue: Mapped[int] = mapped_column(sa.BigInteger)


class EventGap(db.Model):
    """The time between stages of one funnel event (``kpis.domain.event_gaps``: from its chain's
    latest earlier event of the stage before), a row per event that has one, with the event's
    company day and cuts and the gap's histogram bucket (``kpis.event_gaps.gap_bucket``). Read
    for the department and product cuts and for one chain's funnel (/network)."""

    __tablename__ = "kpi_event_gaps"
    __table_args__ = (
        sa.Index("ix_kpi_event_gaps_day", "day"),
        # One chain's gaps of a window by stage and bucket (/network), from the index alone.
        sa.Index("ix_kpi_event_gaps_root_employee_id_day", "root_employee_id", "day", "kind", "bucket"),
        sa.Index("ix_kpi_event_gaps_product_id_day", "product_id", "day"),
    )

    event_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(sa.Date)
    root_employee_id: Mapped[int]
    level: Mapped[int] = mapped_column(sa.SmallInteger)
    festival_id: Mapped[int]
    product_id: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(16))
    bucket: Mapped[int] = mapped_column(sa.SmallInteger)
    gap_us: Mapped[int] = mapped_column(sa.BigInteger)


class GapDay(db.Model):
    """``kpi_event_gaps`` as daily histograms: how many gaps of one company day, level, festival
    and stage fall in each bucket. The company median of a window is read from these."""

    __tablename__ = "kpi_gap_days"
    # Every column: a window's histograms are read from the index alone (module docstring).
    __table_args__ = (
        sa.Index("ix_kpi_gap_days_day_with_counts", "day", "level", "festival_id", "kind", "bucket", "events"),
    )

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    level: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    festival_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    bucket: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    events: Mapped[int]


class GapWeek(db.Model):
    """``kpi_gap_days`` summed by company week (Monday to Sunday, ``kpis.weeks``)."""

    __tablename__ = "kpi_gap_weeks"
    # Every column: a window's histograms are read from the index alone (module docstring).
    __table_args__ = (
        sa.Index("ix_kpi_gap_weeks_week_with_counts", "week", "level", "festival_id", "kind", "bucket", "events"),
    )

    week: Mapped[date] = mapped_column(sa.Date, primary_key=True)  # its Monday
    level: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    festival_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    bucket: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    events: Mapped[int]


class NetworkGaps(db.Model):
    """Each chain's median time between stages over the /network window (``kpis.figures.
    network_window``), from its kept gaps (``kpi_event_gaps``) as ``kpis.chain.counted_gaps``
    counts them, in microseconds (None: no gap of that stage). A row per chain with a gap in the
    window; which window, ``AggregationState.network_gaps_window_end`` (``kpis.network_gaps``)."""

    __tablename__ = "kpi_network_gaps"

    root_employee_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    visit: Mapped[int | None] = mapped_column(sa.BigInteger)
    signup: Mapped[int | None] = mapped_column(sa.BigInteger)
    consultation: Mapped[int | None] = mapped_column(sa.BigInteger)
    first_order: Mapped[int | None] = mapped_column(sa.BigInteger)
    repeat_order: Mapped[int | None] = mapped_column(sa.BigInteger)


NEVER = date(9999, 12, 31)  # ExpansionDay.left_day of employees who have not left


class ExpansionDay(db.Model):
    """Expansion as chained now, kept so that any window is one sum over a few thousand rows.

    Each employee contributes, under their department and the company day they left (``NEVER``
    when they have not): 1 to ``employees`` on the day they joined; and for their chain, on the
    company day it happened (never before the employee's own joining day), 1 to ``l1`` per L1
    contact who joined, 1 to ``with_l1`` for the first of them, 1 to ``l1_with_l2`` per L1
    contact's first L2 contact and 1 to ``l2`` per L2 contact (counted once both had joined).
    The figures of a window [start, end) are then the sums over rows with ``day < end`` and
    ``left_day >= start`` (an employee is active when joined before the end and not left before
    the start). Recounted whole by each aggregation run: chains move and people leave."""

    __tablename__ = "kpi_expansion_days"

    department_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # 0: none
    left_day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    employees: Mapped[int]
    with_l1: Mapped[int]
    l1: Mapped[int]
    l1_with_l2: Mapped[int]
    l2: Mapped[int]


class RetentionCell(db.Model):
    """Buyers whose first paid order ever was in ``cohort`` (a company month) and who placed a
    paid order in ``month`` (``month == cohort``: the cohort's size). Recounted whenever a
    month of ``kpi_buyer_months`` is."""

    __tablename__ = "kpi_retention"

    cohort: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    buyers: Mapped[int]


STATE_ID = 1  # the one row of kpi_state


class AggregationState(db.Model):
    """One row: how far the rollups are counted. ``as_of`` is when the last run began to read:
    every fact committed before it is in the rollups."""

    __tablename__ = "kpi_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    as_of: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_event_id: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    last_order_id: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    last_refund_id: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    runs: Mapped[int] = mapped_column(default=0, server_default="0")
    last_run_ms: Mapped[int] = mapped_column(default=0, server_default="0")
    # The medians each chain's funnel on /network is compared with (kpis.medians): by department
    # id ("company" for the whole company), for the window ending on ``network_window_end``.
    network_medians: Mapped[dict | None] = mapped_column(sa.JSON)
    network_window_end: Mapped[date | None] = mapped_column(sa.Date)
    # The /network window that every chain's row of kpi_network_gaps is counted for.
    network_gaps_window_end: Mapped[date | None] = mapped_column(sa.Date)
    # The users as kpi_expansion_days was last counted from (kpis.expansion.fingerprint).
    people_fingerprint: Mapped[str | None] = mapped_column(sa.String(200))
