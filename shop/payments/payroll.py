"""Payroll deduction: the monthly cap and the monthly export for HR."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from shop.accounts.models import Department, User
from shop.extensions import db
from shop.i18n import to_major
from shop.orders.models import Order, PaymentMethod


def company_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def month_bounds(moment: datetime | date) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the payroll month containing ``moment`` (in the company's zone)."""
    zone = company_zone()
    local = moment.astimezone(zone) if isinstance(moment, datetime) else moment
    start = datetime(local.year, local.month, 1, tzinfo=zone)
    end = datetime(local.year + (local.month == 12), local.month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def parse_month(text: str) -> date:
    """'YYYY-MM' to the first day of that month; ValueError otherwise."""
    year, _, month = (text or "").partition("-")
    if not (len(year) == 4 and year.isdigit() and len(month) == 2 and month.isdigit()):
        raise ValueError("expected YYYY-MM")
    return date(int(year), int(month), 1)


def _payroll_orders(start: datetime, end: datetime):
    return (
        Order.payment_method == PaymentMethod.payroll,
        Order.paid_at >= start,
        Order.paid_at < end,
    )


def payroll_used(user: User, start: datetime, end: datetime) -> int:
    """Payroll spending of ``user`` in [start, end): paid amounts less refunds."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(Order.total_amount - Order.refunded_amount), 0)).where(
            Order.buyer_id == user.id, *_payroll_orders(start, end)
        )
    )
    return int(total or 0)


@dataclass(frozen=True)
class PayrollRow:
    employee_no: str
    name: str
    email: str
    department: str
    order_count: int
    amount: int


def payroll_rows(month: date) -> list[PayrollRow]:
    start, end = month_bounds(month)
    query = (
        select(
            User.employee_no, User.name, User.email, Department.name,
            func.count(Order.id), func.sum(Order.total_amount - Order.refunded_amount),
        )
        .join(Order, Order.buyer_id == User.id)
        .outerjoin(Department, Department.id == User.department_id)
        .where(*_payroll_orders(start, end))
        .group_by(User.id, User.employee_no, User.name, User.email, Department.name)
        .order_by(User.employee_no, User.email)
    )
    return [PayrollRow(no or "", name, email, dept or "", count, int(amount or 0))
            for no, name, email, dept, count, amount in db.session.execute(query)]


def _cell(value: str) -> str:
    """Keep spreadsheet programs from reading a name as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def payroll_csv(month: date) -> str:
    currency = current_app.config["CURRENCY"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["employee_no", "name", "email", "department", "order_count", "amount", "currency"])
    for row in payroll_rows(month):
        writer.writerow([_cell(row.employee_no), _cell(row.name), _cell(row.email), _cell(row.department), row.order_count,
                         f"{to_major(row.amount, currency)}", currency])
    return out.getvalue()
