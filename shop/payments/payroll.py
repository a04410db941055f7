"""Payroll deduction: the monthly cap and the payroll month. The export for HR is a
settlement (shop.settlement)."""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from shop.accounts.models import User
from shop.audit.services import record
from shop.company_calendar import company_zone, month_bounds
from shop.database import utcnow
from shop.extensions import db
from shop.i18n import format_money
from shop.orders.errors import OrderError
from shop.orders.expiry import expire_if_overdue
from shop.orders.lifecycle import became_paid, check_transition
from shop.orders.locks import lock_order, lock_user
from shop.orders.models import Order, OrderStatus, PaymentMethod


def deduction_month(paid_at: datetime) -> date:
    """The month whose salary a payroll payment made at ``paid_at`` is deducted from: the
    settlement takes the payroll orders paid in a month of the company's calendar."""
    return paid_at.astimezone(company_zone()).date().replace(day=1)


def parse_month(text: str) -> date:
    """'YYYY-MM' to the first day of that month; ValueError otherwise."""
    year, _, month = (text or "").partition("-")
    if not (len(year) == 4 and len(month) == 2 and (year + month).isascii() and (year + month).isdigit()):
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


def payroll_left(user: User, now: datetime | None = None) -> int:
    """What is left of ``user``'s monthly payroll deduction limit this month (never below 0): a
    hint for the order page; paying checks it again under the buyer's lock."""
    used = payroll_used(user, *month_bounds(now or utcnow()))
    return max(current_app.config["PAYROLL_MONTHLY_CAP"] - used, 0)


class PayrollCapExceeded(OrderError):
    pass


def pay_by_payroll(buyer: User, order: Order, *, now: datetime | None = None) -> Order:
    """Employees pay at once by payroll deduction, within the monthly cap. An order whose
    deadline has passed is expired instead (check the returned order's status)."""
    now = now or utcnow()
    if not buyer.is_employee:
        raise OrderError(_("Payroll deduction is for employees only."))
    lock_user(buyer)
    lock_order(order)
    if expire_if_overdue(order, now):
        return order
    check_transition(order, OrderStatus.paid)
    cap = current_app.config["PAYROLL_MONTHLY_CAP"]
    used = payroll_used(buyer, *month_bounds(now))
    if used + order.total_amount > cap:
        raise PayrollCapExceeded(
            _(
                "This order is above your payroll deduction limit for this month: %(left)s left.",
                left=format_money(max(cap - used, 0), order.currency),
            )
        )
    order.status = OrderStatus.paid
    order.payment_method = PaymentMethod.payroll
    order.paid_at = now
    record(
        "order.paid",
        order,
        actor=buyer,
        before={"status": "pending_payment"},
        after={"status": "paid", "method": "payroll", "amount": order.total_amount},
    )
    became_paid(order)
    return order
