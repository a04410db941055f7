"""Demo referral data, called at the end of ``shop.demo.seed()``: contacts at both levels who
joined through invite and product links, visits and shares over the last weeks, and leads at
every stage of the pipeline. Everything goes through the referral services at past moments.

Idempotent like the rest of the demo: contacts are found by e-mail, and visits, shares and
leads are made only while there is no visit at all. Adds and flushes; the caller commits."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from referrals.models import LeadStatus, Visit
from referrals.models.leads import Timeline
from referrals.services import events, leads, visits
from referrals.services.join import Signup, join
from shop.accounts.models import Kind, Role, User
from shop.catalog.models import Product, SalesMode
from shop.database import utcnow
from shop.demo import DEMO_PASSWORD, PEOPLE, company_domain, progress_bar
from shop.extensions import db
from shop.orders.models import Address

SEED = 3003
CONTACT_DOMAIN = "friends.example"
INVITE_COUNTS = (4, 3, 2, 2, 1, 2)  # L1 contacts of the first demo employees (Alice, Bob, ...)
# Each contact's log-in is romanised (lily.zhao.0@friends.example, as the README gives them);
# the name they go by is Chinese: (romanised given name, Chinese given name) and the same for
# family names.
_GIVEN = (
    ("Lily", "莉莉"),
    ("Tom", "涛"),
    ("Grace", "雅婷"),
    ("Leo", "磊"),
    ("Emma", "思涵"),
    ("Jack", "俊杰"),
    ("Chloe", "可欣"),
    ("Ryan", "睿"),
    ("Mia", "梦瑶"),
    ("Kevin", "凯"),
    ("Zoe", "紫萱"),
    ("Owen", "文博"),
    ("Amy", "欣怡"),
    ("Ben", "斌"),
    ("Iris", "诗琪"),
    ("Sam", "晟"),
    ("Nina", "宁"),
    ("Alex", "昊天"),
    ("Ruby", "若彤"),
    ("Eric", "宇航"),
    ("Coco", "可可"),
    ("Dylan", "东"),
    ("Ivy", "一诺"),
    ("Max", "明轩"),
)
_FAMILY = (
    ("Zhao", "赵"),
    ("Qian", "钱"),
    ("Sun", "孙"),
    ("Li", "李"),
    ("Zhou", "周"),
    ("Wu", "吴"),
    ("Zheng", "郑"),
    ("Feng", "冯"),
    ("Chu", "褚"),
    ("Wei", "卫"),
    ("Jiang", "蒋"),
    ("Shen", "沈"),
)
BURST_IP = "203.0.113.77"  # a documentation address: several sign-ups within an hour, for the flags page


def _person(n: int) -> tuple[str, str]:
    """The n-th contact's name (赵莉莉) and log-in (lily.zhao.0@friends.example)."""
    (given, given_zh), (family, family_zh) = _GIVEN[n % len(_GIVEN)], _FAMILY[(n * 5) % len(_FAMILY)]
    return family_zh + given_zh, f"{given}.{family}.{n}".lower() + f"@{CONTACT_DOMAIN}"


def inviters() -> dict[str, int]:
    """The demo employees (by e-mail local part) who invite, and how many L1 contacts each."""

    members = [p.local_part for p in PEOPLE if p.role == Role.member]
    return dict(zip(members, INVITE_COUNTS, strict=False))


def _plan() -> list[tuple[str, str, str, int]]:
    """(inviter key, name, e-mail, age in hours); an inviter key is an
    employee's local part or the e-mail of an L1 contact planned before it."""
    rng = random.Random(SEED)
    plan, n = [], 0
    for local, count in inviters().items():
        for _ in range(count):
            name, email = _person(n)
            n += 1
            plan.append((local, name, email, rng.randint(72, 24 * 40)))
            for _ in range(rng.choice((0, 1, 1, 2, 3))):
                l2_name, l2_email = _person(n)
                n += 1
                plan.append((email, l2_name, l2_email, rng.randint(1, 70)))
    return plan


def contact_logins() -> list[tuple[str, str]]:
    """(label, e-mail) of a contact at each level to log in as: the first L1 contact the demo's
    first employee (Alice) invited, and the first L2 contact that contact invited."""
    plan = _plan()
    first_employee = next(iter(inviters()))
    level1 = next(email for inviter, _, email, _ in plan if inviter == first_employee)
    level2 = next(email for inviter, _, email, _ in plan if inviter == level1)
    return [("contact L1", level1), ("contact L2", level2)]


