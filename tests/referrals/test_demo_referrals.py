"""The demo's referral data (issue 3, point 11): real chains at both levels, links, visits, shares
and leads, consistent with the rules, and made once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from referrals.models import EventKind, FunnelEvent, Join, Lead, LeadStatus, Visit
from referrals.services import abuse
from referrals.services.network import network_of
from shop import demo
from shop.accounts.models import Kind, User
from shop.accounts.services import authenticate
from shop.database import write_intent
from shop.extensions import db
from tests.referrals.conftest import count


def seed() -> None:
    with write_intent():
        demo.seed()
        db.session.commit()


def test_demo_grows_real_chains_with_visits_shares_and_leads(app):
    seed()
    users = {u.id: u for u in db.session.scalars(select(User))}
    contacts = [u for u in users.values() if u.kind == Kind.contact]
    levels = Counter(u.level for u in contacts)
    assert levels[1] >= 10 and levels[2] >= 5 and set(levels) == {1, 2}
    for contact in contacts:
        referrer = users[contact.referrer_id]
        assert contact.level == referrer.level + 1 and contact.email_verified_at is not None
        assert contact.created_at > referrer.created_at  # employees too join before their contacts
        root = referrer if referrer.level == 0 else users[referrer.root_employee_id]
        assert contact.root_employee_id == root.id and root.kind == Kind.employee
        assert contact.l1_contact_id == (referrer.id if contact.level == 2 else None)
    assert count(Join) == len(contacts)
    assert authenticate(contacts[0].email, demo.DEMO_PASSWORD).id == contacts[0].id

    kinds = Counter(db.session.scalars(select(FunnelEvent.kind)))
    assert kinds[EventKind.signup] == len(contacts)
    assert kinds[EventKind.visit] == count(Visit) >= 30 and kinds[EventKind.share] >= 10
    assert kinds[EventKind.first_order] >= 10 and kinds[EventKind.repeat_order] >= 1  # the employees' paid orders
    lead_consultations = db.session.scalar(
        select(func.count(FunnelEvent.id)).where(
            FunnelEvent.kind == EventKind.consultation, FunnelEvent.source == "lead"
        )
    )
    assert lead_consultations == count(Lead) >= 5  # questions and tickets of the community add their own
    assert {LeadStatus.new, LeadStatus.contacted, LeadStatus.qualified, LeadStatus.won, LeadStatus.lost} <= set(
        db.session.scalars(select(Lead.status))
    )

    alice = db.session.scalar(select(User).where(User.email.like("alice@%")))
    network = network_of(alice)
    assert network.l1_count == 4 and network.totals.visits > 0 and network.totals.shares > 0
    assert abuse.signup_bursts(minimum=5, window=timedelta(hours=1))
    assert abuse.shared_addresses(minimum=3)

    before = {model.__name__: count(model) for model in (User, Join, Visit, FunnelEvent, Lead)}
    seed()
    assert {model.__name__: count(model) for model in (User, Join, Visit, FunnelEvent, Lead)} == before
