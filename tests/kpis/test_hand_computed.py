"""Every KPI of DESIGN.md on a small data set worked out by hand (the arithmetic is in the
comments). The company's zone is Asia/Shanghai (UTC+8): the window "March 2026" is
[2026-02-28 16:00 UTC, 2026-03-31 16:00 UTC).

People (as of the end; ``created_at`` in January unless said):
  E1, E2  employees of Sales;  E3 employee, left on 15 Feb (not active in March)
  L1a     E1's L1 contact;  L2a  L1a's L2 contact
  C3      E3's L1 contact, moved to E2 on 16 Feb (chain move)
  P       E1's L1 contact, verified as staff on 10 Mar (promoted: an employee since)
Active employees in March: E1, E2, P (3).
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpis import concentration, domain, figures
from kpis.aggregation import aggregate
from kpis.figures import Filters
from referrals.services.chains import move_contacts, promote_to_employee
from shop.accounts.models import Kind, Role
from shop.extensions import db
from shop.orders.models import OrderStatus
from tests.kpis import expansion_recount
from tests.kpis import funnel_recount as recount
from tests.kpis.conftest import utc

MARCH = Filters(start=date(2026, 3, 1), end=date(2026, 3, 31))


@pytest.fixture
def world(make_user, make_contact, make_festival, make_product, department):
    jan = utc(2026, 1, 1)
    admin = make_user(role=Role.admin, name="Admin")  # joined now (December): never active in the window
    e1 = make_user(name="E1", department=department, created_at=jan)
    e2 = make_user(name="E2", department=department, created_at=jan)
    e3 = make_user(name="E3", created_at=jan)
    l1a = make_contact(e1, name="L1a", created_at=utc(2026, 2, 1))
    l2a = make_contact(l1a, name="L2a", created_at=utc(2026, 2, 2))
    c3 = make_contact(e3, name="C3", created_at=utc(2026, 1, 5))
    p = make_contact(e1, name="P", created_at=utc(2026, 1, 10))
    festival = make_festival(name="Spring")
    tea = make_product(name="Tea").variants[0]
    return dict(admin=admin, e1=e1, e2=e2, e3=e3, l1a=l1a, l2a=l2a, c3=c3, p=p, festival=festival, tea=tea)


def build(world, facts):
    w = world
    e1, e2, e3, l1a, l2a, c3, p = (w[k] for k in ("e1", "e2", "e3", "l1a", "l2a", "c3", "p"))
    # January: C3 buys in E3's chain (10000).
    facts.order(c3, total=10_000, paid_at=utc(2026, 1, 20))
    # E3 leaves; C3 moves to E2 (the January order stays E3's).
    e3.is_active_flag, e3.deactivated_at = False, utc(2026, 2, 15)
    db.session.commit()
    move_contacts(w["admin"], e3, e2, reason="left")
    db.session.commit()
    # February: P buys as E1's L1 contact (5000).
    facts.order(p, total=5_000, paid_at=utc(2026, 2, 10))
    promote_to_employee(w["admin"], p, reason="verified by HR")
    db.session.commit()
    db.session.refresh(p)

    # Funnel events in March.
    # E1: 4 shares (one at 00:00 on 1 March local = 28 Feb 16:00 UTC; one at 00:00 on 1 April is out),
    # 6 visits, 2 sign-ups, 1 consultation, 1 first order, 0 repeat.
    facts.event("share", utc(2026, 2, 28, 16), actor=e1)
    facts.event("share", utc(2026, 3, 31, 16), actor=e1)  # 1 April local: outside March
    facts.event("share", utc(2026, 2, 28, 15, 59, 59), actor=e1)  # 28 Feb local: outside March
    for day in (1, 2, 3):
        facts.event("share", utc(2026, 3, day, 2), actor=e1)
    for day in range(1, 7):
        facts.event("visit", utc(2026, 3, day, 3), chain=e1)
    facts.event("signup", utc(2026, 3, 4, 4), actor=l1a)
    facts.event("signup", utc(2026, 3, 5, 4), actor=l2a)
    facts.event("consultation", utc(2026, 3, 5, 5), actor=l1a)
    facts.event("first_order", utc(2026, 3, 5, 6), actor=l1a, festival_id=w["festival"].id)
    # E2: 2 shares, 2 visits, 1 sign-up, 1 consultation, 0 first, 1 repeat (C3, now in E2's chain).
    facts.event("share", utc(2026, 3, 10), actor=e2)
    facts.event("share", utc(2026, 3, 11), actor=e2)
    facts.event("visit", utc(2026, 3, 12), chain=e2)
    facts.event("visit", utc(2026, 3, 13), chain=e2)
    facts.event("signup", utc(2026, 3, 14), actor=c3)
    facts.event("consultation", utc(2026, 3, 15), actor=c3)
    facts.event("repeat_order", utc(2026, 3, 20), actor=c3)
    # P, an employee since 10 March: 1 share, 1 repeat order (own).
    facts.event("share", utc(2026, 3, 11), actor=p)
    facts.event("repeat_order", utc(2026, 3, 25), actor=p)

    # Orders in March (company time).
    facts.order(l1a, total=8_000, refunded=3_000, paid_at=utc(2026, 3, 5, 6), festival_id=w["festival"].id)  # 5000
    facts.order(c3, total=6_000, paid_at=utc(2026, 3, 20), variant=w["tea"])  # E2's chain now
    facts.order(p, total=4_000, paid_at=utc(2026, 3, 25))  # P's own, level 0
    facts.order(e1, total=2_000, paid_at=utc(2026, 3, 31, 15, 59, 59))  # 23:59:59 on 31 March local
    facts.order(e2, total=9_000, paid_at=utc(2026, 3, 31, 16))  # 00:00 on 1 April local: April
    facts.order(e2, total=7_000, paid_at=None, status=OrderStatus.cancelled)
    facts.order(l2a, total=1_000, paid_at=None, status=OrderStatus.expired)
    facts.order(l2a, total=1_500, paid_at=None, status=OrderStatus.pending_payment)
    aggregate()


def test_funnel_and_conversions(world, facts):
    build(world, facts)
    counts = figures.funnel_counts(MARCH)
    # share 4 + 2 + 1, visit 6 + 2, sign-up 2 + 1, consultation 1 + 1, first 1, repeat 1 + 1
    assert dict(counts) == {"share": 7, "visit": 8, "signup": 3, "consultation": 2, "first_order": 1, "repeat_order": 2}
    stages = domain.funnel(counts)
    assert [s.conversion for s in stages] == [None, 8 / 7, 3 / 8, 2 / 3, 1 / 2, 2 / 1]
    # E1's own chain: 4 shares in March local time
    assert figures.funnel_counts(MARCH, root=world["e1"].id)["share"] == 4
    # buyer level cut: level 1 actors (L1a sign-up/consultation/first order, C3's three) = 6
    assert sum(figures.funnel_counts(MARCH.__class__(**{**MARCH.__dict__, "level": 1})).values()) == 6


def test_bottlenecks_against_the_company_median(world, facts):
    build(world, facts)
    rows = {r.name: r for r in recount.employee_funnels(MARCH)}
    assert set(rows) == {"E1", "E2", "P"}  # E3 left in February; the admin joined later
    # E1: visit 6/4 = 1.5, sign-up 2/6, consultation 1/2, first 1/1, repeat 0/1
    # E2: visit 2/2 = 1, sign-up 1/2, consultation 1/1, first 0/1, repeat 1/0 (none)
    # P:  visit 0/1 = 0, the rest 0/0 (none)
    # Sales has 2 employees (< 20): company medians: visit med(1.5, 1, 0) = 1, sign-up med(1/3, 1/2) = 5/12,
    # consultation med(1/2, 1) = 3/4, first med(1, 0) = 1/2, repeat med(0) = 0.
    # E1 below by: sign-up 5/12 - 1/3 = 1/12, consultation 3/4 - 1/2 = 1/4  -> consultation
    # E2 below by: sign-up -1/12, consultation -1/4, first 1/2 - 0 = 1/2      -> first order
    # P  below by: visit 1 - 0 = 1                                             -> visit
    assert rows["E1"].bottleneck == "consultation"
    assert rows["E2"].bottleneck == "first_order"
    assert rows["P"].bottleneck == "visit"
    assert recount.bottleneck_distribution(list(rows.values())) == {"consultation": 1, "first_order": 1, "visit": 1}


def test_revenue_refunds_attribution_and_festivals(world, facts):
    build(world, facts)
    # March: 8000 - 3000 (refund, in the order's month) + 6000 + 4000 + 2000 (23:59:59 local) = 17000;
    # the 9000 at 00:00 on 1 April, the cancelled, expired and unpaid orders are not March revenue.
    assert figures.revenue(MARCH) == (4, 17_000)
    # Previous period (29 Jan - 28 Feb): P's February order, 5000.
    assert figures.revenue(MARCH.previous()) == (1, 5_000)
    # By buyer level: own orders 4000 (P, promoted) + 2000 (E1); L1 5000 + 6000; L2 none.
    assert figures.revenue_by_level(MARCH) == {0: 6_000, 1: 11_000, 2: 0}
    amounts, _ = recount.revenue_by_employee(MARCH)
    # E1: 5000 + 2000; E2: C3's 6000 (moved); P: 4000. January's 10000 stays with E3.
    assert amounts == {world["e1"].id: 7_000, world["e2"].id: 6_000, world["p"].id: 4_000}
    january = Filters(start=date(2026, 1, 1), end=date(2026, 1, 31))
    assert recount.revenue_by_employee(january)[0] == {world["e3"].id: 10_000}
    # Festival cut: 5000; year-round only: 12000; the product cut: the tea order, 6000.
    assert figures.revenue(Filters(MARCH.start, MARCH.end, festival=str(world["festival"].id))) == (1, 5_000)
    assert figures.revenue(Filters(MARCH.start, MARCH.end, festival="none")) == (3, 12_000)
    tea = world["tea"].product_id
    assert figures.revenue(Filters(MARCH.start, MARCH.end, product_id=tea)) == (1, 6_000)


def test_sustainability_and_retention(world, facts):
    build(world, facts)
    months = [date(2026, m, 1) for m in (1, 2, 3, 4)]
    rows = figures.monthly_revenue(MARCH, months)
    # Jan 10000, Feb 5000, Mar 5000 festival + 12000 year-round, Apr 9000.
    assert [(r.festival, r.year_round) for r in rows] == [(0, 10_000), (0, 5_000), (5_000, 12_000), (0, 9_000)]
    # year-round share over the four months: (10000 + 5000 + 12000 + 9000) / 41000
    assert domain.sustainability(rows) == pytest.approx(36_000 / 41_000)
    # Buyers Jan-Apr: C3 2 orders, P 2, L1a 1, E1 1, E2 1 -> 2 / 5
    assert figures.repeat_buyer_rate(date(2026, 1, 1), date(2026, 4, 1)) == pytest.approx(0.4)
    cohorts = {c.month: c for c in figures.retention(date(2026, 4, 1), cohorts=4, horizon=3)}
    # January {C3}: Feb 0/1, Mar 1/1, Apr 0/1; February {P}: Mar 1/1, Apr 0/1;
    # March {L1a, E1}: Apr 0/2; April {E2}: nothing later yet.
    assert cohorts[date(2026, 1, 1)].shares == [0.0, 1.0, 0.0]
    assert cohorts[date(2026, 2, 1)].shares == [1.0, 0.0, None]
    assert cohorts[date(2026, 3, 1)].buyers == 2 and cohorts[date(2026, 3, 1)].shares == [0.0, None, None]
    assert cohorts[date(2026, 4, 1)].shares == [None, None, None]


def test_expansion(world, facts):
    build(world, facts)
    w = world
    for name in ("e1", "e2", "p", "l1a", "l2a", "c3"):
        db.session.refresh(w[name])  # as chained now (C3 moved, P promoted)
    start, end = figures.utc_bounds(MARCH)
    people = expansion_recount.population()
    e = expansion_recount.expansion_at(people, start, end)
    # the plain function agrees: contacts as chained now, active employees
    plain = domain.expansion(
        [w[k].id for k in ("e1", "e2", "p")],
        [domain.Person(u.id, u.level, u.root_employee_id, u.l1_contact_id) for u in (w["l1a"], w["l2a"], w["c3"])],
    )
    assert plain == e
    # Active employees: E1, E2, P (the admin joined later). L1 contacts now: L1a (E1), C3 (E2):
    # L1 rate 2/3. L2: L2a under L1a: L2 rate 1/2. Contacts per employee: 3 / 3.
    assert (e.employees, e.employees_with_l1, e.l1_contacts, e.l1_with_l2) == (3, 2, 2, 1)
    assert e.l1_rate == pytest.approx(2 / 3) and e.l2_rate == pytest.approx(1 / 2)
    assert e.contacts_per_employee == pytest.approx(1.0)


def test_long_tail_gini_and_lorenz(world, facts):
    build(world, facts)
    amounts, with_order = recount.revenue_by_employee(MARCH)
    active = [u.id for u in recount.active_employees(MARCH)]
    tail = concentration.long_tail(amounts, active, with_order)
    # Chain revenue [7000, 6000, 4000]: the top 10% of 3 is ceil(0.3) = 1 employee (7000):
    # outside 10000 / 17000. Gini, ascending x = 4000, 6000, 7000:
    # ((2-4)*4000 + 0*6000 + (6-4)*7000) / (3 * 17000) = 6000 / 51000.
    assert tail.share_outside_top == pytest.approx(10_000 / 17_000)
    assert tail.gini == pytest.approx(6_000 / 51_000)
    assert tail.reach == 1.0
    assert tail.lorenz[0] == (0.0, 0.0) and tail.lorenz[-1] == (1.0, 1.0)
    assert (1 / 3, 4_000 / 17_000) in tail.lorenz
    # The page reads the same from the rollups: active employees per department from
    # kpi_expansion_days, chain revenue per employee from the revenue days.
    assert figures.chain_revenue(MARCH).tail() == tail
    # Active employees from the rollups: E1, E2, E3 from 1 Jan, P (an employee since) from
    # 10 Jan; E3 is still active on 15 Feb, the day they left, and not after.
    for window, active_employees in (
        (Filters(start=date(2026, 1, 1), end=date(2026, 1, 9)), 3),
        (Filters(start=date(2026, 1, 1), end=date(2026, 1, 10)), 4),
        (Filters(start=date(2026, 2, 15), end=date(2026, 2, 28)), 4),
        (Filters(start=date(2026, 2, 16), end=date(2026, 2, 28)), 3),
    ):
        assert sum(figures.chain_revenue(window).employees.values()) == active_employees
        assert len(recount.active_employees(window)) == active_employees


def test_the_domain_on_edge_cases():
    assert concentration.gini([0, 0, 10]) == pytest.approx(2 / 3)  # one has all: (n-1)/n
    assert concentration.gini([5, 5]) == 0
    assert concentration.gini([]) is None
    assert concentration.top_count(10) == 1 and concentration.top_count(11) == 2
    assert domain.bottleneck({"visit": 0.5}, {"visit": 0.5}) is None


def test_the_bottleneck_is_the_stage_furthest_below_ties_to_the_earliest():
    medians = {"visit": 0.5, "signup": 0.5, "consultation": 0.5, "first_order": 0.5, "repeat_order": 0.5}
    bottleneck = domain.bottleneck
    tiny = domain.GAP_TOLERANCE / 2
    assert bottleneck(medians, medians) is None  # nobody below
    assert bottleneck({**medians, "signup": 0.5 - tiny}, medians) is None  # below by less than the tolerance
    assert bottleneck({**medians, "signup": 0.4, "first_order": 0.1}, medians) == "first_order"
    # As far below (0.2 each; the second within the tolerance): the earlier stage.
    assert bottleneck({**medians, "signup": 0.3, "first_order": 0.3}, medians) == "signup"
    assert bottleneck({**medians, "signup": 0.3, "first_order": 0.3 - tiny}, medians) == "signup"
    # Undefined conversions and medians are left out.
    assert bottleneck({"visit": None, "signup": 0.4}, {**medians, "signup": None, "visit": 0.9}) is None
    assert bottleneck({"visit": None, "signup": 0.4}, medians) == "signup"
    assert domain.event_level(None, 1, None) == domain.ANONYMOUS
    assert Kind.employee  # the module under test reads kinds from accounts


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10_000), max_size=40), st.integers(0, 30), st.integers(0, 40))
def test_the_long_tail_skips_the_zeros_without_changing_a_figure(values, zeros, with_order):
    """``long_tail_of`` walks only the employees with revenue; the figures equal those of the
    definitions over every employee, zeros included (written out here)."""
    everyone = sorted([*values, *[0] * zeros])
    n, total = len(everyone), sum(everyone)
    found = concentration.long_tail_of(values, with_order, len(values) + zeros)
    assert (found.employees, found.revenue, found.with_order) == (n, total, with_order)
    assert found.outside_top == total - sum(sorted(everyone, reverse=True)[: concentration.top_count(n)])
    if total == 0:
        assert found.gini is None and found.lorenz == []
        return
    assert found.gini == sum((2 * i - n - 1) * x for i, x in enumerate(everyone, start=1)) / (n * total)
    cumulative = [sum(everyone[:i]) for i in range(n + 1)]
    marks = sorted({round(n * j / 20) for j in range(21)})
    assert found.lorenz == [(i / n, cumulative[i] / total) for i in marks]
