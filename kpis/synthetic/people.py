"""The people of a synthetic data set: employees, each with the weight of their chain, and
contacts at two levels under them, drawn by those weights (a few large chains, a long tail)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from werkzeug.security import generate_password_hash

from kpis.bulk import insert_returning
from kpis.synthetic import names as synthetic_names
from kpis.synthetic.plan import Span
from kpis.synthetic.reference import DEPARTMENTS
from shop.accounts.models import Kind, User
from shop.demo.progress import Progress, progress_bar

PASSWORD = "synthetic-pass-1"
WEIGHT_CAP = 300.0


@dataclass
class Person:
    id: int
    level: int
    root: int
    l1: int | None
    joined: datetime


@dataclass(frozen=True)
class People:
    employees: list[Person]
    contacts: list[Person]  # level 1, then level 2
    weights: dict[int, float]  # the weight of each employee's chain, by employee id


def write_people(span: Span, departments: list[int], progress: Progress | None) -> People:
    """The employees (a few of them gone since), then the contacts under them."""
    employees, weights = _employees(span, departments, progress)
    return People(employees, _contacts(span, employees, weights, progress), weights)


def _employees(span: Span, departments: list[int], progress: Progress | None) -> tuple[list[Person], dict[int, float]]:
    plan, rnd = span.plan, span.random
    password = generate_password_hash(PASSWORD)
    rows = []
    for i in range(plan.employees):
        joined = span.start - timedelta(days=rnd.randint(0, 700))
        left = None
        if rnd.random() < 0.04:
            left = span.moment(joined)
        rows.append(
            dict(
                email=f"{span.prefix}-e{i}@neigou.example",
                name=synthetic_names.person(i),
                password_hash=password,
                kind=Kind.employee.value,
                role="member",
                is_active=left is None,
                email_verified_at=joined,
                employee_no=f"S{plan.seed}-{i}",
                department_id=departments[min(int(rnd.paretovariate(0.8)) - 1, DEPARTMENTS - 1)],
                created_at=joined,
                deactivated_at=left,
                referral_code=f"s{plan.seed}e{i}"[:16],
                level=0,
            )
        )
    with progress_bar(progress, "employees", len(rows)) as bar:
        ids = insert_returning(User.__table__, rows, bar)
    # Chain weights: Pareto, so a few employees carry large chains and most small ones; capped,
    # so that the largest chain is a few hundred times the typical one, not half the company.
    weights = [min(rnd.paretovariate(1.3), WEIGHT_CAP) for _ in ids]
    employees = [Person(uid, 0, uid, None, row["created_at"]) for uid, row in zip(ids, rows, strict=True)]
    return employees, dict(zip(ids, weights, strict=True))


def _contacts(
    span: Span, employees: list[Person], weights: dict[int, float], progress: Progress | None
) -> list[Person]:
    plan, rnd = span.plan, span.random
    password = generate_password_hash(PASSWORD)
    l1_count = plan.contacts * 7 // 10
    roots = rnd.choices(employees, weights=[weights[p.id] for p in employees], k=l1_count)
    rows = []
    for i, root in enumerate(roots):
        joined = span.moment(root.joined)
        rows.append(_contact_row(span, i, 1, root.id, root.id, None, joined, password))
    with progress_bar(progress, "L1 contacts", plan.contacts) as bar:
        l1_ids = insert_returning(User.__table__, rows, bar)
        l1 = [Person(uid, 1, r["root_employee_id"], None, r["created_at"]) for uid, r in zip(l1_ids, rows, strict=True)]
        # L2 contacts under L1 contacts of heavy chains more often (preferential attachment).
        parents = rnd.choices(l1, weights=[weights[p.root] for p in l1], k=plan.contacts - l1_count) if l1 else []
        rows = []
        for j, parent in enumerate(parents):
            joined = span.moment(parent.joined)
            rows.append(_contact_row(span, l1_count + j, 2, parent.id, parent.root, parent.id, joined, password))
        l2_ids = insert_returning(User.__table__, rows, bar)
    l2 = [
        Person(uid, 2, r["root_employee_id"], r["l1_contact_id"], r["created_at"])
        for uid, r in zip(l2_ids, rows, strict=True)
    ]
    return l1 + l2


def _contact_row(span: Span, i, level, referrer, root, l1, joined, password) -> dict:
    return dict(
        email=f"{span.prefix}-c{i}@friends.example",
        name=synthetic_names.person(i + 7),
        password_hash=password,
        kind=Kind.contact.value,
        role="member",
        is_active=True,
        email_verified_at=joined,
        created_at=joined,
        referral_code=f"s{span.plan.seed}c{i}"[:16],
        level=level,
        referrer_id=referrer,
        root_employee_id=root,
        l1_contact_id=l1,
    )
