"""Input that once answered 500 (issue 17, point 4), each refused where it enters: ids in routes
(the ``int`` converter), integers and money in forms (``shop.forms``), page numbers
(``shop.pagination.page_arg``), NUL characters (``shop.input_checks``), a missing tags field,
dates out of range or inverted in the operators' filters. ``test_fuzz`` tries every route."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from community.models import Article, Question
from shop.accounts.models import User
from shop.catalog.models import Variant
from shop.extensions import db
from tests.conftest import login
from tests.fixtures.community import make_article, make_question

HUGE = "9223372036854775808"  # 2**63


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", [f"/orders/{HUGE}", "/orders/0", f"/community/tickets/{HUGE}", f"/orders/{HUGE}/card"])
def test_ids_beyond_64_bits_or_below_one_are_not_found(client, employee, path):
    login(client, employee)
    # 405 where the path is another method's: werkzeug matches methods before converting
    assert client.get(path).status_code in (404, 405)
    assert client.post_form(path).status_code in (404, 405)


def test_absurd_page_numbers_are_not_found_and_small_ones_are_clamped(client, employee, product):
    login(client, employee)
    for path in (f"/c/{product.category.slug}", "/search?q=tea", "/community/articles", "/community/questions"):
        joiner = "&" if "?" in path else "?"
        assert client.get(f"{path}{joiner}page=99999999999999999999").status_code == 404, path
        assert client.get(f"{path}{joiner}page=-5").status_code == 200, path


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "sNaN", "-sNaN"])
def test_non_finite_money_is_a_form_error(client, operator, product, value):
    login(client, operator)
    before = db.session.scalar(select(func.count()).select_from(Variant))
    response = client.post_form(
        f"/ops/products/{product.id}/variants/new",
        {"sku": "FUZZ-1", "name": "Fuzz", "market_price": value, "employee_price": "1", "contact_price": "1"},
    )
    assert response.status_code == 422
    assert "Enter an amount as a number, such as 12.50." in text(response)
    assert db.session.scalar(select(func.count()).select_from(Variant)) == before


def test_integers_beyond_64_bits_in_forms_are_refused(client, operator, product):
    variant = product.variants[0]
    stock = variant.stock
    login(client, operator)
    response = client.post_form(f"/ops/variants/{variant.id}/stock", {"delta": "9" * 30, "reason": "fuzz"})
    assert response.status_code == 302
    assert "Enter a whole number and a reason." in text(client.get(response.headers["Location"]))
    db.session.refresh(variant)
    assert variant.stock == stock


def test_nul_characters_are_refused_with_400_before_any_view(client, employee, product):
    response = client.post_form(
        "/signup", {"name": "Nul\x00Name", "email": "nul@neigou.example", "password": "long enough 42"}
    )
    assert response.status_code == 400
    assert "NUL character" in text(response)
    assert db.session.scalar(select(User).where(User.email == "nul@neigou.example")) is None
    login(client, employee)
    response = client.get("/search?q=a%00b")
    assert response.status_code == 400 and "NUL character" in text(response)
    assert client.get("/p/tea%00set").status_code == 400


@pytest.mark.parametrize("kind", ["article", "question"])
def test_editing_without_the_tags_field_keeps_the_tags(client, operator, kind):
    login(client, operator)
    if kind == "article":
        post = make_article(operator, "Care guide", "Wash by hand.", tags="care, tea")
        data = {"kind": post.kind.value, "title": "Care guide v2", "body_md": "Wash by hand.", "save": "Save"}
        path, model = f"/community/articles/{post.id}/edit", Article
    else:
        post = make_question(operator, "Dishwasher?", "Is it safe?", tags="care, tea")
        data = {"title": "Dishwasher safe?", "body_md": "Is it safe?", "product_id": "0"}
        path, model = f"/community/questions/{post.id}/edit", Question
    response = client.post_form(path, data, token_from=path)
    assert response.status_code == 302, text(response)
    found = db.session.get(model, post.id)
    assert found.title.endswith(("v2", "safe?")) and [t.name for t in found.tags] == ["care", "tea"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=2999-12-31", "Enter a date from 2000-01-01 to 2099-12-31."),
        ("date_from=2099-12-31", "The end date is before the start date."),
        ("date_from=0001-01-01&date_to=9999-12-31", "Enter a date from 2000-01-01 to 2099-12-31."),
        ("date_from=2026-12-02&date_to=2026-12-01", "The end date is before the start date."),
    ],
)
def test_metrics_dates_out_of_range_or_inverted(client, operator, query, message):
    login(client, operator)
    response = client.get(f"/community/ops/metrics?{query}")
    assert response.status_code == 422 and message in text(response)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/ops/payroll?month=0000-01", "Choose a month from 2000-01 to 2099-12."),
        ("/ops/payroll?month=9999-12", "Choose a month from 2000-01 to 2099-12."),
        ("/ops/orders?date_to=9999-12-31", "Enter a date from 2000-01-01 to 2099-12-31."),
        ("/ops/orders?date_from=2026-12-02&date_to=2026-12-01", "The end date is before the start date."),
    ],
)
def test_operator_filters_with_dates_out_of_range_or_inverted(client, operator, path, message):
    login(client, operator)
    response = client.get(path)
    assert response.status_code == 422 and message in text(response)
