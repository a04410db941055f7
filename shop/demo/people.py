"""Demo people: employees in departments, operators, sales and admin, with shared log-ins."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from shop.accounts.models import Department, Kind, Role, User
from shop.audit.services import record
from shop.demo.progress import SEED, Progress, progress_bar
from shop.extensions import db
from shop.orders.models import Address

DEMO_PASSWORD = "demo-pass-1"  # every demo account shares it (one scrypt hash for all)
EMPLOYEE_COUNT = 50

DEPARTMENTS = ("Engineering", "Sales & Marketing", "Operations", "Finance & HR")

# Given names are all different, so "given.surname@domain" is unique for every generated employee.
_GIVEN_NAMES = (
    "Wei",
    "Fang",
    "Na",
    "Min",
    "Jing",
    "Lei",
    "Jun",
    "Yang",
    "Yong",
    "Yan",
    "Jie",
    "Tao",
    "Ming",
    "Chao",
    "Xiu",
    "Hui",
    "Ping",
    "Gang",
    "Hua",
    "Qiang",
    "Li",
    "Xin",
    "Bo",
    "Lin",
    "Hao",
    "Yu",
    "Ting",
    "Kai",
    "Rui",
    "Dan",
    "Peng",
    "Lan",
    "Fei",
    "Ning",
    "Xue",
    "Long",
    "Jian",
    "Mei",
    "Hong",
    "Qing",
    "Zhen",
    "Yi",
    "Shan",
    "Wen",
    "Feng",
    "Liang",
    "Yun",
    "Han",
    "Xia",
    "Cheng",
)
_SURNAMES = (
    "Li",
    "Wang",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
    "Hu",
    "Guo",
    "He",
    "Gao",
    "Lin",
    "Luo",
)
_STREETS = (
    "Century Avenue",
    "Nanjing Road",
    "Huaihai Road",
    "Zhangjiang Road",
    "Hongqiao Road",
    "Xujiahui Road",
    "Fuxing Road",
    "Dongfang Road",
)


@dataclass(frozen=True)
class DemoPerson:
    local_part: str  # of the e-mail address; the domain comes from the configuration
    name: str
    employee_no: str
    department: str
    role: Role
    login_label: str | None = None  # shown in DEMO_LOGINS when set


DEMO_STAFF_AGE = timedelta(days=400)


def _people() -> list[DemoPerson]:
    staff = [
        DemoPerson("admin", "Sun Ying", "E0001", "Finance & HR", Role.admin, "admin"),
        DemoPerson("operator", "Ma Qian", "E0002", "Operations", Role.operator, "operator"),
        DemoPerson("sales", "He Jun", "E0003", "Sales & Marketing", Role.sales, "sales"),
    ]
    # The two employees the README lists as demo log-ins, then generated colleagues.
    employees = [
        DemoPerson("alice", "Alice Wang", "E1001", DEPARTMENTS[0], Role.member, "employee"),
        DemoPerson("bob", "Bob Chen", "E1002", DEPARTMENTS[1], Role.member, "employee"),
    ]
    for i in range(len(employees), EMPLOYEE_COUNT):
        given, surname = _GIVEN_NAMES[i], _SURNAMES[(i * 7) % len(_SURNAMES)]
        employees.append(
            DemoPerson(
                f"{given}.{surname}".lower(),
                f"{surname} {given}",
                f"E{1001 + i}",
                DEPARTMENTS[i % len(DEPARTMENTS)],
                Role.member,
            )
        )
    return staff + employees


PEOPLE: list[DemoPerson] = _people()


def company_domain() -> str:
    return current_app.config["COMPANY_EMAIL_DOMAINS"][0]


def email_of(person: DemoPerson) -> str:
    return f"{person.local_part}@{company_domain()}"


def staff_logins() -> list[tuple[str, str, str]]:
    """(role, e-mail, password) of the staff and employees worth logging in with."""
    return [(p.login_label, email_of(p), DEMO_PASSWORD) for p in PEOPLE if p.login_label]


def _seed_people(progress: Progress | None, now: datetime) -> None:
    departments = {d.name: d for d in db.session.scalars(select(Department))}
    for name in DEPARTMENTS:
        if name not in departments:
            departments[name] = Department(name=name)
            db.session.add(departments[name])

    emails = {email_of(p): p for p in PEOPLE}
    taken_emails = set(db.session.scalars(select(func.lower(User.email)).where(func.lower(User.email).in_(emails))))
    taken_nos = set(
        db.session.scalars(select(User.employee_no).where(User.employee_no.in_([p.employee_no for p in PEOPLE])))
    )
    password_hash = None
    with progress_bar(progress, "People", len(PEOPLE)) as bar:
        for email, person in emails.items():
            if email not in taken_emails and person.employee_no not in taken_nos:
                password_hash = password_hash or generate_password_hash(DEMO_PASSWORD)
                user = User(
                    email=email,
                    name=person.name,
                    kind=Kind.employee,
                    level=0,
                    role=person.role,
                    employee_no=person.employee_no,
                    department=departments[person.department],
                    password_hash=password_hash,
                    # Staff were there long before the friends they invited (referrals/demo.py).
                    created_at=now - DEMO_STAFF_AGE,
                    email_verified_at=now - DEMO_STAFF_AGE,
                )
                db.session.add(user)
                if person.role != Role.member:
                    record(
                        "user.role",
                        user,
                        actor=None,
                        before={"role": "member"},
                        after={"role": person.role.value},
                        reason="demo seed",
                    )
            bar.update(1)
    db.session.flush()

    # A saved address for every demo account that has none, so checkout works at once.
    users = demo_users()
    with_address = set(db.session.scalars(select(Address.user_id).where(Address.user_id.in_([u.id for u in users]))))
    rng = random.Random(SEED)
    for user in users:
        number, street, phone = rng.randint(1, 999), rng.choice(_STREETS), rng.randint(10_000_000, 99_999_999)
        if user.id not in with_address:
            db.session.add(
                Address(
                    user_id=user.id,
                    recipient=user.name,
                    phone=f"+86138{phone}",
                    province="上海市",
                    city="上海市",
                    district="浦东新区",
                    region_code="310115",
                    line1=f"{number} {street}",
                    postcode="200120",
                    country="CN",
                )
            )
    db.session.flush()


def demo_users(role: Role | None = None) -> list[User]:
    """The demo accounts that exist, in the order of PEOPLE (optionally only those of ``role``)."""
    emails = [email_of(p) for p in PEOPLE if role is None or p.role == role]
    found = {u.email.lower(): u for u in db.session.scalars(select(User).where(func.lower(User.email).in_(emails)))}
    return [found[e] for e in emails if e in found]
