"""The audit log people can read: filters (who, subject, action, dates), pagination, names
instead of ids, money in the currency, before/after as a list of changed fields (never raw
JSON or escapes), and the CSV export of a filtered range."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime

import pytest

from shop.accounts import services
from shop.accounts.models import Role
from shop.admin import audit as audit_views
from shop.audit.models import AuditEntry
from shop.audit.services import record
from shop.extensions import db
from shop.orders.lifecycle import mark_shipped
from shop.payments.payroll import pay_by_payroll
from tests.conftest import login


def page_text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def no_raw_json(body: str) -> None:
    main = body[body.index("<main>") : body.index("</main>")]
    assert "\\u" not in main
    assert not re.search(r"\{\s*&#34;|\{\s*&quot;|\{\s*\"", main), "JSON object in the page"
    assert "&#34;:" not in main and '":' not in main


@pytest.fixture
def history(admin, operator, employee, make_user, product, place):
    """A few entries by two people about people, an order (with money) and Chinese text."""
    wang = make_user(name="王芳", email="wang.fang@neigou.example")
    services.set_role(admin, wang, Role.sales)
    services.deactivate(admin, wang, "离职 (left the company)")
    order = place(employee, product.variants[0], 2)
    pay_by_payroll(employee, order)
    mark_shipped(operator, order, "顺丰速运", "SF123")
    db.session.commit()
    return {"wang": wang, "order": order}


def test_the_audit_log_reads_as_sentences_not_json(client, admin, operator, employee, history):
    login(client, admin)
    body = page_text(client, "/admin/audit")
    no_raw_json(body)
    text = html.unescape(body)
    order = history["order"]
    assert f"Order {order.number}" in text and "王芳 <wang.fang@neigou.example> (User)" in text
    assert "Olga Operator <olga@neigou.example>" in text and "Adam Admin" in text
    assert "<li>carrier: 顺丰速运</li>" in body and "<li>status: <del>paid</del> → shipped</li>" in body
    assert "<li>status: <del>pending payment</del> → paid</li>" in body
    assert "CN¥140.00" in text  # the paid amount in the currency, not 14000
    assert "Reason: 离职 (left the company)" in text
    assert "User #" not in text


def test_filters_by_actor_subject_action_and_date(client, admin, operator, employee, history):
    login(client, admin)
    order, wang = history["order"], history["wang"]

    def actions(query: str) -> list[str]:
        body = page_text(client, f"/admin/audit?{query}")
        return re.findall(r"<code>([a-z_.]+)</code>", body)

    assert set(actions("actor=olga")) == {"order.shipped"}
    assert set(actions("actor=ADAM")) == {"user.role", "user.deactivate"}
    assert set(actions(f"subject={order.number}")) >= {"order.place", "order.paid", "order.shipped"}
    assert set(actions(f"subject={wang.email}")) == {"user.role", "user.deactivate"}
    assert set(actions(f"subject=User %23{wang.id}")) == {"user.role", "user.deactivate"}
    assert set(actions("subject_type=Order&action=order.sh")) == {"order.shipped"}
    assert actions("date_to=2020-01-01") == []
    assert "user.role" in actions("date_from=2020-01-01")
    assert client.get("/admin/audit?date_from=2026-02-30").status_code == 422
    assert client.get("/admin/audit?subject_type=Nonsense").status_code == 422
    assert actions("subject=nothing-like-this") == []


def test_pages_of_entries_and_the_csv_of_a_filtered_range(client, admin, monkeypatch):
    monkeypatch.setattr(audit_views, "PER_PAGE", 3)
    for n in range(7):
        entry = record("stock.adjust", admin, actor=admin, before={"stock": n}, after={"stock": n + 1})
        entry.at = datetime(2026, 11, 1 + n, 4, tzinfo=UTC)
    db.session.commit()
    login(client, admin)
    first = page_text(client, "/admin/audit?action=stock.")
    assert "Page 1 of 3" in first and "stock: <del>6</del> → 7" in first and "stock: <del>3</del> → 4" not in first
    assert 'href="/admin/audit?page=2&amp;action=stock."' in first
    third = page_text(client, "/admin/audit?action=stock.&page=3")
    assert "Page 3 of 3" in third and "stock: <del>0</del> → 1" in third and "stock: <del>1</del>" not in third
    assert "No entries match." in page_text(client, "/admin/audit?action=stock.&page=999")

    response = client.get("/admin/audit.csv?action=stock.&date_from=2026-11-03&date_to=2026-11-05")
    assert response.mimetype == "text/csv" and response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [row["changes"] for row in rows] == ["stock: 4 → 5", "stock: 3 → 4", "stock: 2 → 3"]
    assert {row["actor"] for row in rows} == {"Adam Admin <adam@neigou.example>"}
    # Times a spreadsheet sorts: to the second, in the viewer's zone (04:00 UTC is 12:00 in Shanghai)
    assert [row["at"] for row in rows] == ["2026-11-05 12:00:00", "2026-11-04 12:00:00", "2026-11-03 12:00:00"]
    assert client.get("/admin/audit.csv?date_from=nope").status_code == 422


def test_an_export_longer_than_its_limit_says_it_holds_the_latest(client, admin, monkeypatch):
    monkeypatch.setattr(audit_views, "EXPORT_LIMIT", 3)
    for n in range(4):
        record("stock.adjust", admin, actor=admin, before={"stock": n}, after={"stock": n + 1})
    db.session.commit()
    login(client, admin)
    assert "(the latest 3 of them: narrow the dates for the others)" in page_text(client, "/admin/audit?action=stock.")
    rows = list(csv.DictReader(io.StringIO(client.get("/admin/audit.csv?action=stock.").data.decode("utf-8-sig"))))
    assert [row["changes"] for row in rows] == ["stock: 3 → 4", "stock: 2 → 3", "stock: 1 → 2"]
    assert "the latest" not in page_text(client, "/admin/audit?action=stock.&date_to=2020-01-01")


def test_the_order_page_history_is_readable_too(client, operator, history):
    login(client, operator)
    body = page_text(client, f"/ops/orders/{history['order'].id}")
    history_part = body[body.index('<ol class="audit">') :]
    no_raw_json("<main>" + history_part)
    assert "<li>tracking number: SF123</li>" in history_part


def test_values_of_every_shape_are_written_out(app):
    from shop.audit.readable import changes

    entry = AuditEntry(
        action="x.y",
        entity_type="Thing",
        before={"limit": 100, "measure": "amount", "active": True, "tags": ["a", "b"]},
        after={"limit": 250, "measure": "amount", "active": False, "tags": [], "nested": {"amount": 5, "name": "茶"}},
    )
    with app.test_request_context():
        found = {c.field: (c.before, c.after) for c in changes(entry, "CNY")}
    assert found["limit"] == ("CN¥1.00", "CN¥2.50")
    assert found["active"] == ("yes", "no")
    assert found["tags"] == ("a, b", "—")
    assert found["nested"] == ("—", "amount: CN¥0.05; name: 茶")
    assert "measure" not in found


def test_the_entries_of_no_one_are_found_by_the_word_they_show(client, admin, operator, history):
    """Found playing an operator's day: entries without an actor read "system" (系统 in
    Chinese), and searching the actor for that word found nothing."""
    record("order.expire", history["order"], actor=None, before={"status": "paid"}, after={"status": "x"})
    db.session.commit()
    login(client, admin)

    def actions(query: str) -> set[str]:
        return set(re.findall(r"<code>([a-z_.]+)</code>", page_text(client, f"/admin/audit?{query}")))

    assert "order.expire" in actions("actor=System") and "order.shipped" not in actions("actor=system")
    assert "order.expire" not in actions("actor=olga")
