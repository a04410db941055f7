"""Refused orders by reason (platform effectiveness): each refusal of "buy now" or checkout is one
row, written after the refused attempt's rollback; the platform section counts them with the
cuts, beside the previous period."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import func, select

from kpis import refusals
from kpis.aggregation import Calendar
from kpis.figures import Filters
from kpis.refusals import BUY_NOW, CHECKOUT, OrderRefusal, reason_of
from shop.cart.services import add_to_cart
from shop.catalog.festival_models import Phase
from shop.database import utcnow
from shop.extensions import db
from shop.orders.errors import OrderError, OutOfStock
from shop.orders.models import Order
from shop.quotas.models import Measure, Scope, Target, Window
from tests.conftest import login
from tests.fixtures.festivals import chain_cap_on
from tests.kpis.conftest import utc


def _url(item) -> str:
    return f"/festivals/{item.festival.slug}/items/{item.id}/buy"


def _rows() -> list[tuple]:
    return [
        (r.source, r.reason, r.buyer_id, r.buyer_level, r.root_employee_id, r.festival_id, r.product_id)
        for r in db.session.scalars(select(OrderRefusal).order_by(OrderRefusal.id))
    ]


def test_each_refusal_of_buy_now_and_checkout_is_one_row_with_its_reason(
    client, make_user, make_contact, make_festival, make_festival_item, make_product, make_address, department
):
    """Item: 3 units, at most 2 per buyer, at most 3 per chain.
    E buys 2 (ok); E buys 1 more: per-buyer limit; C (E's L1) wants 2: the chain has 2 of 3:
    chain cap; C buys 1 (ok, sold out now); X wants 1: sold out; X at a festival in preheat:
    not selling; X checks out 3 of a product with 2 in stock while the festival sells: sold out."""
    e = make_user(name="E", department=department)
    c = make_contact(e, name="C")
    x = make_user(name="X")
    tea, cups, pot = make_product(name="Tea"), make_product(name="Cups"), make_product(name="Pot", stock=2)
    fair = make_festival(name="Fair")
    item = make_festival_item(fair, tea.variants[0], 3, per_buyer_limit=2)
    later = make_festival_item(make_festival(name="Later", phase=Phase.preheat), cups.variants[0], 1)
    chain_cap_on(item, 3)
    db.session.commit()
    addresses = {u.id: str(make_address(u).id) for u in (e, c, x)}

    def buy(user, it, quantity):
        login(client, user)
        return client.post_form(_url(it), {"quantity": str(quantity), "address_id": addresses[user.id]}).status_code

    assert [buy(e, item, 2), buy(e, item, 1), buy(c, item, 2), buy(c, item, 1)] == [303, 409, 409, 303]
    assert [buy(x, item, 1), buy(x, later, 1)] == [409, 409]
    add_to_cart(x, pot.variants[0].id, 3)
    db.session.commit()
    login(client, x)
    assert client.post_form("/checkout", {"address_id": addresses[x.id], "country": "CN"}).status_code == 422

    assert db.session.scalar(select(func.count()).select_from(Order)) == 2  # the refused wrote no order
    assert _rows() == [
        (BUY_NOW, "per_buyer_limit", e.id, 0, e.id, fair.id, tea.id),
        (BUY_NOW, "chain_cap", c.id, 1, e.id, fair.id, tea.id),
        (BUY_NOW, "sold_out", x.id, 0, x.id, fair.id, tea.id),
        (BUY_NOW, "not_selling", x.id, 0, x.id, later.festival_id, cups.id),
        (CHECKOUT, "sold_out", x.id, 0, x.id, None, None),
    ]

    today = Calendar().day(utcnow())
    window = Filters(today, today)
    # Every festival: the five (the checkout happened while the Fair was selling).
    assert refusals.counts(window) == {
        (BUY_NOW, "per_buyer_limit"): 1,
        (BUY_NOW, "chain_cap"): 1,
        (BUY_NOW, "sold_out"): 1,
        (BUY_NOW, "not_selling"): 1,
        (CHECKOUT, "sold_out"): 1,
    }
    # The Fair: its three "buy now" and the checkout in its window; Later: its one (its window
    # has not begun, so the checkout is not Later's).
    assert sum(refusals.counts(Filters(today, today, festival=str(fair.id))).values()) == 4
    assert refusals.counts(Filters(today, today, festival=str(later.festival_id))) == {(BUY_NOW, "not_selling"): 1}
    # Year-round only: checkouts while no festival sold: none.
    assert refusals.counts(Filters(today, today, festival="none")) == {}
    # Department (E's chain: E and C), level 1 (C), product Tea (the Fair's three).
    assert refusals.counts(Filters(today, today, department_id=department.id)) == {
        (BUY_NOW, "per_buyer_limit"): 1,
        (BUY_NOW, "chain_cap"): 1,
    }
    assert refusals.counts(Filters(today, today, level=1)) == {(BUY_NOW, "chain_cap"): 1}
    assert sum(refusals.counts(Filters(today, today, product_id=tea.id)).values()) == 3


def test_refusals_by_reason_on_window_boundaries_and_the_previous_period(make_user, make_festival):
    """The company's zone is UTC+8. Window 1-10 March 2026 local = [28 Feb 16:00, 10 Mar 16:00)
    UTC; the previous period is 19-28 February local.
    Festival F sells from 4 Mar 11:00 to 4 Mar 14:00 UTC (launch -1 h, end +2 h around 12:00).
      buy now, F, sold out: 28 Feb 16:00 (1 Mar local, in), 10 Mar 15:59 (in), 10 Mar 16:00 (out)
      buy now, F, chain cap: 20 Feb (previous period)
      checkout, sold out: 4 Mar 11:00 (F selling: in), 4 Mar 14:00 (F ended: year-round)
      checkout, per-buyer limit: 4 Mar 12:30 (in), 20 Feb (previous, no festival: year-round)
    This period, festivals: sold out 2 buy now + 1 checkout, per-buyer limit 1 checkout.
    Previous period, festivals: chain cap 1. Year-round: this period sold out 1; previous
    per-buyer limit 1."""
    buyer = make_user()
    f = make_festival(name="F", now=utc(2026, 3, 4, 12))
    sold_out = OutOfStock([])

    def refused(at, reason_error, festival=True):
        refusals.record(
            reason_error,
            buyer_id=buyer.id,
            festival_id=f.id if festival else None,
            product_id=None,
            now=at,
        )

    chain_cap = _quota_refusal(Scope.chain, Window.festival)
    per_buyer = _quota_refusal(Scope.buyer, Window.day)
    refused(utc(2026, 2, 28, 16), sold_out)
    refused(utc(2026, 3, 10, 15, 59), sold_out)
    refused(utc(2026, 3, 10, 16), sold_out)
    refused(utc(2026, 2, 20), chain_cap)
    refused(utc(2026, 3, 4, 11), sold_out, festival=False)
    refused(utc(2026, 3, 4, 14), sold_out, festival=False)
    refused(utc(2026, 3, 4, 12, 30), per_buyer, festival=False)
    refused(utc(2026, 2, 20), per_buyer, festival=False)

    window = Filters(date(2026, 3, 1), date(2026, 3, 10))
    assert refusals.counts(window) == {
        (BUY_NOW, "sold_out"): 2,
        (CHECKOUT, "sold_out"): 1,
        (CHECKOUT, "per_buyer_limit"): 1,
    }
    assert refusals.counts(window.previous()) == {(BUY_NOW, "chain_cap"): 1}
    table = refusals.table(window)
    # Reason, code, buy now, checkout, total, previous period total: in the order of REASONS.
    assert [row[1:] for row in table.rows] == [
        ["sold_out", 2, 1, 3, 0],
        ["per_buyer_limit", 0, 1, 1, 0],
        ["chain_cap", 0, 0, 0, 1],
    ]
    year_round = Filters(window.start, window.end, festival="none")
    assert refusals.counts(year_round) == {(CHECKOUT, "sold_out"): 1}
    assert refusals.counts(year_round.previous()) == {(CHECKOUT, "per_buyer_limit"): 1}


def _quota_refusal(scope: Scope, window: Window):
    from shop.quotas.engine import Allowance, QuotaExceeded
    from shop.quotas.models import QuotaRule

    rule = QuotaRule(scope=scope, window=window, target=Target.all, measure=Measure.units, limit_value=1)
    return QuotaExceeded(Allowance(rule, 1, 1), 1, "CNY")


def test_reason_codes_are_stable():
    assert reason_of(OutOfStock([])) == "sold_out"
    assert reason_of(_quota_refusal(Scope.chain, Window.festival)) == "chain_cap"
    assert reason_of(_quota_refusal(Scope.buyer, Window.festival)) == "per_buyer_limit"
    assert reason_of(_quota_refusal(Scope.buyer, Window.order)) == "per_order_limit"
    assert reason_of(OrderError("x", code="not_selling")) == "not_selling"
    assert reason_of(OrderError("x")) == "other"
    assert reason_of(OrderError("x", code="made up")) == "other"


def test_recording_a_refusal_is_one_insert_and_the_platform_page_shows_them(
    client, operator, make_user, make_festival, product, statements, is_postgres
):
    buyer = make_user()
    festival = make_festival()
    buyer_id, festival_id = buyer.id, festival.id
    statements.clear()
    refusals.record(OutOfStock([]), buyer_id=buyer_id, festival_id=festival_id, product_id=None)
    writes = [s for s in statements if not s.startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]
    assert len(writes) == (2 if is_postgres else 1), writes  # (SET LOCAL synchronous_commit) and the INSERT ... SELECT
    assert writes[-1].startswith("INSERT INTO kpi_order_refusals")
    login(client, operator)
    html = client.get("/ops/kpis/platform").get_data(as_text=True)
    assert "Order refusals during festivals, by reason" in html and "Sold out" in html
    assert "Checkouts count while a festival was selling" in html  # the table says what it counts
    cut = client.get(f"/ops/kpis/operators?product={product.id}")
    assert cut.status_code == 200 and "Not cut by product" in cut.get_data(
        as_text=True
    )  # tickets name no product: said beside the figure
    body = client.get("/ops/kpis/platform/refusals.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["Reason", "Code", "Buy now", "Checkout", "Total", "Previous period"]
    assert rows[1] == ["Sold out", "sold_out", "1", "0", "1", "0"]


def test_a_refusal_for_a_buyer_that_is_gone_writes_nothing():
    refusals.record(OutOfStock([]), buyer_id=10_000_000, festival_id=None, product_id=None)
    assert _rows() == []
