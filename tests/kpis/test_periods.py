"""A period and the one before read together (one statement per table for both) give the figures
each period gives alone: operator efficiency, platform effectiveness, the community's workload,
refusals, and the festival report's demand of several festivals at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from community.models import Question, SearchQuery, SelfServiceResolution, Ticket, TicketStatus
from community.services import metrics
from kpis import cuts, figures, operations_sections, refusals
from kpis.aggregation import aggregate
from kpis.figures import Filters
from kpis.operations import (
    PAYMENT_FAILED,
    consultations_and_paid,
    operator_efficiencies,
    operator_efficiency,
    platform_effectiveness,
    platform_effectivenesses,
)
from shop.audit.models import AuditEntry
from shop.catalog.festival_models import Phase
from shop.extensions import db
from shop.festivals.forecast import demand, demands
from shop.festivals.models import FestivalReminder
from shop.orders.errors import OutOfStock
from shop.orders.models import OrderStatus
from shop.payments.models import StripeEvent
from tests.kpis.conftest import add_event, add_order, utc

# Two weeks of March 2026 and an overlapping window, to be sure each figure keeps to its own.
BEFORE = (utc(2026, 3, 2), utc(2026, 3, 9))
NOW = (utc(2026, 3, 9), utc(2026, 3, 16))
ACROSS = (utc(2026, 3, 6), utc(2026, 3, 12, 6))
H = timedelta(hours=1)


@pytest.fixture
def weeks(make_user, make_contact, operator):
    """Tickets, questions, orders, shipments, consultations, failures and searches in both weeks,
    different in each: a figure read from the wrong week shows."""
    employee = make_user(name="E")
    contact = make_contact(employee, name="C")
    other = make_user(name="O", role=operator.role)
    for day, opened_by, reply_h, done_h, resolver in (
        (3, employee, 2, 10, operator),
        (5, contact, 4, 20, other),
        (10, employee, 1, 30, operator),
        (12, contact, None, None, None),
        (15, employee, 3, 5, operator),
    ):
        opened = utc(2026, 3, day, 9)
        db.session.add(
            Ticket(
                requester_id=opened_by.id,
                subject="help",
                status=TicketStatus.resolved if done_h else TicketStatus.open,
                created_at=opened,
                first_response_at=opened + reply_h * H if reply_h else None,
                resolved_at=opened + done_h * H if done_h else None,
                resolved_by_id=resolver.id if resolver else None,
            )
        )
    q1 = Question(author_id=contact.id, title="q1", created_at=utc(2026, 3, 4), solved_at=utc(2026, 3, 11))
    db.session.add_all(
        [
            q1,
            Question(author_id=employee.id, title="q2", created_at=utc(2026, 3, 10), solved_at=utc(2026, 3, 10, 5)),
            Question(author_id=employee.id, title="q3", created_at=utc(2026, 3, 13)),
        ]
    )
    db.session.flush()
    for day in (3, 11, 14):
        db.session.add(
            SelfServiceResolution(user_id=contact.id, query="tea", question_id=q1.id, created_at=utc(2026, 3, day))
        )
    for day, failed in ((4, True), (10, True), (11, True), (12, False)):
        db.session.add(
            StripeEvent(
                id=f"evt_{day}",
                type=PAYMENT_FAILED if failed else "payment_intent.succeeded",
                source="webhook",
                outcome="x",
                created_at=utc(2026, 3, day),
                received_at=utc(2026, 3, day),
            )
        )
    for day, results in ((3, 1), (4, 0), (10, 0), (11, 0), (13, 2)):
        db.session.add(SearchQuery(query="q", results=results, created_at=utc(2026, 3, day)))
    db.session.commit()
    # Orders: placed and paid in either week, some paid the week after they were placed.
    orders = [
        add_order(employee, total=1_000, paid_at=utc(2026, 3, 3)),
        add_order(contact, total=1_000, paid_at=utc(2026, 3, 10), created_at=utc(2026, 3, 8)),
        add_order(contact, total=1_000, paid_at=utc(2026, 3, 11)),
        add_order(employee, total=1_000, paid_at=utc(2026, 3, 14)),
    ]
    add_order(employee, total=1_000, paid_at=None, status=OrderStatus.expired, created_at=utc(2026, 3, 4))
    add_order(contact, total=1_000, paid_at=None, status=OrderStatus.expired, created_at=utc(2026, 3, 12))
    add_order(contact, total=1_000, paid_at=None, status=OrderStatus.cancelled, created_at=utc(2026, 3, 13))
    for order, hours, shipper in ((orders[0], 20, operator), (orders[1], 30, other), (orders[2], 50, operator)):
        order.shipped_at = order.paid_at + hours * H
        db.session.add(
            AuditEntry(
                actor_id=shipper.id,
                action="order.shipped",
                entity_type="order",
                entity_id=order.id,
                at=order.shipped_at,
            )
        )
    db.session.commit()
    for day, actor in ((3, contact), (4, employee), (10, contact), (12, employee), (13, contact), (14, employee)):
        add_event("consultation", utc(2026, 3, day), actor=actor)
    return dict(employee=employee, contact=contact)


def test_operator_efficiency_of_several_windows_is_each_window_alone(weeks):
    windows = [BEFORE, NOW, ACROSS]
    together = operator_efficiencies(windows)
    assert together == [operator_efficiency(*w) for w in windows]
    assert together[0] != together[1]  # the weeks differ: a mix-up would show
    level_1 = Filters(date(2026, 3, 9), date(2026, 3, 15), level=1)
    cut = dict(orders=cuts.orders(level_1), events=lambda query: cuts.events(query, level_1))
    assert operator_efficiencies(windows, **cut) == [operator_efficiency(*w, **cut) for w in windows]
    assert operator_efficiencies([NOW], **cut) != operator_efficiencies([NOW])


def test_platform_effectiveness_of_several_windows_is_each_window_alone(weeks):
    windows = [BEFORE, NOW, ACROSS]
    together = platform_effectivenesses(windows)
    assert together == [platform_effectiveness(*w) for w in windows]
    assert together[0] != together[1]
    level_1 = cuts.orders(Filters(date(2026, 3, 9), date(2026, 3, 15), level=1))
    assert platform_effectivenesses(windows, orders=level_1) == [
        platform_effectiveness(*w, orders=level_1) for w in windows
    ]
    assert platform_effectivenesses([NOW], orders=level_1) != platform_effectivenesses([NOW])


def test_the_community_workload_of_several_windows_is_each_window_alone(weeks):
    windows = [BEFORE, NOW, ACROSS]
    together = metrics.workloads(windows)
    assert together == [metrics.workloads([w])[0] for w in windows]
    for work, window in zip(together, windows, strict=True):
        alone = metrics.compute(*window)
        assert (work.tickets, work.self_service_rate, work.tickets_per_operator_week) == (
            alone.tickets,
            alone.self_service_rate,
            alone.tickets_per_operator_week,
        )
        assert work.median_first_response == alone.median_first_response
    assert together[0] != together[1]
    with pytest.raises(ValueError):
        metrics.workloads([NOW, (NOW[1], NOW[0])])


def test_refusals_of_the_period_and_the_one_before_in_one_statement(make_user, make_contact, make_festival):
    employee = make_user()
    contact = make_contact(employee)
    fair = make_festival(name="Fair", now=utc(2026, 3, 4, 12))
    for at, buyer, festival in (
        (utc(2026, 3, 4, 11), employee, fair.id),
        (utc(2026, 3, 4, 12), contact, None),
        (utc(2026, 3, 9, 12), contact, fair.id),
        (utc(2026, 2, 25), employee, fair.id),
        (utc(2026, 2, 26), contact, None),
        (utc(2026, 2, 27), contact, fair.id),
    ):
        refusals.record(OutOfStock([]), buyer_id=buyer.id, festival_id=festival, product_id=None, now=at)
    window = Filters(date(2026, 3, 1), date(2026, 3, 10))
    for f in (
        window,
        Filters(window.start, window.end, festival="none"),
        Filters(window.start, window.end, festival=str(fair.id)),
        Filters(window.start, window.end, level=1),
    ):
        assert refusals.counts_and_before(f) == (refusals.counts(f), refusals.counts(f.previous()))
    assert sum(refusals.counts(window).values()) == 3 and sum(refusals.counts(window.previous()).values()) == 2


def test_the_demand_of_several_festivals_is_each_festival_alone(make_user, make_festival):
    """Three ended festivals with reminders and paid orders, one selling: each forecast leaves
    its own festival out of the history, as ``demand`` of it alone does."""
    now = utc(2026, 6, 1)
    buyers = [make_user() for _ in range(4)]
    shown = [make_festival(name=f"F{k}", phase=Phase.ended, now=now - timedelta(days=30 * k)) for k in (3, 2, 1)]
    shown.append(make_festival(name="Now", now=now))
    for k, festival in enumerate(shown):
        for buyer in buyers[: k + 1]:
            db.session.add(FestivalReminder(festival_id=festival.id, user_id=buyer.id))
    db.session.commit()
    for k, festival in enumerate(shown):
        for buyer in buyers[: 3 - k]:
            add_order(buyer, total=1_000, paid_at=festival.launch_at + H, festival_id=festival.id)
    add_order(buyers[0], total=1_000, paid_at=shown[0].launch_at, festival_id=shown[0].id, status=OrderStatus.refunded)
    together = demands(shown, now)
    assert together == {festival.id: demand(festival, now) for festival in shown}
    assert [together[f.id].paid_orders for f in shown] == [3, 2, 1, 0]
    assert len({together[f.id].forecast.conversion for f in shown}) > 1
    assert demands([], now) == {}


def test_the_dashboard_reads_consultations_and_paid_orders_from_the_rollups(
    weeks, make_festival, make_product, department
):
    """What the raw rows count, under each cut, is what the rollups keep once aggregated."""
    employee, contact = weeks["employee"], weeks["contact"]
    employee.department_id = department.id
    fair = make_festival(name="Fair", now=utc(2026, 3, 11, 12))
    tea = make_product(name="Tea").variants[0]
    add_order(contact, total=2_000, paid_at=utc(2026, 3, 11, 12), festival_id=fair.id, variant=tea)
    add_event("consultation", utc(2026, 3, 11, 12), actor=contact, festival_id=fair.id, product_id=tea.product_id)
    aggregate()
    week = Filters(date(2026, 3, 9), date(2026, 3, 15))
    for f in (
        week,
        replace(week, level=1),
        replace(week, level=0),
        replace(week, department_id=department.id),
        replace(week, festival=str(fair.id)),
        replace(week, festival="none"),
        replace(week, product_id=tea.product_id),
    ):
        raw = consultations_and_paid(
            [figures.utc_bounds(f), figures.utc_bounds(f.previous())],
            orders=cuts.orders(f),
            events=lambda query, f=f: cuts.events(query, f),
        )
        assert [operations_sections.kept_counts(f), operations_sections.kept_counts(f.previous())] == raw, f
    assert operations_sections.kept_counts(week) != operations_sections.kept_counts(replace(week, level=1))
    assert operations_sections.kept_counts(replace(week, festival=str(fair.id))) == (1, 1)
    # The platform's payments: every order paid in the window, uncut.
    every = [figures.revenue(week)[0], figures.revenue(week.previous())[0]]
    raw = platform_effectivenesses([figures.utc_bounds(week), figures.utc_bounds(week.previous())])
    assert every == [p.payments_paid for p in raw] and every[0] > 0
