"""A week table beside the gap histograms' day table: a window's whole weeks are read from the
week rows and only its other days (at most six at each end) from the day rows, so a 90-day
window reads about half the rows (at 1M events, 89,000 instead of 184,000 for the 90 days to
23 November).

A week is the company's Monday to Sunday, named by its Monday. A week row is the sum of its
days' rows, recounted whole from the day table after the days are, from the week of the first
day a run recounts on (``recount``): exactly-once as the day tables are.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Date, delete, func, insert, literal, select, union_all

from kpis.models import GapDay, GapWeek
from shop.extensions import db

WEEK = timedelta(days=7)

# Each week table, its day table, and the columns they share beside the day: (keys, sums).
TABLES = {GapWeek: (GapDay, ("level", "festival_id", "kind", "bucket"), ("events",))}


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def split(start: date, end: date) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """The window ``start``..``end`` as the first and last Monday of its whole weeks (None when
    it holds none) and the spans of its other days, first to last day."""
    first = week_of(start) if start.weekday() == 0 else week_of(start) + WEEK
    last = week_of(end + timedelta(days=1)) - WEEK  # the last week ending by ``end``
    if first > last:
        return None, [(start, end)]
    days = []
    if start < first:
        days.append((start, first - timedelta(days=1)))
    if last + WEEK <= end:
        days.append((last + WEEK, end))
    return (first, last), days


def window(week_model, f, columns, *, cut):
    """A subquery of ``columns`` (names of both tables) from the rows of ``f``'s window: the
    UNION ALL of one statement for its whole weeks and one for each span of its other days,
    ``cut(query, model, dates)`` applying the other cuts; it holds every day once."""
    day_model = TABLES[week_model][0]
    weeks, days = split(f.start, f.end)
    parts = []
    if weeks is not None:
        query = select(*(getattr(week_model, c).label(c) for c in columns))
        parts.append(cut(query, week_model, (week_model.week >= weeks[0], week_model.week <= weeks[1])))
    for first, last in days:
        query = select(*(getattr(day_model, c).label(c) for c in columns))
        parts.append(cut(query, day_model, (day_model.day >= first, day_model.day <= last)))
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("window")


def recount(first: date) -> None:
    """Recount every week from the one holding day ``first`` on, from the day tables (which
    hold the recounted days by then). Does not commit."""
    start = week_of(first)
    for week_model, (day_model, keys, sums) in TABLES.items():
        db.session.execute(delete(week_model).where(week_model.week >= start))
        last = db.session.scalar(select(func.max(day_model.day)).where(day_model.day >= start))
        key_columns = [getattr(day_model, k) for k in keys]
        week = start
        while last is not None and week <= last:
            db.session.execute(
                insert(week_model).from_select(
                    ["week", *keys, *sums],
                    select(literal(week, Date), *key_columns, *(func.sum(getattr(day_model, s)) for s in sums))
                    .where(day_model.day >= week, day_model.day < week + WEEK)
                    .group_by(*key_columns),
                )
            )
            week += WEEK
