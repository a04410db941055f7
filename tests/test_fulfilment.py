"""Fulfilment at volume: filters, the CSV export with lines, shipping a selection or an uploaded
CSV (good rows ship and mail once, bad rows reported by line, the same file twice changes
nothing), the shipment mail in the buyer's language, the packing list and the order page."""

from __future__ import annotations

import csv
import email
import email.policy
import io

import pytest
from sqlalchemy import func, select

from shop.accounts.models import Kind
from shop.audit.models import AuditEntry
from shop.extensions import db
from shop.orders.lifecycle import mark_shipped
from shop.orders.models import Order, OrderStatus
from shop.payments.payroll import pay_by_payroll
from tests.conftest import CsrfClient, login, outbox


@pytest.fixture
def ops(client, operator) -> CsrfClient:
    return login(client, operator)


def paid(buyer, variant, quantity: int = 1, *, place) -> Order:
    order = place(buyer, variant, quantity)
    pay_by_payroll(buyer, order)
    db.session.commit()
    return order


def audit_count(action: str) -> int:
    return db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == action))


def upload(ops: CsrfClient, body: str | bytes, name: str = "shipments.csv"):
    data = body.encode("utf-8-sig") if isinstance(body, str) else body
    return ops.post_form(
        "/ops/orders/shipments",
        {"shipments": (io.BytesIO(data), name)},
        token_from="/ops/orders/shipments",
        content_type="multipart/form-data",
    )


def shipment_mails(app) -> list[str]:
    return [m for m in outbox(app) if "is on its way" in m]


def test_bulk_shipping_from_a_csv_ships_good_rows_once_and_reports_bad_ones_by_line(
    app, ops, employee, make_user, make_product, place
):
    bob = make_user(name="Bob Buyer", email="bob@neigou.example")
    first = paid(employee, make_product().variants[0], place=place)
    second = paid(bob, make_product().variants[0], 2, place=place)
    unpaid = place(bob, make_product().variants[0], 1)
    body = "\n".join(
        [
            "order number,carrier,tracking",
            f"{first.number},SF Express,SF1001",
            "NG99999999,SF Express,SF1002",
            f"{unpaid.number},SF Express,SF1003",
            f"{second.number.lower()},顺丰速运,SF1004",
            "just one cell",
            f"{first.number},,",
            "",
        ]
    )
    response = upload(ops, body)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Shipped: 2 · already shipped, unchanged: 0 · not shipped: 4" in html
    assert "<td>3</td><td>No order NG99999999.</td>" in html
    assert f"<td>4</td><td>{unpaid.number}: An order that is pending payment cannot become shipped.</td>" in html
    assert "<td>6</td><td>Expected three columns" in html
    assert "<td>7</td><td>Each row needs an order number, a carrier and a tracking number." in html
    db.session.expire_all()
    assert (db.session.get(Order, first.id).status, db.session.get(Order, first.id).tracking_number) == (
        OrderStatus.shipped,
        "SF1001",
    )
    assert db.session.get(Order, second.id).carrier == "顺丰速运"
    assert db.session.get(Order, unpaid.id).status == OrderStatus.pending_payment
    mails = shipment_mails(app)
    assert len(mails) == 2 and audit_count("order.shipped") == 2
    assert any(first.number in m and employee.email in m and "SF1001" in m for m in mails)

    again = upload(ops, body).get_data(as_text=True)  # the same file a second time
    assert "Shipped: 0 · already shipped, unchanged: 2 · not shipped: 4" in again
    assert len(shipment_mails(app)) == 2 and audit_count("order.shipped") == 2
    uploads = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "orders.shipments_uploaded").order_by(AuditEntry.id)
    ).all()
    assert [(u.after["shipped"], u.after["unchanged"], u.after["problems"]) for u in uploads] == [(2, 0, 4), (0, 2, 4)]
    assert len({u.after["sha256"] for u in uploads}) == 1
    assert {(u.entity_type, u.entity_id, u.actor_id) for u in uploads} == {
        ("User", uploads[0].actor_id, uploads[0].actor_id)
    }
    assert uploads[0].actor_id is not None  # the operator who uploaded it, a person to search by

    moved = upload(ops, f"{first.number},EMS,EMS1\n").get_data(as_text=True)  # another tracking number
    assert "was already shipped with SF Express SF1001" in moved
    db.session.expire_all()
    assert db.session.get(Order, first.id).tracking_number == "SF1001"


def test_a_file_that_is_neither_utf8_nor_gbk_is_refused_whole(ops, employee, product, place):
    order = paid(employee, product.variants[0], place=place)
    response = upload(ops, f"{order.number},Café,SF1\n".encode("latin-1"))
    assert response.status_code == 422 and "neither UTF-8 nor GB18030 (GBK)" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.paid


def test_a_shipments_file_saved_as_gbk_is_read(ops, employee, product, place):
    order = paid(employee, product.variants[0], place=place)
    response = upload(ops, f"{order.number},顺丰速运,SF1\n".encode("gbk"))
    assert response.status_code == 200
    db.session.expire_all()
    shipped = db.session.get(Order, order.id)
    assert (shipped.status, shipped.carrier, shipped.tracking_number) == (OrderStatus.shipped, "顺丰速运", "SF1")


