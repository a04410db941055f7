"""The dashboard's pages: operators see every section with its cuts and CSVs; members see
their own chain's funnel on /network, nobody else's."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from kpis.aggregation import aggregate
from kpis.figures import today
from shop.accounts.models import Kind
from shop.database import utcnow
from tests.conftest import login
from tests.kpis.conftest import add_event, add_order

SECTIONS = ("expansion", "sustainability", "long-tail", "operators", "platform", "festivals")


@pytest.fixture
def chains(make_user, make_contact, department):
    """Ann's chain converts visits but not consultations; Bob's the other way round."""
    now = utcnow() - timedelta(hours=1)
    ann = make_user(name="Ann Chen", department=department)
    bob = make_user(name="Bob Wu", department=department)
    amy = make_contact(ann, name="Amy Friend")
    amy_friend = make_contact(amy, name="Amy's Friend")
    for _ in range(3):
        add_event("share", now, actor=ann)
        add_event("visit", now, chain=ann)
    add_event("signup", now, actor=amy, chain=ann)  # through Ann's link, as a sign-up is recorded
    add_event("consultation", now, actor=amy)
    add_event("consultation", now, actor=amy_friend)
    add_event("share", now, actor=bob)
    add_event("visit", now, chain=bob)
    add_event("signup", now, chain=bob)
    add_event("consultation", now, chain=bob)
    add_event("first_order", now, chain=bob)
    add_order(amy, total=12_300, paid_at=now)
    aggregate()
    return dict(ann=ann, bob=bob, amy=amy, amy_friend=amy_friend)


def test_the_operator_dashboard(client, operator, chains):
    login(client, operator)
    page = client.get("/ops/kpis")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Company funnel" in html and "Figures as of" in html
    assert "Ann Chen" in html and "Bob Wu" in html
    assert 'id="kpi-charts"' in html and "vendor/echarts.min.js" in html
    # search, sort, a cut and a bad range
    found = client.get("/ops/kpis?q=ann").get_data(as_text=True)
    assert "Ann Chen" in found and "Bob Wu" not in found
    ordered = client.get("/ops/kpis?sort=share&dir=desc").get_data(as_text=True)
    assert ordered.index("Ann Chen") < ordered.index("Bob Wu")
    assert client.get(f"/ops/kpis?level=2&festival=none&department={chains['ann'].department_id}").status_code == 200
    end = today()
    assert client.get(f"/ops/kpis?start={end}&end={end - timedelta(days=1)}").status_code == 422
    for section in SECTIONS:
        assert client.get(f"/ops/kpis/{section}").status_code == 200, section
    detail = client.get(f"/ops/kpis/employees/{chains['bob'].id}").get_data(as_text=True)
    assert "Chain funnel of Bob Wu" in detail


def test_every_table_downloads_as_csv_with_a_byte_order_mark(client, operator, chains):
    login(client, operator)
    response = client.get("/ops/kpis/funnel/employees.csv?q=ann")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "Employee" and [r[0] for r in rows[1:]] == ["Ann Chen"]
    assert rows[1][2] == "3"  # shares
    revenue = client.get("/ops/kpis/expansion/revenue_by_level.csv").get_data().decode("utf-8-sig")
    assert "123.00" in revenue  # L1 revenue in major units
    assert client.get("/ops/kpis/funnel/nothing.csv").status_code == 404
    assert client.get(f"/ops/kpis/employees/{chains['ann'].id}/funnel.csv").status_code == 200


def test_members_see_their_own_chain_funnel(client, chains):
    login(client, chains["ann"])
    html = client.get("/network").get_data(as_text=True)
    # Ann: 3 shares, 3 visits, 1 sign-up, 2 consultations, no order. Bob: 1 of each but repeat.
    # Conversions (Ann, Bob): first order 0/2 vs 1/1 -> Ann's bottleneck is the first order.
    assert "Your chain funnel" in html and "Bottleneck: First orders." in html
    assert "kind=sales_script" in html
    csv_body = client.get("/network/funnel.csv").get_data().decode("utf-8-sig")
    assert csv_body.splitlines()[1].startswith("Shares,3")
    # Amy (L1) sees her sub-chain: her consultation and her L2's. Her own sign-up is Ann's
    # chain's (as the visit before it), not her sub-chain's.
    login(client, chains["amy"])
    mine = client.get("/network/funnel.csv").get_data().decode("utf-8-sig").splitlines()
    assert mine[1].startswith("Shares,0") and mine[3].startswith("Sign-ups,0")
    assert mine[4].startswith("Consultations,2")
    # An L2 contact has no chain below them.
    login(client, chains["amy_friend"])
    assert "chain funnel" not in client.get("/network").get_data(as_text=True)
    assert client.get("/network/funnel.csv").status_code == 404
    assert chains["amy_friend"].kind == Kind.contact


def test_employees_cannot_open_the_dashboard(client, chains):
    login(client, chains["ann"])
    assert client.get("/ops/kpis").status_code == 403
    assert client.get(f"/ops/kpis/employees/{chains['bob'].id}").status_code == 403
    assert client.get("/ops/kpis/funnel/employees.csv").status_code == 403
