"""My network: a member's contacts with their figures, by the attribution stored on orders and
leads (a moved chain keeps its history where it was). Only names and aggregates: no e-mail or
shipping address, and nobody outside the viewer's own chain."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields

import sqlalchemy as sa
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from referrals.models import EventKind, FunnelEvent, Lead, LeadStatus
from shop.accounts.models import User
from shop.extensions import db
from shop.orders.models import Order


@dataclass
class Figures:
    orders: int = 0  # paid orders
    revenue: int = 0  # paid less refunded, minor units
    leads: int = 0  # leads referred
    leads_won: int = 0
    lead_amount: int = 0  # won amount
    shares: int = 0  # links and posters made
    visits: int = 0  # visits of this person's links
    signups: int = 0  # people who joined through this person's links

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class Member:
    user: User
    figures: Figures
    contacts: list[Member] = field(default_factory=list)  # the first few, or every one
    contact_count: int = 0  # how many contacts of theirs are in the chain


@dataclass
class Network:
    owner: User
    own: Figures
    members: list[Member]
    totals: Figures
    l1_count: int = 0
    l2_count: int = 0
    top_count: int = 0  # people listed at the first level, over every page


def _members_query(viewer: User):
    if viewer.level == 0:
        return select(User).where(User.root_employee_id == viewer.id, User.level.in_((1, 2)))
    if viewer.level == 1:
        return select(User).where(User.l1_contact_id == viewer.id, User.level == 2)
    return None


def _top_query(viewer: User):
    """The people listed at the first level: an employee's L1 contacts, then the L2 contacts
    whose L1 contact is not in the chain (any more); an L1 contact's L2 contacts."""
    query = _members_query(viewer)
    if query is None or viewer.level != 0:
        return query
    parent = aliased(User)
    in_chain = (
        select(parent.id)
        .where(parent.id == User.l1_contact_id, parent.root_employee_id == viewer.id, parent.level.in_((1, 2)))
        .exists()
    )
    return query.where(or_(User.level == 1, ~in_chain))


def _attributed(column_root, column_l1, viewer: User):
    """Rows credited to the viewer's chain at the time they were written."""
    return column_root == viewer.id if viewer.level == 0 else column_l1 == viewer.id


def _figures(viewer: User, ids: list[int] | None) -> dict[int, Figures]:
    """Figures per person credited to the viewer's chain: of ``ids`` only, or of everyone
    (``ids`` None; then the key 0 holds the whole chain's totals, grouped by the database)."""
    figures: dict[int, Figures] = defaultdict(Figures)
    paid = Order.paid_at.is_not(None)
    money = func.sum(Order.total_amount - Order.refunded_amount)
    per_person = ids is not None

    def key(column):  # the person, or 0 for the whole chain
        return column if per_person else sa.literal(0)

    def group(column):
        return (column,) if per_person else ()

    credited = or_(
        and_(Order.buyer_id == viewer.id, Order.buyer_level == viewer.level),
        and_(Order.buyer_id != viewer.id, _attributed(Order.root_employee_id, Order.l1_contact_id, viewer)),
    )
    orders = select(key(Order.buyer_id), func.count(), money).where(paid, credited)
    if per_person:
        orders = orders.where(Order.buyer_id.in_(ids))
    for person, count, revenue in db.session.execute(orders.group_by(*group(Order.buyer_id))):
        figures[person].orders += count
        figures[person].revenue += revenue or 0
    won = func.sum(func.coalesce(Lead.amount, 0))
    leads = select(key(Lead.referrer_id), Lead.status, func.count(), won).where(
        (Lead.referrer_id == viewer.id) | _attributed(Lead.root_employee_id, Lead.l1_contact_id, viewer)
    )
    if per_person:
        leads = leads.where(Lead.referrer_id.in_(ids))
    for person, status, count, amount in db.session.execute(leads.group_by(*group(Lead.referrer_id), Lead.status)):
        figures[person].leads += count
        if status == LeadStatus.won:
            figures[person].leads_won += count
            figures[person].lead_amount += amount or 0
    names = {EventKind.share: "shares", EventKind.visit: "visits", EventKind.signup: "signups"}
    # A person's: of the links they own. The chain's: credited to it when written, as orders
    # (a share, a visit of a member's link, a sign-up through one: the link owner's chain).
    mine = FunnelEvent.link_owner_id.in_(ids) if per_person else _credited_events(viewer)
    events = select(key(FunnelEvent.link_owner_id), FunnelEvent.kind, func.count()).where(
        mine, FunnelEvent.kind.in_(list(names))
    )
    for person, kind, count in db.session.execute(events.group_by(*group(FunnelEvent.link_owner_id), FunnelEvent.kind)):
        setattr(figures[person], names[kind], getattr(figures[person], names[kind]) + count)
    return figures


