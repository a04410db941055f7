"""Operator efficiency and platform effectiveness over a window [start, end): small tables
(tickets, shipments, payments, searches) read directly, the rates computed by ``kpis.domain``.

- **self-service rate**, **tickets per operator per week**, **median first response**: the
  community's own definitions (``community.services.metrics``), not a second copy of them.
- **median resolution time**: resolved - opened, over tickets resolved in the window.
- **consultations per 100 paid orders**: consultation events / orders paid in the window x 100.
- **shipped per operator per week**: ``order.shipped`` audit entries per actor / weeks.
- **median paid -> shipped**: over orders shipped in the window.
- **paid / checkouts started**: of the orders placed in the window, those paid (by now).
- **payment failures / attempts**: Stripe's failed payments received in the window, over those
  and the orders paid in the window (each paid order is one successful attempt).
- **expired reservations**: orders placed in the window that expired unpaid.
- **searches with no result**: community searches in the window that found nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select

from community.models import SearchQuery, Ticket
from community.services import metrics as community_metrics
from kpis import domain
from referrals.models import EventKind, FunnelEvent
from shop.audit.models import AuditEntry
from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from shop.payments.models import StripeEvent

PAYMENT_FAILED = "payment_intent.payment_failed"


def _in(column, start: datetime, end: datetime):
    return (column >= start) & (column < end)


def _count(*conditions, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


@dataclass(frozen=True)
class OperatorEfficiency:
    self_service_rate: float | None
    tickets: int
    tickets_per_operator_week: float | None
    median_first_response: timedelta | None
    median_resolution: timedelta | None
    consultations_per_100_orders: float | None
    shipped_per_operator_week: float | None
    median_paid_to_shipped: timedelta | None


def operator_efficiency(
    start: datetime, end: datetime, *, orders: Sequence = (), events=lambda query: query
) -> OperatorEfficiency:
    """``orders``: conditions on Order (the dashboard's cuts, ``kpis.cuts.orders``) for the
    order figures; ``events``: the same cuts applied to a FunnelEvent query. Ticket figures
    (the community's) are not cut."""
    community = community_metrics.compute(start, end)
    weeks = (end - start) / timedelta(days=7)
    resolved = db.session.execute(
        select(Ticket.created_at, Ticket.resolved_at).where(_in(Ticket.resolved_at, start, end))
    ).all()
    consultations = db.session.scalar(
        events(
            select(func.count())
            .select_from(FunnelEvent)
            .where(FunnelEvent.kind == EventKind.consultation, _in(FunnelEvent.at, start, end))
        )
    )
    paid = _count(_in(Order.paid_at, start, end), *orders, model=Order)
    shipped = [AuditEntry.action == "order.shipped", _in(AuditEntry.at, start, end)]
    if orders:
        shipped += [AuditEntry.entity_type == "order", AuditEntry.entity_id.in_(select(Order.id).where(*orders))]
    shipped_by = db.session.execute(
        select(AuditEntry.actor_id, func.count()).where(*shipped).group_by(AuditEntry.actor_id)
    ).all()
    shipping = db.session.execute(
        select(Order.paid_at, Order.shipped_at).where(
            _in(Order.shipped_at, start, end), Order.paid_at.is_not(None), *orders
        )
    ).all()
    return OperatorEfficiency(
        self_service_rate=community.self_service_rate,
        tickets=community.tickets,
        tickets_per_operator_week=community.tickets_per_operator_week,
        median_first_response=community.median_first_response,
        median_resolution=domain.median(done - opened for opened, done in resolved),
        consultations_per_100_orders=None if not paid else 100 * consultations / paid,
        shipped_per_operator_week=(
            sum(n for _, n in shipped_by) / len(shipped_by) / weeks if shipped_by and weeks else None
        ),
        median_paid_to_shipped=domain.median(shipped - paid_at for paid_at, shipped in shipping),
    )


@dataclass(frozen=True)
class PlatformEffectiveness:
    checkouts: int
    paid_checkouts: int
    payment_failures: int
    payments_paid: int
    expired: int
    searches: int
    searches_without_result: int

    @property
    def checkout_conversion(self) -> float | None:
        return domain.ratio(self.paid_checkouts, self.checkouts)

    @property
    def payment_failure_rate(self) -> float | None:
        return domain.ratio(self.payment_failures, self.payment_failures + self.payments_paid)

    @property
    def no_result_rate(self) -> float | None:
        return domain.ratio(self.searches_without_result, self.searches)


def platform_effectiveness(start: datetime, end: datetime, *, orders: Sequence = ()) -> PlatformEffectiveness:
    """``orders``: conditions on Order (the dashboard's cuts) for the order figures; payment
    failures and searches are not cut. One statement per table, each count a filter of it."""
    placed = and_(_in(Order.created_at, start, end), *orders)
    paid_in = _in(Order.paid_at, start, end)
    checkouts, paid_checkouts, expired, payments_paid = db.session.execute(
        select(
            func.count().filter(placed),
            func.count().filter(placed, Order.paid_at.is_not(None)),
            func.count().filter(placed, Order.status == OrderStatus.expired),
            func.count().filter(paid_in),  # the failures' whole: not cut
        ).where(or_(_in(Order.created_at, start, end), paid_in))
    ).one()
    searches, without_result = db.session.execute(
        select(func.count(), func.count().filter(SearchQuery.results == 0)).where(
            _in(SearchQuery.created_at, start, end)
        )
    ).one()
    return PlatformEffectiveness(
        checkouts=checkouts,
        paid_checkouts=paid_checkouts,
        payment_failures=_count(
            StripeEvent.type == PAYMENT_FAILED, _in(StripeEvent.received_at, start, end), model=StripeEvent
        ),
        payments_paid=payments_paid,
        expired=expired,
        searches=searches,
        searches_without_result=without_result,
    )
