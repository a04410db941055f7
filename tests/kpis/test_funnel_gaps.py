"""The company funnel's median time between stages: each event's gap from its chain's latest
earlier event of the stage before at any time and of any cut, the median over the events of the
window and the cut, read from the kept histograms.

The company's zone is UTC+8: the window 1-10 March 2026 local is [28 Feb 16:00, 10 Mar 16:00)
UTC; the previous period, 19-28 February local, is [18 Feb 16:00, 28 Feb 16:00) UTC.

Chain of E1 (Sales), A its L1 contact:
  share  E1  2 Mar 00:00, 2 Mar 06:00
  visit      2 Mar 08:00 (2 h after the 06:00 share), 3 Mar 06:00 (24 h)
  signup A   3 Mar 12:00 (6 h after the 3 Mar visit)
  consult A  4 Mar 12:00 (24 h)
  first  A   4 Mar 14:00 (2 h)
Chain of E2 (no department):
  share  E2  28 Feb 15:00 (28 Feb local: the previous period)
  visit      28 Feb 15:30 (previous period: 30 min)
  visit      5 Mar 00:00 (105 h: from the share of the previous period)
  share  E2  5 Mar 01:00
  visit      5 Mar 05:00 (4 h)
A visit of no chain, 5 Mar 06:00: no gap.

This period: visit [2 h, 24 h, 105 h, 4 h] -> (4 h + 24 h) / 2 = 14 h; sign-up [6 h];
consultation [24 h]; first order [2 h]; repeat order none. Previous period: visit [30 min].
E1 alone (as on /network): visit median(2 h, 24 h) = 13 h.
"""

from __future__ import annotations

from datetime import date, timedelta

from kpis import domain, funnel_gaps, sections
from kpis.aggregation import aggregate
from kpis.chain import chain_funnel
from kpis.figures import Filters
from referrals.models import EventKind, FunnelEvent
from shop.extensions import db
from tests.kpis.conftest import add_event, assert_close_gaps, utc

WINDOW = Filters(date(2026, 3, 1), date(2026, 3, 10))
H = timedelta(hours=1)


def _build(make_user, make_contact, department):
    e1 = make_user(name="E1", department=department, created_at=utc(2026, 1, 1))
    e2 = make_user(name="E2", created_at=utc(2026, 1, 1))
    a = make_contact(e1, name="A", created_at=utc(2026, 1, 2))
    add_event("share", utc(2026, 3, 2), actor=e1)
    add_event("share", utc(2026, 3, 2, 6), actor=e1)
    add_event("visit", utc(2026, 3, 2, 8), chain=e1)
    add_event("visit", utc(2026, 3, 3, 6), chain=e1)
    add_event("signup", utc(2026, 3, 3, 12), actor=a)
    add_event("consultation", utc(2026, 3, 4, 12), actor=a)
    add_event("first_order", utc(2026, 3, 4, 14), actor=a)
    add_event("share", utc(2026, 2, 28, 15), actor=e2)
    add_event("visit", utc(2026, 2, 28, 15, 30), chain=e2)
    add_event("visit", utc(2026, 3, 5), chain=e2)
    add_event("share", utc(2026, 3, 5, 1), actor=e2)
    add_event("visit", utc(2026, 3, 5, 5), chain=e2)
    db.session.add(FunnelEvent(kind=EventKind.visit, at=utc(2026, 3, 5, 6)))  # nobody's chain
    db.session.commit()
    aggregate()
    return e1, e2, a


