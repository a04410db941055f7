"""Figures that honour the cuts where the first dashboard read them whole: retention and the
repeat-buyer rate under a festival, department, product or buyer-level cut (from
``kpis.cut_rollups.BuyerCutMonth``), and the one-month retention beside the previous period's.

Under a cut, a buyer's orders are the orders in the cut: their first paid order is their first
one in the cut (e.g. their first order of the product), and they ordered again when they placed
another in the cut.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from kpis import cuts, domain, figures
from kpis.cut_rollups import BuyerCutMonth
from kpis.figures import Filters, in_department
from shop.extensions import db


def is_cut(f: Filters) -> bool:
    return bool(cuts.chosen(f))


def in_cut(f: Filters) -> list:
    """Conditions on ``BuyerCutMonth`` for the cut ``f`` (dates aside)."""
    conditions = [BuyerCutMonth.product_id == (f.product_id or 0)]
    if f.festival == figures.YEAR_ROUND:
        conditions.append(BuyerCutMonth.festival_id == 0)
    elif f.festival_id() is not None:
        conditions.append(BuyerCutMonth.festival_id == f.festival_id())
    if f.level is not None:
        conditions.append(BuyerCutMonth.buyer_level == f.level)
    if f.department_id is not None:
        conditions.append(in_department(BuyerCutMonth.root_employee_id, f.department_id))
    return conditions


def repeat_buyer_rate(f: Filters, first: date, last: date) -> float | None:
    """``domain.repeat_buyer_rate`` over the months in the cut, counted by the database."""
    if not is_cut(f):
        return figures.repeat_buyer_rate(first, last)
    orders = func.sum(BuyerCutMonth.orders).label("orders")
    per_buyer = (
        select(orders)
        .where(*in_cut(f), BuyerCutMonth.month >= first, BuyerCutMonth.month <= last)
        .group_by(BuyerCutMonth.buyer_id)
        .subquery()
    )
    buyers, repeat = db.session.execute(
        select(func.count().filter(per_buyer.c.orders > 0), func.count().filter(per_buyer.c.orders >= 2))
    ).one()
    return domain.ratio(repeat, buyers)


def retention(f: Filters, last_month: date, *, cohorts: int = 12, horizon: int = 12) -> list[domain.Cohort]:
    """``domain.retention`` of the buyers' months in the cut, the last ``cohorts`` cohorts: the
    database finds each buyer's first month in the cut and counts the buyers of each cohort
    in each month (the cells ``kpi_retention`` keeps for the whole company).

    One pass over the cut's rows: each buyer's months once (a buyer has a row per level,
    festival and chain in a month), their first month beside each as a window minimum.
    (Joining the buyers' first months back to the rows read them twice and counted distinct
    buyers: 40-51 against 30-37 ms for a department or level cut at a million events.)"""
    if not is_cut(f):
        return figures.retention(last_month, cohorts=cohorts, horizon=horizon)
    months = (
        select(BuyerCutMonth.buyer_id, BuyerCutMonth.month)
        .where(*in_cut(f), BuyerCutMonth.month <= last_month)
        .distinct()
        .subquery("months")
    )
    ranked = select(
        months.c.month, func.min(months.c.month).over(partition_by=months.c.buyer_id).label("cohort")
    ).subquery("ranked")
    first = domain.add_months(last_month.replace(day=1), -cohorts + 1)
    cells = (
        select(ranked.c.cohort, ranked.c.month, func.count())
        .where(ranked.c.cohort >= first)
        .group_by(ranked.c.cohort, ranked.c.month)
    )
    return figures.cohorts_of(db.session.execute(cells), last_month, horizon=horizon)


def one_month_retention(found: list[domain.Cohort]) -> float | None:
    """Of the buyers of the cohorts whose next month has passed, the share who ordered again in
    the month after their first: the retention table in one figure."""
    known = [c for c in found if c.shares and c.shares[0] is not None]
    return domain.ratio(sum(c.buyers * c.shares[0] for c in known), sum(c.buyers for c in known))
