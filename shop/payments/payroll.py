"""Payroll deduction: the monthly cap and the payroll month. The export for HR is a
settlement (shop.settlement)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from shop.accounts.models import User
from shop.company_calendar import company_zone
from shop.extensions import db
from shop.orders.models import Order, PaymentMethod


def deduction_month(paid_at: datetime) -> date:
    """The month whose salary a payroll payment made at ``paid_at`` is deducted from: the
    settlement takes the payroll orders paid in a month of the company's calendar."""
    return paid_at.astimezone(company_zone()).date().replace(day=1)


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