def test_the_company_median_time_between_stages(make_user, make_contact, department):
    e1, e2, _a = _build(make_user, make_contact, department)
    expected = {"visit": 14 * H, "signup": 6 * H, "consultation": 24 * H, "first_order": 2 * H, "repeat_order": None}
    assert_close_gaps(funnel_gaps.company_gaps(WINDOW), expected)
    assert_close_gaps(funnel_gaps.company_gaps(WINDOW.previous()), {**dict.fromkeys(expected), "visit": 30 * H / 60})
    # The same definition as each employee's funnel: E1's own visits, median(2 h, 24 h).
    assert_close_gaps({"visit": chain_funnel(e1, WINDOW).stages[1].median_gap}, {"visit": 13 * H})
    # Cuts: Sales (E1's chain only): visits [2 h, 24 h]; level 1 (A's events only): the sign-up
    # keeps its gap from the visit (of another level) before it, 6 h; consultation 24 h; first
    # order 2 h.
    by_department = funnel_gaps.company_gaps(Filters(WINDOW.start, WINDOW.end, department_id=department.id))
    assert_close_gaps(by_department, {**expected, "visit": 13 * H})
    by_level = funnel_gaps.company_gaps(Filters(WINDOW.start, WINDOW.end, level=1))
    assert_close_gaps(by_level, {**expected, "visit": None})
    # A late share of E2 (4 Mar 20:00, written now) shortens the 5 Mar visit's gap to 4 h, a day
    # after its own: visits [2 h, 24 h, 4 h, 4 h] -> 4 h.
    add_event("share", utc(2026, 3, 4, 20), actor=e2)
    aggregate()
    assert_close_gaps(funnel_gaps.company_gaps(WINDOW), {**expected, "visit": 4 * H})


def test_the_company_funnel_table_shows_the_medians_beside_the_previous_period(make_user, make_contact, department):
    _build(make_user, make_contact, department)
    (table,) = sections.funnel(WINDOW)
    rows = {row[0]: row for row in table.rows}
    # Stage, count, conversion, previous count, previous conversion, median, previous median.
    # This period: shares 2 + 1, visits 2 + 2 + the nobody's visit = 5; previous: 1 share, 1 visit.
    assert rows["Visits"][:5] == ["Visits", 5, 5 / 3, 1, 1.0]
    assert_close_gaps({"now": rows["Visits"][5], "before": rows["Visits"][6]}, {"now": 14 * H, "before": 30 * H / 60})
    assert rows["Shares"][5:] == [None, None]
    assert_close_gaps({"now": rows["Sign-ups"][5], "before": rows["Sign-ups"][6]}, {"now": 6 * H, "before": None})


def test_gaps_are_the_events_own_within_each_chain():
    t = utc(2026, 3, 1)

    def rows(chain, *facts):
        return [domain.EventRow(chain * 10 + i, t + at, kind, None, chain, None) for i, (at, kind) in enumerate(facts)]

    one = rows(1, (0 * H, "share"), (H, "visit"))
    two = rows(2, (0 * H, "share"), (3 * H, "visit"), (4 * H, "visit"))
    whole = (t, t + 5 * H)
    # gaps: 1 h; 3 h, 4 h -> median 3 h (each chain alone: 1 h and 3.5 h)
    assert domain.window_gaps(one + two, *whole)["visit"] == 3 * H
    assert domain.window_gaps(list(reversed(two)), *whole)["visit"] == 3.5 * H  # sorted by time first
    # The share before the window still counts: only the 4 h visit is in [3.5 h, 5 h).
    assert domain.window_gaps(two, t + 3.5 * H, t + 5 * H)["visit"] == 4 * H
    # A tie: a visit at the moment of the share counts 0 (the share comes first).
    assert domain.window_gaps(rows(3, (0 * H, "visit"), (0 * H, "share")), *whole)["visit"] == timedelta(0)
    # The cut is the later event's own: a level cut keeps the visit, measured from any share.
    assert domain.window_gaps(two, *whole, keep=lambda e: e.id == 22)["visit"] == 4 * H
    # No event of the stage before in the chain: no gap; events of no chain have none either.
    assert domain.window_gaps(rows(4, (H, "visit")) + [domain.EventRow(99, t, "share", None, None, None)], *whole) == {
        kind: None for kind in domain.STAGES[1:]
    }
