"""Operator efficiency and platform effectiveness on a small week worked out by hand
(window: 2 - 9 March 2026 UTC, one week)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from community.models import Question, SearchQuery, SelfServiceResolution, Ticket, TicketStatus
from kpis.operations import PAYMENT_FAILED, operator_efficiency, platform_effectiveness
from shop.audit.models import AuditEntry
from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.payments.models import StripeEvent
from tests.kpis.conftest import add_event, add_order, utc

START, END = utc(2026, 3, 2), utc(2026, 3, 9)


def test_operator_efficiency_and_platform(make_user, operator):
    buyer = make_user()
    # Community: 2 questions (q1 solved without a ticket: the tickets were opened before it),
    # 1 self-service click, 2 tickets.
    q1 = Question(author_id=buyer.id, title="q1", created_at=utc(2026, 3, 5, 12), solved_at=utc(2026, 3, 6))
    db.session.add_all([q1, Question(author_id=buyer.id, title="q2", created_at=utc(2026, 3, 3))])
    db.session.flush()
    db.session.add(SelfServiceResolution(user_id=buyer.id, query="tea", question_id=q1.id, created_at=utc(2026, 3, 3)))
    # Tickets: opened 3 Mar 00:00, first reply after 2 h, resolved after 10 h (by the operator);
    #          opened 5 Mar 00:00, first reply after 4 h, resolved after 20 h.
    for day, reply, done in ((3, 2, 10), (5, 4, 20)):
        opened = utc(2026, 3, day)
        db.session.add(
            Ticket(
                requester_id=buyer.id,
                subject="help",
                status=TicketStatus.resolved,
                created_at=opened,
                first_response_at=opened + timedelta(hours=reply),
                resolved_at=opened + timedelta(hours=done),
                resolved_by_id=operator.id,
            )
        )
    db.session.commit()
    # Orders placed in the window: 3 paid, 1 expired, 1 cancelled -> 5 checkouts, 3 paid.
    paid = [add_order(buyer, total=1_000, paid_at=utc(2026, 3, d)) for d in (3, 4, 5)]
    add_order(buyer, total=1_000, paid_at=None, status=OrderStatus.expired, created_at=utc(2026, 3, 6))
    add_order(buyer, total=1_000, paid_at=None, status=OrderStatus.cancelled, created_at=utc(2026, 3, 6))
    # Two shipped by the operator, 24 h and 48 h after payment.
    for order, hours in zip(paid[:2], (24, 48), strict=True):
        order.shipped_at = order.paid_at + timedelta(hours=hours)
        db.session.add(
            AuditEntry(
                actor_id=operator.id,
                action="order.shipped",
                entity_type="order",
                entity_id=order.id,
                at=order.shipped_at,
            )
        )
    # One failed card payment; 3 consultations; 4 searches, 1 without a result.
    db.session.add(
        StripeEvent(
            id="evt_1",
            type=PAYMENT_FAILED,
            source="webhook",
            outcome="x",
            created_at=START,
            received_at=utc(2026, 3, 4),
        )
    )
    for query, results in (("tea", 3), ("cup", 1), ("pot", 2), ("zzz", 0)):
        db.session.add(SearchQuery(query=query, results=results, created_at=utc(2026, 3, 4)))
    db.session.commit()
    for day in (3, 4, 5):
        add_event("consultation", utc(2026, 3, day), actor=buyer)

    ops = operator_efficiency(START, END)
    # self-service: (1 click + 1 solved without ticket) / (2 questions + 1 click + 2 tickets) = 2/5
    assert ops.self_service_rate == pytest.approx(2 / 5)
    # 2 tickets resolved by one operator in one week; first response median(2 h, 4 h) = 3 h;
    # resolution median(10 h, 20 h) = 15 h
    assert ops.tickets_per_operator_week == pytest.approx(2.0)
    assert ops.median_first_response == timedelta(hours=3)
    assert ops.median_resolution == timedelta(hours=15)
    # 3 consultations per 3 paid orders = 100 per 100; 2 shipped by 1 operator in 1 week;
    # paid -> shipped median(24 h, 48 h) = 36 h
    assert ops.consultations_per_100_orders == pytest.approx(100.0)
    assert ops.shipped_per_operator_week == pytest.approx(2.0)
    assert ops.median_paid_to_shipped == timedelta(hours=36)

    platform = platform_effectiveness(START, END)
    # 3 paid of 5 placed; 1 failure / (1 + 3 paid); 1 expired; 1 of 4 searches found nothing
    assert platform.checkout_conversion == pytest.approx(3 / 5)
    assert platform.payment_failure_rate == pytest.approx(1 / 4)
    assert platform.expired == 1
    assert platform.no_result_rate == pytest.approx(1 / 4)
