"""Synthetic data at scale for `flask shop seed-synthetic`: employees, contacts at two levels,
funnel events and orders with the shapes of a real programme, reproducible from a seed.

- Chain sizes follow a Pareto law (capped): a few employees bring hundreds of contacts, most a
  handful or none. Events and orders go to chains by the same weights (the long tail).
- Three festivals a year (a week of launch each, after a week of preheat) triple the rate of
  shares, visits and orders inside their windows; most orders there are festival orders.
- Buyers come back (geometric number of orders per buyer); 10% of checkouts are never paid
  (cancelled or expired), 6% of paid orders are refunded in full or in part.
- Funnel events keep the chain they were written for, as the writers do.

Rows go in with Core executemany (the driver batches them), never one ORM object at a time.
Adds and flushes; the caller commits. The names are prefixed by the seed, so two seeds can
share a database, and the same seed twice on an empty one gives the same rows.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from kpis.bulk import BATCH, Progress, insert_returning, insert_rows, progress_of
from referrals.models import FunnelEvent
from shop.accounts.models import Department, Kind, User
from shop.catalog.festival_models import Festival
from shop.catalog.models import Category, Product, SalesMode, Variant
from shop.database import utcnow
from shop.extensions import db
from shop.orders.models import Order, OrderLine, OrderStatus

PASSWORD = "synthetic-pass-1"
DEPARTMENTS = 12
PRODUCTS = 40
FESTIVAL_BOOST = 3.0
WEIGHT_CAP = 300.0


@dataclass(frozen=True)
class Plan:
    employees: int
    contacts: int
    events: int
    months: int
    seed: int


@dataclass
class Person:
    id: int
    level: int
    root: int
    l1: int | None
    joined: datetime


class Synthetic:
    def __init__(self, plan: Plan, progress: Progress | None = None, now: datetime | None = None):
        self.plan = plan
        self.progress = progress
        self.random = random.Random(plan.seed)
        self.now = now or utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        self.start = self.now - timedelta(days=30 * plan.months)
        self.prefix = f"syn{plan.seed}"

    # ---- time -------------------------------------------------------------------------------

    def _festivals(self) -> list[tuple[datetime, datetime]]:
        """Three a year: launch weeks spread over the span, most recent first to be kept."""
        span = self.now - self.start
        count = max(1, round(3 * span.days / 365))
        windows = []
        for k in range(count):
            launch = self.start + span * (k + 0.6) / count
            windows.append((launch, launch + timedelta(days=7)))
        return windows

    def _moment(self, after: datetime | None = None) -> datetime:
        """A moment in the span, three times as likely inside a festival's launch week."""
        low = max(after or self.start, self.start)
        if low >= self.now:
            return self.now - timedelta(seconds=1)
        windows = [(a, b) for a, b in self.windows if b > low]
        festival_share = sum(((b - max(a, low)) for a, b in windows), timedelta()) * FESTIVAL_BOOST
        total = festival_share + (self.now - low)
        if windows and self.random.random() < festival_share / total:
            a, b = self.random.choice(windows)
            a = max(a, low)
            return a + (b - a) * self.random.random()
        return low + (self.now - low) * self.random.random()

    def _festival_at(self, moment: datetime) -> int | None:
        for (a, b), festival_id in zip(self.windows, self.festival_ids, strict=True):
            if a <= moment < b:
                return festival_id
        return None

    # ---- rows -------------------------------------------------------------------------------

    def run(self) -> dict:
        self.windows = self._festivals()
        self._reference_rows()
        employees = self._employees()
        contacts = self._contacts(employees)
        orders = self._orders(employees, contacts)
        events = self._events(employees, contacts, orders)
        return {"employees": len(employees), "contacts": len(contacts), "orders": orders, "events": events}

    def _reference_rows(self) -> None:
        names = [f"Dept {k + 1:02d}" for k in range(DEPARTMENTS)]
        found = {d.name: d.id for d in db.session.scalars(select(Department).where(Department.name.in_(names)))}
        for name in names:
            if name not in found:
                department = Department(name=name)
                db.session.add(department)
                db.session.flush()
                found[name] = department.id
        self.departments = [found[n] for n in names]
        category = db.session.scalar(select(Category).where(Category.slug == "synthetic"))
        if category is None:
            category = Category(name="Synthetic", slug="synthetic")
            db.session.add(category)
            db.session.flush()
        variants = list(db.session.execute(select(Variant.id, Variant.product_id, Variant.sku, Variant.employee_price)))
        if len(variants) < PRODUCTS:
            for k in range(PRODUCTS):
                slug = f"{self.prefix}-product-{k}"
                if db.session.scalar(select(Product.id).where(Product.slug == slug)):
                    continue
                price = self.random.choice((1_990, 4_900, 9_900, 19_900, 39_900, 89_900))
                product = Product(
                    name=f"Synthetic product {k}",
                    slug=slug,
                    category=category,
                    summary="",
                    description_md="",
                    sales_mode=SalesMode.direct,
                    is_active=True,
                )
                product.variants.append(
                    Variant(
                        sku=f"{self.prefix}-{k}",
                        name="Standard",
                        currency="CNY",
                        market_price=price,
                        employee_price=price * 7 // 10,
                        contact_price=price * 85 // 100,
                        stock=1_000_000,
                    )
                )
                db.session.add(product)
            db.session.flush()
            variants = list(
                db.session.execute(select(Variant.id, Variant.product_id, Variant.sku, Variant.employee_price))
            )
        self.variants = variants
        self.festival_ids = []
        for k, (launch, ends) in enumerate(self.windows):
            slug = f"{self.prefix}-festival-{k}"
            festival = db.session.scalar(select(Festival).where(Festival.slug == slug))
            if festival is None:
                festival = Festival(
                    name=f"Festival {launch:%Y-%m}",
                    slug=slug,
                    preheat_at=launch - timedelta(days=7),
                    launch_at=launch,
                    ends_at=ends,
                )
                db.session.add(festival)
                db.session.flush()
            self.festival_ids.append(festival.id)

    def _employees(self) -> list[Person]:
        plan, rnd = self.plan, self.random
        password = generate_password_hash(PASSWORD)
        rows = []
        for i in range(plan.employees):
            joined = self.start - timedelta(days=rnd.randint(0, 700))
            left = None
            if rnd.random() < 0.04:
                left = self._moment(joined)
            rows.append(
                dict(
                    email=f"{self.prefix}-e{i}@neigou.example",
                    name=f"Employee {i}",
                    password_hash=password,
                    kind=Kind.employee.value,
                    role="member",
                    is_active=left is None,
                    email_verified_at=joined,
                    employee_no=f"S{plan.seed}-{i}",
                    department_id=self.departments[min(int(rnd.paretovariate(0.8)) - 1, DEPARTMENTS - 1)],
                    created_at=joined,
                    deactivated_at=left,
                    referral_code=f"s{plan.seed}e{i}"[:16],
                    level=0,
                )
            )
        with progress_of(self.progress, "employees", len(rows)) as bar:
            ids = insert_returning(User.__table__, rows, bar)
        # Chain weights: Pareto, so a few employees carry large chains and most small ones; capped,
        # so that the largest chain is a few hundred times the typical one, not half the company.
        self.weights = [min(rnd.paretovariate(1.3), WEIGHT_CAP) for _ in ids]
        return [Person(uid, 0, uid, None, row["created_at"]) for uid, row in zip(ids, rows, strict=True)]

    def _contacts(self, employees: list[Person]) -> list[Person]:
        plan, rnd = self.plan, self.random
        password = generate_password_hash(PASSWORD)
        l1_count = plan.contacts * 7 // 10
        roots = rnd.choices(employees, weights=self.weights, k=l1_count)
        rows = []
        for i, root in enumerate(roots):
            joined = self._moment(root.joined)
            rows.append(self._contact_row(i, 1, root.id, root.id, None, joined, password))
        with progress_of(self.progress, "L1 contacts", plan.contacts) as bar:
            l1_ids = insert_returning(User.__table__, rows, bar)
            l1 = [
                Person(uid, 1, r["root_employee_id"], None, r["created_at"])
                for uid, r in zip(l1_ids, rows, strict=True)
            ]
            # L2 contacts under L1 contacts of heavy chains more often (preferential attachment).
            parents = (
                rnd.choices(l1, weights=[self.weights_of(p.root, employees) for p in l1], k=plan.contacts - l1_count)
                if l1
                else []
            )
            rows = []
            for j, parent in enumerate(parents):
                joined = self._moment(parent.joined)
                rows.append(self._contact_row(l1_count + j, 2, parent.id, parent.root, parent.id, joined, password))
            l2_ids = insert_returning(User.__table__, rows, bar)
        l2 = [
            Person(uid, 2, r["root_employee_id"], r["l1_contact_id"], r["created_at"])
            for uid, r in zip(l2_ids, rows, strict=True)
        ]
        return l1 + l2

    def weights_of(self, root: int, employees: list[Person]) -> float:
        if not hasattr(self, "_weight_by_id"):
            self._weight_by_id = {p.id: w for p, w in zip(employees, self.weights, strict=True)}
        return self._weight_by_id[root]

    def _contact_row(self, i, level, referrer, root, l1, joined, password) -> dict:
        return dict(
            email=f"{self.prefix}-c{i}@friends.example",
            name=f"Contact {i}",
            password_hash=password,
            kind=Kind.contact.value,
            role="member",
            is_active=True,
            email_verified_at=joined,
            created_at=joined,
            referral_code=f"s{self.plan.seed}c{i}"[:16],
            level=level,
            referrer_id=referrer,
            root_employee_id=root,
            l1_contact_id=l1,
        )

    def _orders(self, employees: list[Person], contacts: list[Person]) -> list[tuple]:
        """Checkouts: ~ one paid order per 10 events. Returns (buyer, level, root, l1, paid_at,
        festival, product, first) for the paid ones, in time order per buyer."""
        plan, rnd = self.plan, self.random
        target = max(1, plan.events // 10)
        people = employees + contacts
        weights = [self.weights_of(p.root, employees) for p in people]
        picks = iter(rnd.choices(people, weights=weights, k=target))  # at most one buyer per order
        buyers = []
        orders_left = target
        while orders_left > 0:
            n = min(orders_left, 1 + int(rnd.expovariate(0.6)))
            buyers.append((next(picks), n))
            orders_left -= n
        rows, lines, paid = [], [], []
        for person, n in buyers:
            moments = sorted(self._moment(person.joined) for _ in range(n))
            for moment in moments:
                variant = rnd.choice(self.variants)
                quantity = 1 + int(rnd.expovariate(1.5))
                total = variant.employee_price * quantity
                festival = self._festival_at(moment) if rnd.random() < 0.7 else None
                roll = rnd.random()
                status, paid_at, refunded, closed = OrderStatus.paid.value, moment + timedelta(minutes=2), 0, None
                if roll < 0.05:
                    status, paid_at, closed = OrderStatus.cancelled.value, None, moment + timedelta(minutes=5)
                elif roll < 0.10:
                    status, paid_at, closed = OrderStatus.expired.value, None, moment + timedelta(minutes=15)
                elif roll < 0.13:
                    status, refunded = OrderStatus.refunded.value, total
                elif roll < 0.16:
                    status, refunded = OrderStatus.partially_refunded.value, total // 2
                elif roll < 0.80 and moment < self.now - timedelta(days=3):
                    status = OrderStatus.completed.value
                rows.append(
                    dict(
                        buyer_id=person.id,
                        status=status,
                        currency="CNY",
                        total_amount=total,
                        refunded_amount=refunded,
                        price_tier="employee" if person.level == 0 else "contact",
                        payment_method="payroll" if person.level == 0 else "card",
                        buyer_level=person.level,
                        root_employee_id=person.root,
                        l1_contact_id=person.l1,
                        festival_id=festival,
                        ship_to="Synthetic address",
                        created_at=moment,
                        expires_at=moment + timedelta(minutes=15),
                        paid_at=paid_at,
                        closed_at=closed,
                    )
                )
                lines.append((variant, quantity))
        with progress_of(self.progress, "orders", len(rows) * 2) as bar:
            ids = insert_returning(Order.__table__, rows, bar)
            line_rows = [
                dict(
                    order_id=order_id,
                    variant_id=variant.id,
                    product_name="Synthetic product",
                    variant_name="Standard",
                    sku=variant.sku,
                    unit_price=variant.employee_price,
                    market_price=variant.employee_price,
                    quantity=quantity,
                    refunded_quantity=quantity if row["status"] == OrderStatus.refunded.value else 0,
                )
                for order_id, row, (variant, quantity) in zip(ids, rows, lines, strict=True)
            ]
            insert_rows(OrderLine.__table__, line_rows, bar)
        seen: set[int] = set()
        for order_id, row, (variant, _q) in sorted(
            zip(ids, rows, lines, strict=True), key=lambda item: (item[1]["paid_at"] or self.now, item[0])
        ):
            if row["paid_at"] is None:
                continue
            first = row["buyer_id"] not in seen
            seen.add(row["buyer_id"])
            paid.append((order_id, row, variant.product_id, first))
        return paid

    def _events(self, employees: list[Person], contacts: list[Person], orders: list[tuple]) -> int:
        fixed = len(contacts) + len(orders)
        free = max(0, self.plan.events - fixed)
        total = fixed + free
        with progress_of(self.progress, "events", total) as bar:
            batch: list[dict] = []
            for row in self._event_rows(employees, contacts, orders, free):
                batch.append(row)
                if len(batch) >= BATCH:
                    insert_rows(FunnelEvent.__table__, batch, bar)
                    batch = []
            insert_rows(FunnelEvent.__table__, batch, bar)
        return total

    def _event_rows(self, employees, contacts, orders, free: int) -> Iterator[dict]:
        rnd = self.random
        products = sorted({v.product_id for v in self.variants})
        for c in contacts:  # every contact joined through a link
            referrer = c.root if c.level == 1 else c.l1
            yield self._event("signup", c.joined, c.id, c.root, c.l1 if c.level == 2 else None, referrer, None)
        for order_id, row, product, first in orders:
            yield self._event(
                "first_order" if first else "repeat_order",
                row["paid_at"],
                row["buyer_id"],
                row["root_employee_id"],
                row["l1_contact_id"],
                None,
                product,
                festival=row["festival_id"],
                order_id=order_id,
            )
        members = employees + contacts
        weights = [self.weights_of(p.root, employees) for p in members]
        kinds, kind_weights = ("share", "visit", "consultation"), (40, 50, 10)
        picks = rnd.choices(members, weights=weights, k=free)
        for person in picks:
            kind = rnd.choices(kinds, weights=kind_weights, k=1)[0]
            moment = self._moment(person.joined)
            product = rnd.choice(products) if kind != "consultation" or rnd.random() < 0.5 else None
            actor = None if kind == "visit" and rnd.random() < 0.8 else person.id
            yield self._event(
                kind,
                moment,
                actor,
                person.root,
                person.l1,
                person.id,
                product,
                festival=self._festival_at(moment),
            )

    def _event(self, kind, at, actor, root, l1, link_owner, product, *, festival=None, order_id=None) -> dict:
        return dict(
            kind=kind,
            at=at,
            actor_id=actor,
            root_employee_id=root,
            l1_contact_id=l1,
            link_owner_id=link_owner,
            product_id=product,
            festival_id=festival,
            order_id=order_id,
            source="synthetic",
        )


def seed_synthetic(plan: Plan, progress: Progress | None = None, now: datetime | None = None) -> dict:
    """Write the synthetic data set; returns what was written."""
    return Synthetic(plan, progress, now).run()


def is_seeded(plan: Plan) -> bool:
    return db.session.scalar(select(User.id).where(User.email == f"syn{plan.seed}-e0@neigou.example")) is not None
