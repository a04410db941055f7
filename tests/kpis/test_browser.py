"""The operator's dashboard in Debian's chromium driven by Playwright: change the date range and
the festival, the charts draw (SVG with content) within the Content-Security-Policy, and a
table downloads as CSV with a byte-order mark."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from kpis.aggregation import aggregate
from kpis.figures import today
from shop.database import utcnow
from tests.conftest import PASSWORD
from tests.kpis.conftest import add_event, add_order
from tests.payments.test_browser import CHROMIUM, _browser_or_skip

ECHARTS = Path(__file__).resolve().parents[2] / "shop" / "static" / "vendor" / "echarts.min.js"
pytestmark = pytest.mark.slow


def test_the_operator_reads_the_dashboard_in_a_browser(server, operator, make_user, make_contact, make_festival):
    sync_playwright = _browser_or_skip()
    if not ECHARTS.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{ECHARTS} is missing: make test copies it from node_modules")
        pytest.skip(f"{ECHARTS} is missing (make test copies it from node_modules)")
    festival = make_festival(name="Golden Week")
    employee = make_user(name="Ella Employee")
    friend = make_contact(employee)
    moment = utcnow() - timedelta(hours=2)
    for kind in ("share", "share", "visit", "signup", "consultation", "first_order"):
        add_event(kind, moment, actor=friend if kind != "share" else employee, festival_id=festival.id)
    add_order(friend, total=5_000, paid_at=moment, festival_id=festival.id)
    add_order(friend, total=3_000, paid_at=moment - timedelta(days=40))  # a cohort that came back
    aggregate()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(accept_downloads=True)
            problems = []
            page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
            page.on("pageerror", lambda error: problems.append(str(error)))  # a script that failed
            page.goto(f"{server}/login")
            page.fill("input[name=email]", operator.email)
            page.fill("input[name=password]", PASSWORD)
            page.click("main form [type=submit]")  # the log-in form's, not the header's

            page.goto(f"{server}/ops/kpis")
            end = today()
            page.fill("input[name=start]", (end - timedelta(days=6)).isoformat())
            page.fill("input[name=end]", end.isoformat())
            page.select_option("select[name=festival]", str(festival.id))
            page.click(".kpi-cuts button[type=submit]")
            page.wait_for_url(f"**festival={festival.id}**")
            page.wait_for_selector('.kpi-chart[data-chart="funnel"][data-drawn] svg', timeout=15_000)
            if os.environ.get("KPI_SCREENSHOT"):
                page.screenshot(path=os.environ["KPI_SCREENSHOT"], full_page=True)
            shapes = page.eval_on_selector_all(
                ".kpi-chart[data-drawn] svg", "nodes => nodes.map(n => n.querySelectorAll('path, rect, text').length)"
            )
            assert shapes and all(n > 0 for n in shapes)
            assert "Shares" in page.inner_text("#table-funnel")

            with page.expect_download() as download_info:
                page.click("#table-funnel a.csv")
            body = Path(download_info.value.path()).read_bytes()
            assert body.startswith("\ufeff".encode()) and b"Shares,2" in body

            page.goto(f"{server}/ops/kpis/sustainability")
            page.wait_for_selector('.kpi-chart[data-chart="revenue_monthly"][data-drawn] svg', timeout=15_000)

            # On a phone: every month named under the bars (none skipped), and the retention
            # heat map without figures in its cells, which twelve columns leave no room for.
            phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            phone.on("pageerror", lambda error: problems.append(str(error)))
            phone.context.add_cookies(page.context.cookies())
            phone.goto(f"{server}/ops/kpis/sustainability")
            chart = phone.wait_for_selector('.kpi-chart[data-chart="revenue_monthly"][data-drawn] svg')
            drawn = set(chart.eval_on_selector_all("text", "nodes => nodes.map(n => n.textContent)"))
            months = phone.eval_on_selector_all(
                "#table-revenue_monthly tbody td:first-child", "nodes => nodes.map(n => n.textContent.trim())"
            )
            assert len(months) == 12 and set(months) <= drawn
            heatmap = phone.wait_for_selector('.kpi-chart[data-chart="retention"][data-drawn] svg')
            cells = heatmap.eval_on_selector_all("text", "nodes => nodes.map(n => n.textContent)")
            assert sorted(t for t in cells if t.endswith("%")) == ["0%", "100%"]  # the colour scale's ends only
            assert problems == []
        finally:
            browser.close()
