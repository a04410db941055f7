"""People: departments, users, their role and their place in a referral chain."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from shop.database import UTCDateTime, utcnow
from shop.extensions import db
from shop.labels import register as register_labels

PASSWORD_MIN = 8
PASSWORD_MAX = 128
MAX_LEVEL = 2  # employees are level 0; nobody deeper than an L2 contact


class Role(enum.StrEnum):
    """What a user may do beyond shopping. Admin includes everything."""

    member = "member"
    operator = "operator"
    sales = "sales"
    admin = "admin"


class Kind(enum.StrEnum):
    """Who a user is to the company: this picks the price tier and the chain position."""

    employee = "employee"
    contact = "contact"


@dataclass(frozen=True)
class Buyer:
    """What placing an order and counting quota use read of a user: one row's chain facts.
    Placing reads it under the buyer's lock (``shop.checkout.placing``); the pages' "what is
    left" take it from the logged-in user (``Buyer.of``)."""

    id: int
    kind: Kind
    level: int
    root_employee_id: int | None
    l1_contact_id: int | None

    @classmethod
    def of(cls, user: User) -> Buyer:
        return cls(user.id, user.kind, user.level, user.root_employee_id, user.l1_contact_id)

    @property
    def chain_root_id(self) -> int:
        return chain_root_of(self.id, self.level, self.root_employee_id)

    @property
    def l1_of_order(self) -> int | None:
        """The L1 contact an order of this buyer is attributed to (level-2 buyers only)."""
        return self.l1_contact_id if self.level == 2 else None


class Department(db.Model):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Department {self.name}>"


def chain_root_of(user_id: int, level: int, root_employee_id: int | None) -> int:
    """The employee whose chain a user belongs to: the user themself at level 0. The one place
    the chain root is computed (orders, quotas, events and leads all ask here; in SQL:
    ``User.chain_root_id``)."""
    if level == 0 or root_employee_id is None:
        return user_id
    return root_employee_id


def new_referral_code() -> str:
    return secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")


def new_session_token() -> str:
    return secrets.token_urlsafe(16)


_LOGIN_ID_DIGITS = 18  # a user id that fits a 64-bit integer column


def parse_login_id(value: object) -> tuple[int, str] | None:
    """``(user id, session token)`` of a login id as ``User.get_id`` writes it
    (``"<id>:<token>"``), or None for anything else (an id of the old, token-less format too)."""
    if not isinstance(value, str):
        return None
    user_id, colon, token = value.partition(":")
    if not (colon and user_id.isascii() and user_id.isdigit() and len(user_id) <= _LOGIN_ID_DIGITS):
        return None
    return int(user_id), token


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("level >= 0 AND level <= 2", name="level_range"),
        sa.CheckConstraint("kind = 'contact' OR level = 0", name="employee_is_root"),
        sa.Index("ix_users_root_employee_id_level", "root_employee_id", "level"),
        # The KPI pages read the employees of a window (a sixth of the users at scale).
        sa.Index("ix_users_kind_created_at", "kind", "created_at"),
        # Every department cut of the KPI pages reads the department's users.
        sa.Index("ix_users_department_id", "department_id"),
        # The KPI employees table, sorted by name (its default): a page of 25 read in this order
        # instead of every active employee's name lowered and sorted (kpis/employees.py).
        sa.Index("ix_users_kind_lower_name", "kind", sa.text("lower(name)"), "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    kind: Mapped[Kind] = mapped_column(sa.Enum(Kind, native_enum=False, length=16), default=Kind.employee)
    role: Mapped[Role] = mapped_column(sa.Enum(Role, native_enum=False, length=16), default=Role.member)
    is_active_flag: Mapped[bool] = mapped_column("is_active", default=True, server_default=sa.true())
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    employee_no: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of the login id in the session and remember-me cookies: a new one ends every session
    # (log-out, password change or reset, deactivation, role change, "log out everywhere").
    session_token: Mapped[str] = mapped_column(sa.String(43), default=new_session_token, server_default="")
    # The language the person last used the shop in (from their browser at log-in): the mail we
    # send them (shipments, invitations) is written in it. None: the default language.
    locale: Mapped[str | None] = mapped_column(sa.String(16))
    # The language the person chose with the switch (header, account page): it beats their
    # browser's, on every device, and the mail we send them is written in it. None: not chosen.
    preferred_locale: Mapped[str | None] = mapped_column(sa.String(16))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Referral chain, fixed at sign-up (DESIGN.md). Employees are roots at level 0.
    referral_code: Mapped[str] = mapped_column(sa.String(16), unique=True, default=new_referral_code)
    level: Mapped[int] = mapped_column(default=0, server_default="0")
    referrer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    root_employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    l1_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    department: Mapped[Department | None] = relationship()

    def __repr__(self) -> str:
        return f"<User {self.email}>"

    def get_id(self) -> str:
        """Flask-Login's login id (session and remember-me cookies): the user and the token of
        their sessions, so that rotating the token refuses every cookie written before."""
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Refuse every session and remember-me cookie of this user from now on."""
        self.session_token = new_session_token()

    # Flask-Login reads is_active; the column is named is_active in the database.
    @property
    def is_active(self) -> bool:
        return self.is_active_flag

    @hybrid_property
    def chain_root_id(self) -> int:
        return chain_root_of(self.id, self.level, self.root_employee_id)

    @chain_root_id.inplace.expression
    @classmethod
    def _chain_root_id_expression(cls) -> sa.ColumnElement[int]:
        """``chain_root_of`` in SQL, for statements that find the chain from the user's row."""
        return sa.case((cls.level == 0, cls.id), else_=sa.func.coalesce(cls.root_employee_id, cls.id))

    @property
    def l1_of_order(self) -> int | None:
        """The L1 contact this user's orders and events are attributed to (level 2 only)."""
        return self.l1_contact_id if self.level == 2 else None

    @property
    def may_invite(self) -> bool:
        """Whether someone can join through this user's links: nobody deeper than L2, so an
        L2 contact is offered product share links (exposure) but no invite link or poster."""
        return self.level < MAX_LEVEL

    @property
    def is_employee(self) -> bool:
        return self.kind == Kind.employee

    @property
    def is_operator(self) -> bool:
        return self.role in (Role.operator, Role.admin)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @property
    def is_sales(self) -> bool:
        return self.role in (Role.sales, Role.admin)

    def set_password(self, password: str) -> None:
        """A new password ends the sessions that the old one opened."""
        self.password_hash = generate_password_hash(password)  # scrypt
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)


# What people read for these values (shop/labels.py).
register_labels(
    {
        Kind.employee: _l("employee"),
        Kind.contact: _l("contact"),
        Role.member: _l("member"),
        Role.operator: _l("operator"),
        Role.sales: _l("sales"),
        Role.admin: _l("admin"),
    }
)
