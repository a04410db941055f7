"""The festival report's new buyers and new chains, worked out by hand.

F1 sold in January, F2 in March 2026 (UTC noon of the 10th of each, an hour either side).
  E1: first paid order in F1, another in F2               -> new chain of F1
  E2: first paid order year-round (February), then F2     -> new chain of neither
  E3: a cancelled F1 order (never paid); its contact C3's
      F2 order is the chain's first paid one              -> new chain of F2
  E4: two paid orders at the same moment, one of each     -> new chain of both
  E5: first paid order in F1, refunded since; then F2     -> new chain of F1
  An order of no chain (no root) in F2                    -> nobody's
New buyers (first orders, from the funnel's rollups): C3's first_order event in F2, E1's in F1.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import select

from kpis import domain, festival_report, figures
from kpis.aggregation import aggregate
from kpis.figures import Filters
from referrals.models import FunnelEvent
from shop.catalog.festival_models import Phase
from shop.extensions import db
from shop.orders.models import OrderStatus
from tests.kpis.conftest import add_event, add_order, utc

NEW_BUYERS, NEW_CHAINS = 9, 10  # columns of the report


def test_new_chains_and_new_buyers_of_each_festival(make_user, make_contact, make_festival):
    jan, mar = utc(2026, 1, 10, 12), utc(2026, 3, 10, 12)
    f1 = make_festival(name="F1", phase=Phase.ended, now=jan + timedelta(hours=3))
    f2 = make_festival(name="F2", phase=Phase.ended, now=mar + timedelta(hours=3))
    e1, e2, e3, e4, e5 = (make_user(name=f"E{k}") for k in range(1, 6))
    c3 = make_contact(e3, name="C3")
    add_order(e1, total=1_000, paid_at=jan, festival_id=f1.id)
    add_order(e1, total=1_000, paid_at=mar, festival_id=f2.id)
    add_order(e2, total=1_000, paid_at=utc(2026, 2, 1))
    add_order(e2, total=1_000, paid_at=mar, festival_id=f2.id)
    add_order(e3, total=1_000, paid_at=None, festival_id=f1.id, created_at=jan)
    add_order(c3, total=1_000, paid_at=mar, festival_id=f2.id)
    add_order(e4, total=1_000, paid_at=jan, festival_id=f1.id)
    add_order(e4, total=1_000, paid_at=jan, festival_id=f2.id)
    add_order(e5, total=1_000, paid_at=jan, festival_id=f1.id, status=OrderStatus.refunded, refunded=1_000)
    add_order(e5, total=1_000, paid_at=mar, festival_id=f2.id)
    rootless = add_order(e2, total=1_000, paid_at=mar - timedelta(minutes=1), festival_id=f2.id)
    rootless.root_employee_id = None
    add_event("first_order", jan, actor=e1, festival_id=f1.id)
    add_event("first_order", mar, actor=c3, festival_id=f2.id)
    aggregate()

    (report, _comparison) = festival_report.festivals(Filters(date(2026, 3, 1), date(2026, 3, 31)))
    rows = {row[0]: row for row in report.rows}
    assert (rows["F1"][NEW_CHAINS], rows["F2"][NEW_CHAINS]) == (3, 2)
    assert (rows["F1"][NEW_BUYERS], rows["F2"][NEW_BUYERS]) == (1, 1)
    (only_f2, _) = festival_report.festivals(Filters(date(2026, 3, 1), date(2026, 3, 31), festival=str(f2.id)))
    assert [(row[0], row[NEW_CHAINS]) for row in only_f2.rows] == [("F2", 2)]


def test_festival_funnel_against_year_round_under_the_cuts_equals_a_recount(
    make_user, make_contact, make_festival, department
):
    """``figures.funnel_counts_by_festival`` (the department's from the chain table, the others
    from the company tables) against the raw events, under a department and a level cut."""
    f1, f2 = make_festival(name="F1"), make_festival(name="F2")
    inside = make_user(department=department)
    outside = make_user()
    contact = make_contact(inside)
    at = utc(2026, 3, 10, 12)
    for i, (kind, actor, chain, festival) in enumerate(
        [
            ("share", inside, inside, f1.id),
            ("share", inside, inside, None),
            ("visit", None, inside, f1.id),
            ("signup", contact, inside, f2.id),
            ("consultation", contact, inside, None),
            ("first_order", contact, inside, f1.id),
            ("share", outside, outside, f1.id),
            ("repeat_order", outside, outside, None),
        ]
    ):
        add_event(kind, at + timedelta(minutes=i), actor=actor, chain=chain, festival_id=festival)
    aggregate()
    events = db.session.scalars(select(FunnelEvent)).all()
    march = Filters(date(2026, 3, 1), date(2026, 3, 31))
    for cut in (march, replace(march, department_id=department.id), replace(march, level=1)):
        for chosen in (None, f1.id):
            kept = figures.funnel_counts_by_festival(cut, chosen)
            in_festivals, year_round = Counter(), Counter()
            for e in events:
                level = domain.event_level(e.actor_id, e.root_employee_id, e.l1_contact_id)
                if cut.department_id is not None and e.root_employee_id != inside.id:
                    continue
                if cut.level is not None and level != cut.level:
                    continue
                if not e.festival_id:
                    year_round[str(e.kind)] += 1
                elif chosen is None or e.festival_id == chosen:
                    in_festivals[str(e.kind)] += 1
            assert kept == (in_festivals, year_round)


def test_a_festival_launched_in_the_companys_night_is_reported_on_the_companys_day(app, make_festival):
    """Launch at 20:00 UTC on 7 December is 04:00 on 8 December in Shanghai (the company's zone):
    the report says the 8th, as the festival's own pages do."""
    launch = utc(2026, 12, 7, 20)
    festival = make_festival(name="Night", phase=Phase.launch, now=launch + timedelta(hours=1))
    assert festival.launch_at == launch
    (report, _comparison) = festival_report.festivals(Filters(date(2026, 12, 1), date(2026, 12, 31)))
    [row] = [row for row in report.rows if row[0] == "Night"]
    assert row[1] == date(2026, 12, 8)
