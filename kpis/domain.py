"""The KPIs of DESIGN.md ("Events and KPIs") as plain functions over plain rows.

Nothing here reads the database or the clock: the rollups (``kpis.aggregation``), the pages
(``kpis.figures``) and the tests' direct recounts all call these, so one definition holds
everywhere. Rows are small frozen dataclasses; money is in integer minor units.

Choices where DESIGN.md leaves room, stated once:

- The funnel has six stages: share, visit, sign-up, consultation, first order, repeat order.
  A stage's conversion is its count over the stage before's (``None`` when that one is 0).
- An event's *level* is the acting member's level in the chain the event was written for
  (0 employee, 1, 2), read from the attribution stored on the event; -1 for anonymous visitors.
- Revenue of an order is ``total - refunded`` once paid (``paid_at`` set), else 0, and it
  belongs to the company month of ``paid_at`` (refunds reduce that month, never the refund's).
- A festival order is one bought from a festival's allocated stock (``Order.festival_id``,
  stored when it was placed): the festival window it belongs to. Everything else is year-round.
- An order's product in ``kpi_revenue_days`` is its only product, or none when it has lines of
  several. The product cut reads ``kpi_product_days`` instead: the orders with a line of the
  product and the revenue of those lines (``revenue_by_product``).
- The median time between stages is over gaps that belong to events: an event's gap is from its
  chain's latest earlier event of the stage before, at any time and of any cut (``event_gaps``).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

STAGES: tuple[str, ...] = ("share", "visit", "signup", "consultation", "first_order", "repeat_order")
ANONYMOUS = -1  # the level of an event without an actor (a visit by someone not logged in)
SMALL_DEPARTMENT = 20  # fewer employees than this: compare with the whole company


@dataclass(frozen=True)
class EventRow:
    id: int
    at: datetime
    kind: str
    actor_id: int | None
    root_employee_id: int | None
    l1_contact_id: int | None
    product_id: int | None = None
    festival_id: int | None = None

    @property
    def level(self) -> int:
        return event_level(self.actor_id, self.root_employee_id, self.l1_contact_id)


@dataclass(frozen=True)
class OrderRow:
    id: int
    buyer_id: int
    buyer_level: int
    root_employee_id: int | None
    festival_id: int | None
    product_id: int | None
    total: int
    refunded: int
    paid_at: datetime | None

    @property
    def revenue(self) -> int:
        return self.total - self.refunded if self.paid_at is not None else 0


def event_level(actor_id: int | None, root_employee_id: int | None, l1_contact_id: int | None) -> int:
    """The actor's level in the chain the event was written for, by its stored attribution."""
    if actor_id is None:
        return ANONYMOUS
    if actor_id == root_employee_id:
        return 0
    return 2 if l1_contact_id is not None else 1


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def median(values: Iterable) -> object | None:
    values = list(values)
    return statistics.median(values) if values else None


# ---- funnel --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    kind: str
    count: int
    conversion: float | None  # count / the stage before's count; None for the first stage
    median_gap: timedelta | None = None  # median time from the stage before (when computed)


def funnel(counts: Mapping[str, int], gaps: Mapping[str, timedelta | None] | None = None) -> list[Stage]:
    stages, before = [], None
    for kind in STAGES:
        count = int(counts.get(kind, 0))
        stages.append(Stage(kind, count, None if before is None else ratio(count, before), (gaps or {}).get(kind)))
        before = count
    return stages


def conversions(counts: Mapping[str, int]) -> dict[str, float | None]:
    """Each stage after the first: its count over the stage before's."""
    return {stage.kind: stage.conversion for stage in funnel(counts)[1:]}


def count_events(events: Iterable[EventRow]) -> Counter:
    return Counter(event.kind for event in events)


STAGE_ORDER = {kind: i for i, kind in enumerate(STAGES)}
_BEFORE = {kind: STAGES[i - 1] for i, kind in enumerate(STAGES) if i}


# ---- time between stages ------------------------------------------------------------------
#
# A gap belongs to an event: each event of a stage after the first that belongs to a chain has
# one, the time from the chain's latest earlier event of the stage before, at any time and of
# any cut; events are ordered by (time, stage order, id), so a tie counts as 0. An event with no
# such earlier event has no gap. The median of a window and cut is the median of the gaps of
# the events in the window and the cut (the later event's own level, festival, product and
# chain). Being a property of the event, a gap is kept by the aggregation (``kpis.event_gaps``).


