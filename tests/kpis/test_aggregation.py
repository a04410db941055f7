"""The rollups against a direct recount: random histories, aggregated once or in several
increments with facts arriving between them; exactly-once for a fact committed while a run
read; freshness and the "as of" time."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kpis import concentration, domain, employees, figures, funnel_gaps, medians
from kpis.aggregation import Calendar, aggregate, as_of
from kpis.figures import Filters
from kpis.models import (
    AggregationState,
    BuyerMonth,
    ChainDay,
    ChainRevenueDay,
    CompanyDay,
    CompanyRevenueDay,
    FunnelDay,
    RetentionCell,
    RevenueDay,
    StageDay,
)
from referrals.models import EventKind, FunnelEvent
from shop.accounts.models import User
from shop.database import utcnow
from shop.extensions import db
from shop.orders.models import Order
from tests.conftest import _empty_tables
from tests.kpis import expansion_recount
from tests.kpis import funnel_recount as recount
from tests.kpis.conftest import (
    add_event,
    add_order,
    add_refund,
    assert_close_gaps,
    assert_weeks_sum_their_days,
    event_rows,
    kept_gaps,
    recounted_gaps,
    utc,
)
from tests.racing import race

START = utc(2026, 1, 31, 12)  # spans a month end in company time
HOURS = 24 * 3
WINDOWS = [
    Filters(date(2026, 1, 31), date(2026, 2, 3)),
    Filters(date(2026, 2, 1), date(2026, 2, 1), level=1),
    Filters(date(2026, 2, 2), date(2026, 3, 1), festival="none"),  # four whole weeks
    Filters(date(2026, 1, 28), date(2026, 2, 10)),  # days, the week of Monday 2 February, days
]


def _rollup() -> tuple[Counter, ...]:
    """Every rollup table, keyed as the recount below keys it (the kept gaps last)."""
    funnel, revenue, months, chain, company, chain_revenue, company_revenue, retention, stages = (
        Counter() for _ in range(9)
    )
    for row in db.session.scalars(select(StageDay)):
        stages[(row.day, row.level, row.festival_id, row.kind)] += row.events
    for row in db.session.scalars(select(FunnelDay)):
        funnel[(row.day, row.root_employee_id, row.level, row.festival_id, row.product_id, row.kind)] += row.events
    for row in db.session.scalars(select(ChainDay)):
        for kind in domain.STAGES:
            chain[(row.day, row.root_employee_id, row.level, row.festival_id, kind)] += getattr(row, kind)
    for row in db.session.scalars(select(CompanyDay)):
        company[(row.day, row.level, row.festival_id, row.product_id, row.kind)] += row.events
    for row in db.session.scalars(select(RevenueDay)):
        key = (row.day, row.root_employee_id, row.buyer_level, row.festival_id, row.product_id)
        revenue[(*key, "orders")] += row.orders
        revenue[(*key, "revenue")] += row.revenue
    for row in db.session.scalars(select(ChainRevenueDay)):
        chain_revenue[(row.day, row.root_employee_id, "orders")] += row.orders
        chain_revenue[(row.day, row.root_employee_id, "revenue")] += row.revenue
    for row in db.session.scalars(select(CompanyRevenueDay)):
        key = (row.day, row.buyer_level, row.festival_id, row.product_id)
        company_revenue[(*key, "orders")] += row.orders
        company_revenue[(*key, "revenue")] += row.revenue
    for row in db.session.scalars(select(BuyerMonth)):
        months[(row.month, row.buyer_id)] += row.orders
    for row in db.session.scalars(select(RetentionCell)):
        retention[(row.cohort, row.month)] += row.buyers
    return (
        *(+c for c in (funnel, revenue, months, chain, company, chain_revenue, company_revenue, retention, stages)),
        *kept_gaps(),
    )


def _recount() -> tuple[Counter, ...]:
    """Straight from the raw rows, with the domain's definitions."""
    calendar = Calendar()
    funnel, revenue, months, chain, company, chain_revenue, company_revenue, retention, stages = (
        Counter() for _ in range(9)
    )
    for e in db.session.scalars(select(FunnelEvent)):
        level = domain.event_level(e.actor_id, e.root_employee_id, e.l1_contact_id)
        day, root, festival, product = (
            calendar.day(e.at),
            e.root_employee_id or 0,
            e.festival_id or 0,
            e.product_id or 0,
        )
        funnel[(day, root, level, festival, product, str(e.kind))] += 1
        chain[(day, root, level, festival, str(e.kind))] += 1
        company[(day, level, festival, product, str(e.kind))] += 1
        stages[(day, level, festival, str(e.kind))] += 1
    for o in db.session.scalars(select(Order)):
        products = {line.variant.product_id for line in o.lines}
        row = domain.OrderRow(
            o.id, o.buyer_id, o.buyer_level, o.root_employee_id, o.festival_id,
            products.pop() if len(products) == 1 else None, o.total_amount, o.refunded_amount, o.paid_at,
        )  # fmt: skip
        if row.paid_at is None:
            continue
        day, root, festival = calendar.day(row.paid_at), row.root_employee_id or 0, row.festival_id or 0
        for counter, key in (
            (revenue, (day, root, row.buyer_level, festival, row.product_id or 0)),
            (chain_revenue, (day, root)),
            (company_revenue, (day, row.buyer_level, festival, row.product_id or 0)),
        ):
            counter[(*key, "orders")] += 1
            counter[(*key, "revenue")] += row.revenue
        months[(day.replace(day=1), row.buyer_id)] += 1
    by_buyer: dict[int, set] = {}
    for month, buyer in months:
        by_buyer.setdefault(buyer, set()).add(month)
    for bought in by_buyer.values():
        for month in bought:
            retention[(min(bought), month)] += 1
    return (
        *(+c for c in (funnel, revenue, months, chain, company, chain_revenue, company_revenue, retention, stages)),
        *recounted_gaps(),
    )


