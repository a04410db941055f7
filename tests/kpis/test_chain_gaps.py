"""Each chain's median time between stages over the /network window, kept by the aggregation
run (``kpi_chain_gaps``), against a recount from the raw events: random histories around the
window's first day, aggregated in several increments with events arriving between them."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kpis import chain, domain, figures
from kpis.aggregation import aggregate
from kpis.chain_gaps import microseconds
from kpis.models import AggregationState, ChainGap
from shop.database import utcnow
from shop.extensions import db
from tests.conftest import _empty_tables
from tests.kpis.conftest import add_event

WINDOW_HOURS = figures.NETWORK_DAYS * 24


def _kept() -> dict:
    return {(row.root_employee_id, row.kind): row.gap_us for row in db.session.scalars(select(ChainGap))}


def _recount(employees) -> dict:
    start, end = figures.utc_bounds(figures.network_window())
    found = {}
    for employee in employees:
        gaps = domain.stage_gaps(chain.chain_events(employee, start, end))
        found.update({(employee.id, kind): microseconds(gap) for kind, gap in gaps.items() if gap is not None})
    return found


facts = st.lists(
    st.tuples(
        st.sampled_from(domain.STAGES),
        st.integers(0, 3),  # who: two chains of two people each
        st.integers(0, 48),  # hours from the window's first day (some before it) or from now
        st.booleans(),  # near the window's first day, or recent
    ),
    max_size=20,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(facts, min_size=1, max_size=3))
def test_kept_chain_gaps_equal_a_recount_after_each_increment(batches, make_user, make_contact):
    db.session.remove()
    _empty_tables()
    employees = [make_user(), make_user()]
    people = [employees[0], make_contact(employees[0]), employees[1], make_contact(employees[1])]
    now = utcnow()
    first_day = now - timedelta(hours=WINDOW_HOURS)
    for batch in batches:
        for kind, who, hours, early in batch:
            at = first_day + timedelta(hours=hours - 24) if early else now - timedelta(hours=hours)
            add_event(kind, at, actor=people[who])
        aggregate()
        assert _kept() == _recount(employees)
        window = figures.network_window()
        for employee in employees:  # the page reads the kept rows, and they equal the raw path
            counts, gaps = chain.kept_counts_and_gaps(employee, window)
            events = chain.chain_events(employee, *figures.utc_bounds(window))
            assert (+counts, gaps) == (+domain.count_events(events), domain.stage_gaps(events))
    incremental = _kept()
    aggregate(full=True)
    assert _kept() == incremental


def test_the_raw_events_are_read_when_the_window_is_not_the_kept_one(make_user):
    employee = make_user()
    now = utcnow()
    add_event("share", now - timedelta(hours=2), actor=employee)
    add_event("visit", now - timedelta(hours=1), chain=employee)
    aggregate()
    window = figures.network_window()
    assert chain.kept_counts_and_gaps(employee, window)[1]["visit"] == timedelta(hours=1)
    state = db.session.get(AggregationState, 1)
    state.chain_gaps_end = window.end - timedelta(days=1)  # as if the day changed since the run
    db.session.commit()
    assert chain.kept_counts_and_gaps(employee, window) is None
    funnel = chain.chain_funnel(employee, window)
    assert {s.kind: s.median_gap for s in funnel.stages}["visit"] == timedelta(hours=1)
    aggregate()  # the window moved: every chain counted again
    assert db.session.get(AggregationState, 1).chain_gaps_end == window.end
    assert chain.kept_counts_and_gaps(employee, window)[1]["visit"] == timedelta(hours=1)
