"""My network: a member's contacts with their figures, by the attribution stored on orders and
leads (a moved chain keeps its history where it was). Only names and aggregates: no e-mail or
shipping address, and nobody outside the viewer's own chain."""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import datetime

from sqlalchemy import and_, bindparam, func, literal, null, or_, select, true, union_all
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


@dataclass(frozen=True)
class Person:
    """Someone of the viewer's chain as these pages show them: a name and a level, never an
    e-mail or an address (only these columns are read)."""

    id: int
    name: str
    level: int
    created_at: datetime
    l1_contact_id: int | None


_PERSON = (User.id, User.name, User.level, User.created_at, User.l1_contact_id)


def _person(row) -> Person:
    """A Person from a row holding the ``_PERSON`` columns (and maybe others)."""
    return Person(row.id, row.name, row.level, row.created_at, row.l1_contact_id)


@dataclass
class Member:
    user: Person
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


def _in_network(viewer: User):
    """The people of the viewer's network: an employee's L1 and L2 contacts, an L1 contact's
    L2 contacts; None for anyone else."""
    if viewer.level == 0:
        return and_(User.root_employee_id == viewer.id, User.level.in_((1, 2)))
    if viewer.level == 1:
        return and_(User.l1_contact_id == viewer.id, User.level == 2)
    return None


@functools.cache  # on first use: at import, not every model is mapped yet
def _parent():
    """An L2 contact's L1 contact, beside the contact in one statement. One alias for the
    process: SQLAlchemy memoizes how an alias adapts the columns, per alias."""
    return aliased(User, name="parent")


def _listed_first(viewer: User):
    """Of the network, the people listed at the first level: an employee's L1 contacts, then
    the L2 contacts whose L1 contact is not in the chain (any more); an L1 contact's L2 contacts."""
    if viewer.level != 0:
        return true()
    parent = _parent()
    in_chain = (
        select(parent.id)
        .where(parent.id == User.l1_contact_id, parent.root_employee_id == viewer.id, parent.level.in_((1, 2)))
        .exists()
    )
    return or_(User.level == 1, ~in_chain)


def _attributed(column_root, column_l1, viewer: User):
    """Rows credited to the viewer's chain at the time they were written."""
    return column_root == viewer.id if viewer.level == 0 else column_l1 == viewer.id


def _ids(ids: list[int]):
    """The page's people (up to 151 ids) for ``IN``, written into the statement as integers
    when it runs: as one bound parameter each, SQLAlchemy and the driver spent about a
    millisecond per statement on them."""
    return bindparam("ids", ids, literal_execute=True)


def _figures(viewer: User, ids: list[int], *, with_totals: bool = False) -> dict[int | None, Figures]:
    """Figures of each person of ``ids`` credited to the viewer's chain; ``with_totals``, also
    the whole chain's under the key None (everything credited to it, also by people who have
    left it since), grouped by the database in the same statement (one per source)."""
    figures: dict[int | None, Figures] = defaultdict(Figures)
    chain = null()  # the key of the totals' rows

    def read(per_person, *totals):
        return db.session.execute(union_all(per_person, *totals) if with_totals else per_person)

    paid = Order.paid_at.is_not(None)
    money = func.sum(Order.total_amount - Order.refunded_amount)
    credited = or_(
        and_(Order.buyer_id == viewer.id, Order.buyer_level == viewer.level),
        and_(Order.buyer_id != viewer.id, _attributed(Order.root_employee_id, Order.l1_contact_id, viewer)),
    )
    orders = select(Order.buyer_id, func.count(), money).where(paid, credited, Order.buyer_id.in_(_ids(ids)))
    all_orders = select(chain, func.count(), money).where(paid, credited)
    for person, count, revenue in read(orders.group_by(Order.buyer_id), all_orders):
        figures[person].orders += count
        figures[person].revenue += revenue or 0

    won = func.sum(func.coalesce(Lead.amount, 0))
    of_chain = (Lead.referrer_id == viewer.id) | _attributed(Lead.root_employee_id, Lead.l1_contact_id, viewer)
    leads = select(Lead.referrer_id, Lead.status, func.count(), won).where(of_chain, Lead.referrer_id.in_(_ids(ids)))
    all_leads = select(chain, Lead.status, func.count(), won).where(of_chain).group_by(Lead.status)
    for person, status, count, amount in read(leads.group_by(Lead.referrer_id, Lead.status), all_leads):
        figures[person].leads += count
        if status == LeadStatus.won:
            figures[person].leads_won += count
            figures[person].lead_amount += amount or 0

    names = {EventKind.share: "shares", EventKind.visit: "visits", EventKind.signup: "signups"}
    # A person's: of the links they own. The chain's: credited to it when written, as orders
    # (a share, a visit of a member's link, a sign-up through one: the link owner's chain),
    # one count per kind: a chain's ~28,000 index entries counted without comparing each
    # entry's kind (4.4 -> 2.4 ms of PostgreSQL for the largest chain).
    events = select(FunnelEvent.link_owner_id, FunnelEvent.kind, func.count()).where(
        FunnelEvent.kind.in_(list(names)), FunnelEvent.link_owner_id.in_(_ids(ids))
    )
    all_events = [
        select(chain, literal(kind.value), func.count()).where(FunnelEvent.kind == kind, _credited_events(viewer))
        for kind in names
    ]
    for person, kind, count in read(events.group_by(FunnelEvent.link_owner_id, FunnelEvent.kind), *all_events):
        setattr(figures[person], names[kind], getattr(figures[person], names[kind]) + count)
    return figures


