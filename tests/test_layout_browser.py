"""Phone first (issue 21, point 3): every page of the route table, as every role, in Debian's
chromium at 390 x 844 (a phone) and 1366 x 900 (a laptop). A page fails when the document is
wider than the viewport (the body scrolls sideways) or something sticks out of it outside a box
that scrolls on its own, when a primary button (class ``primary``) is outside the viewport's
width, or, on the phone, when a button or the menu is less than 44 px tall or a form puts two
fields side by side.

Pages are found as the access matrix and the fuzz test find them: every GET rule of the URL map
whose arguments the matrix's world fills, kept when the role gets an HTML page (200); plus a
festival that is selling, with pictures, where buyers have an address. Each role browses in its
own context (its session cookie), two at a time; each page is loaded once at the phone size and
checked again at the laptop size. Screenshots of both go to ``test-artifacts/layout/``
(``LAYOUT_ARTIFACTS`` elsewhere), one file per page, role and size. ``LAYOUT_PAGES=festival``
checks only the pages whose endpoint holds that text (while working on them).
"""

from __future__ import annotations

import asyncio
import io
import os
import re
from pathlib import Path

import pytest
from flask import url_for
from PIL import Image

from shop.accounts.models import Kind
from shop.catalog.festival_models import Phase
from shop.catalog.services import add_image
from shop.extensions import db
from shop.festivals.pictures import set_banner
from tests.conftest import login
from tests.payments.test_browser import CHROMIUM, _browser_or_skip
from tests.test_access_matrix import world  # noqa: F401  (the fixture: objects for every route)

pytestmark = pytest.mark.slow

ROLES = ("anonymous", "contact", "employee", "operator", "admin")
SIZES = {"phone": (390, 844), "laptop": (1366, 900)}
ARTIFACTS = Path(
    os.environ.get("LAYOUT_ARTIFACTS") or Path(__file__).resolve().parents[1] / "test-artifacts" / "layout"
)
SKIPPED = {"static", "media.media", "kpis.static", "health.healthz"}  # files and JSON, not pages
TAP = 44  # px: the smallest tap target on a phone

# Runs in the page: what is wrong with its layout at the current viewport size.
CHECK = """(tap) => {
  const width = document.documentElement.clientWidth;
  const visible = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.visibility !== "hidden" && style.display !== "none" && box.width > 0 && box.height > 0;
  };
  const clipped = (el) => {
    for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      const overflow = getComputedStyle(node).overflowX;
      if (overflow !== "visible") return true;
    }
    return false;
  };
  const name = (el) => {
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().slice(0, 40);
    return `<${el.tagName.toLowerCase()}${el.className ? " class=" + el.className : ""}> ${text}`;
  };
  const problems = [];
  const scroll = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
  if (scroll > width + 1) problems.push(`the document is ${scroll} px wide in a ${width} px viewport`);
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if ((box.right > width + 1 || box.left < -1) && box.width > 1 && visible(el) && !clipped(el)) {
      problems.push(`${name(el)} spans x = ${Math.round(box.left)} to ${Math.round(box.right)}`);
      if (problems.length > 5) break;
    }
  }
  for (const el of document.querySelectorAll(".primary")) {
    if (!visible(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.left < -1 || box.right > width + 1) {
      problems.push(`primary ${name(el)} is outside the viewport (x = ${Math.round(box.left)})`);
    }
  }
  if (tap) {
    for (const form of document.querySelectorAll("form")) {  // one column: no two fields side by side
      const boxes = [...form.querySelectorAll(".field")].filter(visible).map((el) => [el, el.getBoundingClientRect()]);
      for (let i = 1; i < boxes.length; i++) {
        const [el, box] = boxes[i];
        const [, above] = boxes[i - 1];
        if (box.top < above.bottom - 1 && above.top < box.bottom - 1) problems.push(`${name(el)} is beside another field`);
      }
    }
    const targets = "button, input[type=submit], a.button, summary, header.top nav a";
    for (const el of document.querySelectorAll(targets)) {
      if (!visible(el) || el.closest(".table-scroll, table")) continue;
      const box = el.getBoundingClientRect();
      if (box.height < tap - 0.5) problems.push(`${name(el)} is ${Math.round(box.height)} px tall`);
    }
  }
  return problems;
}"""


