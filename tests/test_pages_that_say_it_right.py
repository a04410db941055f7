"""Issue 20, points 2, 6, 8 and 9: checkout and order pages the buyer understands, catalog
editing in one form with readable unique slugs, figures that do not mislead, and referral pages
that say the right thing."""

from __future__ import annotations

import html
import inspect
import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from referrals.models import Visit
from referrals.services import links, poster
from shop.catalog.festival_models import Phase
from shop.catalog.models import Category, Product
from shop.catalog.services import slugify
from shop.checkout.placing import place_order
from shop.company_calendar import company_zone
from shop.database import utcnow
from shop.extensions import db
from shop.festivals.forecast import demand
from shop.payments.payroll import pay_by_payroll
from shop.refunds import services as refunds
from tests.conftest import CsrfClient, login


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# ---- 2. checkout the buyer understands -------------------------------------------------------


def test_checkout_and_order_pages_show_unit_prices_totals_and_savings(client, employee, product, place):
    variant = product.variants[0]  # market 100.00, employee 70.00
    order = place(employee, variant, 3)
    login(client, employee)
    page = text(client.get(f"/orders/{order.id}"))
    assert "CN¥210.00" in page and "You save CN¥90.00" in page

    client.post_form("/cart/add", {"variant_id": str(variant.id), "quantity": "2"}, token_from=f"/p/{product.slug}")
    page = text(client.get("/checkout"))
    assert "CN¥70.00" in page and "CN¥140.00" in page  # unit price and line total
    assert "You save CN¥60.00" in page


def test_paying_by_payroll_states_the_amount_and_month_then_confirms(client, employee, product, place):
    order = place(employee, product.variants[0], 2)
    login(client, employee)
    page = text(client.get(f"/orders/{order.id}"))
    month = utcnow().astimezone(company_zone()).strftime("%B %Y")  # the company's month
    assert f"CN¥140.00 will be deducted from your salary for {month}" in page
    response = client.post_form(f"/orders/{order.id}/pay", token_from=f"/orders/{order.id}")
    assert response.status_code == 302 and response.location.endswith(f"/orders/{order.id}?paid=1")
    page = text(client.get(response.location))
    assert "Thank you: order" in page and "is paid" in page and "deducted from your salary" in page


# ---- 6. catalog editing ----------------------------------------------------------------------


def test_slugs_for_chinese_names_are_pinyin_and_unique(ops_client, make_product):
    assert slugify("绿茶礼盒") == "lv-cha-li-he"
    assert slugify("Tea Set 茶具") == "tea-set-cha-ju"
    assert re.fullmatch(r"p-[0-9a-f]{6}", slugify("🍵"))
    category = Category(name="茶叶", slug="")
    category.slug = slugify(category.name)
    db.session.add(category)
    db.session.commit()
    form = {
        "name": "绿茶礼盒",
        "slug": "",
        "category_id": str(category.id),
        "sales_mode": "direct",
        "is_active": "y",
        "option_sku": "LC-1",
        "option_name": "一盒",
        "market_price": "100.00",
        "employee_price": "60.00",
        "contact_price": "80.00",
        "initial_stock": "5",
    }
    assert ops_client.post_form("/ops/products/new", form, token_from="/ops/products/new").status_code == 302
    again = form | {"option_sku": "LC-2"}
    assert ops_client.post_form("/ops/products/new", again, token_from="/ops/products/new").status_code == 302
    slugs = sorted(db.session.scalars(select(Product.slug)))
    assert slugs == ["lv-cha-li-he", "lv-cha-li-he-2"]
    made = db.session.scalar(select(Product).where(Product.slug == "lv-cha-li-he"))
    [option] = made.variants
    assert (option.sku, option.name, option.employee_price, option.stock) == ("LC-1", "一盒", 6000, 5)


