"""Payroll settlement: what HR deducts from (or credits to) each employee for a month.

A month's statement has, per employee, *deductions* (the payroll orders paid in that month, at
their full amount) and *credits* (payroll refunds that no earlier export carried, of orders paid
up to the end of that month). Recording it (``record_settlement``) marks those refunds as
carried, so each refund is credited exactly once, in the first export after it; refunds made
after a month's export fall into the next one. A month is recorded once, after it has ended,
and its files are kept as given to HR.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from shop.accounts.models import Department, User
from shop.audit.services import record
from shop.company_calendar import month_bounds
from shop.database import utcnow
from shop.errors import DomainError
from shop.extensions import db
from shop.i18n import local_datetime, local_month, to_major
from shop.orders.models import Order, PaymentMethod
from shop.refunds.models import Refund, RefundStatus
from shop.settlement.models import PayrollSettlement, PayrollSettlementLine
from shop.spreadsheets import csv_text

# Column names as HR's systems read them in English; translated like any other text.
EMPLOYEE_COLUMNS = [
    _l("employee_no"),
    _l("name"),
    _l("email"),
    _l("department"),
    _l("order_count"),
    _l("deductions"),
    _l("credit_count"),
    _l("credits"),
    _l("net"),
    _l("currency"),
]
SUMMARY_COLUMNS = [
    _l("department"),
    _l("employees"),
    _l("order_count"),
    _l("deductions"),
    _l("credit_count"),
    _l("credits"),
    _l("net"),
    _l("currency"),
]


class SettlementError(DomainError):
    pass


@dataclass
class EmployeeTotals:
    user_id: int
    employee_no: str
    name: str
    email: str
    department: str
    order_count: int = 0
    deductions: int = 0
    credit_count: int = 0
    credits: int = 0

    @property
    def net(self) -> int:
        return self.deductions - self.credits


@dataclass
class DepartmentTotals:
    department: str
    employees: int = 0
    order_count: int = 0
    deductions: int = 0
    credit_count: int = 0
    credits: int = 0

    @property
    def net(self) -> int:
        return self.deductions - self.credits


@dataclass
class Statement:
    """A month's deductions and credits, before (or while) it is recorded."""

    month: date
    currency: str
    employees: list[EmployeeTotals]
    refund_ids: list[int] = field(default_factory=list)

    @property
    def totals(self) -> DepartmentTotals:
        return totals_of(self.employees)


def month_statement(month: date, *, lock: bool = False) -> Statement:
    """The statement of ``month`` as things stand. ``lock`` locks the refunds it credits, so a
    settlement recorded at the same time for another month cannot credit them too."""
    start, end = month_bounds(month)
    people: dict[int, EmployeeTotals] = {}

    def person(user_id: int, employee_no: str | None, name: str, email: str, department: str | None) -> EmployeeTotals:
        if user_id not in people:
            people[user_id] = EmployeeTotals(user_id, employee_no or "", name, email, department or "")
        return people[user_id]

    deducted = db.session.execute(
        select(
            User.id,
            User.employee_no,
            User.name,
            User.email,
            Department.name,
            func.count(Order.id),
            func.sum(Order.total_amount),
        )
        .join(Order, Order.buyer_id == User.id)
        .outerjoin(Department, Department.id == User.department_id)
        .where(Order.payment_method == PaymentMethod.payroll, Order.paid_at >= start, Order.paid_at < end)
        .group_by(User.id, User.employee_no, User.name, User.email, Department.name)
    )
    for user_id, employee_no, name, email, department, count, amount in deducted:
        totals = person(user_id, employee_no, name, email, department)
        totals.order_count, totals.deductions = count, int(amount or 0)

    query = (
        select(Refund)
        .join(Order, Order.id == Refund.order_id)
        .where(
            Refund.method == PaymentMethod.payroll,
            Refund.status == RefundStatus.succeeded,
            Refund.payroll_settlement_id.is_(None),
            Order.paid_at < end,
        )
        .options(selectinload(Refund.order).selectinload(Order.buyer))
        .order_by(Refund.id)
    )
    if lock:
        query = query.with_for_update(of=Refund)
    refunds = list(db.session.scalars(query))
    departments = _department_names({refund.order.buyer.department_id for refund in refunds} - {None})
    for refund in refunds:
        buyer = refund.order.buyer
        totals = person(buyer.id, buyer.employee_no, buyer.name, buyer.email, departments.get(buyer.department_id))
        totals.credit_count += 1
        totals.credits += refund.amount

    ordered = sorted(people.values(), key=lambda t: (t.employee_no, t.email))
    return Statement(month, current_app.config["CURRENCY"], ordered, [refund.id for refund in refunds])


def settlement_for(month: date) -> PayrollSettlement | None:
    return db.session.scalar(select(PayrollSettlement).where(PayrollSettlement.month == month))


