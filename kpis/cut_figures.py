"""Figures that honour the cuts where the first dashboard read them whole: retention and the
repeat-buyer rate under a festival, department, product or buyer-level cut (from
``kpis.cut_rollups.BuyerCutMonth``), and the one-month retention beside the previous period's.

Under a cut, a buyer's orders are the orders in the cut: their first paid order is their first
one in the cut (e.g. their first order of the product), and they ordered again when they placed
another in the cut.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from sqlalchemy import select

from kpis import cuts, domain, figures
from kpis.cut_rollups import BuyerCutMonth
from kpis.figures import Filters
from shop.extensions import db


def is_cut(f: Filters) -> bool:
    return bool(cuts.chosen(f))


def buyer_months(f: Filters, first: date | None, last: date) -> dict[int, Counter]:
    """For the cut ``f`` (dates aside): each buyer's paid orders by month, ``first``..``last``."""
    query = select(BuyerCutMonth.buyer_id, BuyerCutMonth.month, BuyerCutMonth.orders).where(
        BuyerCutMonth.month <= last, BuyerCutMonth.product_id == (f.product_id or 0)
    )
    if first is not None:
        query = query.where(BuyerCutMonth.month >= first)
    if f.festival == figures.YEAR_ROUND:
        query = query.where(BuyerCutMonth.festival_id == 0)
    elif f.festival_id() is not None:
        query = query.where(BuyerCutMonth.festival_id == f.festival_id())
    if f.level is not None:
        query = query.where(BuyerCutMonth.buyer_level == f.level)
    if f.department_id is not None:
        query = query.where(cuts.in_department(BuyerCutMonth.root_employee_id, f.department_id))
    found: dict[int, Counter] = defaultdict(Counter)
    for buyer, month, n in db.session.execute(query):
        found[buyer][month] += int(n)
    return found


def repeat_buyer_rate(f: Filters, first: date, last: date) -> float | None:
    if not is_cut(f):
        return figures.repeat_buyer_rate(first, last)
    months = buyer_months(f, first, last)
    return domain.repeat_buyer_rate({buyer: sum(n.values()) for buyer, n in months.items()})


def retention(f: Filters, last_month: date, *, cohorts: int = 12, horizon: int = 12) -> list[domain.Cohort]:
    if not is_cut(f):
        return figures.retention(last_month, cohorts=cohorts, horizon=horizon)
    months = {buyer: list(n) for buyer, n in buyer_months(f, None, last_month).items()}
    found = domain.retention(months, last_month=last_month, horizon=horizon)
    first = domain.add_months(last_month.replace(day=1), -cohorts + 1)
    return [c for c in found if c.month >= first]


def one_month_retention(found: list[domain.Cohort]) -> float | None:
    """Of the buyers of the cohorts whose next month has passed, the share who ordered again in
    the month after their first: the retention table in one figure."""
    known = [c for c in found if c.shares and c.shares[0] is not None]
    return domain.ratio(sum(c.buyers * c.shares[0] for c in known), sum(c.buyers for c in known))
