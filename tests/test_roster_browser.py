"""The HR roster upload in Debian's chromium driven by Playwright: the admin chooses a file, lands
on the import's page, which says it waits for the worker, and which reloads itself (no script)
until the worker's job has imported the roster and the report is shown."""

from __future__ import annotations

import pytest

from shop.accounts import roster_imports
from shop.extensions import db
from tests.conftest import PASSWORD
from tests.payments.test_browser import CHROMIUM, _browser_or_skip

pytestmark = pytest.mark.slow

ROSTER = (
    "employee_no,email,name,department\nE101,wang.fang@neigou.example,王芳,研发部\nE102,li.lei@neigou.example,李雷,\n"
)


def test_the_admin_uploads_a_roster_and_watches_it_finish(server, admin):
    sync_playwright = _browser_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{server}/login")
            page.fill("input[name=email]", admin.email)
            page.fill("input[name=password]", PASSWORD)
            page.click("main form [type=submit]")

            page.goto(f"{server}/admin/roster")
            page.set_input_files(
                "input[name=roster]",
                {"name": "roster.csv", "mimeType": "text/csv", "buffer": ROSTER.encode("utf-8")},
            )
            page.click("main form [type=submit]")
            page.wait_for_url("**/admin/roster/*")
            assert "Waiting for the worker" in page.inner_text(".import-status")
            job_page = page.url

            db.session.rollback()  # as a worker's run would, read what the server committed since
            assert roster_imports.run_pending() == "1 roster(s) applied, 2 invitation(s) sent"
            page.wait_for_selector("text=Result", timeout=15_000)  # the page reloaded itself
            assert page.url == job_page
            assert page.inner_text(".import-status") == "Done"
            stats = page.inner_text("ul.stats")
            assert "created: 2" in stats and "invited: 2" in stats and "rejected: 0" in stats
            page.click("text=Back to the roster import")
            assert "roster.csv" in page.inner_text("table.roster-imports")
        finally:
            browser.close()
