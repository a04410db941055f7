"""A recorded payroll export (one per month) and its per-employee lines."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.database import UTCDateTime, utcnow
from shop.extensions import db


class PayrollSettlement(db.Model):
    """What HR was given for one month: deductions for the month's payroll orders, and credits
    for payroll refunds not carried by an earlier export. The files are kept as sent, so a
    second download is the same file, never a recount."""

    __tablename__ = "payroll_settlements"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(sa.Date, unique=True)  # first day of the month
    currency: Mapped[str] = mapped_column(sa.String(3))
    exported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))  # None: the CLI

    employee_count: Mapped[int]
    order_count: Mapped[int]
    deductions: Mapped[int]
    credit_count: Mapped[int]
    credits: Mapped[int]
    net: Mapped[int]

    employees_csv: Mapped[str] = mapped_column(sa.Text)
    summary_csv: Mapped[str] = mapped_column(sa.Text)

    actor: Mapped[User | None] = relationship()
    lines: Mapped[list[PayrollSettlementLine]] = relationship(
        back_populates="settlement", order_by="PayrollSettlementLine.id", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        return self.month.strftime("%Y-%m")


class PayrollSettlementLine(db.Model):
    """One employee in a settlement; name, number and department as they were at export."""

    __tablename__ = "payroll_settlement_lines"
    __table_args__ = (sa.UniqueConstraint("settlement_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(sa.ForeignKey("payroll_settlements.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    employee_no: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(255))
    department: Mapped[str] = mapped_column(sa.String(120))
    order_count: Mapped[int]
    deductions: Mapped[int]
    credit_count: Mapped[int]
    credits: Mapped[int]
    net: Mapped[int]

    settlement: Mapped[PayrollSettlement] = relationship(back_populates="lines")
