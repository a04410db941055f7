"""Each event's time between stages kept by the aggregation run (``kpi_event_gaps``) and its
daily histograms (``kpi_gap_days``) against a recount from the raw events: random histories of
two chains around the /network window's first day and recent ones, aggregated in several
increments with events (late ones too) arriving between them; the medians the pages read
against ``domain.window_gaps``; the histograms' precision."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpis import chain, domain, figures, funnel_gaps, network_gaps
from kpis.aggregation import aggregate
from kpis.event_gaps import gap_bucket, histogram_median
from kpis.figures import Filters
from shop.accounts.models import Department
from shop.database import utcnow
from shop.extensions import db
from tests.conftest import _empty_tables
from tests.kpis.conftest import (
    add_event,
    assert_close_gaps,
    assert_weeks_sum_their_days,
    event_rows,
    kept_gaps,
    recounted_gaps,
)

WINDOW_HOURS = network_gaps.NETWORK_DAYS * 24

facts = st.lists(
    st.tuples(
        st.sampled_from(domain.STAGES),
        st.integers(0, 3),  # who: two chains of two people each
        st.integers(0, 48),  # hours from the window's first day (some before it) or from now
        st.booleans(),  # near the window's first day, or recent
        st.sampled_from([None, 1]),  # festival
    ),
    max_size=20,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(facts, min_size=1, max_size=3))
def test_kept_gaps_equal_a_recount_after_each_increment(batches, make_user, make_contact):
    db.session.remove()  # end the last example's read before emptying the tables
    _empty_tables()
    department = Department(name="Sales")
    db.session.add(department)
    db.session.commit()
    employees = [make_user(department=department), make_user()]
    people = [employees[0], make_contact(employees[0]), employees[1], make_contact(employees[1])]
    now = utcnow()
    first_day = now - timedelta(hours=WINDOW_HOURS)
    window = figures.network_window()
    start, end = figures.utc_bounds(window)
    cuts = {
        window: None,
        Filters(window.start, window.end, festival="1"): lambda e: e.festival_id == 1,
        Filters(window.start, window.end, level=1): lambda e: e.level == 1,
        Filters(window.start, window.end, department_id=department.id): lambda e: e.root_employee_id == people[0].id,
    }
    for batch in batches:
        for kind, who, hours, early, festival in batch:
            at = first_day + timedelta(hours=hours - 24) if early else now - timedelta(hours=hours)
            add_event(kind, at, actor=people[who], festival_id=festival)
        aggregate()
        assert kept_gaps() == recounted_gaps()
        assert_weeks_sum_their_days()
        events = event_rows()
        for f, keep in cuts.items():
            assert_close_gaps(funnel_gaps.company_gaps(f), domain.window_gaps(events, start, end, keep))
        for person in people:  # /network: the chain's kept gaps, to the buckets' precision
            own = {e.id for e in chain.chain_events(person, start, end)}
            assert_close_gaps(
                chain.kept_gaps(person, window), domain.window_gaps(events, start, end, lambda e, own=own: e.id in own)
            )
        for employee in employees:  # the medians the run kept for the window: exactly as counted now
            assert network_gaps.kept(employee.id, window.end) == chain.counted_gaps(employee, window)
    incremental = kept_gaps()
    kept_medians = {e.id: network_gaps.kept(e.id, window.end) for e in employees}
    aggregate(full=True)
    assert kept_gaps() == incremental
    assert {e.id: network_gaps.kept(e.id, window.end) for e in employees} == kept_medians


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 400 * 24 * 3600 * 10**6), min_size=1, max_size=40))
def test_a_median_read_from_the_buckets_is_within_half_a_percent_and_a_second(gaps_us):
    exact = timedelta(microseconds=statistics.median(gaps_us))
    found = histogram_median(Counter(gap_bucket(us) for us in gaps_us))
    assert abs(found - exact) <= exact * 0.005 + timedelta(seconds=1)


def test_buckets_are_one_percent_wide_and_ordered():
    assert gap_bucket(0) == gap_bucket(999_999) == 0
    assert gap_bucket(1_000_000) == 1
    assert gap_bucket(1_009_999) == 1 and gap_bucket(1_010_001) == 2
    hour = 3600 * 10**6
    assert gap_bucket(int(hour * 1.0101)) == gap_bucket(hour) + 1
    assert histogram_median({}) is None
    assert histogram_median({0: 3}) == timedelta(0)
    # Two middle gaps in different buckets: the mean of their buckets' middles.
    two = histogram_median({gap_bucket(hour): 1, gap_bucket(3 * hour): 1})
    assert abs(two - 2 * timedelta(hours=1)) <= timedelta(hours=2) * 0.005
