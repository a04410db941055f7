"""Writing the funnel event log. Every writer runs in the caller's transaction, so an event
exists exactly when the fact it records was committed; a fact reported twice (a dedupe key)
is written once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from referrals.models import EventKind, FunnelEvent
from shop.accounts.models import User
from shop.company_calendar import company_zone
from shop.database import insert_ignoring_duplicates, utcnow
from shop.extensions import db
from shop.orders.models import Order


def company_day(moment: datetime) -> date:

    return moment.astimezone(company_zone()).date()


def record_event(
    kind: EventKind,
    *,
    actor: User | None = None,
    chain_of: User | None = None,
    link_owner: User | None = None,
    product_id: int | None = None,
    festival_id: int | None = None,
    order_id: int | None = None,
    lead_id: int | None = None,
    source: str | None = None,
    at: datetime | None = None,
    dedupe_key: str | None = None,
    root_employee_id: int | None = None,
    l1_contact_id: int | None = None,
) -> bool:
    """Append one event; True when written, False when ``dedupe_key`` was recorded before.

    The chain (root employee, L1) is ``chain_of``'s (default: the actor's) unless given."""
    member = chain_of or actor
    if member is not None and root_employee_id is None:
        root_employee_id, l1_contact_id = member.chain_root_id, member.l1_of_order
    values = dict(
        kind=kind,
        at=at or utcnow(),
        actor_id=actor.id if actor else None,
        root_employee_id=root_employee_id,
        l1_contact_id=l1_contact_id,
        link_owner_id=link_owner.id if link_owner else None,
        product_id=product_id,
        festival_id=festival_id,
        order_id=order_id,
        lead_id=lead_id,
        source=source,
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        db.session.add(FunnelEvent(**values))
        db.session.flush()
        return True
    statement = insert_ignoring_duplicates(FunnelEvent).values(**values).on_conflict_do_nothing()
    return db.session.execute(statement.returning(FunnelEvent.id)).first() is not None


def record_share(user: User, *, source: str, product_id: int | None = None, at: datetime | None = None) -> bool:
    """A share link or poster made: counted once per user, link, kind and day."""
    at = at or utcnow()
    target = f"p{product_id}" if product_id else "invite"
    return record_event(
        EventKind.share,
        actor=user,
        link_owner=user,
        product_id=product_id,
        source=source,
        at=at,
        dedupe_key=f"share:{user.id}:{target}:{source}:{company_day(at).isoformat()}",
    )


def on_order_paid(order: Order, **_signal) -> None:
    """``shop.orders.signals.order_paid``, subscribed at app creation."""
    record_order_paid(order)


def record_order_paid(order: Order) -> bool:
    """First or repeat order, when ``order`` has just become paid (call in that transaction).
    A festival order counts for its festival."""
    db.session.execute(select(User.id).where(User.id == order.buyer_id).with_for_update())
    earlier = db.session.scalar(
        select(Order.id)
        .where(Order.buyer_id == order.buyer_id, Order.paid_at.is_not(None), Order.id != order.id)
        .limit(1)
    )
    products = {line.variant.product_id for line in order.lines}
    return record_event(
        EventKind.repeat_order if earlier else EventKind.first_order,
        actor=order.buyer,
        root_employee_id=order.root_employee_id,
        l1_contact_id=order.l1_contact_id,
        product_id=products.pop() if len(products) == 1 else None,
        festival_id=order.festival_id,
        order_id=order.id,
        at=order.paid_at,
        source=str(order.payment_method) if order.payment_method else None,
        dedupe_key=f"order:{order.id}",
    )


def record_consultation(
    user: User,
    *,
    product_id: int | None = None,
    source: str,
    key: str | int | None = None,
    lead_id: int | None = None,
    festival_id: int | None = None,
    at: datetime | None = None,
) -> bool:
    """A lead, question or ticket by a chain member. ``key`` (e.g. the ticket id) makes a fact
    reported twice count once."""
    return record_event(
        EventKind.consultation,
        actor=user,
        product_id=product_id,
        lead_id=lead_id,
        festival_id=festival_id,
        source=source,
        at=at,
        dedupe_key=f"consultation:{source}:{key}" if key is not None else None,
    )
