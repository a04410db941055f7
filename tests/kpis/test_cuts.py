"""Every section under every cut that applies, on a small data set worked out by hand; the
figures a cut cannot apply to say so. The company's zone is UTC+8; the window is March 2026
local, [28 Feb 16:00, 31 Mar 16:00) UTC, and the previous period the 31 days before it,
29 January - 28 February local.

People: E1 (Sales) with A, E1's L1 contact; E2 (no department); an operator.
Products: Tea, Cups. Festival F.

Paid orders (times UTC, all inside their local day):
  O1  A   5 Mar 00:00  Tea 2 x 1000 + Cups 1 x 3000 = 5000; refunded one Tea (1000) and 500
          more, not tied to units: revenue 3500. By product: kept Tea 1000, Cups 3000; the 500
          taken in proportion: Tea 1000 - 500 x 1/4 = 875, Cups 3000 - 375 = 2625.
  O2  E1  10 Mar      Tea 1 x 2000, festival F: 2000
  O3  E2  12 Mar      Cups 1 x 4000: 4000
  O4  E1  10 Feb      Tea 1 x 1000 + Cups 1 x 1000: 2000 (previous period)
  O5  A   2 Apr       Cups 1 x 1000: 1000 (after the window)
Not paid: O6 E2 cancelled (Tea, placed 15 Mar), O7 A expired (Cups, placed 20 Mar).
Shipped by the operator: O1 24 h after payment, O3 48 h after.
Consultations: A 6 Mar (level 1), E2 7 Mar (level 0).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from kpis import cut_figures, domain, figures, operations_sections, sections
from kpis.aggregation import aggregate
from kpis.cut_rollups import BuyerCutMonth
from kpis.figures import Filters
from shop.audit.models import AuditEntry
from shop.extensions import db
from shop.orders.models import Order, OrderLine, OrderStatus
from tests.kpis import funnel_recount as recount
from tests.kpis.conftest import add_event, add_order, utc

MARCH = Filters(date(2026, 3, 1), date(2026, 3, 31))
H = timedelta(hours=1)


def _order(buyer, lines, *, paid_at=None, refunded=0, refunded_units=(), festival=None, **fields) -> Order:
    """An order with ``lines`` of (variant, quantity, unit price); ``refunded_units``: the
    refunded quantity of each line."""
    order = add_order(
        buyer,
        total=sum(q * p for _v, q, p in lines),
        refunded=refunded,
        paid_at=paid_at,
        festival_id=festival,
        **fields,
    )
    for i, (variant, quantity, price) in enumerate(lines):
        order.lines.append(
            OrderLine(
                variant_id=variant.id,
                product_name="p",
                variant_name="v",
                sku=variant.sku,
                unit_price=price,
                market_price=price,
                quantity=quantity,
                refunded_quantity=refunded_units[i] if i < len(refunded_units) else 0,
            )
        )
    db.session.commit()
    return order


@pytest.fixture
def world(make_user, make_contact, make_product, make_festival, department, operator):
    jan = utc(2026, 1, 1)
    e1 = make_user(name="E1", department=department, created_at=jan)
    e2 = make_user(name="E2", created_at=jan)
    a = make_contact(e1, name="A", created_at=jan)
    tea, cups = make_product(name="Tea").variants[0], make_product(name="Cups").variants[0]
    f = make_festival(name="F")
    o1 = _order(a, [(tea, 2, 1000), (cups, 1, 3000)], paid_at=utc(2026, 3, 5), refunded=1500, refunded_units=(1, 0))
    _order(e1, [(tea, 1, 2000)], paid_at=utc(2026, 3, 10), festival=f.id)
    o3 = _order(e2, [(cups, 1, 4000)], paid_at=utc(2026, 3, 12))
    _order(e1, [(tea, 1, 1000), (cups, 1, 1000)], paid_at=utc(2026, 2, 10))
    _order(a, [(cups, 1, 1000)], paid_at=utc(2026, 4, 2))
    _order(e2, [(tea, 1, 1000)], status=OrderStatus.cancelled, created_at=utc(2026, 3, 15))
    _order(a, [(cups, 1, 1000)], status=OrderStatus.expired, created_at=utc(2026, 3, 20))
    for order, hours in ((o1, 24), (o3, 48)):
        order.shipped_at = order.paid_at + hours * H
        db.session.add(
            AuditEntry(
                actor_id=operator.id,
                action="order.shipped",
                entity_type="order",
                entity_id=order.id,
                at=order.shipped_at,
            )
        )
    db.session.commit()
    add_event("consultation", utc(2026, 3, 6), actor=a)
    add_event("consultation", utc(2026, 3, 7), actor=e2)
    aggregate()
    return dict(e1=e1, e2=e2, a=a, tea=tea.product_id, cups=cups.product_id, festival=f, department=department)


def cut(**fields) -> Filters:
    return Filters(MARCH.start, MARCH.end, **fields)


def test_the_product_cut_counts_the_lines_of_the_product(world):
    tea, cups = world["tea"], world["cups"]
    # Tea: orders containing it O1, O2; revenue of its lines 875 + 2000. Before: O4, 1000.
    assert figures.revenue(cut(product_id=tea)) == (2, 2_875)
    assert figures.revenue(cut(product_id=tea).previous()) == (1, 1_000)
    # Cups: O1, O3: 2625 + 4000. Uncut: 3500 + 2000 + 4000.
    assert figures.revenue(cut(product_id=cups)) == (2, 6_625)
    assert figures.revenue(MARCH) == (3, 9_500)
    # By level under Tea: A's 875 (level 1), E1's 2000 (own); per chain: E1's 2875.
    assert figures.revenue_by_level(cut(product_id=tea)) == {0: 2_000, 1: 875, 2: 0}
    assert recount.revenue_by_employee(cut(product_id=tea)) == ({world["e1"].id: 2_875}, {world["e1"].id})
    # Monthly, festival F and year-round, under Tea: Feb 1000; March 2000 festival + 875.
    rows = figures.monthly_revenue(cut(product_id=tea), [date(2026, 2, 1), date(2026, 3, 1)])
    assert [(r.festival, r.year_round) for r in rows] == [(0, 1_000), (2_000, 875)]
    # The domain's split, alone: every unit refunded for 3000 in all (1000 less than their value):
    # nothing is kept, so the -1000 not tied to units goes by value: 250 and 750 (sum 4000 - 3000).
    lines = [domain.LineRow(1, 1000, 1, 1), domain.LineRow(2, 3000, 1, 1)]
    assert domain.revenue_by_product(lines, 3_000) == {1: 250, 2: 750}


def test_retention_and_repeat_buyers_under_the_cuts(world):
    april = date(2026, 4, 1)

    def shares(f):
        return {c.month: (c.buyers, c.shares[:2]) for c in cut_figures.retention(f, april, horizon=2)}

    # Every order: February {E1}: March yes, April no; March {A, E2}: April A -> 1/2.
    assert shares(MARCH) == {date(2026, 2, 1): (1, [1.0, 0.0]), date(2026, 3, 1): (2, [0.5, None])}
    # Tea: A's first (and only) Tea order in March; E1 Tea in February and March.
    assert shares(cut(product_id=world["tea"])) == {
        date(2026, 2, 1): (1, [1.0, 0.0]),
        date(2026, 3, 1): (1, [0.0, None]),
    }
    # Sales (E1's chain): February {E1} 1, 0; March {A}: April yes.
    assert shares(cut(department_id=world["department"].id)) == {
        date(2026, 2, 1): (1, [1.0, 0.0]),
        date(2026, 3, 1): (1, [1.0, None]),
    }
    # Level 1 (A): March {A}: April yes. Festival F: March {E1}: April no.
    assert shares(cut(level=1)) == {date(2026, 3, 1): (1, [1.0, None])}
    assert shares(cut(festival=str(world["festival"].id))) == {date(2026, 3, 1): (1, [0.0, None])}
    # Repeat buyers January - April: A 2, E1 2, E2 1 -> 2/3; Tea: A 1, E1 2 -> 1/2; Sales: 2/2.
    first, last = date(2026, 1, 1), april
    assert cut_figures.repeat_buyer_rate(MARCH, first, last) == pytest.approx(2 / 3)
    assert cut_figures.repeat_buyer_rate(cut(product_id=world["tea"]), first, last) == pytest.approx(1 / 2)
    assert cut_figures.repeat_buyer_rate(cut(department_id=world["department"].id), first, last) == 1.0


def test_the_sustainability_section_with_a_cut_and_the_previous_period(world):
    april = Filters(date(2026, 4, 1), date(2026, 4, 30))
    summary, _monthly, retention = sections.sustainability(april)
    figures_ = {row[0]: (row[1][0], row[2][0]) for row in summary.rows}
    # One-month retention, cohorts up to March (April's next month is not over): February {E1}
    # 1 of 1, March {A, E2} 1 of 2 -> 2/3. A year earlier: no buyers.
    assert figures_["Buyers ordering again the month after their first order"] == (pytest.approx(2 / 3), None)
    assert retention.note is None
    summary, _monthly, retention = sections.sustainability(Filters(april.start, april.end, product_id=world["tea"]))
    figures_ = {row[0]: (row[1][0], row[2][0]) for row in summary.rows}
    # Tea: February {E1} 1 of 1, March {A} 0 of 1 -> 1/2; repeat buyers (May 2025 - April 2026) 1/2.
    assert figures_["Buyers ordering again the month after their first order"] == (0.5, None)
    assert figures_["Repeat-buyer rate"] == (0.5, None)
    assert "first order in the cut" in retention.note


def test_operator_and_platform_figures_under_the_cuts(world):
    weeks = 31 / 7

    def operators(f):
        (table,) = operations_sections.operators(f)
        return {row[0]: row[1:] for row in table.rows}

    plain = operators(MARCH)
    # Two shipped by one operator in 31 days; paid -> shipped median(24 h, 48 h) = 36 h.
    # 2 consultations / 3 paid orders x 100. No cut chosen: no note column.
    assert plain["Orders shipped per operator per week"][0][0] == pytest.approx(2 / weeks)
    assert plain["Median paid to shipped"][0][0] == 36 * H
    assert plain["Consultations per 100 paid orders"][0][0] == pytest.approx(200 / 3)
    assert len(plain["Tickets"]) == 2
    tea = operators(cut(product_id=world["tea"]))
    # Tea: O1 shipped (24 h); consultations name no product: 0 / 2 paid orders.
    assert tea["Orders shipped per operator per week"][0][0] == pytest.approx(1 / weeks)
    assert tea["Median paid to shipped"][0][0] == 24 * H
    assert tea["Consultations per 100 paid orders"][0][0] == 0
    assert tea["Tickets"][2] == "Not cut by product" and tea["Median paid to shipped"][2] == ""
    level_1 = operators(cut(level=1))
    # A: 1 consultation / O1 x 100; O1 shipped after 24 h.
    assert level_1["Consultations per 100 paid orders"][0][0] == pytest.approx(100.0)
    assert level_1["Median paid to shipped"][0][0] == 24 * H

    def platform(f):
        table = operations_sections.platform(f)[0]
        return {row[0]: (row[1][0], row[2][0], *row[3:]) for row in table.rows}

    # Placed in March: O1, O2, O3, O6, O7: 5, 3 paid, 1 expired. Tea: O1, O2, O6: 3, 2 paid, none
    # expired. Cups: O1, O3, O7: 3, 2 paid, 1 expired. Sales: O1, O2, O7: 3, 2 paid, 1 expired.
    # Previous period: O4 (placed when paid, 10 Feb), 1 of 1; Tea the same.
    every = platform(MARCH)
    assert every["Checkouts started"][:2] == (5, 1) and every["Reservations that expired unpaid"][:2] == (1, 0)
    assert every["Paid orders / checkouts started"][:2] == (pytest.approx(3 / 5), 1.0)
    tea = platform(cut(product_id=world["tea"]))
    assert (tea["Checkouts started"][0], tea["Paid orders / checkouts started"][0]) == (3, pytest.approx(2 / 3))
    assert tea["Reservations that expired unpaid"][0] == 0 and tea["Checkouts started"][1] == 1
    assert tea["Searches"][2] == "Not cut by product"
    cups = platform(cut(product_id=world["cups"]))
    assert (cups["Checkouts started"][0], cups["Reservations that expired unpaid"][0]) == (3, 1)
    sales = platform(cut(department_id=world["department"].id))
    assert (sales["Checkouts started"][0], sales["Paid orders / checkouts started"][0]) == (3, pytest.approx(2 / 3))


def test_expansion_and_the_long_tail_under_the_cuts(world):
    # Expansion counts people: a product cut does not apply, and the page says so.
    summary, monthly, by_level = sections.expansion(cut(product_id=world["tea"]))
    assert all(row[3] == "Not cut by product" for row in summary.rows)
    assert monthly.note.startswith("Not cut by product")
    # Revenue by level under Tea: own 2000, L1 875; the previous period: E1's O4 Tea line 1000.
    assert [row[1] for row in by_level.rows] == [2_000, 875, 0] and [row[3] for row in by_level.rows] == [1_000, 0, 0]
    summary, _, _ = sections.expansion(cut(department_id=world["department"].id))
    assert len(summary.rows[0]) == 3  # the department cut applies: no note
    # Long tail, Sales: E1's chain revenue 3500 + 2000 this period, 2000 before (O4): the
    # previous period is cut by the department too (E2's nothing either way).
    (tail, _lorenz, _per_department) = sections.long_tail(cut(department_id=world["department"].id))
    rows = {row[0]: (row[1][0], row[2][0]) for row in tail.rows}
    assert rows["Chain revenue"] == (5_500, 2_000)
    assert rows["Employees with a chain order / active employees"] == (1.0, 1.0)


def buyer_months(f: Filters, first: date | None, last: date) -> dict[int, Counter]:
    """For the cut ``f`` (dates aside): each buyer's paid orders by month, ``first``..``last``."""
    query = select(BuyerCutMonth.buyer_id, BuyerCutMonth.month, BuyerCutMonth.orders).where(
        *cut_figures.in_cut(f), BuyerCutMonth.month <= last
    )
    if first is not None:
        query = query.where(BuyerCutMonth.month >= first)
    found: dict[int, Counter] = defaultdict(Counter)
    for buyer, month, n in db.session.execute(query):
        found[buyer][month] += int(n)
    return found


