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

DEPARTMENTS = ("研发部", "市场销售部", "运营部", "财务人力部")

# (pinyin, characters). Given names are all different, so "given.surname@domain" (in pinyin) is
# unique for every generated employee; the name shown is the Chinese one, surname first.
_GIVEN_NAMES = (  # (pinyin, characters)
    ("Wei", "伟"),
    ("Fang", "芳"),
    ("Na", "娜"),
    ("Min", "敏"),
    ("Jing", "静"),
    ("Lei", "磊"),
    ("Jun", "军"),
    ("Yang", "洋"),
    ("Yong", "勇"),
    ("Yan", "艳"),
    ("Jie", "杰"),
    ("Tao", "涛"),
    ("Ming", "明"),
    ("Chao", "超"),
    ("Xiu", "秀"),
    ("Hui", "慧"),
    ("Ping", "平"),
    ("Gang", "刚"),
    ("Hua", "华"),
    ("Qiang", "强"),
    ("Li", "丽"),
    ("Xin", "欣"),
    ("Bo", "波"),
    ("Lin", "琳"),
    ("Hao", "浩"),
    ("Yu", "宇"),
    ("Ting", "婷"),
    ("Kai", "凯"),
    ("Rui", "睿"),
    ("Dan", "丹"),
    ("Peng", "鹏"),
    ("Lan", "兰"),
    ("Fei", "飞"),
    ("Ning", "宁"),
    ("Xue", "雪"),
    ("Long", "龙"),
    ("Jian", "建"),
    ("Mei", "梅"),
    ("Hong", "红"),
    ("Qing", "青"),
    ("Zhen", "珍"),
    ("Yi", "怡"),
    ("Shan", "珊"),
    ("Wen", "文"),
    ("Feng", "峰"),
    ("Liang", "亮"),
    ("Yun", "云"),
    ("Han", "涵"),
    ("Xia", "霞"),
    ("Cheng", "成"),
)
_SURNAMES = (  # (pinyin, characters)
    ("Li", "李"),
    ("Wang", "王"),
    ("Zhang", "张"),
    ("Liu", "刘"),
    ("Chen", "陈"),
    ("Yang", "杨"),
    ("Huang", "黄"),
    ("Zhao", "赵"),
    ("Wu", "吴"),
    ("Zhou", "周"),
    ("Xu", "徐"),
    ("Sun", "孙"),
    ("Ma", "马"),
    ("Zhu", "朱"),
    ("Hu", "胡"),
    ("Guo", "郭"),
    ("He", "何"),
    ("Gao", "高"),
    ("Lin", "林"),
    ("Luo", "罗"),
)

# Where the demo's staff live: (district, its code in shop/orders/regions.py, street, postcode),
# all in Shanghai, where the company is.
_STREETS = (
    ("浦东新区", "310115", "世纪大道", "200120"),
    ("静安区", "310106", "南京西路", "200040"),
    ("黄浦区", "310101", "淮海中路", "200021"),
    ("浦东新区", "310115", "张江路", "201203"),
    ("长宁区", "310105", "虹桥路", "200336"),
    ("黄浦区", "310101", "徐家汇路", "200023"),
    ("徐汇区", "310104", "复兴中路", "200031"),
    ("浦东新区", "310115", "东方路", "200122"),
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
        DemoPerson("admin", "孙颖", "E0001", DEPARTMENTS[3], Role.admin, "admin"),
        DemoPerson("operator", "马倩", "E0002", DEPARTMENTS[2], Role.operator, "operator"),
        DemoPerson("sales", "何俊", "E0003", DEPARTMENTS[1], Role.sales, "sales"),
    ]
    # The two employees the README lists as demo log-ins (alice@ is 王丽, bob@ is 陈博), then
    # generated colleagues.
    employees = [
        DemoPerson("alice", "王丽", "E1001", DEPARTMENTS[0], Role.member, "employee"),
        DemoPerson("bob", "陈博", "E1002", DEPARTMENTS[1], Role.member, "employee"),
    ]
    for i in range(len(employees), EMPLOYEE_COUNT):
        (given, given_hz), (surname, surname_hz) = _GIVEN_NAMES[i], _SURNAMES[(i * 7) % len(_SURNAMES)]
        employees.append(
            DemoPerson(
                f"{given}.{surname}".lower(),
                f"{surname_hz}{given_hz}",
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
            district, code, road, postcode = street
            # A lane (弄) off the road, a building in it and a flat: 世纪大道288弄5号1203室.
            home = f"{number % 20 + 1}号{number % 18 + 2}0{number % 4 + 1}室"
            db.session.add(
                Address(
                    user_id=user.id,
                    recipient=user.name,
                    phone=f"+86138{phone}",
                    province="上海市",
                    city="上海市",
                    district=district,
                    region_code=code,
                    line1=f"{road}{number}弄{home}",
                    postcode=postcode,
                    country="CN",
                )
            )
    db.session.flush()


def demo_users(role: Role | None = None) -> list[User]:
    """The demo accounts that exist, in the order of PEOPLE (optionally only those of ``role``)."""
    emails = [email_of(p) for p in PEOPLE if role is None or p.role == role]
    found = {u.email.lower(): u for u in db.session.scalars(select(User).where(func.lower(User.email).in_(emails)))}
    return [found[e] for e in emails if e in found]
