"""What is left, said alike on every page that hints at it: the product page counts the cart
(as the cart page and the cart's check of the per-order rules do) and says nothing of "more"
for a sold-out option; the festival page says what is left of every rule for this buyer and
offers no more than that; the cart marks lines taken off sale and leaves them out of its sums."""

from __future__ import annotations

import re

from sqlalchemy import select

from shop.accounts.models import User
from shop.cart.models import CartLine
from shop.cart.services import CartError
from shop.checkout.placing import place_order
from shop.extensions import db
from shop.quotas import services as quotas
from shop.quotas.models import Measure, QuotaRule, Scope, Target, Window
from tests.conftest import login
from tests.fixtures.festivals import chain_cap_on


def text(response) -> str:
    return response.get_data(as_text=True)


def rule(**fields):
    made = quotas.create_rule(
        None,
        **({"scope": Scope.buyer, "target": Target.all, "window": Window.order, "measure": Measure.units} | fields),
    )
    db.session.commit()
    return made


def add(client, variant, quantity, **kwargs):
    return client.post_form(
        "/cart/add", {"variant_id": str(variant.id), "quantity": str(quantity), "back": "/cart/"}, **kwargs
    )


def cart_of(user: User) -> dict[int, int]:
    rows = db.session.execute(select(CartLine.variant_id, CartLine.quantity).where(CartLine.user_id == user.id))
    return {variant_id: quantity for variant_id, quantity in rows}


# ---- 1. the product page counts the cart --------------------------------------------------


def test_the_product_page_counts_the_cart_under_a_per_order_rule_of_units(client, employee, make_product):
    brush = make_product(name="Electric Toothbrush")
    per_order = rule(per_sku=True, limit_value=5)
    sentence = f"(limit: {quotas.describe(per_order)})"
    login(client, employee)
    url = f"/p/{brush.slug}"
    assert f"You can buy 5 more of this {sentence}" in text(client.get(url))
    add(client, brush.variants[0], 4)
    assert f"You can buy 1 more of this {sentence}" in text(client.get(url))
    assert f"1 more allowed {sentence}" in text(client.get("/cart/"))  # the cart says the same
    refused = text(add(client, brush.variants[0], 2, follow_redirects=True))
    assert "allows 5 units in one order; your cart would hold 6 units." in refused
    add(client, brush.variants[0], 1)  # what the page said fits
    assert cart_of(employee) == {brush.variants[0].id: 5}
    assert f"You cannot buy more of this now {sentence}" in text(client.get(url))


def test_the_product_page_counts_the_cart_under_a_per_order_rule_of_money(client, employee, make_product):
    kettle = make_product(name="Kettle", employee_price=7_000)  # 70.00
    per_order = rule(target=Target.product, product_id=kettle.id, measure=Measure.amount, limit_value=50_000)
    sentence = f"(limit: {quotas.describe(per_order)})"
    login(client, employee)
    url = f"/p/{kettle.slug}"
    assert f"You can buy 7 more of this {sentence}" in text(client.get(url))
    add(client, kettle.variants[0], 5)  # 350.00 of 500.00: two more fit
    assert f"You can buy 2 more of this {sentence}" in text(client.get(url))
    assert "in one order; your cart would hold" in text(add(client, kettle.variants[0], 3, follow_redirects=True))
    add(client, kettle.variants[0], 2)
    assert cart_of(employee) == {kettle.variants[0].id: 7}
    assert f"You cannot buy more of this now {sentence}" in text(client.get(url))


def test_other_items_in_the_cart_count_under_a_rule_for_the_whole_order(client, employee, make_product):
    tea, cup = make_product(name="Tea"), make_product(name="Cup")
    basket = rule(limit_value=6)  # everything together, per order
    login(client, employee)
    add(client, cup.variants[0], 4)
    assert f"You can buy 2 more of this (limit: {quotas.describe(basket)})" in text(client.get(f"/p/{tea.slug}"))


def test_a_sold_out_option_says_nothing_of_more(client, employee, make_product):
    rule(per_sku=True, limit_value=5)
    pair = make_product(name="Pair", variants=2)
    pair.variants[1].stock = 0
    single = make_product(name="Single", stock=0)
    db.session.commit()
    login(client, employee)
    html = text(client.get(f"/p/{pair.slug}"))
    assert "<strong>Option 0</strong>: You can buy 5 more of this" in html
    assert "<strong>Option 1</strong>" not in html and html.count("You can buy") == 1
    html = text(client.get(f"/p/{single.slug}"))
    assert "Sold out" in html and "You can buy" not in html and "You cannot buy more" not in html


def test_the_page_kept_for_the_buyer_is_renewed_when_the_cart_changes(caches_on, client, employee, make_product):
    brush = make_product(name="Brush")
    rule(per_sku=True, limit_value=5)
    url = f"/p/{brush.slug}"
    login(client, employee)
    assert "You can buy 5 more of this" in text(client.get(url))
    assert "You can buy 5 more of this" in text(client.get(url))  # kept
    add(client, brush.variants[0], 3)
    client.get("/cart/")  # the flash message is shown there
    assert "You can buy 2 more of this" in text(client.get(url))
    line = db.session.scalar(select(CartLine))
    client.post_form(f"/cart/lines/{line.id}", {"quantity": "1"})
    assert "You can buy 4 more of this" in text(client.get(url))
    client.post_form(f"/cart/lines/{line.id}/remove", {})
    assert "You can buy 5 more of this" in text(client.get(url))