def _credited_events(viewer: User):
    """Events credited to the viewer's chain when they were written: an employee's by root;
    anyone else's of their own links, and an L1 contact's also those attributed to them (their
    L2 contacts' links and sign-ups)."""
    if viewer.level == 0:
        return FunnelEvent.root_employee_id == viewer.id
    return or_(FunnelEvent.link_owner_id == viewer.id, FunnelEvent.l1_contact_id == viewer.id)


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _contacts(viewer: User, top: list[User], nested: int | None) -> tuple[dict[int, list[User]], dict[int, int]]:
    """The first ``nested`` (every one when None) L2 contacts of each L1 contact of ``top``, in
    the chain, by joining order, and how many each has."""
    parents = [p.id for p in top if p.level == 1]
    if viewer.level != 0 or not parents:
        return {}, {}
    mine = and_(User.root_employee_id == viewer.id, User.level == 2, User.l1_contact_id.in_(parents))
    counts = dict(
        db.session.execute(select(User.l1_contact_id, func.count()).where(mine).group_by(User.l1_contact_id)).all()
    )
    rank = func.row_number().over(partition_by=User.l1_contact_id, order_by=(User.created_at, User.id)).label("rank")
    ranked = select(User.id, rank).where(mine).subquery()
    query = select(User).join(ranked, ranked.c.id == User.id).order_by(User.created_at, User.id)
    if nested is not None:
        query = query.where(ranked.c.rank <= nested)
    found: dict[int, list[User]] = defaultdict(list)
    for person in db.session.scalars(query):
        found[person.l1_contact_id].append(person)
    return found, counts


def network_of(viewer: User, *, first: int = 0, limit: int | None = None, nested: int | None = None) -> Network:
    """The viewer's chain: its totals and counts grouped by the database, and the people of one
    page (``limit`` first-level people from ``first``, each with ``nested`` of their contacts)
    read with their figures. Without ``limit``: every person, with every contact."""
    top_query = _top_query(viewer)
    top: list[User] = []
    if top_query is not None:
        page = top_query.order_by(User.level, User.created_at, User.id).offset(first)
        top = list(db.session.scalars(page.limit(limit) if limit is not None else page))
    contacts, contact_counts = _contacts(viewer, top, nested)
    people = top + [c for p in top for c in contacts.get(p.id, [])]
    figures = _figures(viewer, [viewer.id] + [p.id for p in people])
    members = [
        Member(
            p, figures[p.id], [Member(c, figures[c.id]) for c in contacts.get(p.id, [])], contact_counts.get(p.id, 0)
        )
        for p in top
    ]
    totals = _figures(viewer, None)[0]  # everything credited to the chain, also by people who have left it since
    members_query = _members_query(viewer)
    levels = (
        dict(db.session.execute(members_query.with_only_columns(User.level, func.count()).group_by(User.level)).all())
        if members_query is not None
        else {}
    )
    return Network(
        owner=viewer,
        own=figures[viewer.id],
        members=members,
        totals=totals,
        l1_count=levels.get(1, 0),
        l2_count=levels.get(2, 0),
        top_count=_count(top_query) if top_query is not None else 0,
    )


def member_of(viewer: User, member_id: int) -> Member | None:
    """One person of the viewer's network with their contacts; None (404) for anyone else."""
    query = _members_query(viewer)
    if query is None:
        return None
    person = db.session.scalar(query.where(User.id == member_id))
    if person is None:
        return None
    if person.level == 2 and viewer.level == 0:
        parent = db.session.scalar(_members_query(viewer).where(User.id == person.l1_contact_id))
        if parent is not None:  # shown under their L1 contact, without contacts of their own
            return Member(person, _figures(viewer, [person.id])[person.id])
    contacts, counts = _contacts(viewer, [person], None)
    found = contacts.get(person.id, [])
    figures = _figures(viewer, [person.id] + [c.id for c in found])
    return Member(person, figures[person.id], [Member(c, figures[c.id]) for c in found], counts.get(person.id, 0))


def leads_of(referrer: User) -> list[Lead]:
    return list(db.session.scalars(select(Lead).where(Lead.referrer_id == referrer.id).order_by(Lead.id.desc())))
