"""The company's calendar: its time zone, and its days, months and years as [start, end) in UTC.
Payroll months, quota windows and daily reports all cut time here."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


def company_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def _local(moment: datetime | date) -> date:
    return moment.astimezone(company_zone()).date() if isinstance(moment, datetime) else moment


def _utc(start: date, end: date) -> tuple[datetime, datetime]:
    zone = company_zone()
    return (
        datetime(start.year, start.month, start.day, tzinfo=zone).astimezone(UTC),
        datetime(end.year, end.month, end.day, tzinfo=zone).astimezone(UTC),
    )


def day_bounds(moment: datetime | date) -> tuple[datetime, datetime]:
    day = _local(moment)
    return _utc(day, day + timedelta(days=1))


def month_bounds(moment: datetime | date) -> tuple[datetime, datetime]:
    """The month (company time) containing ``moment``: the payroll month, a quota's month."""
    day = _local(moment)
    return _utc(day.replace(day=1), date(day.year + (day.month == 12), day.month % 12 + 1, 1))


def year_bounds(moment: datetime | date) -> tuple[datetime, datetime]:
    day = _local(moment)
    return _utc(date(day.year, 1, 1), date(day.year + 1, 1, 1))