def test_a_direct_product_needs_its_first_option_and_one_without_is_not_listed(
    ops_client, client, employee, make_product
):
    category = Category(name="Drinks", slug="drinks")
    db.session.add(category)
    db.session.commit()
    form = {"name": "Kettle", "category_id": str(category.id), "sales_mode": "direct", "is_active": "y"}
    response = ops_client.post_form("/ops/products/new", form, token_from="/ops/products/new")
    assert response.status_code == 422 and "Needed for the first option." in text(response)
    assert db.session.scalar(select(func.count(Product.id))) == 0
    lead = form | {"name": "Purifier", "sales_mode": "lead"}  # no option needed
    assert ops_client.post_form("/ops/products/new", lead, token_from="/ops/products/new").status_code == 302

    listed, bare = make_product(name="Listed Tea"), make_product(name="Bare Tea")
    for variant in bare.variants:
        variant.is_active = False
    db.session.commit()
    login(client, employee)
    page = text(client.get(f"/c/{listed.category.slug}"))
    assert "Listed Tea" in page and "Bare Tea" not in page
    assert "Bare Tea" not in text(client.get("/search?q=Tea"))


@pytest.fixture
def ops_client(client, operator) -> CsrfClient:
    return login(client, operator)


# ---- 8. figures that do not mislead ----------------------------------------------------------


def test_fully_refunded_orders_are_not_paid_orders_of_a_festival(
    operator, make_user, make_festival, make_festival_item, make_product, make_address
):
    festival = make_festival(phase=Phase.launch)
    item = make_festival_item(festival, make_product(stock=50).variants[0], 20)
    kept, refunded = make_user(), make_user()
    for buyer in (kept, refunded):
        order = place_order(buyer.id, make_address(buyer).id, item_id=item.id, quantity=1)
        pay_by_payroll(buyer, order)
        db.session.commit()
        if buyer is refunded:
            refunds.refund_order(operator, order, reason="changed their mind", full=True)
            db.session.commit()
    found = demand(festival)
    assert (found.paid_orders, found.buyers) == (1, 1)


def test_the_payroll_page_opens_on_the_last_finished_month(client, operator):
    login(client, operator)
    page = text(client.get("/ops/payroll"))
    last_month = (utcnow().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert f'value="{last_month}"' in page


# ---- 9. referral pages that say the right thing ------------------------------------------------


@pytest.fixture
def l2_contact(employee, make_contact):
    l1 = make_contact(employee, name="Lena One")
    return make_contact(l1, name="Tom Two")


def test_a_visitor_at_an_l2_link_sees_the_refusal_only(client, l2_contact):
    page = text(client.get(f"/r/{l2_contact.referral_code}"))
    assert "cannot be used to join" in page
    assert "invites you" not in page and 'name="password"' not in page
    assert "Lena One" not in page  # the inviter of the L2 contact is not named


def test_posters_carry_no_price(app, employee, product):
    assert "price" not in inspect.signature(poster.poster_png).parameters  # nothing to draw one with
    with app.test_request_context():
        png = links.product_poster(employee, product)
    assert Image.open(io.BytesIO(png)).size == (poster.WIDTH, poster.HEIGHT)


def test_the_daily_cap_per_address_spares_visitors_with_the_cookie(app, employee):
    app.config["REFERRAL_VISITS_PER_IP_DAY"] = 1
    try:
        url = f"/r/{employee.referral_code}"
        first, second = app.test_client(), app.test_client()
        first.get(url)  # counted; the address has had its one visit without a cookie today
        second.get(url)  # same address, no cookie: not counted, but given the visitor cookie
        assert db.session.scalar(select(func.count(Visit.id))) == 1
        assert second.get_cookie("neigou_visitor") is not None
        second.get(url)  # now known by the cookie: counted, whatever the address did
        assert db.session.scalar(select(func.count(Visit.id))) == 2
        second.get(url)  # still once per visitor and day
        assert db.session.scalar(select(func.count(Visit.id))) == 2
    finally:
        app.config["REFERRAL_VISITS_PER_IP_DAY"] = 50
