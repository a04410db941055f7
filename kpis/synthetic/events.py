"""The funnel events of a synthetic data set: a sign-up for every contact, a first or repeat
order for every paid order, and shares, visits and consultations, by chain weight, for the
rest of the plan's events. Every event keeps the chain it was written for, as the writers do."""

from __future__ import annotations

from collections.abc import Iterator

from kpis.bulk import BATCH, insert_rows
from kpis.synthetic.people import People
from kpis.synthetic.plan import Span
from kpis.synthetic.reference import Reference
from referrals.models import FunnelEvent
from shop.demo.progress import Progress, progress_bar


def write_events(
    span: Span, reference: Reference, people: People, orders: list[tuple], progress: Progress | None
) -> int:
    """The events, ``orders`` as ``write_orders`` returns them; returns how many were written."""
    fixed = len(people.contacts) + len(orders)
    free = max(0, span.plan.events - fixed)
    total = fixed + free
    with progress_bar(progress, "events", total) as bar:
        batch: list[dict] = []
        for row in _event_rows(span, reference, people, orders, free):
            batch.append(row)
            if len(batch) >= BATCH:
                insert_rows(FunnelEvent.__table__, batch, bar)
                batch = []
        insert_rows(FunnelEvent.__table__, batch, bar)
    return total


def _event_rows(span: Span, reference: Reference, people: People, orders, free: int) -> Iterator[dict]:
    rnd = span.random
    products = sorted({v.product_id for v in reference.variants})
    for c in people.contacts:  # every contact joined through a link
        referrer = c.root if c.level == 1 else c.l1
        yield _event("signup", c.joined, c.id, c.root, c.l1 if c.level == 2 else None, referrer, None)
    for order_id, row, product, first in orders:
        yield _event(
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
    members = people.employees + people.contacts
    weights = [people.weights[p.root] for p in members]
    kinds, kind_weights = ("share", "visit", "consultation"), (40, 50, 10)
    picks = rnd.choices(members, weights=weights, k=free)
    for person in picks:
        kind = rnd.choices(kinds, weights=kind_weights, k=1)[0]
        moment = span.moment(person.joined)
        product = rnd.choice(products) if kind != "consultation" or rnd.random() < 0.5 else None
        actor = None if kind == "visit" and rnd.random() < 0.8 else person.id
        yield _event(
            kind,
            moment,
            actor,
            person.root,
            person.l1,
            person.id,
            product,
            festival=reference.festival_at(moment),
        )


def _event(kind, at, actor, root, l1, link_owner, product, *, festival=None, order_id=None) -> dict:
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
