"""One chain's funnel, for its own members: an employee's whole chain, or an L1 contact's
sub-chain (their own facts, their links' visits and sign-ups, their L2 contacts'), with the
median time between stages and the bottleneck against the employee's department (or the
company).

The median time between stages is that of the kept gaps of the events in the window
(``kpi_event_gaps``, as of the last aggregation run; ``kpis.funnel_gaps`` says what a gap is),
read as the company's is: the database counts the chain's gaps by histogram bucket (18,331 in
90 days for the largest chain at 1,000,000 events, from an index alone) and the median is read
from the counts, within the buckets' precision; for an employee's chain over the /network
window, the aggregation run keeps those medians (``kpis.network_gaps``) and the page reads them.
An L1 contact's sub-chain shows the gaps of its events, each measured in the whole chain, as the
company funnel counts them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from kpis import domain, figures, network_gaps
from kpis import medians as kpi_medians
from kpis.event_gaps import histogram_medians
from kpis.models import EventGap
from kpis.tables import Column, Table
from referrals.models import EventKind, FunnelEvent
from shop.accounts.models import User
from shop.extensions import db

STAGE_NAMES = {
    "share": _l("Shares"),
    "visit": _l("Visits"),
    "signup": _l("Sign-ups"),
    "consultation": _l("Consultations"),
    "first_order": _l("First orders"),
    "repeat_order": _l("Repeat orders"),
}

# One sentence of advice per weak step, with the community's articles that help with it.
ADVICE = {
    "visit": (_l("Few of your shares are opened: share with a personal note, or make a poster."), "comparison"),
    "signup": (_l("Visitors do not join: the FAQ answers what friends usually ask first."), "faq"),
    "consultation": (_l("New members do not ask: point them to the product manuals."), "manual"),
    "first_order": (_l("Questions do not turn into orders: the sales scripts show how to follow up."), "sales_script"),
    "repeat_order": (_l("Buyers do not come back: tell them about the next festival."), "announcement"),
}


@dataclass(frozen=True)
class ChainFunnel:
    owner: User
    start: date
    end: date
    stages: list[domain.Stage]
    bottleneck: str | None
    medians: dict[str, float | None]

    @property
    def advice(self) -> str | None:
        return str(ADVICE[self.bottleneck][0]) if self.bottleneck in ADVICE else None

    @property
    def advice_url(self) -> str | None:
        return url_for("community.articles", kind=ADVICE[self.bottleneck][1]) if self.bottleneck in ADVICE else None


def chain_condition(user: User):
    """The events of ``user``'s chain as they were written: an employee's by root, an L1
    contact's own, their links' and their L2 contacts'; a level-2 contact has no chain here.
    An L1 contact's own sign-up is not their sub-chain's: it is their employee's chain's, as
    the visit before it (through the employee's link) is; counted here, it stood alone on the
    sub-chain's funnel (more sign-ups than the /network page's own count, and than visits)."""
    if user.level == 0:
        return FunnelEvent.root_employee_id == user.id
    if user.level == 1:
        own = and_(FunnelEvent.actor_id == user.id, FunnelEvent.kind != EventKind.signup)
        return or_(own, FunnelEvent.l1_contact_id == user.id, FunnelEvent.link_owner_id == user.id)
    return None


def chain_events(user: User, start: datetime, end: datetime) -> list[domain.EventRow]:
    condition = chain_condition(user)
    if condition is None:
        return []
    rows = db.session.execute(
        select(
            FunnelEvent.id,
            FunnelEvent.at,
            FunnelEvent.kind,
            FunnelEvent.actor_id,
            FunnelEvent.root_employee_id,
            FunnelEvent.l1_contact_id,
            FunnelEvent.product_id,
            FunnelEvent.festival_id,
        ).where(condition, FunnelEvent.at >= start, FunnelEvent.at < end)
    )
    return [domain.EventRow(i, at, str(kind), a, r, l1, p, fe) for i, at, kind, a, r, l1, p, fe in rows]


def kept_gaps(user: User, f: figures.Filters) -> dict[str, timedelta | None]:
    """The median time between stages of the chain's events in ``f``'s window, from the kept
    gap of each event (``kpi_event_gaps``): for an employee's chain over the /network window,
    as the aggregation counted them (``kpis.network_gaps``), else ``counted_gaps``."""
    if user.level == 0 and f == figures.network_window(f.end):
        kept = network_gaps.kept(user.id, f.end)
        if kept is not None:
            return kept
    return counted_gaps(user, f)


def counted_gaps(user: User, f: figures.Filters) -> dict[str, timedelta | None]:
    """``kept_gaps`` counted now: each stage's kept gaps counted by histogram bucket in the
    database (an index-only scan for an employee's chain), the median read from the counts to
    the buckets' precision, as the company's (``kpis.event_gaps.histogram_medians``)."""
    condition = chain_condition(user)
    if condition is None:
        return dict.fromkeys(domain.STAGES[1:])
    query = select(EventGap.kind, EventGap.bucket, func.count().label("n")).where(
        EventGap.day >= f.start, EventGap.day <= f.end
    )
    if user.level == 0:
        query = query.where(EventGap.root_employee_id == user.id)
    else:
        query = query.join(FunnelEvent, FunnelEvent.id == EventGap.event_id).where(condition)
    return histogram_medians(query.group_by(EventGap.kind, EventGap.bucket))


def chain_funnel(user: User, f: figures.Filters) -> ChainFunnel:
    """Stage counts from the rollups (``kpi_chain_days``) for an employee's chain over the
    /network window, else from the raw events; the median gaps from the kept ones."""
    if user.level == 0 and f == figures.network_window(f.end):
        counts = figures.funnel_counts(f, root=user.id)
    else:
        counts = domain.count_events(chain_events(user, *figures.utc_bounds(f)))
    stages = domain.funnel(counts, kept_gaps(user, f))
    root = db.session.get(User, user.chain_root_id)
    medians = kpi_medians.for_department(f, root.department_id if root else None)
    return ChainFunnel(
        owner=user,
        start=f.start,
        end=f.end,
        stages=stages,
        bottleneck=domain.bottleneck(domain.conversions(counts), medians),
        medians=medians,
    )


def chain_funnel_for_page(user: User) -> ChainFunnel | None:
    """The funnel shown on /network: the last 90 days of the viewer's own chain (an employee's)
    or sub-chain (an L1 contact's); none for level-2 contacts, who have no chain below them."""
    if user.level > 1:
        return None
    return chain_funnel(user, figures.network_window())


def funnel_table(funnel: ChainFunnel) -> Table:
    table = Table(
        "chain_funnel",
        _l("Chain funnel"),
        [
            Column(_l("Stage"), "text"),
            Column(_l("Count"), "int"),
            Column(_l("Conversion from the stage before"), "ratio"),
            Column(_l("Median of comparable employees"), "ratio"),
            Column(_l("Median time from the stage before"), "duration"),
        ],
        chart="funnel",
    )
    table.rows = [
        [str(STAGE_NAMES[s.kind]), s.count, s.conversion, funnel.medians.get(s.kind), s.median_gap]
        for s in funnel.stages
    ]
    return table