def event_order(at: datetime, kind: str, event_id: int) -> tuple:
    return at, STAGE_ORDER.get(kind, 99), event_id


def event_gaps(
    rows: Iterable[tuple[int, object, datetime, str]], latest: dict[object, dict[str, datetime]] | None = None
) -> Iterator[tuple[int, timedelta]]:
    """(event id, gap) of each event that has one. ``rows``: (id, chain, at, kind) of events of
    chains, sorted by ``event_order`` (within each chain at least); ``latest``: each chain's
    latest event of each stage before the rows (updated as the rows are read)."""
    latest = {} if latest is None else latest
    for event_id, chain, at, kind in rows:
        seen = latest.setdefault(chain, {})
        before = _BEFORE.get(kind)
        if before is not None and before in seen:
            yield event_id, at - seen[before]
        seen[kind] = at


def window_gaps(events: Iterable[EventRow], start: datetime, end: datetime, keep=None) -> dict[str, timedelta | None]:
    """The median time between stages of the events in [start, end) for which ``keep(event)``
    holds (every event when None), recounted from ``events``: all the events of the chains
    concerned, at any time."""
    events = sorted(
        (e for e in events if e.root_employee_id is not None), key=lambda e: event_order(e.at, e.kind, e.id)
    )
    by_id = {e.id: e for e in events}
    gaps: dict[str, list[timedelta]] = {kind: [] for kind in STAGES[1:]}
    for event_id, gap in event_gaps((e.id, e.root_employee_id, e.at, e.kind) for e in events):
        event = by_id[event_id]
        if start <= event.at < end and (keep is None or keep(event)):
            gaps[event.kind].append(gap)
    return {kind: median(values) for kind, values in gaps.items()}


def department_medians(
    conversions_by_employee: Mapping[int, Mapping[str, float | None]],
    department_of: Mapping[int, int | None],
    *,
    small: int = SMALL_DEPARTMENT,
) -> dict[int, dict[str, float | None]]:
    """For each employee, the medians to compare with: their department's, or the company's
    when the department has fewer than ``small`` employees (or the employee has none).
    Medians are over the employees whose conversion is defined."""

    def medians(ids: Iterable[int]) -> dict[str, float | None]:
        ids = list(ids)
        return {
            kind: median(c for e in ids if (c := conversions_by_employee[e].get(kind)) is not None)
            for kind in STAGES[1:]
        }

    company = medians(conversions_by_employee)
    members: dict[int | None, list[int]] = defaultdict(list)
    for employee in conversions_by_employee:
        members[department_of.get(employee)].append(employee)
    per_department = {dept: medians(ids) for dept, ids in members.items() if dept is not None and len(ids) >= small}
    return {e: per_department.get(department_of.get(e), company) for e in conversions_by_employee}


# Gaps closer than this are equal: a conversion's gap computed in two orders may differ in the
# last bits of a float.
GAP_TOLERANCE = 1e-12


def bottleneck(own: Mapping[str, float | None], medians: Mapping[str, float | None]) -> str | None:
    """The stage whose conversion is furthest below the median; None when none is below (by
    more than ``GAP_TOLERANCE``). Stages as far below as the furthest (within the tolerance)
    go to the earliest of them."""
    gaps = {
        kind: medians[kind] - own[kind]
        for kind in STAGES[1:]
        if own.get(kind) is not None and medians.get(kind) is not None
    }
    worst = max(gaps.values(), default=0.0)
    if worst <= GAP_TOLERANCE:
        return None
    return next(kind for kind, gap in gaps.items() if gap >= worst - GAP_TOLERANCE)


# ---- expansion -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    level: int  # 0 employee, 1, 2
    root_employee_id: int | None
    l1_contact_id: int | None
    department_id: int | None = None
    joined: datetime | None = None
    left: datetime | None = None  # deactivated


@dataclass(frozen=True)
class Expansion:
    employees: int
    employees_with_l1: int
    l1_contacts: int
    l1_with_l2: int
    l2_contacts: int

    @property
    def l1_rate(self) -> float | None:
        return ratio(self.employees_with_l1, self.employees)

    @property
    def l2_rate(self) -> float | None:
        return ratio(self.l1_with_l2, self.l1_contacts)

    @property
    def contacts_per_employee(self) -> float | None:
        return ratio(self.l1_contacts + self.l2_contacts, self.employees)


