"""The time windows quotas count in, as [start, end) in UTC, cut in the company's time zone."""

from __future__ import annotations

from datetime import datetime

from shop.company_calendar import day_bounds, month_bounds, year_bounds
from shop.quotas.models import Window

_BOUNDS = {Window.day: day_bounds, Window.month: month_bounds, Window.year: year_bounds}


def window_bounds(window: Window, now: datetime) -> tuple[datetime, datetime]:
    """The calendar day, month or year (company time) that contains ``now``."""
    if window not in _BOUNDS:
        raise ValueError(f"{window} is not a calendar window")
    return _BOUNDS[window](now)
