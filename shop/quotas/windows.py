"""The time windows quotas count in, as [start, end) in UTC, cut in the company's time zone."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from shop.quotas.models import Window


def company_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def window_bounds(window: Window, now: datetime) -> tuple[datetime, datetime]:
    """The calendar day, month or year (company time) that contains ``now``."""
    zone = company_zone()
    local = now.astimezone(zone)
    if window == Window.day:
        start = datetime(local.year, local.month, local.day, tzinfo=zone)
        end = start + timedelta(days=1)
        end = datetime(end.year, end.month, end.day, tzinfo=zone)
    elif window == Window.month:
        start = datetime(local.year, local.month, 1, tzinfo=zone)
        end = datetime(local.year + (local.month == 12), local.month % 12 + 1, 1, tzinfo=zone)
    elif window == Window.year:
        start = datetime(local.year, 1, 1, tzinfo=zone)
        end = datetime(local.year + 1, 1, 1, tzinfo=zone)
    else:
        raise ValueError(f"{window} is not a calendar window")
    return start.astimezone(UTC), end.astimezone(UTC)