def expansion(employees: Iterable[int], contacts: Iterable[Person]) -> Expansion:
    """``employees``: the active employees' ids; ``contacts``: contacts as they are chained now."""
    employees = set(employees)
    contacts = list(contacts)
    l1 = [c for c in contacts if c.level == 1 and c.root_employee_id in employees]
    l1_ids = {c.id for c in l1}
    l2 = [c for c in contacts if c.level == 2 and c.l1_contact_id in l1_ids]
    return Expansion(
        employees=len(employees),
        employees_with_l1=len({c.root_employee_id for c in l1}),
        l1_contacts=len(l1),
        l1_with_l2=len({c.l1_contact_id for c in l2}),
        l2_contacts=len(l2),
    )


def revenue_by_level(orders: Iterable[OrderRow]) -> dict[int, int]:
    """Revenue of the buyers' own orders by level: 0 employees' own, 1 and 2 their contacts'."""
    totals = {0: 0, 1: 0, 2: 0}
    for order in orders:
        totals[order.buyer_level] = totals.get(order.buyer_level, 0) + order.revenue
    return totals


# ---- sustainability and retention ----------------------------------------------------------


@dataclass(frozen=True)
class MonthRevenue:
    month: date
    festival: int
    year_round: int

    @property
    def total(self) -> int:
        return self.festival + self.year_round

    @property
    def year_round_share(self) -> float | None:
        return ratio(self.year_round, self.total)


def monthly_revenue(orders: Iterable[OrderRow], month_of, months: Sequence[date]) -> list[MonthRevenue]:
    """Revenue per month split into festival and year-round; ``month_of(paid_at)`` is the
    company month (its first day)."""
    festival: Counter = Counter()
    year_round: Counter = Counter()
    for order in orders:
        if order.paid_at is None:
            continue
        month = month_of(order.paid_at)
        (festival if order.festival_id else year_round)[month] += order.revenue
    return [MonthRevenue(m, festival[m], year_round[m]) for m in months]


def sustainability(rows: Iterable[MonthRevenue]) -> float | None:
    """Year-round revenue over all revenue across the given months."""
    rows = list(rows)
    return ratio(sum(r.year_round for r in rows), sum(r.total for r in rows))


def repeat_buyer_rate(orders_per_buyer: Mapping[int, int]) -> float | None:
    """Buyers with at least two paid orders / buyers with at least one."""
    buyers = [n for n in orders_per_buyer.values() if n > 0]
    return ratio(sum(1 for n in buyers if n >= 2), len(buyers))


def add_months(month: date, k: int) -> date:
    index = month.year * 12 + month.month - 1 + k
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Cohort:
    month: date
    buyers: int
    shares: list[float | None]  # k = 1..: share who ordered again in month + k


def retention(buyer_months: Mapping[int, Iterable[date]], *, last_month: date, horizon: int = 12) -> list[Cohort]:
    """Cohorts by the month of each buyer's first paid order; for k >= 1, the share of the
    cohort who placed a paid order in month m + k (None for months after ``last_month``)."""
    cohorts: dict[date, list[set[date]]] = defaultdict(list)
    for months in buyer_months.values():
        months = set(months)
        if months:
            cohorts[min(months)].append(months)
    result = []
    for month in sorted(cohorts):
        members = cohorts[month]
        shares: list[float | None] = []
        for k in range(1, horizon + 1):
            later = add_months(month, k)
            shares.append(None if later > last_month else sum(later in m for m in members) / len(members))
        result.append(Cohort(month, len(members), shares))
    return result


# ---- revenue of a product's lines ---------------------------------------------------------


@dataclass(frozen=True)
class LineRow:
    product_id: int
    unit_price: int
    quantity: int
    refunded_quantity: int = 0


def revenue_by_product(lines: Sequence[LineRow], refunded: int) -> dict[int, int]:
    """A paid order's revenue (total less refunds) split over the products of its lines: each
    line keeps its units not refunded at its price; the part of the refunds not tied to units
    (``refunded`` less the refunded units' value) is taken from the products in proportion to
    what they kept (to their value when nothing is kept), rounded to a minor unit."""
    kept: Counter = Counter()
    value: Counter = Counter()
    for line in lines:
        kept[line.product_id] += line.unit_price * (line.quantity - line.refunded_quantity)
        value[line.product_id] += line.unit_price * line.quantity
    untied = refunded - sum(line.unit_price * line.refunded_quantity for line in lines)
    weights, whole = (kept, sum(kept.values())) if sum(kept.values()) else (value, sum(value.values()))
    return {p: kept[p] - (round(untied * weights[p] / whole) if whole else 0) for p in value}
