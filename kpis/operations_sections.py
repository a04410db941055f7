"""The operator-efficiency and platform-effectiveness sections (``kpis.operations``) with the
cuts: the order figures take every cut (``kpis.cuts.orders``), consultations the event cuts;
the community's ticket and search figures and Stripe's payment failures name no order, product
or chain, and say so beside each figure when such a cut is chosen."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from kpis import cuts, figures, refusals
from kpis.figures import Filters
from kpis.operations import operator_efficiencies, platform_effectivenesses
from kpis.sections_base import figure as _figure
from kpis.sections_base import figures_table as _figures_table
from kpis.tables import Table
from referrals.models import EventKind


def operators(f: Filters) -> list[Table]:
    # the previous period takes the same cuts: one reading of each table for both periods
    now, before = operator_efficiencies(
        [figures.utc_bounds(f), figures.utc_bounds(f.previous())],
        orders=cuts.orders(f),
        events=lambda query: cuts.events(query, f),
        counted=[kept_counts(f), kept_counts(f.previous())],
    )
    tickets = cuts.not_applied(f, ())  # the community's figures: tickets name no product, festival or chain
    return [
        _figures_table(
            "operators",
            _l("Operator efficiency"),
            [
                _figure(_l("Tickets"), "int", now.tickets, before.tickets, tickets),
                _figure(
                    _l("Tickets per operator per week"),
                    "float",
                    now.tickets_per_operator_week,
                    before.tickets_per_operator_week,
                    tickets,
                ),
                _figure(
                    _l("Median first response"),
                    "duration",
                    now.median_first_response,
                    before.median_first_response,
                    tickets,
                ),
                _figure(
                    _l("Median resolution time"), "duration", now.median_resolution, before.median_resolution, tickets
                ),
                _figure(_l("Self-service rate"), "ratio", now.self_service_rate, before.self_service_rate, tickets),
                _figure(
                    _l("Consultations per 100 paid orders"),
                    "float",
                    now.consultations_per_100_orders,
                    before.consultations_per_100_orders,
                ),
                _figure(
                    _l("Orders shipped per operator per week"),
                    "float",
                    now.shipped_per_operator_week,
                    before.shipped_per_operator_week,
                ),
                _figure(
                    _l("Median paid to shipped"), "duration", now.median_paid_to_shipped, before.median_paid_to_shipped
                ),
            ],
        )
    ]


def kept_counts(f: Filters) -> tuple[int, int]:
    """(consultations, paid orders) of ``f`` as the rollups keep them: what the raw rows count
    (``kpis.operations.consultations_and_paid``) as of the last aggregation run, from a few
    rows a day instead of every event and order of the window."""
    return figures.funnel_counts(f)[EventKind.consultation.value], figures.revenue(f)[0]


def platform(f: Filters) -> list[Table]:
    every = Filters(f.start, f.end)  # the payment failures' whole is not cut
    now, before = platform_effectivenesses(
        [figures.utc_bounds(f), figures.utc_bounds(f.previous())],
        orders=cuts.orders(f),
        payments_paid=[figures.revenue(every)[0], figures.revenue(every.previous())[0]],
    )
    uncut = cuts.not_applied(f, ())  # Stripe's events and the community's searches name no order
    return [
        _figures_table(
            "platform",
            _l("Platform effectiveness"),
            [
                _figure(_l("Checkouts started"), "int", now.checkouts, before.checkouts),
                _figure(
                    _l("Paid orders / checkouts started"), "ratio", now.checkout_conversion, before.checkout_conversion
                ),
                _figure(
                    _l("Payment failures / payment attempts"),
                    "ratio",
                    now.payment_failure_rate,
                    before.payment_failure_rate,
                    uncut,
                ),
                _figure(_l("Reservations that expired unpaid"), "int", now.expired, before.expired),
                _figure(_l("Searches"), "int", now.searches, before.searches, uncut),
                _figure(_l("Searches with no result"), "ratio", now.no_result_rate, before.no_result_rate, uncut),
            ],
        ),
        refusals.table(f),
    ]
