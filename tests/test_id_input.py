"""Ids typed in a query string, a form or an uploaded file, read by ``shop.input_checks.parse_id``:
ASCII digits within the database's integer range, else no id (404, a form error or "no match"),
never a 500. '²' and '¹' pass ``str.isdigit()`` but not ``int()``; '１' and '٣' pass both and
would read as another order's id; 20 digits overflow SQLite, 2**31 a PostgreSQL integer. Also the
filters whose " " once reached ``int()`` or an Enum, and months with other digits or a newline."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from community.models import SelfServiceResolution
from shop.accounts import services
from shop.accounts.models import Role
from shop.extensions import db
from shop.input_checks import MAX_ID, parse_id
from shop.orders.models import Order, OrderStatus
from shop.payments.payroll import parse_month, pay_by_payroll
from tests.conftest import login
from tests.fixtures.community import make_article, make_question

TWENTY_DIGITS = "99999999999999999999"
NOT_IDS = [
    "²",
    "¹",
    "³",
    "１",
    "٣",
    TWENTY_DIGITS,
    str(MAX_ID + 1),
    "0",
    "00",
    "-1",
    "+1",
    " 1",
    "1 ",
    "1_0",
    "",
    "1" * 5000,
]


def text(response) -> str:
    return response.get_data(as_text=True)


def test_parse_id_reads_ascii_digits_within_the_integer_range_only():
    assert [parse_id(value) for value in NOT_IDS] == [None] * len(NOT_IDS)
    assert parse_id(None) is None
    assert (parse_id("1"), parse_id("00000042"), parse_id(str(MAX_ID))) == (1, 42, 2_147_483_647)
    assert parse_id("0" * 5000 + "7") == 7


@pytest.fixture
def paid_order(employee, product, place) -> Order:
    order = place(employee, product.variants[0], 1)
    pay_by_payroll(employee, order)
    db.session.commit()
    return order


# ---- the community's "this answered it" ---------------------------------------------------------


@pytest.mark.parametrize("number", ["²", "¹", "１", TWENTY_DIGITS, str(MAX_ID + 1), ""])
@pytest.mark.parametrize("kind", ["article", "question"])
def test_answered_by_something_that_is_no_id_is_not_found(client, operator, employee, kind, number):
    make_article(operator, "Payroll deduction for friends")
    make_question(operator, "Can a friend pay by payroll?")
    login(client, employee)
    response = client.post_form(
        "/community/ask", {"title": "payroll", "answered_by": f"{kind}:{number}"}, token_from="/community/ask"
    )
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(SelfServiceResolution)) == 0


@pytest.mark.parametrize("product", ["²", "١", TWENTY_DIGITS])
def test_the_ask_page_with_a_product_that_is_no_id(client, employee, product):
    login(client, employee)
    assert client.get(f"/community/ask?product={product}").status_code == 200


# ---- shipping a selection, the packing list, the shipments file --------------------------------


@pytest.mark.parametrize("bad", ["²", "１", TWENTY_DIGITS])
def test_shipping_a_selection_leaves_out_what_is_no_id(client, operator, paid_order, bad):
    login(client, operator)
    alone = client.post_form(
        "/ops/orders/ship", {"order_id": bad, "carrier": "SF", f"tracking_{bad}": "SF1"}, token_from="/ops/orders"
    )
    assert alone.status_code == 302
    assert "Tick the orders to ship and enter the carrier." in text(client.get(alone.headers["Location"]))
    assert db.session.get(Order, paid_order.id).status == OrderStatus.paid

    data = {"order_id": [bad, str(paid_order.id)], "carrier": "SF", f"tracking_{paid_order.id}": "SF2"}
    mixed = client.post_form("/ops/orders/ship", data, token_from="/ops/orders", follow_redirects=True)
    assert mixed.status_code == 200 and f"Shipped 1 order: {paid_order.number}." in text(mixed)
    db.session.expire_all()
    assert db.session.get(Order, paid_order.id).status == OrderStatus.shipped


@pytest.mark.parametrize("bad", ["²", "１", TWENTY_DIGITS])
def test_the_packing_list_leaves_out_what_is_no_id(client, operator, paid_order, bad):
    login(client, operator)
    alone = client.get(f"/ops/orders/packing-list?order_id={bad}")
    assert alone.status_code == 302
    assert "Tick the orders for the packing list." in text(client.get(alone.headers["Location"]))
    mixed = client.get(f"/ops/orders/packing-list?order_id={bad}&order_id={paid_order.id}")
    assert mixed.status_code == 200 and text(mixed).count('class="packing"') == 1


def test_a_shipments_file_reports_numbers_that_are_no_id_as_bad_rows(client, operator, paid_order):
    login(client, operator)
    numbers = ["NG²", "²", "NG１", f"NG{TWENTY_DIGITS}", TWENTY_DIGITS, f"NG{MAX_ID + 1}"]
    body = "\n".join([f"{number},SF,123" for number in numbers] + [f"{paid_order.number},SF,124", ""])
    response = client.post_form(
        "/ops/orders/shipments",
        {"shipments": (io.BytesIO(body.encode("utf-8")), "shipments.csv")},
        token_from="/ops/orders/shipments",
        content_type="multipart/form-data",
    )
    page = text(response)
    assert response.status_code == 200
    assert "Shipped: 1 · already shipped, unchanged: 0 · not shipped: 6" in page
    for line, number in enumerate(numbers, start=1):
        assert f"<td>{line}</td><td>No order {number}.</td>" in page
    db.session.expire_all()
    assert db.session.get(Order, paid_order.id).tracking_number == "124"


# ---- the audit log -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    ["NG²", "Order #²", "#³", "NG１", "Order #１", f"NG{TWENTY_DIGITS}", f"Order #{TWENTY_DIGITS}", f"#{MAX_ID + 1}"],
)
def test_audit_subjects_that_are_no_id_match_nothing(client, admin, paid_order, subject):
    login(client, admin)
    response = client.get("/admin/audit", query_string={"subject": subject})
    assert response.status_code == 200 and "0 entries" in text(response)
    export = client.get("/admin/audit.csv", query_string={"subject": subject})
    assert export.status_code == 200
    assert len(list(csv.reader(io.StringIO(export.data.decode("utf-8-sig"))))) == 1  # the header only


def test_audit_subjects_still_find_orders_people_and_ids(client, admin, paid_order, make_user):
    ngozi = make_user(name="Ngozi", email="ngozi@neigou.example")  # an e-mail that starts like an order number
    services.set_role(admin, ngozi, Role.sales)
    db.session.commit()
    login(client, admin)
    for subject in (paid_order.number, paid_order.number.lower(), f"Order #{paid_order.id}", f"#{paid_order.id}"):
        page = text(client.get("/admin/audit", query_string={"subject": subject}))
        assert "order.paid" in page, subject
        assert "user.role" not in page or subject.startswith("#"), subject  # a bare id is of any kind
    page = text(client.get("/admin/audit", query_string={"subject": ngozi.email}))
    assert "user.role" in page and "order.paid" not in page


@pytest.mark.parametrize(("page", "status"), [("²", 200), ("١", 200), ("-3", 200), (TWENTY_DIGITS, 404)])
def test_audit_page_numbers_read_as_on_every_list(client, admin, page, status):
    login(client, admin)
    assert client.get(f"/admin/audit?page={page}").status_code == status


# ---- filters whose blank once reached int() or an Enum -------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "/ops/orders?festival=%20",
        "/ops/orders?festival=%C2%B2",
        "/ops/orders?festival=" + TWENTY_DIGITS,
        "/ops/orders?buyer_level=%20",
        "/ops/orders?status=%20",
        "/ops/orders?payment_method=%20",
        "/ops/orders.csv?buyer_level=%20",
        "/ops/orders.csv?festival=%C2%B2",
        "/ops/kpis?festival=%20",
        "/ops/kpis?festival=%C2%B2",
        "/ops/kpis?department=%20",
        "/ops/kpis?department=" + TWENTY_DIGITS,
        "/ops/kpis?product=%20",
        "/ops/kpis?product=%C2%B2",
        "/ops/kpis?level=%20",
        "/ops/payroll?month=2026-01%0A",
        "/ops/payroll?month=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96-01",  # ２０２６-01
        "/ops/payroll?month=%C2%B2026-01",
    ],
)
def test_filters_refuse_what_is_not_one_of_their_choices(client, operator, query):
    login(client, operator)
    assert client.get(query).status_code == 422


def test_parse_month_reads_ascii_digits_only():
    assert parse_month("2026-11").isoformat() == "2026-11-01"
    for text_ in ("２０２６-11", "2026-1²", "2026-01\n", "2026-1"):
        with pytest.raises(ValueError):
            parse_month(text_)