def _credited_events(viewer: User):
    """Events credited to the viewer's chain when they were written: an employee's by root;
    anyone else's of their own links, and an L1 contact's also those attributed to them (their
    L2 contacts' links and sign-ups)."""
    if viewer.level == 0:
        return FunnelEvent.root_employee_id == viewer.id
    return or_(FunnelEvent.link_owner_id == viewer.id, FunnelEvent.l1_contact_id == viewer.id)


def _contacts(viewer: User, top: list[Person], nested: int | None) -> tuple[dict[int, list[Person]], dict[int, int]]:
    """The first ``nested`` (at least one; every one when None) L2 contacts of each L1 contact
    of ``top``, in the chain, by joining order, and how many each has."""
    parents = [p.id for p in top if p.level == 1]
    if viewer.level != 0 or not parents:
        return {}, {}
    by_parent = {"partition_by": User.l1_contact_id}
    ranked = (
        select(
            *_PERSON,
            func.row_number().over(**by_parent, order_by=(User.created_at, User.id)).label("rank"),
            func.count().over(**by_parent).label("of_parent"),
        )
        .where(User.root_employee_id == viewer.id, User.level == 2, User.l1_contact_id.in_(parents))
        .subquery()
    )
    query = select(ranked).order_by(ranked.c.created_at, ranked.c.id)
    if nested is not None:
        query = query.where(ranked.c.rank <= max(nested, 1))
    found: dict[int, list[Person]] = defaultdict(list)
    counts: dict[int, int] = {}
    for row in db.session.execute(query):
        found[row.l1_contact_id].append(_person(row))
        counts[row.l1_contact_id] = row.of_parent
    return found, counts


def _sizes(network) -> tuple[int, int]:
    """How many L1 and L2 contacts the network (``_in_network``) holds: an index-only count."""
    count = func.count()
    l1, l2 = db.session.execute(
        select(count.filter(User.level == 1), count.filter(User.level == 2)).where(network)
    ).one()
    return l1, l2


def network_of(viewer: User, *, first: int = 0, limit: int | None = None, nested: int | None = None) -> Network:
    """The viewer's chain: its totals and counts grouped by the database, and the people of one
    page (``limit`` first-level people from ``first``, each with ``nested`` of their contacts)
    read with their figures. Without ``limit``: every person, with every contact."""
    network = _in_network(viewer)
    top: list[Person] = []
    listed = l1_count = l2_count = 0
    if network is not None:
        # How many are listed rides on the page's rows: one evaluation of who is listed.
        page = (
            select(*_PERSON, func.count().over().label("listed"))
            .where(network, _listed_first(viewer))
            .order_by(User.level, User.created_at, User.id)
            .offset(first)
        )
        rows = db.session.execute(page.limit(limit) if limit is not None else page).all()
        top = [_person(row) for row in rows]
        if rows:
            listed = rows[0].listed
        elif first > 0:  # a page past the end (an empty first page lists nobody)
            listed = db.session.scalar(select(func.count()).where(network, _listed_first(viewer)))
        l1_count, l2_count = _sizes(network)
    contacts, contact_counts = _contacts(viewer, top, nested)
    people = top + [c for p in top for c in contacts.get(p.id, [])]
    figures = _figures(viewer, [viewer.id] + [p.id for p in people], with_totals=True)
    members = [
        Member(
            p, figures[p.id], [Member(c, figures[c.id]) for c in contacts.get(p.id, [])], contact_counts.get(p.id, 0)
        )
        for p in top
    ]
    return Network(
        owner=viewer,
        own=figures[viewer.id],
        members=members,
        totals=figures[None],
        l1_count=l1_count,
        l2_count=l2_count,
        top_count=listed,
    )


def member_of(viewer: User, member_id: int) -> Member | None:
    """One person of the viewer's network with their contacts; None (404) for anyone else."""
    network = _in_network(viewer)
    if network is None:
        return None
    row = db.session.execute(select(*_PERSON).where(network, User.id == member_id)).first()
    if row is None:
        return None
    person = _person(row)
    if person.level == 2 and viewer.level == 0:
        parent = db.session.scalar(select(User.id).where(network, User.id == person.l1_contact_id))
        if parent is not None:  # shown under their L1 contact, without contacts of their own
            return Member(person, _figures(viewer, [person.id])[person.id])
    contacts, counts = _contacts(viewer, [person], None)
    found = contacts.get(person.id, [])
    figures = _figures(viewer, [person.id] + [c.id for c in found])
    return Member(person, figures[person.id], [Member(c, figures[c.id]) for c in found], counts.get(person.id, 0))


def leads_of(referrer: User) -> list[Lead]:
    return list(db.session.scalars(select(Lead).where(Lead.referrer_id == referrer.id).order_by(Lead.id.desc())))