def test_cut_retention_and_repeat_buyers_equal_the_domain_over_the_buyers_months(world):
    """The database's cells and counts against ``kpis.domain`` over each buyer's months."""
    april = date(2026, 4, 1)
    for f in [
        cut(product_id=world["tea"]),
        cut(product_id=world["cups"]),
        cut(department_id=world["department"].id),
        cut(level=1),
        cut(level=0, festival="none"),
        cut(festival=str(world["festival"].id)),
    ]:
        months = buyer_months(f, None, april)
        for cohorts in (1, 12):
            expected = domain.retention({b: list(n) for b, n in months.items()}, last_month=april, horizon=3)
            first = domain.add_months(april, -cohorts + 1)
            assert cut_figures.retention(f, april, cohorts=cohorts, horizon=3) == [
                c for c in expected if c.month >= first
            ]
        recount = buyer_months(f, date(2026, 3, 1), april)
        assert cut_figures.repeat_buyer_rate(f, date(2026, 3, 1), april) == domain.repeat_buyer_rate(
            {b: sum(n.values()) for b, n in recount.items()}
        )


def test_a_buyer_with_several_rows_in_a_month_of_the_cut_counts_once(
    make_user, make_product, make_festival, department
):
    """E orders in March year-round and in festival F (two rows of March in the department cut)
    and again in April: the March cohort is one buyer, and all of it came back in April."""
    e = make_user(name="E", department=department, created_at=utc(2026, 1, 1))
    tea = make_product(name="Tea").variants[0]
    festival = make_festival(name="F")
    _order(e, [(tea, 1, 1000)], paid_at=utc(2026, 3, 5))
    _order(e, [(tea, 1, 1000)], paid_at=utc(2026, 3, 9), festival=festival.id)
    _order(e, [(tea, 1, 1000)], paid_at=utc(2026, 4, 2))
    db.session.commit()
    aggregate()
    in_march = db.session.scalars(
        select(BuyerCutMonth.month).where(BuyerCutMonth.buyer_id == e.id, BuyerCutMonth.product_id == 0)
    ).all()
    assert in_march.count(date(2026, 3, 1)) == 2  # the case this test is about
    found = cut_figures.retention(cut(department_id=department.id), date(2026, 4, 1), horizon=1)
    assert [(c.month, c.buyers, c.shares) for c in found] == [(date(2026, 3, 1), 1, [1.0])]
