"""My network: a member's contacts with their figures, by the attribution stored on orders and
leads (a moved chain keeps its history where it was). Only names and aggregates: no e-mail or
shipping address, and nobody outside the viewer's own chain."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields

from sqlalchemy import func, select

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
    contacts: list[Member] = field(default_factory=list)


@dataclass
class Network:
    owner: User
    own: Figures
    members: list[Member]
    totals: Figures
    l1_count: int = 0
    l2_count: int = 0


def _members_query(viewer: User):
    if viewer.level == 0:
        return select(User).where(User.root_employee_id == viewer.id, User.level.in_((1, 2)))
    if viewer.level == 1:
        return select(User).where(User.l1_contact_id == viewer.id, User.level == 2)
    return None


def _attributed(column_root, column_l1, viewer: User):
    """Rows credited to the viewer's chain at the time they were written."""
    return column_root == viewer.id if viewer.level == 0 else column_l1 == viewer.id


def _figures(viewer: User, people: list[User]) -> dict[int, Figures]:
    ids = [viewer.id] + [p.id for p in people]
    figures: dict[int, Figures] = defaultdict(Figures)
    paid = Order.paid_at.is_not(None)
    own_orders = (
        select(Order.buyer_id, func.count(), func.sum(Order.total_amount - Order.refunded_amount))
        .where(paid, Order.buyer_id == viewer.id, Order.buyer_level == viewer.level)
        .group_by(Order.buyer_id)
    )
    chain_orders = (
        select(Order.buyer_id, func.count(), func.sum(Order.total_amount - Order.refunded_amount))
        .where(
            paid,
            Order.buyer_id != viewer.id,
            _attributed(Order.root_employee_id, Order.l1_contact_id, viewer),
        )
        .group_by(Order.buyer_id)
    )
    for query in (own_orders, chain_orders):
        for buyer_id, count, revenue in db.session.execute(query):
            figures[buyer_id].orders += count
            figures[buyer_id].revenue += revenue or 0
    won = func.sum(func.coalesce(Lead.amount, 0))
    lead_filters = (Lead.referrer_id == viewer.id) | _attributed(Lead.root_employee_id, Lead.l1_contact_id, viewer)
    for referrer_id, status, count, amount in db.session.execute(
        select(Lead.referrer_id, Lead.status, func.count(), won)
        .where(lead_filters)
        .group_by(Lead.referrer_id, Lead.status)
    ):
        figures[referrer_id].leads += count
        if status == LeadStatus.won:
            figures[referrer_id].leads_won += count
            figures[referrer_id].lead_amount += amount or 0
    names = {EventKind.share: "shares", EventKind.visit: "visits", EventKind.signup: "signups"}
    for owner_id, kind, count in db.session.execute(
        select(FunnelEvent.link_owner_id, FunnelEvent.kind, func.count())
        .where(FunnelEvent.link_owner_id.in_(ids), FunnelEvent.kind.in_(list(names)))
        .group_by(FunnelEvent.link_owner_id, FunnelEvent.kind)
    ):
        setattr(figures[owner_id], names[kind], getattr(figures[owner_id], names[kind]) + count)
    return figures


def network_of(viewer: User) -> Network:
    query = _members_query(viewer)
    people = list(db.session.scalars(query.order_by(User.level, User.created_at, User.id))) if query is not None else []
    figures = _figures(viewer, people)
    members = {p.id: Member(p, figures[p.id]) for p in people}
    top: list[Member] = []
    for person in people:
        parent = members.get(person.l1_contact_id) if person.level == 2 and viewer.level == 0 else None
        (parent.contacts if parent else top).append(members[person.id])
    totals = Figures()  # everything credited to the chain, also by people who have left it since
    for person_figures in list(figures.values()):
        totals.add(person_figures)
    return Network(
        owner=viewer,
        own=figures[viewer.id],
        members=top,
        totals=totals,
        l1_count=sum(1 for p in people if p.level == 1),
        l2_count=sum(1 for p in people if p.level == 2),
    )


def member_of(viewer: User, member_id: int) -> Member | None:
    """One person of the viewer's network with their contacts; None (404) for anyone else."""
    query = _members_query(viewer)
    if query is None:
        return None
    for member in network_of(viewer).members:
        if member.user.id == member_id:
            return member
        for contact in member.contacts:
            if contact.user.id == member_id:
                return contact
    return None


def leads_of(referrer: User) -> list[Lead]:
    return list(db.session.scalars(select(Lead).where(Lead.referrer_id == referrer.id).order_by(Lead.id.desc())))
