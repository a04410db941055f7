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

Here the parts are written in turn, over the plan's span (``kpis.synthetic.plan``), in the order
of their draws from the seed: departments, products and festivals (``kpis.synthetic.reference``),
people (``kpis.synthetic.people``), orders (``kpis.synthetic.orders``), funnel events
(``kpis.synthetic.events``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from kpis.synthetic.events import write_events
from kpis.synthetic.orders import write_orders
from kpis.synthetic.people import write_people
from kpis.synthetic.plan import Plan, Span
from kpis.synthetic.reference import write_reference
from shop.accounts.models import User
from shop.demo.progress import Progress
from shop.extensions import db


def seed_synthetic(plan: Plan, progress: Progress | None = None, now: datetime | None = None) -> dict:
    """Write the synthetic data set; returns what was written."""
    span = Span(plan, now)
    reference = write_reference(span)
    people = write_people(span, reference.departments, progress)
    orders = write_orders(span, reference, people, progress)
    events = write_events(span, reference, people, orders, progress)
    return {"employees": len(people.employees), "contacts": len(people.contacts), "orders": orders, "events": events}


def is_seeded(plan: Plan) -> bool:
    return db.session.scalar(select(User.id).where(User.email == f"syn{plan.seed}-e0@neigou.example")) is not None