def seed_referrals(progress=None, now: datetime | None = None) -> None:

    now = now or utcnow()
    employees = {
        u.email.split("@")[0]: u
        for u in db.session.scalars(
            select(User).where(User.kind == Kind.employee, User.email.like(f"%@{company_domain()}"))
        )
    }
    plan = [step for step in _plan() if step[0] in employees or "@" in step[0]]
    existing = set(
        db.session.scalars(
            select(func.lower(User.email)).where(func.lower(User.email).in_([email for _, _, email, _ in plan]))
        )
    )
    products = list(db.session.scalars(select(Product).where(Product.is_active.is_(True)).order_by(Product.slug)))
    direct = [p for p in products if p.sales_mode == SalesMode.direct]
    rng = random.Random(SEED)
    missing = [step for step in plan if step[2] not in existing]
    password_hash = None  # one hash for every demo account, as in shop.demo
    if missing:
        with progress_bar(progress, "Referrals", len(missing)) as bar:
            for i, (inviter, name, email, age_hours) in enumerate(missing):
                owner = employees.get(inviter) or db.session.scalar(select(User).where(User.email == inviter))
                if owner is None:
                    continue
                joined = now - timedelta(hours=age_hours)
                product = rng.choice(direct) if direct and rng.random() < 0.5 else None
                ip = BURST_IP if i < 5 else f"198.51.100.{rng.randint(1, 254)}"
                if i < 5:
                    joined = now - timedelta(hours=30) + timedelta(minutes=i * 7)
                if owner.kind == Kind.contact:  # after the person who invited them
                    joined = min(max(joined, owner.created_at + timedelta(minutes=20)), now)
                password_hash = password_hash or generate_password_hash(DEMO_PASSWORD)
                join(
                    owner.referral_code,
                    Signup(name, email, DEMO_PASSWORD),
                    product=product,
                    ip=ip,
                    now=joined,
                    verified_at=joined,
                    password_hash=password_hash,
                )
                bar.update(1)
        db.session.flush()
    _seed_addresses(plan)
    if db.session.scalar(select(Visit.id).limit(1)) is None:
        _seed_activity(now, employees, direct, [p for p in products if p.sales_mode == SalesMode.lead])
    db.session.flush()


def _seed_addresses(plan) -> None:
    """Every demo contact gets an address; three of them share one (a flag for operators)."""
    contacts = list(
        db.session.scalars(select(User).where(User.email.in_([email for _, _, email, _ in plan])).order_by(User.id))
    )
    with_address = set(db.session.scalars(select(Address.user_id).where(Address.user_id.in_([c.id for c in contacts]))))
    for n, contact in enumerate(contacts):
        if contact.id in with_address:
            continue
        line1 = "金桥路88弄8号101室" if n < 3 else f"金桥路{100 + n}弄{n % 12 + 1}号{n % 6 + 1}0{n % 3 + 1}室"
        db.session.add(
            Address(
                user_id=contact.id,
                recipient=contact.name,
                phone=f"+86 139 {10_000_000 + n}",
                province="上海市",
                city="上海市",
                district="浦东新区",
                region_code="310115",
                line1=line1,
                postcode="201206",
                country="CN",
            )
        )
    db.session.flush()


def _seed_activity(now: datetime, employees: dict[str, User], direct: list[Product], lead_products: list[Product]):
    rng = random.Random(SEED + 1)
    members = list(db.session.scalars(select(User).where(User.email.like(f"%@{CONTACT_DOMAIN}")).order_by(User.id)))
    sharers = [employees[k] for k in inviters() if k in employees] + [m for m in members if m.level < 2][:8]
    visitor = 0
    for sharer in sharers:
        for _ in range(rng.randint(2, 6)):
            product = rng.choice(direct) if direct and rng.random() < 0.7 else None
            moment = now - timedelta(days=rng.randint(0, 30), minutes=rng.randint(0, 600))
            events.record_share(
                sharer,
                source=rng.choice(("link", "link", "poster")),
                product_id=product.id if product else None,
                at=moment,
            )
            for _ in range(rng.randint(1, 6)):
                visitor += 1
                visits.record_visit(
                    sharer,
                    visitor=f"a:demo-visitor-{visitor:05d}",
                    product=product,
                    ip=f"198.51.100.{rng.randint(1, 254)}",
                    now=moment + timedelta(minutes=rng.randint(1, 2000)),
                )
    if not lead_products:
        return
    reps = leads.sales_reps()
    referrers = sharers[:10]
    needs = (
        "新房入住前全屋安装",
        "12 人的团队想做年度体检",
        "想和现在用的产品比较一下",
        "给父母买的礼物",
        "30 人的办公室",
    )
    stages = (None, LeadStatus.contacted, LeadStatus.qualified, LeadStatus.won, LeadStatus.lost)
    for n, referrer in enumerate(referrers):
        created = now - timedelta(days=rng.randint(2, 40))
        lead = leads.submit_lead(
            referrer,
            lead_products[n % len(lead_products)],
            leads.LeadInput(
                customer_name=_FAMILY[n % len(_FAMILY)][1] + _GIVEN[(n + 7) % len(_GIVEN)][1],
                customer_phone=f"+86 137 {20_000_000 + n}",
                customer_email="",
                company=rng.choice(("", "上海锦程贸易有限公司")),
                need=needs[n % len(needs)],
                budget=rng.choice((None, 500_000, 1_200_000)),
                timeline=rng.choice(list(Timeline)),
                consent=True,
            ),
            now=created,
            notify=False,
        )
        target = stages[n % len(stages)]
        if target is None or lead.assignee is None or lead.assignee.role != Role.sales or not reps:
            continue
        path = {
            LeadStatus.contacted: [LeadStatus.contacted],
            LeadStatus.qualified: [LeadStatus.contacted, LeadStatus.qualified],
            LeadStatus.won: [LeadStatus.contacted, LeadStatus.qualified, LeadStatus.won],
            LeadStatus.lost: [LeadStatus.contacted, LeadStatus.lost],
        }[target]
        for step, status in enumerate(path, start=1):
            leads.move_lead(
                lead.assignee,
                lead,
                status,
                now=created + timedelta(days=step),
                amount=rng.choice((880_000, 1_560_000)) if status == LeadStatus.won else None,
                reason="选择了竞品的方案" if status == LeadStatus.lost else None,
                notify=False,
            )