def _picture(width: int, height: int, colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def selling(world, make_user, make_product, make_festival, make_festival_item, make_address):  # noqa: F811
    """A festival that is selling, its items with pictures and long names, buyers with an address."""
    users = world["users"]
    employee = users["employee"]
    users["contact"] = make_user(
        kind=Kind.contact, level=1, referrer_id=employee.id, root_employee_id=employee.id, name="Lily Zhao"
    )
    festival = make_festival(phase=Phase.launch, name="Golden Autumn Fair")
    set_banner(users["operator"], festival, _picture(1500, 500, "darkorange"))
    names = ("Jasmine Tea Gift Box, 12 tins of first-flush leaves", "龙井茶礼盒 明前特级 250克 x 2", "Rice Cooker")
    for n, (name, colour) in enumerate(zip(names, ("olive", "teal", "maroon"), strict=True)):
        product = make_product(name=name, stock=50)
        add_image(users["admin"], product, _picture(1200, 800, colour))
        make_festival_item(festival, product.variants[0], 20 + n, per_buyer_limit=2)
    for user in (employee, users["contact"], users["operator"], users["admin"]):
        make_address(user)
    db.session.commit()
    return festival


def _pages(app, client, world, festival, role) -> list[tuple[str, str]]:  # noqa: F811
    """(name, path) of every HTML page the role gets with a 200."""
    with app.test_request_context():
        candidates = [("festival-selling", url_for("festivals.festival", slug=festival.slug))]
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
            params = world["params"].get(rule.endpoint, {})
            if "GET" in rule.methods and rule.endpoint not in SKIPPED and rule.arguments <= set(params):
                candidates.append((rule.endpoint, url_for(rule.endpoint, **params)))
    only = os.environ.get("LAYOUT_PAGES")
    found = []
    for name, path in candidates:
        if only and only not in name:
            continue
        response = client.get(path)
        if response.status_code == 200 and response.mimetype == "text/html":
            found.append((name, path))
        response.close()
    return found


async def _browse(browser, server, role, cookie, pages) -> list[str]:
    context = await browser.new_context(viewport=dict(zip(("width", "height"), SIZES["phone"], strict=True)))
    if cookie:
        await context.add_cookies([{"name": cookie[0], "value": cookie[1], "url": server}])
    page = await context.new_page()
    failures = []
    try:
        for name, path in pages:
            await page.set_viewport_size(dict(zip(("width", "height"), SIZES["phone"], strict=True)))
            await page.goto(server + path, wait_until="load")
            for size, (width, height) in SIZES.items():
                if size != "phone":
                    await page.set_viewport_size({"width": width, "height": height})
                problems = await page.evaluate(CHECK, TAP if size == "phone" else 0)
                failures.extend(f"{role} {size} {path}: {problem}" for problem in problems)
                shot = ARTIFACTS / size / role / (re.sub(r"[^\w.-]", "_", name) + ".png")
                await page.screenshot(path=str(shot), full_page=True)
    finally:
        await context.close()
    return failures


def test_every_page_fits_a_phone_and_a_laptop(app, client, world, selling, server):  # noqa: F811
    sync_playwright = _browser_or_skip()  # skips without chromium, fails under CI=true
    from playwright.async_api import async_playwright

    del sync_playwright
    users = world["users"]
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    visits = {}
    for role in ROLES:
        client.delete_cookie(cookie_name)
        if role != "anonymous":
            login(client, users[role])
        pages = _pages(app, client, world, selling, role)
        cookie = client.get_cookie(cookie_name)
        visits[role] = (cookie and (cookie_name, cookie.value), pages)
    if not os.environ.get("LAYOUT_PAGES"):
        assert len(visits["admin"][1]) > 60 and len(visits["anonymous"][1]) >= 4  # the walk reached the pages
    for size in SIZES:
        for role in ROLES:
            (ARTIFACTS / size / role).mkdir(parents=True, exist_ok=True)

    async def run() -> list[str]:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            try:
                limit = asyncio.Semaphore(2)

                async def one(role):
                    async with limit:
                        return await _browse(browser, server, role, *visits[role])

                results = await asyncio.gather(*(one(role) for role in ROLES))
            finally:
                await browser.close()
        return [failure for result in results for failure in result]

    failures = asyncio.run(run())
    assert failures == [], f"{len(failures)} layout problems:\n" + "\n".join(failures[:60])


def test_the_home_page_banner_counts_down_and_the_menu_opens_on_a_phone(app, client, employee, make_festival, server):
    """Progressive enhancement within the Content-Security-Policy: the server writes the
    countdown, the script counts it down; the menu opens without script (a <details>)."""
    sync_playwright = _browser_or_skip()
    make_festival(phase=Phase.preheat, name="Year-End Gala")
    login(client, employee)
    client.get("/").close()
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        problems = []
        try:
            for script in (True, False):
                context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=script)
                context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": server}])
                page = context.new_page()
                page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
                page.on("pageerror", lambda error: problems.append(str(error)))
                page.goto(server + "/")
                countdown = page.locator(".festival-banner time[data-countdown]")
                first = countdown.inner_text()
                assert re.fullmatch(r"\d\d:\d\d:\d\d", first)  # an hour to launch
                page.wait_for_timeout(1_500)
                assert (countdown.inner_text() != first) is script
                assert not page.locator("details.menu nav").is_visible()
                page.click("details.menu summary")
                assert page.locator("details.menu nav a", has_text="My orders").is_visible()
                assert problems == []
                context.close()
        finally:
            browser.close()


def test_the_cart_on_a_phone_shows_each_lines_total_and_remove_button(app, client, employee, product, server):
    """Found walking the members' journeys: at 390 px the cart's table was 468 px wide, its
    totals and remove buttons off screen in a box that scrolled without a sign of it."""
    sync_playwright = _browser_or_skip()
    login(client, employee)
    token = client.csrf_token(f"/p/{product.slug}")
    client.post("/cart/add", data={"variant_id": product.variants[0].id, "quantity": 2, "csrf_token": token})
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
            context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": server}])
            page = context.new_page()
            page.goto(server + "/cart/")
            width = page.evaluate("document.documentElement.clientWidth")
            for selector in ("table.cart button.link", "table.cart td[data-label]:nth-of-type(4)"):
                box = page.locator(selector).first.bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, selector
            assert page.locator("table.cart button.link").first.bounding_box()["height"] >= TAP - 0.5
            total = page.locator("table.cart td[data-label]").nth(2)
            assert total.get_attribute("data-label") == "Total: " and total.is_visible()  # named
        finally:
            browser.close()
