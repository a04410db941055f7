"""Each chain's medians over the /network window, kept by the aggregation run
(``kpi_network_gaps``): the same numbers as counting the chain's kept gaps when the page is
asked, for the window they were counted for only, brought up to date for the chains of new
events and whole when the window moves on. (The hypothesis test in ``test_event_gaps.py``
compares them after random increments.)"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from kpis import chain, figures, network_gaps
from kpis.aggregation import aggregate
from kpis.models import STATE_ID, AggregationState, NetworkGaps
from shop.database import utcnow
from shop.extensions import db
from tests.kpis.conftest import add_event


def _history(person, now):
    """A share of ``person``'s chain, a visit 3 h later, a sign-up 5 h after it, a consultation 2 days after that."""
    add_event("share", now - timedelta(days=5), actor=person)
    add_event("visit", now - timedelta(days=5) + timedelta(hours=3), chain=person)
    add_event("signup", now - timedelta(days=5) + timedelta(hours=8), chain=person)
    add_event("consultation", now - timedelta(days=3), chain=person)


def _state() -> AggregationState:
    return db.session.scalar(select(AggregationState).where(AggregationState.id == STATE_ID))


def test_the_kept_medians_are_the_counted_ones_for_their_window_only(make_user, make_contact):
    busy, quiet = make_user(name="Busy"), make_user(name="Quiet")
    now = utcnow()
    _history(busy, now)
    window = figures.network_window()
    assert network_gaps.kept(busy.id, window.end) is None  # never aggregated: the page counts

    aggregate()
    kept = network_gaps.kept(busy.id, window.end)
    assert kept == chain.counted_gaps(busy, window)
    assert kept["visit"] is not None and abs(kept["visit"] - timedelta(hours=3)) <= timedelta(hours=3) * 0.005
    assert kept["first_order"] is None  # no order yet
    # A chain without a gap in the window has no row, and its medians are known to be none.
    assert network_gaps.kept(quiet.id, window.end) == dict.fromkeys(network_gaps.STAGES)
    assert chain.kept_gaps(quiet, window) == chain.counted_gaps(quiet, window)
    # Another window (yesterday's, or a longer one) is never answered from the table.
    assert network_gaps.kept(busy.id, window.end - timedelta(days=1)) is None


def test_a_run_recounts_the_chains_of_new_events_and_every_chain_when_the_window_moves(make_user):
    first, second = make_user(name="First"), make_user(name="Second")
    now = utcnow()
    _history(first, now)
    _history(second, now)
    aggregate()
    window = figures.network_window()
    # Mark the second chain's row: a run that recounts it replaces the mark.
    db.session.execute(update(NetworkGaps).where(NetworkGaps.root_employee_id == second.id).values(visit=1))
    db.session.commit()

    add_event("visit", now - timedelta(hours=1), chain=first)  # 5 days after the share: a new gap
    aggregate()
    assert network_gaps.kept(first.id, window.end) == chain.counted_gaps(first, window)
    assert network_gaps.kept(second.id, window.end)["visit"] == timedelta(microseconds=1)  # not recounted

    # The first run of a new company day recounts every chain, those without new events too.
    db.session.execute(update(AggregationState).values(network_gaps_window_end=window.end - timedelta(days=1)))
    db.session.commit()
    assert chain.kept_gaps(second, window) == chain.counted_gaps(second, window)  # meanwhile, counted
    aggregate()
    assert _state().network_gaps_window_end == window.end
    assert network_gaps.kept(second.id, window.end) == chain.counted_gaps(second, window)


def test_a_full_run_counts_the_same_as_the_increments(make_user, make_contact):
    employee = make_user()
    contact = make_contact(employee)
    now = utcnow()
    _history(employee, now)
    aggregate()
    add_event("visit", now - timedelta(days=1), chain=contact)
    add_event("first_order", now - timedelta(hours=2), actor=contact)
    aggregate()
    window = figures.network_window()
    incremental = network_gaps.kept(employee.id, window.end)
    aggregate(full=True)
    assert network_gaps.kept(employee.id, window.end) == incremental == chain.counted_gaps(employee, window)
    assert incremental["first_order"] is not None


def test_many_chains_of_new_events_recount_every_chain_in_one_pass(make_user, monkeypatch):
    first, second = make_user(name="First"), make_user(name="Second")
    now = utcnow()
    _history(first, now)
    _history(second, now)
    aggregate()
    db.session.execute(update(NetworkGaps).where(NetworkGaps.root_employee_id == second.id).values(visit=1))
    db.session.commit()
    monkeypatch.setattr(network_gaps, "WHOLE_ABOVE", 0)  # one chain of new events is already many
    add_event("visit", now - timedelta(hours=1), chain=first)
    aggregate()
    window = figures.network_window()
    assert network_gaps.kept(second.id, window.end) == chain.counted_gaps(second, window)  # the mark is gone