def _in_cut(f: Filters):
    """``f``'s cuts over the domain's event rows (the department: the chain employee's now)."""
    festival = f.festival_id()
    members = set(db.session.scalars(select(User.id).where(User.department_id == f.department_id)))

    def keep(e: domain.EventRow) -> bool:
        return (
            (f.level is None or e.level == f.level)
            and (f.festival != figures.YEAR_ROUND or not e.festival_id)
            and (festival is None or e.festival_id == festival)
            and (f.product_id is None or e.product_id == f.product_id)
            and (f.department_id is None or e.root_employee_id in members)
        )

    return keep


def assert_pages_equal_a_recount(windows: list[Filters]) -> None:
    """The figures the pages read from the database's statements and the kept rows (employees
    table, bottlenecks, medians, the company's median times between stages, expansion, long
    tail, retention) against ``kpis.domain`` over every row in Python."""
    people = expansion_recount.population()
    events = event_rows()
    for f in windows:
        assert_close_gaps(funnel_gaps.company_gaps(f), domain.window_gaps(events, *figures.utc_bounds(f), _in_cut(f)))
        found = employees.page(f)
        python = recount.employee_funnels(f)
        assert {r.id: (+r.counts, r.conversions, r.bottleneck) for r in found.rows} == {
            r.id: (+r.counts, r.conversions, r.bottleneck) for r in python
        }
        assert found.bottlenecks == recount.bottleneck_distribution(python)
        assert medians.medians_by_department(f) == recount.counted_here(f)
        start, end = figures.utc_bounds(f)
        calendar, months = Calendar(), figures.months_back(f.end, 3)
        for department in {None, *(e.department_id for e in recount.active_employees(f))}:
            cut = replace(f, department_id=department)
            now, before, monthly = figures.expansions(cut, months)
            assert now == expansion_recount.expansion_at(people, start, end, department)
            assert before == expansion_recount.expansion_at(people, *figures.utc_bounds(cut.previous()), department)
            for month, kept in zip(months, monthly, strict=True):
                bounds = calendar.start(month), calendar.start(domain.add_months(month, 1))
                assert kept == expansion_recount.expansion_at(people, *bounds, department)
        amounts, with_order = recount.revenue_by_employee(f)
        active = recount.active_employees(f)
        chains = figures.chain_revenue(f)
        assert chains.tail() == concentration.long_tail(amounts, [e.id for e in active], with_order)
        for department in {e.department_id for e in active}:
            ids = [e.id for e in active if e.department_id == department]
            assert chains.tail(department, by_orders=False) == concentration.long_tail(
                amounts, ids, [i for i in ids if amounts.get(i)]
            )
        last = f.end.replace(day=1)
        recounted = domain.retention(figures.buyer_months(last=last), last_month=last)
        first = domain.add_months(last, -11)
        assert figures.retention(last) == [c for c in recounted if c.month >= first]


