"""Chinese that reads as Chinese beyond the words: a chain level as 一级/二级, a label's colon and
parentheses full width, a count of sign-ups not a date, units counted in 件, and the words
for what is on sale or in force (not 在职, which is said of staff)."""

from __future__ import annotations

import re

from shop.extensions import db
from shop.quotas import services as quotas
from shop.quotas.models import Measure, Scope, Target, Window
from tests.conftest import login


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _in_chinese(*users) -> None:
    for user in users:
        user.preferred_locale = "zh_CN"
    db.session.commit()


def test_the_network_names_levels_and_counts_in_chinese(client, employee, make_contact):
    friend = make_contact(employee, name="Lily")
    make_contact(friend, name="Tom")
    _in_chinese(employee)
    login(client, employee)
    page = _text(client.get("/network"))
    assert "一级" in page and "二级" in page and " L1 " not in page and " L2 " not in page
    assert "注册：" in page and "加入时间" not in page  # sign-ups are a count here
    assert "你（自购订单）" in page.replace(" ", "")
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page)  # the funnel's period as the locale writes days
    member = _text(client.get(f"/network/{friend.id}")).replace(" ", "")
    assert re.search(r"↳Tom（二级，\d{4}年\d{1,2}月\d{1,2}日加入）", member)


def test_the_cart_total_and_a_units_rule_read_in_chinese(client, employee, product, operator):
    quotas.create_rule(
        operator,
        scope=Scope.buyer,
        target=Target.all,
        window=Window.order,
        measure=Measure.units,
        limit_value=2,
        per_sku=True,
    )
    db.session.commit()
    _in_chinese(employee)
    login(client, employee)
    token = client.csrf_token(f"/p/{product.slug}")
    client.post("/cart/add", data={"variant_id": product.variants[0].id, "quantity": 3, "csrf_token": token})
    page = _text(client.get("/cart/"))
    assert "每位买家每笔订单，每款商品限购 2 件" in page  # the rule's sentence
    assert "最多 2 件" in page and "将有 3 件" in page  # the refusal counts in 件


def test_on_sale_and_in_force_are_not_said_of_staff(client, operator, product):
    _in_chinese(operator)
    login(client, operator)
    assert "在售" in _text(client.get("/ops/products")) and "在职" not in _text(client.get("/ops/products/new"))
    assert "生效" in _text(client.get("/ops/quotas"))


def test_a_page_read_in_chinese_then_in_english_says_each_in_its_own(
    client, operator, employee, make_contact, place, product
):
    """The words of a template are looked up on each request, never kept from the first one
    that compiled it (a filter of a constant would be: Jinja folds those once)."""
    friend = make_contact(employee, name="Lily")
    order = place(make_contact(friend, name="Tom"), product.variants[0], 1)
    _in_chinese(operator)
    login(client, operator)
    assert "一级：Lily" in _text(client.get(f"/ops/orders/{order.id}")).replace(" ", "")
    operator.preferred_locale = "en"
    db.session.commit()
    assert "L1: Lily" in _text(client.get(f"/ops/orders/{order.id}"))


def test_one_unit_is_one_unit(app, operator):
    """English counts in the singular for one (found: "At most 1 units", "Shipped 1 orders")."""
    from flask_babel import force_locale

    rule = quotas.create_rule(
        operator, scope=Scope.buyer, target=Target.all, window=Window.order, measure=Measure.units, limit_value=1
    )
    with app.test_request_context(), force_locale("en"):
        assert quotas.describe(rule).startswith("At most 1 unit of ")
    rule.limit_value = 3
    with app.test_request_context(), force_locale("en"):
        assert quotas.describe(rule).startswith("At most 3 units of ")