def test_shipping_a_selection_with_tracking_numbers(app, ops, employee, make_product, place):
    one = paid(employee, make_product().variants[0], place=place)
    two = paid(employee, make_product().variants[0], place=place)
    three = paid(employee, make_product().variants[0], place=place)
    data = {
        "order_id": [str(one.id), str(two.id), str(three.id)],
        "carrier": "JD Logistics",
        f"tracking_{one.id}": "JD1",
        f"tracking_{two.id}": "JD2",
        f"tracking_{three.id}": " ",
    }
    html = ops.post_form("/ops/orders/ship", data, token_from="/ops/orders", follow_redirects=True).get_data(
        as_text=True
    )
    assert f"Shipped 2 orders: {one.number}, {two.number}." in html
    assert f"{three.number}: enter its tracking number." in html
    db.session.expire_all()
    assert [db.session.get(Order, o.id).status for o in (one, two, three)] == [
        OrderStatus.shipped,
        OrderStatus.shipped,
        OrderStatus.paid,
    ]
    assert len(shipment_mails(app)) == 2


def test_the_shipment_mail_is_in_the_buyers_language(app, ops, make_user, product, place):
    chinese = make_user(name="王芳", email="wang@neigou.example", locale="zh_CN")
    order = paid(chinese, product.variants[0], place=place)
    mark_shipped(None, order, "顺丰速运", "SF42")
    db.session.commit()
    [raw] = outbox(app)
    message = email.message_from_string(raw, policy=email.policy.default)
    assert message["Subject"] == f"你的订单 {order.number} 已发货"
    mail = message.get_content()
    assert "王芳，你好" in mail and "顺丰速运" in mail and "SF42" in mail
    # Prices are written the Chinese way (no "CN" before the yuan sign).
    assert "（¥70.00）" in mail and "CN¥" not in mail


def test_filters_and_the_csv_export_with_lines(ops, employee, make_user, make_product, place):
    contact = make_user(
        name="Cora Contact", kind=Kind.contact, level=1, referrer_id=employee.id, root_employee_id=employee.id
    )
    by_payroll = paid(employee, make_product(name="Green Tea").variants[0], 2, place=place)
    by_contact = place(contact, make_product(name='=HYPERLINK("x")').variants[0], 1)
    html = ops.get("/ops/orders?payment_method=payroll").get_data(as_text=True)
    assert f'href="/ops/orders/{by_payroll.id}"' in html and f'href="/ops/orders/{by_contact.id}"' not in html
    html = ops.get("/ops/orders?buyer_level=1").get_data(as_text=True)
    assert f'href="/ops/orders/{by_contact.id}"' in html and f'href="/ops/orders/{by_payroll.id}"' not in html
    html = ops.get("/ops/orders?festival=none").get_data(as_text=True)
    assert f'href="/ops/orders/{by_payroll.id}"' in html
    assert ops.get("/ops/orders?festival=12345").status_code == 422

    response = ops.get("/ops/orders.csv?buyer_level=")
    assert response.mimetype == "text/csv" and response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert {row["order_number"] for row in rows} == {by_payroll.number, by_contact.number}
    tea = next(row for row in rows if row["order_number"] == by_payroll.number)
    assert (tea["product"], tea["quantity"], tea["unit_price"], tea["line_total"], tea["payment_method"]) == (
        "Green Tea",
        "2",
        "70.00",
        "140.00",
        "payroll",
    )
    formula = next(row for row in rows if row["order_number"] == by_contact.number)
    assert formula["product"].startswith("'=")  # a name is never run as a spreadsheet formula
    only_l1 = ops.get("/ops/orders.csv?buyer_level=1").data.decode("utf-8-sig")
    assert by_contact.number in only_l1 and by_payroll.number not in only_l1


def test_the_packing_list_and_the_order_page(ops, employee, make_product, place):
    one = paid(employee, make_product(name="Kettle").variants[0], 3, place=place)
    two = paid(employee, make_product(name="Teapot").variants[0], 1, place=place)
    html = ops.get(f"/ops/orders/packing-list?order_id={one.id}&order_id={two.id}").get_data(as_text=True)
    assert html.count('class="packing"') == 2 and "Kettle" in html and "Teapot" in html
    assert one.ship_to in html
    assert ops.get("/ops/orders/packing-list", follow_redirects=True).status_code == 200

    mark_shipped(None, one, "SF", "SF7")
    db.session.commit()
    html = ops.get(f"/ops/orders/{one.id}").get_data(as_text=True)
    assert "CN¥70.00" in html and "CN¥210.00" in html  # the line's unit price and total
    assert "Payroll deduction" in html and "SF7" in html
    assert html.index("order.place") < html.index("order.paid") < html.index("order.shipped")


def test_the_order_list_still_caps_and_says_so(ops, employee, product, place, monkeypatch):
    from shop.ops import fulfilment

    monkeypatch.setattr(fulfilment, "LIST_LIMIT", 1)
    paid(employee, product.variants[0], place=place)
    paid(employee, product.variants[0], place=place)
    html = ops.get("/ops/orders").get_data(as_text=True)
    assert "Showing the newest 1 orders" in html
