"""The funnel event log (issue 3, point 10): exactly one event per fact, written in the fact's
transaction (none when it rolls back), append-only, with the chain stamped on each row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from referrals.models import EventKind, FunnelEvent
from referrals.models.events import AppendOnlyError
from referrals.services import ReferralError, visits
from referrals.services import events as event_log
from referrals.services.join import Signup, join
from shop.database import utcnow
from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.payments.payroll import PayrollCapExceeded, pay_by_payroll
from tests.referrals.conftest import events


def test_first_then_repeat_order_when_orders_become_paid(employee, make_product, place):
    variant = make_product().variants[0]
    first, second, unpaid = (place(employee, variant, 1) for _ in range(3))
    pay_by_payroll(employee, second)
    db.session.commit()
    assert [(e.kind, e.order_id) for e in events()] == [(EventKind.first_order, second.id)]
    pay_by_payroll(employee, first)
    db.session.commit()
    rows = events()
    assert [(e.kind, e.order_id) for e in rows] == [
        (EventKind.first_order, second.id),
        (EventKind.repeat_order, first.id),
    ]
    assert all(
        e.actor_id == employee.id
        and e.root_employee_id == employee.id
        and e.product_id == variant.product_id
        and e.at == o.paid_at
        and e.source == "payroll"
        for e, o in zip(rows, (second, first), strict=True)
    )
    assert unpaid.status == OrderStatus.pending_payment


def test_order_events_carry_the_orders_attribution(employee, make_contact, make_product, place):
    variant = make_product().variants[0]
    l2 = make_contact(make_contact(employee))
    order = place(l2, variant, 1)
    order.status, order.paid_at = OrderStatus.paid, utcnow()  # as a card payment will, then:
    assert event_log.record_order_paid(order) is True
    assert event_log.record_order_paid(order) is False  # reported twice, written once
    db.session.commit()
    [event] = events()
    assert (event.kind, event.root_employee_id, event.l1_contact_id) == (
        EventKind.first_order,
        employee.id,
        l2.l1_contact_id,
    )


def test_no_event_when_the_payment_is_refused_or_rolled_back(app, employee, make_product, place):
    variant = make_product(employee_price=400_000, market=500_000, contact_price=450_000).variants[0]
    big, small = place(employee, variant, 2), place(employee, variant, 1)
    with pytest.raises(PayrollCapExceeded):
        pay_by_payroll(employee, big)
    db.session.rollback()
    pay_by_payroll(employee, small)
    db.session.flush()
    assert len(events()) == 1  # inside the transaction...
    db.session.rollback()
    assert events() == []  # ... and gone with it


def test_signup_writes_one_event_and_a_refused_one_none(employee):
    with current_app.test_request_context():
        user = join(employee.referral_code, Signup("Ann", "ann@mail.example", "long enough pw"), ip="192.0.2.1")
        db.session.commit()
        assert join(employee.referral_code, Signup("Ann", "ann@mail.example", "long enough pw")) is None  # taken
        with pytest.raises(ReferralError):
            join(employee.referral_code, Signup("Ann", "ann@neigou.example", "long enough pw"))
    db.session.rollback()
    [signup] = events()
    assert (signup.kind, signup.actor_id, signup.link_owner_id, signup.dedupe_key) == (
        EventKind.signup,
        user.id,
        employee.id,
        f"signup:{user.id}",
    )


def test_share_and_visit_events_count_each_fact_once(employee, product, make_user):
    now = utcnow()
    assert event_log.record_share(employee, source="link", product_id=product.id, at=now)
    assert not event_log.record_share(employee, source="link", product_id=product.id, at=now)
    assert event_log.record_share(employee, source="poster", product_id=product.id, at=now)
    assert event_log.record_share(employee, source="link", at=now)
    assert event_log.record_share(employee, source="link", product_id=product.id, at=now + timedelta(days=1))
    assert visits.record_visit(employee, visitor="a:x", product=product, now=now)
    assert not visits.record_visit(employee, visitor="a:x", product=product, now=now)
    assert visits.record_visit(employee, visitor="a:x", now=now)
    assert visits.record_visit(employee, visitor="a:x", product=product, now=now + timedelta(days=1))
    db.session.commit()
    assert [e.kind for e in events()].count(EventKind.share) == 4
    assert [e.kind for e in events()].count(EventKind.visit) == 3


def test_record_consultation_is_the_hook_for_questions_and_tickets(employee, make_contact, product):
    l2 = make_contact(make_contact(employee))
    assert event_log.record_consultation(l2, product_id=product.id, source="ticket", key=7)
    assert not event_log.record_consultation(l2, product_id=product.id, source="ticket", key=7)
    assert event_log.record_consultation(l2, source="question")
    db.session.commit()
    rows = events(EventKind.consultation)
    assert [(e.source, e.actor_id, e.root_employee_id, e.l1_contact_id, e.product_id) for e in rows] == [
        ("ticket", l2.id, employee.id, l2.l1_contact_id, product.id),
        ("question", l2.id, employee.id, l2.l1_contact_id, None),
    ]


def test_events_are_append_only(employee):
    event_log.record_event(EventKind.share, actor=employee, source="link")
    db.session.commit()
    event = db.session.scalar(select(FunnelEvent))
    event.source = "poster"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(FunnelEvent)))
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(FunnelEvent.source)) == "link"