# ---- 2. the festival page says what is left for this buyer -------------------------------


def festival_page(client, festival) -> str:
    return text(client.get(f"/festivals/{festival.slug}"))


def card_of(page: str, item) -> str:
    start = page.index(f'id="item-{item.id}"')
    return page[start : page.index("</li>\n", start)]


def test_the_festival_page_says_what_is_left_under_every_rule_and_offers_no_more(
    client, employee, make_contact, make_product, make_festival, make_festival_item, make_address
):
    festival = make_festival()
    item = make_festival_item(festival, make_product(name="Rice Cooker", stock=30).variants[0], 25, per_buyer_limit=2)
    chain = chain_cap_on(item, 3)
    db.session.commit()
    per_buyer = db.session.scalar(
        select(QuotaRule).where(QuotaRule.festival_item_id == item.id, QuotaRule.scope == Scope.buyer)
    )
    lily = make_contact(employee)
    make_address(employee)
    place_order(lily.id, make_address(lily).id, item_id=item.id, quantity=2)
    db.session.commit()

    card = card_of(festival_page(login(client, lily), festival), item)
    assert "At most 2 per buyer" in card and "You have bought your limit" in card
    assert f"0 more allowed (limit: {quotas.describe(per_buyer)})" in card
    assert f"1 more allowed (chain limit: {quotas.describe(chain)})" in card
    assert "Buy now" not in card and 'name="quantity"' not in card and 'type="number"' not in card
    assert 'href="#items">Buy now</a>' not in festival_page(client, festival)  # nothing else to buy

    card = card_of(festival_page(login(client, employee), festival), item)  # same chain, bought nothing
    assert "You can buy 1 more of this" in card and 'max="1"' in card and "Buy now" in card
    assert f"2 more allowed (limit: {quotas.describe(per_buyer)})" in card
    place_order(employee.id, make_address(employee).id, item_id=item.id, quantity=1)
    db.session.commit()
    card = card_of(festival_page(client, festival), item)
    assert "Your chain has bought its limit" in card and "Buy now" not in card


def test_a_per_order_rule_caps_the_festival_form_below_the_allocation(
    client, employee, make_product, make_festival, make_festival_item, make_address
):
    festival = make_festival()
    plain = make_festival_item(festival, make_product(name="Fan", stock=30).variants[0], 23)
    per_order = rule(per_sku=True, limit_value=5)
    make_address(employee)
    page = festival_page(login(client, employee), festival)
    card = card_of(page, plain)
    assert "You can buy 5 more of this" in card and 'max="5"' in card
    assert f"5 more allowed (limit: {quotas.describe(per_order)})" in card
    per_order.is_active = False
    db.session.commit()
    card = card_of(festival_page(client, festival), plain)
    assert 'max="23"' in card and "more allowed" not in card and "You can buy" not in card


# ---- 3. the cart marks what was taken off sale --------------------------------------------


def test_the_cart_marks_lines_taken_off_sale_and_leaves_them_out(client, employee, make_product, make_address):
    tea = make_product(name="Tea", employee_price=4_000)
    kettle = make_product(name="Kettle", variants=2, employee_price=9_000)
    cup = make_product(name="Cup", employee_price=1_000)
    rule(per_sku=True, limit_value=5)
    login(client, employee)
    add(client, tea.variants[0], 2)
    add(client, kettle.variants[1], 1)
    add(client, cup.variants[0], 3)
    kettle.variants[1].is_active = False  # the option taken off sale
    tea.is_active = False  # the whole product
    db.session.commit()

    html = text(client.get("/cart/"))
    assert "“Tea” is no longer for sale; remove it from your cart." in html
    assert "“Kettle” is no longer for sale; remove it from your cart." in html
    assert html.count("No longer for sale") == 2 and html.count('class="off-sale"') == 2
    total = re.search(r'<p class="total">.*?<strong>(.*?)</strong>', html, re.S).group(1)
    assert total == "CN¥30.00"  # the cups only
    assert html.count("more allowed") == 1 and "2 more allowed" in html  # the cups: 5 per order
    assert "CN¥80.00" not in html and "CN¥90.00" not in html  # no price or sum for the lines off sale
    assert html.count("Remove</button>") == 3

    address = make_address(employee)
    try:
        place_order(employee.id, address.id)
    except CartError as refused:
        assert "is no longer for sale; remove it from your cart." in str(refused)
    else:
        raise AssertionError("checkout took a line no longer for sale")
    db.session.rollback()

    # Lines off sale do not count for the per-order rules of what can still be added.
    add(client, cup.variants[0], 2)
    assert cart_of(employee)[cup.variants[0].id] == 5
    for line in db.session.scalars(select(CartLine).where(CartLine.variant_id != cup.variants[0].id)).all():
        client.post_form(f"/cart/lines/{line.id}/remove", {})
    assert "no longer for sale" not in text(client.get("/cart/"))
    order = place_order(employee.id, address.id)
    db.session.commit()
    assert order.total_amount == 5_000
