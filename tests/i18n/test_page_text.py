"""No string left behind (issue 21): every GET page of the route table, rendered in zh_CN as
each role (visitors too), shows no English word outside user content.

The pages come from the app's URL map with the objects of the access matrix's world, so a page
added later is read without touching this file. What counts as user content is what the
database holds (names, titles, texts), so the people, products, categories and festivals are
first given Chinese names: an English word left is the interface's own. Brand names and codes
are allowed by name below.
"""

from __future__ import annotations

from zoneinfo import available_timezones

import pytest
import sqlalchemy as sa
from flask import current_app

from shop.accounts import tokens
from shop.accounts.models import Kind, Role, User
from shop.catalog.festival_models import Phase
from shop.extensions import db
from shop.i18n import LOCALE_COOKIE
from tests.conftest import login
from tests.i18n.page_text import WORD, english_words
from tests.test_access_matrix import world  # noqa: F401  (the fixture: objects for every route)
from tests.test_fuzz import build

KPI_SECTIONS = ("expansion", "sustainability", "long-tail", "operators", "platform", "festivals")
ROLES = ("anonymous", "contact", "employee", "sales", "operator", "admin")
NOT_PAGES = {"static", "media.media", "kpis.static", "health.healthz", "referrals.poster"}
# Names of brands and products, file formats and codes, written the same in Chinese text.
ALLOWED = {
    "neigou",  # the product's name
    "English",  # the language switch names each language in itself
    "Stripe",
    "Excel",
    "Windows",
    "GBK",  # the encoding's name (GB18030 is taken as a code)
    "xlsx",
    "Markdown",
    "CSV",
    "SKU",
    "SKUs",
    "QR",
    "KPI",
    "HR",
    "UTF",
    "JPEG",
    "PNG",
    "WebP",
    "GIF",
    "YYYY",
    "MM",
    "DD",
    "ID",
    "CN",
    "GMT",  # time zones without a place: Etc/GMT, UTC
    "UTC",
    "Gini",
    "Lorenz",
    "Secure",  # 3-D Secure, the card scheme's name
    "js",  # Stripe.js
    "flask",  # commands named on the operators' pages
    "shop",
    "reconcile",
    "stripe",
    "kpi",
    "aggregate",
    "employee_no",
    "email",
    "name",
    "department",  # the roster's column names, which the file must use
    "no",
}
RENAMED = {  # table -> column: user content given Chinese names before the walk
    "users": "name",
    "departments": "name",
    "categories": "name",
    "products": "name",
    "variants": "name",
    "festivals": "name",
    "order_lines": ("product_name", "variant_name"),
}


def _chinese_names() -> None:
    for table, columns in RENAMED.items():
        t = db.metadata.tables[table]
        for column in (columns,) if isinstance(columns, str) else columns:
            db.session.execute(t.update().values({column: sa.literal("名称") + sa.cast(t.c.id, sa.String)}))
    db.session.execute(sa.update(User).values(preferred_locale="zh_CN"))
    db.session.commit()


def _user_content_words() -> set[str]:
    """Every word stored in a text column (not the enumerations: a raw status is the interface's),
    and in the phrases of JSON columns (the audit trail keeps a rule's sentence and a festival's
    name as they were; a single word there is a code, which the pages must label)."""
    words = set()
    for table in db.metadata.sorted_tables:
        texts = [c for c in table.columns if isinstance(c.type, sa.String) and not isinstance(c.type, sa.Enum)]
        documents = [c for c in table.columns if isinstance(c.type, sa.JSON)]
        for row in db.session.execute(sa.select(*texts, *documents)) if texts or documents else ():
            for value in row[: len(texts)]:
                if isinstance(value, str):
                    words.update(WORD.findall(value))
            for document in row[len(texts) :]:
                words.update(word for phrase in _phrases(document) for word in WORD.findall(phrase))
    return words


def _phrases(document) -> list[str]:
    if isinstance(document, str):
        return [document] if " " in document.strip() else []
    if isinstance(document, dict):
        return [phrase for value in document.values() for phrase in _phrases(value)]
    if isinstance(document, list):
        return [phrase for value in document for phrase in _phrases(value)]
    return []


def _pages(app, world) -> list[str]:  # noqa: F811
    params = world["params"]
    paths = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        args = params.get(rule.endpoint, {})
        if not rule.arguments <= set(args):
            continue
        paths.append(build(rule, args))
    return paths


@pytest.fixture
def walk(app, client, world, make_user, make_product, make_festival, make_festival_item):  # noqa: F811
    users = dict(world["users"])
    employee = users["employee"]
    users["contact"] = make_user(kind=Kind.contact, level=1, referrer_id=employee.id, root_employee_id=employee.id)
    users["sales"] = make_user(role=Role.sales)
    level2 = make_user(kind=Kind.contact, level=2, referrer_id=users["contact"].id, root_employee_id=employee.id)
    selling = make_festival(phase=Phase.launch, name="Autumn Fair")  # the world's is in preheat
    make_festival_item(selling, make_product().variants[0], 5)
    ended = make_festival(phase=Phase.ended, name="Last Year")
    member_pages = [
        *(f"/ops/kpis/{section}" for section in KPI_SECTIONS),  # the world opens one section
        f"/festivals/{selling.slug}",
        f"/festivals/{selling.slug}/leaderboards",
        f"/festivals/{ended.slug}",
        f"/festivals/{ended.slug}/leaderboards",
    ]
    _chinese_names()
    allowed = ALLOWED | _user_content_words() | set(WORD.findall(current_app.config["COMPANY_NAME"]))
    product_slug = world["params"]["catalog.product"]["slug"]
    visitor_pages = [
        f"/p/{product_slug}?ref={employee.referral_code}",  # a share link's teaser
        f"/p/{product_slug}?ref={level2.referral_code}",  # a link that cannot admit anyone
        f"/r/{users['contact'].referral_code}",
        "/r/NOSUCHCODE",
        # The mailed links' pages, read with links that work (an unusable one says so elsewhere)
        f"/reset/{tokens.make_token(employee, tokens.RESET)}",
        f"/welcome/{tokens.make_token(employee, tokens.INVITE)}",
    ]
    return users, allowed, _pages(app, world) + member_pages, visitor_pages


@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_in_chinese(app, client, walk, role):
    users, allowed, pages, visitor_pages = walk
    if role == "anonymous":
        client.set_cookie(LOCALE_COOKIE, "zh_CN")  # a visitor's choice, with the switch
        pages = pages + visitor_pages
    else:
        login(client, users[role])
    zones = available_timezones()
    failures, read = [], 0
    for path in [*pages, "/no-such-page"]:
        response = client.get(path)
        if response.mimetype == "text/html" and response.status_code // 100 != 3:  # a browser follows redirects
            read += 1
            html = response.get_data(as_text=True)
            left = english_words(html, allowed, zones)
            if left:
                failures.append(f"{path} ({response.status_code}): {' '.join(sorted(left))}")
        response.close()
    assert read > (10 if role == "anonymous" else 40)
    assert failures == [], f"English left on {len(failures)} pages as {role}:\n" + "\n".join(failures)