def _refund(order: Order, amount: int) -> None:
    """A refund as the refund service leaves it: a row, and the order's refunded amount."""
    add_refund(order, amount)
    db.session.commit()


facts = st.lists(
    st.tuples(
        st.sampled_from(["share", "visit", "signup", "consultation", "first_order", "repeat_order", "order", "refund"]),
        st.integers(0, 2),  # who
        st.integers(0, HOURS),  # when (hours after START)
        st.integers(1, 50),  # amount (orders, refunds)
        st.booleans(),  # paid (orders)
    ),
    max_size=25,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(facts, min_size=1, max_size=3))
def test_increments_equal_one_run_and_a_recount(batches, make_user, make_contact):
    db.session.remove()  # end the last example's read before emptying the tables
    _empty_tables()
    employee = make_user()
    l1 = make_contact(employee)
    l2 = make_contact(l1)
    people = [employee, l1, l2]
    orders: list[Order] = []
    for batch in batches:
        for kind, who, hours, amount, paid in batch:
            at = START + timedelta(hours=hours)
            person = people[who]
            if kind == "order":
                orders.append(add_order(person, total=amount * 100, paid_at=at if paid else None))
            elif kind == "refund":
                paid_orders = [o for o in orders if o.paid_at and o.refundable_amount]
                if paid_orders:
                    order = paid_orders[amount % len(paid_orders)]
                    _refund(order, min(amount, order.refundable_amount))
            else:
                add_event(kind, at, actor=person if kind != "visit" else None, chain=person)
        aggregate()  # an increment: facts of the next batch arrive after it
        assert _rollup() == _recount()
        assert_weeks_sum_their_days()
    assert_pages_equal_a_recount(WINDOWS)
    incremental = _rollup()
    aggregate(full=True)
    assert _rollup() == incremental


def test_expansion_windows_end_on_the_joining_day(make_user, make_contact):
    """The page's expansion windows (the range, the period before and each month, summed in
    one statement) against the recount, on the day the chain was built: a window ending the
    day before counts only an employee who left that day, one ending that day everyone else."""
    employee = make_user()
    l1 = make_contact(employee)
    make_contact(l1)
    make_contact(employee)
    make_user(created_at=utcnow() - timedelta(days=3), deactivated_at=utcnow() - timedelta(days=1), active=False)
    aggregate()
    today = figures.today()
    people = expansion_recount.population()
    calendar, months = Calendar(), figures.months_back(today, 2)
    for f in (Filters(today - timedelta(days=1), today - timedelta(days=1)), Filters(today, today)):
        now, before, monthly = figures.expansions(f, months)
        assert now == expansion_recount.expansion_at(people, *figures.utc_bounds(f))
        assert before == expansion_recount.expansion_at(people, *figures.utc_bounds(f.previous()))
        for month, kept in zip(months, monthly, strict=True):
            bounds = calendar.start(month), calendar.start(domain.add_months(month, 1))
            assert kept == expansion_recount.expansion_at(people, *bounds)
    yesterday, _, _ = figures.expansions(Filters(today - timedelta(days=1), today - timedelta(days=1)), months)
    joined, _, _ = figures.expansions(Filters(today, today), months)
    assert yesterday == domain.Expansion(1, 0, 0, 0, 0)  # the one who left
    assert joined == domain.Expansion(employees=1, employees_with_l1=1, l1_contacts=2, l1_with_l2=1, l2_contacts=1)


