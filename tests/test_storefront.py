"""The storefront as visitors see it: landing page, catalog pages, tier prices, safe descriptions."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from shop.accounts.models import Kind
from shop.catalog.models import Category, SalesMode
from shop.extensions import db
from tests.conftest import login

# make_product defaults: market 100.00, employee 70.00, contact 85.00 (CNY, minor units).
EMPLOYEE_PRICE, CONTACT_PRICE, MARKET_PRICE = "CN¥70.00", "CN¥85.00", "CN¥100.00"
ADD_TO_CART = 'action="/cart/add"'


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def make_contact(make_user, employee):
    return make_user(kind=Kind.contact, level=1, root_employee_id=employee.id, referrer_id=employee.id)


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))


def elements(html: str) -> list[tuple[str, dict]]:
    parser = _Elements()
    parser.feed(html)
    return parser.elements


# ---- anonymous visitors --------------------------------------------------------------------


def test_anonymous_home_is_the_landing_page_without_catalog_or_prices(client, product):
    html = page(client, "/")
    assert 'href="/login"' in html
    assert "Tea Set" not in html
    assert "CN¥" not in html
    assert f"/p/{product.slug}" not in html


def test_anonymous_visitors_are_sent_to_log_in_from_every_catalog_page(client, product):
    for url in ("/c/home", f"/p/{product.slug}", "/search?q=tea", "/cart/", "/checkout", "/orders"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url
    html = client.get(f"/p/{product.slug}", follow_redirects=True).get_data(as_text=True)
    assert "Please log in to see this page." in html
    assert EMPLOYEE_PRICE not in html and "Tea Set" not in html


# ---- prices by tier ------------------------------------------------------------------------


def _pages(product) -> list[str]:
    return ["/", f"/c/{product.category.slug}", f"/p/{product.slug}", "/search?q=tea"]


def test_employee_sees_employee_price_market_price_struck_through_and_saving(client, employee, product):
    login(client, employee)
    for url in _pages(product):
        html = page(client, url)
        assert "Tea Set" in html, url
        assert f'<span class="price">{EMPLOYEE_PRICE}</span>' in html, url
        assert re.search(rf"<s[^>]*>{re.escape(MARKET_PRICE)}</s>", html), url
        assert "You save CN¥30.00" in html, url
        assert CONTACT_PRICE not in html, url


def test_contact_sees_contact_price(client, make_user, employee, product):
    login(client, make_contact(make_user, employee))
    for url in _pages(product):
        html = page(client, url)
        assert f'<span class="price">{CONTACT_PRICE}</span>' in html, url
        assert re.search(rf"<s[^>]*>{re.escape(MARKET_PRICE)}</s>", html), url
        assert "You save CN¥15.00" in html, url
        assert EMPLOYEE_PRICE not in html, url


# ---- what is listed ------------------------------------------------------------------------


def test_inactive_product_is_not_listed_and_its_page_is_not_found(client, employee, make_product):
    shown = make_product(name="Green Tea")
    hidden = make_product(name="Old Tea", active=False)
    login(client, employee)
    assert client.get(f"/p/{hidden.slug}").status_code == 404
    for url in ("/", "/c/home", "/search?q=tea"):
        html = page(client, url)
        assert "Green Tea" in html and f"/p/{shown.slug}" in html, url
        assert "Old Tea" not in html and f"/p/{hidden.slug}" not in html, url


def test_unknown_category_and_product_are_not_found(client, employee, product):
    login(client, employee)
    assert client.get("/c/no-such-category").status_code == 404
    assert client.get("/p/no-such-product").status_code == 404


def test_category_page_lists_only_its_own_products(client, employee, make_product):
    drinks = Category(name="Drinks", slug="drinks")
    kitchen = Category(name="Kitchen", slug="kitchen")
    db.session.add_all([drinks, kitchen])
    db.session.commit()
    make_product(name="Oolong Tea", category=drinks)
    make_product(name="Chef Knife", category=kitchen)
    login(client, employee)
    html = page(client, "/c/drinks")
    assert "Oolong Tea" in html and "Chef Knife" not in html
    html = page(client, "/c/kitchen")
    assert "Chef Knife" in html and "Oolong Tea" not in html
    assert 'href="/c/drinks"' in html  # the category navigation


def test_search_finds_products_by_every_word_and_takes_wildcards_literally(client, employee, make_product):
    make_product(name="Tea Set")
    make_product(name="Coffee Mug")
    login(client, employee)
    html = page(client, "/search?q=TEA")
    assert "Tea Set" in html and "Coffee Mug" not in html
    assert "1 product found" in html
    html = page(client, "/search?q=set+tea")
    assert "Tea Set" in html and "1 product found" in html
    html = page(client, "/search?q=tea+mug")
    assert "0 products found" in html and "Tea Set" not in html
    html = page(client, "/search?q=%25")  # a literal "%", not "anything"
    assert "0 products found" in html and "Tea Set" not in html and "Coffee Mug" not in html


# ---- product page ----------------------------------------------------------------------------


def test_markdown_description_is_rendered_and_html_in_it_is_inert(client, employee, product):
    product.description_md = (
        "**Hand-made** porcelain.\n\n"
        "<script>alert('xss')</script>\n\n"
        "<img src=x onerror=\"alert('xss')\">\n\n"
        '<a href="#" onclick="steal()">click</a>\n\n'
        "[a link](javascript:alert(1)) and ![pic](javascript:alert(2))\n"
    )
    db.session.commit()
    login(client, employee)
    html = page(client, f"/p/{product.slug}")
    assert "<strong>Hand-made</strong>" in html
    found = elements(html)
    scripts = [attrs for tag, attrs in found if tag == "script"]
    assert scripts and all(attrs.get("src", "").startswith("/static/") for attrs in scripts)  # the site's own
    assert not [(tag, attrs) for tag, attrs in found if any(name.startswith("on") for name in attrs)]
    assert not [
        (tag, attrs)
        for tag, attrs in found
        if any(attrs.get(name, "").strip().lower().startswith("javascript:") for name in ("href", "src"))
    ]
    assert "alert('xss')</script>" not in html


def test_direct_product_offers_its_active_options_within_the_retail_cap(client, employee, make_product):
    from shop.quotas.services import ensure_default_rules

    product = make_product(name="Tea Set", variants=2)
    product.variants[1].is_active = False
    ensure_default_rules()
    db.session.commit()
    login(client, employee)
    html = page(client, f"/p/{product.slug}")
    assert ADD_TO_CART in html
    options = [attrs.get("value") for tag, attrs in elements(html) if tag == "option"]
    assert options == [str(product.variants[0].id)]
    assert "You can buy 5 more of this (limit: At most 5 units of any one item per buyer per order)" in html


@pytest.mark.parametrize(
    "mode, text",
    [
        (SalesMode.lead, "sold by our sales consultants"),
        (SalesMode.share_only, "shown for sharing only"),
    ],
)
def test_lead_and_share_only_products_have_no_add_to_cart_form(client, employee, make_product, mode, text):
    product = make_product(name="Sofa", sales_mode=mode)
    login(client, employee)
    html = page(client, f"/p/{product.slug}")
    assert "Sofa" in html and text in html
    assert ADD_TO_CART not in html
    assert not [tag for tag, attrs in elements(html) if attrs.get("name") == "quantity"]
