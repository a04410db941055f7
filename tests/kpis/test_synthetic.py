"""`flask shop seed-synthetic` on a small plan: the shapes it promises, reproducible from its seed,
and the dashboard's figures over it equal to a recount."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date

from sqlalchemy import select

from kpis.aggregation import aggregate
from kpis.figures import Filters
from kpis.synthetic import seed_synthetic
from kpis.synthetic.plan import Plan
from referrals.models import FunnelEvent
from shop.accounts.models import User
from shop.database import write_intent
from shop.extensions import db
from shop.orders.models import Order
from tests.conftest import _empty_tables
from tests.kpis.conftest import utc
from tests.kpis.test_aggregation import _recount, _rollup, assert_pages_equal_a_recount

PLAN = Plan(employees=40, contacts=200, events=2_000, months=6, seed=5)
NOW = utc(2026, 6, 1)


def _signature() -> str:
    emails = dict(db.session.execute(select(User.id, User.email)).all())
    rows = sorted(
        (str(e.kind), e.at.isoformat(), emails.get(e.actor_id, ""), emails.get(e.root_employee_id, ""))
        for e in db.session.scalars(select(FunnelEvent))
    )
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _seed() -> dict:
    with write_intent():
        written = seed_synthetic(PLAN, now=NOW)
        db.session.commit()
    return written


def test_synthetic_data_has_the_promised_shapes_and_repeats_itself(app):
    written = _seed()
    assert (written["employees"], written["contacts"], written["events"]) == (40, 200, 2_000)
    assert db.session.query(FunnelEvent).count() == 2_000
    chains = Counter(db.session.scalars(select(User.root_employee_id).where(User.level > 0)))
    sizes = sorted(chains.values(), reverse=True)
    assert sizes[0] >= 4 * sizes[len(sizes) // 2]  # a few large chains, a long tail of small ones
    orders = list(db.session.scalars(select(Order)))
    assert any(o.festival_id for o in orders) and any(o.festival_id is None and o.paid_at for o in orders)
    assert any(o.refunded_amount for o in orders) and any(o.paid_at is None for o in orders)
    buyers = Counter(o.buyer_id for o in orders if o.paid_at)
    assert max(buyers.values()) >= 2  # repeat buyers
    aggregate()
    assert _rollup() == _recount()
    assert_pages_equal_a_recount(
        [
            Filters(date(2026, 3, 1), date(2026, 5, 31)),
            Filters(date(2026, 5, 2), date(2026, 5, 31), level=0),
            Filters(date(2025, 12, 20), date(2026, 2, 10), department_id=db.session.scalar(select(User.department_id))),
        ]
    )
    first = _signature()

    db.session.remove()
    _empty_tables()
    _seed()
    assert _signature() == first