def test_a_fact_committed_while_a_run_read_is_counted_once(make_user):
    """A transaction that took a lower id and committed after the run read (simulated with an
    explicit id below the run's watermark, its time taken when it was written)."""
    employee = make_user()
    now = utcnow()
    db.session.add(
        FunnelEvent(id=1000, kind=EventKind.share, at=now, actor_id=employee.id, root_employee_id=employee.id)
    )
    db.session.commit()
    aggregate()
    db.session.add(
        FunnelEvent(id=500, kind=EventKind.share, at=now, actor_id=employee.id, root_employee_id=employee.id)
    )
    db.session.commit()
    today = Calendar().day(now)
    window = Filters(today, today)
    assert figures.funnel_counts(window)["share"] == 1  # not yet aggregated
    aggregate()
    assert figures.funnel_counts(window)["share"] == 2
    aggregate()
    aggregate()
    assert figures.funnel_counts(window)["share"] == 2  # never doubled


def test_freshness_and_as_of(make_user):
    employee = make_user()
    assert as_of() is None
    aggregate()
    first = as_of()
    today = Calendar().day(utcnow())
    window = Filters(today, today)
    written = utcnow()
    add_event("visit", written, chain=employee)
    add_order(employee, total=1_234, paid_at=written)
    assert figures.funnel_counts(window)["visit"] == 0 and figures.revenue(window) == (0, 0)
    before = utcnow()
    aggregate()
    after = utcnow()
    assert figures.funnel_counts(window)["visit"] == 1
    assert figures.revenue(window) == (1, 1_234)
    assert first < before <= as_of() <= after  # the figures say they hold everything up to as_of


def test_network_medians_are_kept_by_the_run_and_equal_a_live_count(make_user, make_contact):
    from kpis.figures import network_window

    employees = [make_user() for _ in range(3)]
    now = utcnow()
    for n, employee in enumerate(employees):  # visits per share: 1, 2, 3
        add_event("share", now, actor=employee)
        for _ in range(n + 1):
            add_event("visit", now, chain=employee)
    aggregate()
    window = network_window()
    live = medians.for_department(window, None)  # nothing kept yet: counted now
    assert live["visit"] == 2
    medians.refresh()
    kept = db.session.get(AggregationState, 1)
    assert kept.network_window_end == window.end and kept.network_medians["company"] == live
    db.session.add(FunnelEvent(kind=EventKind.visit, at=now, root_employee_id=employees[0].id))
    db.session.commit()
    aggregate()
    assert medians.for_department(window, None) == live  # the kept ones until the next refresh
    medians.refresh()
    assert medians.for_department(window, None)["visit"] == 2  # medians of (2, 2, 3)


def test_first_runs_in_parallel_all_finish(app, make_user):
    """Two processes' first runs ever (no state row yet): one creates the row, the others wait
    for it and run after; none fails on the row the other inserted."""
    employee = make_user()
    add_event("share", utcnow(), actor=employee)
    outcomes, _ = race(app, [aggregate] * 3)
    assert [type(o).__name__ for o in outcomes] == ["Run"] * 3
    db.session.rollback()
    assert db.session.get(AggregationState, 1).runs == 3
    today = Calendar().day(utcnow())
    assert figures.funnel_counts(Filters(today, today))["share"] == 1
