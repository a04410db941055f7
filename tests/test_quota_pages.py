"""What is left on the product and cart pages, for this buyer and their chain; the cart holds
what one order may hold under the per-order rules."""

from __future__ import annotations

from sqlalchemy import event, select

from shop.cart.models import CartLine
from shop.extensions import db
from shop.quotas import services as quotas
from shop.quotas.models import Audience, Measure, Scope, Target, Window
from tests.conftest import login


def text(response) -> str:
    return response.get_data(as_text=True)


def add(client, variant, quantity, **kwargs):
    return client.post_form(
        "/cart/add", {"variant_id": str(variant.id), "quantity": str(quantity), "back": "/cart/"}, **kwargs
    )


def rule(**fields):
    made = quotas.create_rule(
        None, **({"scope": Scope.buyer, "target": Target.all, "window": Window.year, "measure": Measure.units} | fields)
    )
    db.session.commit()
    return made


def test_the_product_page_says_what_is_left_of_each_option_for_the_chain(
    client, employee, make_contact, make_product, place
):
    tea = make_product(name="Tea Set", variants=2)
    quotas.ensure_default_rules()
    chain = rule(scope=Scope.chain, target=Target.product, product_id=tea.id, window=Window.month, limit_value=3)
    friend = make_contact(employee)
    place(employee, tea.variants[0], 1)
    place(friend, tea.variants[1], 1)
    html = text(login(client, employee).get(f"/p/{tea.slug}"))
    sentence = "(chain limit: At most 3 units of Tea Set per chain per month)"
    assert f"<strong>Option 0</strong>: You can buy 1 more of this {sentence}" in html
    assert f"<strong>Option 1</strong>: You can buy 1 more of this {sentence}" in html

    quotas.grant_exception(employee, chain, friend, 2, "Wedding")
    db.session.commit()
    assert f"You can buy 3 more of this {sentence}" in text(client.get(f"/p/{tea.slug}"))
    place(friend, tea.variants[0], 3)
    assert f"You cannot buy more of this now {sentence}" in text(client.get(f"/p/{tea.slug}"))


def test_a_money_cap_is_shown_in_units_of_this_item(client, employee, make_product, place):
    pot = make_product(name="Pot", employee_price=30_000)
    rule(measure=Measure.amount, audience=Audience.employees, limit_value=100_000)
    place(employee, pot.variants[0], 1)
    html = text(login(client, employee).get(f"/p/{pot.slug}"))
    assert "You can buy 2 more of this (limit: At most CN¥1,000.00 spent on all items per employee per year)" in html


def test_no_panel_when_no_rule_applies(client, employee, make_user, product, make_product):
    from shop.accounts.models import Kind

    rule(audience=Audience.contacts, limit_value=1)  # not for employees
    assert "You can buy" not in text(login(client, employee).get(f"/p/{product.slug}"))
    assert "<quota-left-slot>" not in text(client.get(f"/p/{product.slug}"))
    contact = make_user(kind=Kind.contact, level=1, referrer_id=employee.id, root_employee_id=employee.id)
    assert "You can buy 1 more of this" in text(login(client, contact).get(f"/p/{product.slug}"))


def selects_for(client, url: str) -> list[str]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        if "SELECT" in statement.upper():
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return seen


def test_the_panel_costs_a_product_page_one_query_whatever_the_rules(caches_on, app, client, make_user, make_product):
    product = make_product(variants=4)
    url = f"/p/{product.slug}"
    login(client, make_user()).get(url)  # the product's fragment and options are cached for everyone
    without_rules = selects_for(login(app.test_client(), make_user()), url)
    quotas.ensure_default_rules()
    rule(scope=Scope.chain, target=Target.category, category_id=product.category_id, window=Window.day, limit_value=9)
    db.session.commit()
    with_rules = selects_for(login(app.test_client(), make_user()), url)
    # The rules, the exceptions and what the buyer and chain used: one statement, rules or none.
    assert len(with_rules) == len(without_rules)
    about_quotas = [s for s in with_rules if "quota_rules" in s or "order_lines" in s]
    assert len(about_quotas) == 1 and len([s for s in without_rules if "quota_rules" in s]) == 1
    assert "You can buy" in text(login(app.test_client(), make_user()).get(url))


def test_the_cart_shows_what_is_left_per_line_and_warns_of_broken_rules(
    client, employee, make_contact, make_product, place
):
    tea, cup = make_product(name="Tea", employee_price=4_000), make_product(name="Cup", employee_price=1_000)
    quotas.ensure_default_rules()
    chain = rule(scope=Scope.chain, target=Target.product, product_id=tea.id, window=Window.day, limit_value=4)
    cap = rule(measure=Measure.amount, audience=Audience.employees, limit_value=20_000)
    place(make_contact(employee), tea.variants[0], 2)
    login(client, employee)
    add(client, tea.variants[0], 1)
    add(client, cup.variants[0], 3)
    html = text(client.get("/cart/"))
    # Tea: the chain has 2 left on top of the 1 in the cart; money: 200 - 70 = 130 left = 3 more teas.
    assert "1 more allowed (chain limit: At most 4 units of Tea per chain per day)" in html
    # Cup: 5 per order minus 3 in the cart, before the money cap (130 / 10 = 13 more).
    assert "2 more allowed (limit: At most 5 units of any one item per buyer per order)" in html
    assert "cannot be ordered as it is" not in html

    line = db.session.scalar(select(CartLine).where(CartLine.variant_id == tea.variants[0].id))
    client.post_form(f"/cart/lines/{line.id}", {"quantity": "4"})
    html = text(client.get("/cart/"))
    warnings = html[html.index("This cart cannot be ordered as it is:") :]
    warnings = warnings[: warnings.index("</div>")]
    assert f"“{quotas.describe(chain)}”: 2 units left for you, this cart needs 4 units." in warnings
    assert quotas.describe(cap) not in warnings  # 4 x 40.00 + 3 x 10.00 = 190.00 of 200.00
    assert "0 more allowed (chain limit" in html


def test_the_cart_holds_what_one_order_may_under_the_per_order_rules(client, employee, make_product):
    tea, cup = make_product(name="Tea"), make_product(name="Cup")
    basket = rule(window=Window.order, limit_value=6)  # everything together, per order
    login(client, employee)
    add(client, tea.variants[0], 4)
    html = text(add(client, cup.variants[0], 3, follow_redirects=True))
    assert f"The rule “{quotas.describe(basket)}” allows 6 units in one order; your cart would hold 7 units." in html
    add(client, cup.variants[0], 2)
    line = db.session.scalar(select(CartLine).where(CartLine.variant_id == tea.variants[0].id))
    html = text(client.post_form(f"/cart/lines/{line.id}", {"quantity": "5"}, follow_redirects=True))
    assert "allows 6 units in one order; your cart would hold 7 units." in html
    quotas.grant_exception(employee, basket, employee, 1, "Office party")
    db.session.commit()
    client.post_form(f"/cart/lines/{line.id}", {"quantity": "5"})
    rows = db.session.execute(select(CartLine.variant_id, CartLine.quantity)).all()
    assert dict(rows) == {tea.variants[0].id: 5, cup.variants[0].id: 2}