def recent_settlements(limit: int = 24) -> list[PayrollSettlement]:
    return list(db.session.scalars(select(PayrollSettlement).order_by(PayrollSettlement.month.desc()).limit(limit)))


def record_settlement(actor: User | None, month: date, *, now: datetime | None = None) -> PayrollSettlement:
    """Record the export of ``month`` for HR, once, after the month has ended; the refunds it
    credits are marked as carried. Refused for an open month or one already recorded."""
    now = now or utcnow()
    if month_bounds(month)[1] > now:
        raise SettlementError(
            _(
                "%(month)s is not over yet: payroll orders paid until its last day still belong to it.",
                month=local_month(month),
            )
        )
    _refuse_if_recorded(month)
    settlement = PayrollSettlement(
        month=month,
        currency=current_app.config["CURRENCY"],
        exported_at=now,
        actor_id=getattr(actor, "id", None),
        employee_count=0,
        order_count=0,
        deductions=0,
        credit_count=0,
        credits=0,
        net=0,
        employees_csv="",
        summary_csv="",
    )
    try:
        # The unique month makes a second export of the same month wait here for the first, then fail.
        with db.session.begin_nested():
            db.session.add(settlement)
            db.session.flush()
    except IntegrityError:
        _refuse_if_recorded(month)
        raise

    statement = month_statement(month, lock=True)
    totals = statement.totals
    settlement.employee_count = len(statement.employees)
    settlement.order_count, settlement.deductions = totals.order_count, totals.deductions
    settlement.credit_count, settlement.credits, settlement.net = totals.credit_count, totals.credits, totals.net
    settlement.employees_csv = employees_csv(statement.employees, statement.currency)
    settlement.summary_csv = summary_csv(statement.employees, statement.currency)
    settlement.lines = [
        PayrollSettlementLine(
            user_id=t.user_id,
            employee_no=t.employee_no,
            name=t.name,
            email=t.email,
            department=t.department,
            order_count=t.order_count,
            deductions=t.deductions,
            credit_count=t.credit_count,
            credits=t.credits,
            net=t.net,
        )
        for t in statement.employees
    ]
    for refund in db.session.scalars(select(Refund).where(Refund.id.in_(statement.refund_ids))):
        refund.payroll_settlement_id = settlement.id
    record(
        "payroll.export",
        settlement,
        actor=actor,
        after={
            "month": settlement.label,
            "employees": settlement.employee_count,
            "orders": settlement.order_count,
            "deductions": settlement.deductions,
            "credits": settlement.credits,
            "net": settlement.net,
            "refunds": statement.refund_ids,
        },
    )
    return settlement


def _refuse_if_recorded(month: date) -> None:
    existing = settlement_for(month)
    if existing is not None:
        raise SettlementError(
            _(
                "%(month)s was already exported on %(when)s; download the recorded files instead "
                "of exporting it again.",
                month=local_month(existing.month),
                when=local_datetime(existing.exported_at),
            )
        )


def by_department(rows: Iterable) -> list[DepartmentTotals]:
    """Totals per department of employee rows (statement totals or recorded lines)."""
    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(row.department, []).append(row)
    return [_sum(name, groups[name]) for name in sorted(groups)]


def totals_of(rows: Iterable) -> DepartmentTotals:
    return _sum(_("All departments"), rows)


def _sum(name: str, rows: Iterable) -> DepartmentTotals:
    totals = DepartmentTotals(name)
    for row in rows:
        totals.employees += 1
        totals.order_count += row.order_count
        totals.deductions += row.deductions
        totals.credit_count += row.credit_count
        totals.credits += row.credits
    return totals


def employees_csv(rows: Iterable, currency: str) -> str:
    """Per employee: deductions, credits and the net amount HR takes from the salary (a
    negative net is paid back). The body as recorded; handed out with a byte-order mark
    (shop/spreadsheets.py)."""
    lines = [
        [
            row.employee_no,
            row.name,
            row.email,
            row.department,
            row.order_count,
            to_major(row.deductions, currency),
            row.credit_count,
            to_major(row.credits, currency),
            to_major(row.net, currency),
            currency,
        ]
        for row in rows
    ]
    return csv_text([EMPLOYEE_COLUMNS, *lines])


def summary_csv(rows: Iterable, currency: str) -> str:
    """Per department, then all departments: counts and totals."""
    rows = list(rows)
    lines = [
        [
            totals.department,
            totals.employees,
            totals.order_count,
            to_major(totals.deductions, currency),
            totals.credit_count,
            to_major(totals.credits, currency),
            to_major(totals.net, currency),
            currency,
        ]
        for totals in [*by_department(rows), totals_of(rows)]
    ]
    return csv_text([SUMMARY_COLUMNS, *lines])


def _department_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(Department.id, Department.name).where(Department.id.in_(ids))).all())
