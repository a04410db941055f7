"""The festival report section: each festival's forecast against its paid orders, its stock,
its new buyers and new chains; and the funnel of the festivals against the year-round one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from kpis import cuts, domain, figures
from kpis.figures import Filters
from kpis.models import StageDay
from kpis.sections_base import stage_name
from kpis.tables import Column, Table
from referrals.models import EventKind
from shop.catalog.festival_models import Festival, FestivalItem
from shop.company_calendar import company_zone
from shop.database import utcnow
from shop.extensions import db
from shop.festivals.forecast import demands
from shop.orders.models import Order


def festivals(f: Filters) -> list[Table]:
    now = utcnow()
    report = Table(
        "festivals",
        _l("Festival report"),
        [
            Column(_l("Festival"), "text"),
            Column(_l("Launch"), "date"),
            Column(_l("Reminders"), "int"),
            Column(_l("Forecast orders"), "int"),
            Column(_l("Paid orders"), "int"),
            Column(_l("Forecast error"), "ratio"),
            Column(_l("Units allocated"), "int"),
            Column(_l("Sell-through"), "ratio"),
            Column(_l("Units returned"), "int"),
            Column(_l("New buyers"), "int"),
            Column(_l("New chains"), "int"),
        ],
        chart="bars",
        series=[3, 4],
    )
    listed = select(Festival).order_by(Festival.launch_at.desc()).limit(24)
    if f.festival_id() is not None:
        listed = listed.where(Festival.id == f.festival_id())
    report.note = cuts.not_applied(f, (cuts.FESTIVAL,) if f.festival != figures.YEAR_ROUND else ())
    shown = list(db.session.scalars(listed))
    stock, new_buyers, new_chains = _festival_figures([festival.id for festival in shown])
    wanted_by_festival = demands(shown, now)
    for festival in shown:
        wanted = wanted_by_festival[festival.id]
        expected = wanted.forecast.expected_orders
        allocated, sold, returned = stock.get(festival.id, (0, 0, 0))
        new_buyers_of, new_chains_of = new_buyers.get(festival.id, 0), new_chains.get(festival.id, 0)
        ended = festival.ends_at <= now
        error = (wanted.paid_orders - expected) / expected if ended and expected else None
        report.rows.append(
            [
                festival.name,
                festival.launch_at.astimezone(company_zone()).date(),  # the company's day
                wanted.forecast.reminders,
                expected,
                wanted.paid_orders,
                error,
                int(allocated),
                domain.ratio(int(sold), int(allocated)),
                int(returned),
                new_buyers_of,
                new_chains_of,
            ]
        )
    chosen = f.festival_id()
    comparison = Table(
        "festival_funnel",
        _l("Festival funnel against the year-round funnel"),
        [
            Column(_l("Stage"), "text"),
            Column(_l("Festival"), "int"),
            Column(_l("Conversion"), "ratio"),
            Column(_l("Year-round"), "int"),
            Column(_l("Conversion"), "ratio"),
        ],
        chart="funnel",
    )
    in_festivals, year_round = figures.funnel_counts_by_festival(f, chosen)
    for a, b in zip(domain.funnel(in_festivals), domain.funnel(year_round), strict=True):
        comparison.rows.append([stage_name(a.kind), a.count, a.conversion, b.count, b.conversion])
    return [report, comparison]


def _festival_figures(ids: list[int]) -> tuple[dict, dict, dict]:
    """For each festival of ``ids``, three grouped statements instead of three per festival:
    (allocated, sold, returned units); new buyers (first orders bought from its stock, from
    ``kpi_stage_days``); new chains (chains whose first paid order ever was from its stock)."""
    stock = {
        festival_id: (int(a), int(s), int(r))
        for festival_id, a, s, r in db.session.execute(
            select(
                FestivalItem.festival_id,
                func.sum(FestivalItem.allocated),
                func.sum(FestivalItem.sold),
                func.sum(FestivalItem.returned_units),
            )
            .where(FestivalItem.festival_id.in_(ids))
            .group_by(FestivalItem.festival_id)
        )
    }
    new_buyers = {
        festival_id: int(n)
        for festival_id, n in db.session.execute(
            select(StageDay.festival_id, func.sum(StageDay.events))
            .where(StageDay.kind == EventKind.first_order.value, StageDay.festival_id.in_(ids))
            .group_by(StageDay.festival_id)
        )
    }
    # Each chain with a paid order of these festivals, and its first paid order ever: one probe
    # of (root_employee_id, paid_at) per such chain, not a pass over every paid order.
    festival_chains = (
        select(Order.root_employee_id.label("root"))
        .where(Order.festival_id.in_(ids), Order.paid_at.is_not(None))
        .distinct()
        .subquery()
    )
    earlier = aliased(Order)
    first_paid = select(
        festival_chains.c.root,
        select(func.min(earlier.paid_at))
        .where(earlier.root_employee_id == festival_chains.c.root)
        .scalar_subquery()
        .label("first"),
    ).subquery()
    new_chains = dict(
        db.session.execute(
            select(Order.festival_id, func.count(func.distinct(Order.root_employee_id)))
            .join(
                first_paid,
                and_(first_paid.c.root == Order.root_employee_id, Order.paid_at == first_paid.c.first),
            )
            .where(Order.festival_id.in_(ids))
            .group_by(Order.festival_id)
        ).all()
    )
    return stock, new_buyers, new_chains
