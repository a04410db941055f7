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

from sqlalchemy import func, select

from community.models import SearchQuery, Ticket
from community.services import metrics as community_metrics
from kpis import domain
from referrals.models import EventKind, FunnelEvent
from shop.audit.models import AuditEntry
from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from shop.payments.models import StripeEvent

PAYMENT_FAILED = "payment_intent.payment_failed"


Window = tuple[datetime, datetime]


def _in(column, start: datetime, end: datetime):
    return (column >= start) & (column < end)


def _span(column, windows: Sequence[Window]):
    """The rows of every window: one statement reads them all, each figure a filter per window."""
    return _in(column, min(start for start, _ in windows), max(end for _, end in windows))


def _per_window(windows: Sequence[Window], column, *conditions) -> list:
    return [func.count().filter(_in(column, start, end), *conditions) for start, end in windows]


def _split(rows, windows: Sequence[Window]) -> list[list]:
    """Rows whose first value is the moment that places them, per window."""
    return [[row for row in rows if start <= row[0] < end] for start, end in windows]


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
    return operator_efficiencies([(start, end)], orders=orders, events=events)[0]


def operator_efficiencies(
    windows: Sequence[Window],
    *,
    orders: Sequence = (),
    events=lambda query: query,
    counted: Sequence[tuple[int, int]] | None = None,
) -> list[OperatorEfficiency]:
    """``operator_efficiency`` of each window (the period and the one before), each table read
    once for all of them. ``counted``: the consultations and paid orders of each window when
    the caller has them (the dashboard reads them from the rollups); else counted here."""
    community = community_metrics.workloads(list(windows))
    resolved = _split(
        db.session.execute(
            select(Ticket.resolved_at, Ticket.created_at).where(_span(Ticket.resolved_at, windows))
        ).all(),
        windows,
    )
    if counted is None:
        counted = consultations_and_paid(windows, orders=orders, events=events)
    consultations, paid = [c for c, _ in counted], [p for _, p in counted]
    shipped = [AuditEntry.action == "order.shipped", _span(AuditEntry.at, windows)]
    if orders:
        shipped += [AuditEntry.entity_type == "order", AuditEntry.entity_id.in_(select(Order.id).where(*orders))]
    shipped_by = db.session.execute(
        select(AuditEntry.actor_id, *_per_window(windows, AuditEntry.at)).where(*shipped).group_by(AuditEntry.actor_id)
    ).all()
    shipping = _split(
        db.session.execute(
            select(Order.shipped_at, Order.paid_at).where(
                _span(Order.shipped_at, windows), Order.paid_at.is_not(None), *orders
            )
        ).all(),
        windows,
    )
    found = []
    for i, (start, end) in enumerate(windows):
        weeks = (end - start) / timedelta(days=7)
        shipments = [row[1 + i] for row in shipped_by if row[1 + i]]  # per actor who shipped any
        found.append(
            OperatorEfficiency(
                self_service_rate=community[i].self_service_rate,
                tickets=community[i].tickets,
                tickets_per_operator_week=community[i].tickets_per_operator_week,
                median_first_response=community[i].median_first_response,
                median_resolution=domain.median(done - opened for done, opened in resolved[i]),
                consultations_per_100_orders=None if not paid[i] else 100 * consultations[i] / paid[i],
                shipped_per_operator_week=sum(shipments) / len(shipments) / weeks if shipments and weeks else None,
                median_paid_to_shipped=domain.median(shipped_at - paid_at for shipped_at, paid_at in shipping[i]),
            )
        )
    return found


def consultations_and_paid(
    windows: Sequence[Window], *, orders: Sequence = (), events=lambda query: query
) -> list[tuple[int, int]]:
    """(consultation events, orders paid) of each window, from the raw rows."""
    consultations = db.session.execute(
        events(
            select(*_per_window(windows, FunnelEvent.at))
            .select_from(FunnelEvent)
            .where(FunnelEvent.kind == EventKind.consultation, _span(FunnelEvent.at, windows))
        )
    ).one()
    paid = db.session.execute(
        select(*_per_window(windows, Order.paid_at)).where(_span(Order.paid_at, windows), *orders)
    ).one()
    return list(zip(consultations, paid, strict=True))


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
    failures and searches are not cut."""
    return platform_effectivenesses([(start, end)], orders=orders)[0]


def platform_effectivenesses(
    windows: Sequence[Window], *, orders: Sequence = (), payments_paid: Sequence[int] | None = None
) -> list[PlatformEffectiveness]:
    """``platform_effectiveness`` of each window: one statement per table for all of them, each
    count a filter of it. ``payments_paid``: the orders paid in each window (not cut) when the
    caller has them (the dashboard reads them from the rollups); else counted here."""
    placed = db.session.execute(
        select(
            *(
                count
                for start, end in windows
                for count in (
                    func.count().filter(_in(Order.created_at, start, end)),
                    func.count().filter(_in(Order.created_at, start, end), Order.paid_at.is_not(None)),
                    func.count().filter(_in(Order.created_at, start, end), Order.status == OrderStatus.expired),
                )
            )
        ).where(_span(Order.created_at, windows), *orders)
    ).one()
    # the failures' whole: every order paid in the window, not cut
    if payments_paid is None:
        payments_paid = db.session.execute(
            select(*_per_window(windows, Order.paid_at)).where(_span(Order.paid_at, windows))
        ).one()
    searches = db.session.execute(
        select(
            *(
                count
                for start, end in windows
                for count in (
                    func.count().filter(_in(SearchQuery.created_at, start, end)),
                    func.count().filter(_in(SearchQuery.created_at, start, end), SearchQuery.results == 0),
                )
            )
        ).where(_span(SearchQuery.created_at, windows))
    ).one()
    failures = db.session.execute(
        select(*_per_window(windows, StripeEvent.received_at)).where(
            StripeEvent.type == PAYMENT_FAILED, _span(StripeEvent.received_at, windows)
        )
    ).one()
    return [
        PlatformEffectiveness(
            checkouts=placed[3 * i],
            paid_checkouts=placed[3 * i + 1],
            payment_failures=failures[i],
            payments_paid=payments_paid[i],
            expired=placed[3 * i + 2],
            searches=searches[2 * i],
            searches_without_result=searches[2 * i + 1],
        )
        for i in range(len(windows))
    ]
