"""Refunds through the operator's form and the service: full and partial, by line or amount,
stock given back only when the goods came back, never more than was paid, audited, mailed.
Card refunds against a real fake Stripe are in test_refunds_card.py."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from shop.accounts.models import Kind
from shop.audit.models import AuditEntry
from shop.catalog.models import Variant
from shop.company_calendar import month_bounds
from shop.database import utcnow
from shop.extensions import db
from shop.orders.lifecycle import mark_shipped
from shop.orders.models import Order, OrderLine, OrderStatus, PaymentMethod
from shop.payments.payroll import pay_by_payroll, payroll_used
from shop.refunds import services as refunds
from shop.refunds.models import Refund, RefundStatus
from tests.conftest import CsrfClient, login, outbox


def paid_through_intent(order: Order, payment_intent_id: str) -> None:
    """Record that ``order`` was paid by card through this PaymentIntent."""
    from shop.payments.models import CardPayment

    db.session.add(
        CardPayment(
            order_id=order.id,
            payment_intent_id=payment_intent_id,
            amount=order.total_amount,
            currency=order.currency,
            status="succeeded",
        )
    )


def intent_of(order: Order) -> str:
    from shop.payments.models import CardPayment

    return db.session.scalar(select(CardPayment.payment_intent_id).where(CardPayment.order_id == order.id))


@pytest.fixture
def ops(client, operator) -> CsrfClient:
    return login(client, operator)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def stock_of(variant_id: int) -> int:
    return db.session.scalar(select(Variant.stock).where(Variant.id == variant_id))


@pytest.fixture
def paid_order(employee, make_product, place):
    """Erin's payroll order: 2 x 70.00 of one item and 1 x 50.00 of another (190.00)."""
    tea = make_product(name="Tea Set", employee_price=7_000).variants[0]
    cup = make_product(name="Cup", employee_price=5_000).variants[0]
    from shop.cart.services import add_to_cart

    add_to_cart(employee, tea.id, 2)
    order = place(employee, cup, 1)
    pay_by_payroll(employee, order)
    db.session.commit()
    assert order.total_amount == 19_000
    return order


def lines_of(order: Order) -> dict[str, OrderLine]:
    return {line.product_name: line for line in order.lines}


def refund_form(order: Order, **fields) -> dict:
    data = {f"line_{line.id}": "" for line in order.lines}
    data.update({"reason": "Arrived broken", **fields})
    return data


# ---- the operator's form -------------------------------------------------------------------------


def test_a_full_payroll_refund_with_the_goods_back(app, ops, client, employee, paid_order):
    tea, cup = lines_of(paid_order)["Tea Set"], lines_of(paid_order)["Cup"]
    stock_before = {tea.variant_id: stock_of(tea.variant_id), cup.variant_id: stock_of(cup.variant_id)}
    month = month_bounds(utcnow())
    assert payroll_used(employee, *month) == 19_000

    response = ops.post_form(
        f"/ops/orders/{paid_order.id}/refund",
        refund_form(paid_order, full="y", restock="y", reason="Wrong size"),
        follow_redirects=True,
    )
    page = text(response)
    assert response.status_code == 200 and "Refunded CN¥190.00." in page

    db.session.refresh(paid_order)
    assert paid_order.status == OrderStatus.refunded and paid_order.refunded_amount == 19_000
    assert {line.product_name: line.refunded_quantity for line in paid_order.lines} == {"Tea Set": 2, "Cup": 1}
    assert stock_of(tea.variant_id) == stock_before[tea.variant_id] + 2
    assert stock_of(cup.variant_id) == stock_before[cup.variant_id] + 1
    assert payroll_used(employee, *month) == 0  # the payroll cap is free again

    made = db.session.scalar(select(Refund))
    assert (made.amount, made.method, made.status, made.restock, made.reason) == (
        19_000,
        PaymentMethod.payroll,
        RefundStatus.succeeded,
        True,
        "Wrong size",
    )
    assert made.quantities == {tea.id: 2, cup.id: 1} and made.payroll_settlement_id is None
    [entry] = audit("order.refund")
    assert entry.entity_id == paid_order.id and entry.reason == "Wrong size"
    assert (
        entry.after["status"] == "refunded" and entry.after["amount"] == 19_000 and entry.before == {"status": "paid"}
    )
    assert "order.refund" in page  # the order's history

    [mail] = outbox(app)
    assert f"To: {employee.email}" in mail and f"Refund on order {paid_order.number}" in mail
    assert "CN=C2=A5190.00" in mail or "CN¥190.00" in mail
    assert "next payroll settlement" in mail and "Wrong size" in mail

    login(client, employee)
    buyer_page = text(client.get(f"/orders/{paid_order.id}"))
    assert (
        "Refunds" in buyer_page
        and "Wrong size" in buyer_page
        and "to be credited in the next payroll export" in buyer_page
    )
    assert "refunded" in buyer_page


def test_partial_refunds_by_line_then_by_amount_until_nothing_is_left(ops, paid_order):
    tea = lines_of(paid_order)["Tea Set"]
    tea_stock = stock_of(tea.variant_id)

    ops.post_form(f"/ops/orders/{paid_order.id}/refund", refund_form(paid_order, **{f"line_{tea.id}": "1"}))
    db.session.refresh(paid_order)
    assert paid_order.status == OrderStatus.partially_refunded and paid_order.refunded_amount == 7_000
    assert lines_of(paid_order)["Tea Set"].refunded_quantity == 1
    assert stock_of(tea.variant_id) == tea_stock  # the goods did not come back

    page = text(ops.get(f"/ops/orders/{paid_order.id}"))
    assert "CN¥120.00 can still be refunded" in page and "1 of 2 left to refund" in page

    ops.post_form(f"/ops/orders/{paid_order.id}/refund", refund_form(paid_order, amount="20.50", reason="Late"))
    db.session.refresh(paid_order)
    assert paid_order.status == OrderStatus.partially_refunded and paid_order.refunded_amount == 9_050

    ops.post_form(f"/ops/orders/{paid_order.id}/refund", refund_form(paid_order, full="y", reason="Gave up"))
    db.session.refresh(paid_order)
    assert paid_order.status == OrderStatus.refunded and paid_order.refunded_amount == 19_000
    assert [r.amount for r in db.session.scalars(select(Refund).order_by(Refund.id))] == [7_000, 2_050, 9_950]
    assert "can still be refunded" not in text(ops.get(f"/ops/orders/{paid_order.id}"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reason": ""}, "Give a reason for the refund."),
        ({}, "Choose the items to refund, enter an amount, or refund everything."),
        ({"amount": "0"}, "Enter an amount above zero."),
        ({"amount": "-5"}, "Enter an amount from 0 to 10,000,000."),
        ({"amount": "1.234"}, "Use at most 2 decimals."),
        ({"amount": "abc"}, "Not a valid decimal value."),
        ({"line_TEA": "3"}, "From 0 to 2."),
        ({"line_TEA": "-1"}, "From 0 to 2."),
        ({"amount": "190.01"}, "At most CN¥190.00 can still be refunded on this order."),
        ({"restock": "y", "amount": "10"}, "Choose the items that came back to put them back in stock."),
        # One tea set (70.00) with more money than it cost: the rest would be another item's worth.
        ({"line_TEA": "1", "amount": "70.01"}, "The items chosen cost CN¥70.00: a refund of them is at most that."),
    ],
)
def test_bad_refund_input_is_422_with_a_message_and_changes_nothing(app, ops, paid_order, fields, message):
    tea = lines_of(paid_order)["Tea Set"]
    fields = {(f"line_{tea.id}" if k == "line_TEA" else k): v for k, v in fields.items()}
    response = ops.post_form(f"/ops/orders/{paid_order.id}/refund", refund_form(paid_order, **fields))
    assert response.status_code == 422
    assert message in text(response)
    db.session.refresh(paid_order)
    assert paid_order.status == OrderStatus.paid and paid_order.refunded_amount == 0
    assert db.session.scalar(select(func.count(Refund.id))) == 0 and audit("order.refund") == []
    assert outbox(app) == []


def test_an_unpaid_order_cannot_be_refunded(ops, employee, product, place):
    pending = place(employee, product.variants[0], 1)
    assert "Only paid orders can be refunded." in text(ops.get(f"/ops/orders/{pending.id}"))
    response = ops.post_form(f"/ops/orders/{pending.id}/refund", refund_form(pending, full="y"))
    assert response.status_code == 422
    assert "Only paid orders can be refunded; this one is pending payment." in text(response)
    assert db.session.scalar(select(func.count(Refund.id))) == 0


def test_only_operators_refund(client, make_user, employee, paid_order):
    contact = make_user(kind=Kind.contact, level=1, root_employee_id=employee.id, referrer_id=employee.id)
    for user in (employee, contact):
        login(client, user)
        response = client.post_form(f"/ops/orders/{paid_order.id}/refund", refund_form(paid_order, full="y"))
        assert response.status_code == 403
    assert client.post_form("/ops/orders/999999/refund", refund_form(paid_order, full="y")).status_code == 403
    db.session.refresh(paid_order)
    assert paid_order.refunded_amount == 0


def test_an_unknown_order_is_404(ops, paid_order):
    assert ops.post_form("/ops/orders/999999/refund", refund_form(paid_order, full="y")).status_code == 404


# ---- the state machine -------------------------------------------------------------------------


def test_shipped_and_completed_orders_can_be_refunded_when_goods_come_back(ops, operator, paid_order):
    mark_shipped(operator, paid_order, "SF", "SF1")
    db.session.commit()
    tea = lines_of(paid_order)["Tea Set"]
    ops.post_form(f"/ops/orders/{paid_order.id}/refund", refund_form(paid_order, **{f"line_{tea.id}": "1"}))
    db.session.refresh(paid_order)
    assert paid_order.status == OrderStatus.partially_refunded
    # Already on its way: it cannot be shipped again, but it can be completed, then refunded again.
    assert not paid_order.can_become(OrderStatus.shipped) and paid_order.can_become(OrderStatus.completed)
    page = text(
        ops.post_form(
            f"/ops/orders/{paid_order.id}/ship", {"carrier": "EMS", "tracking_number": "2"}, follow_redirects=True
        )
    )
    assert "An order that is partially refunded cannot become shipped." in page
    ops.post_form(f"/ops/orders/{paid_order.id}/complete")
    db.session.refresh(paid_order)
    assert paid_order.status == OrderStatus.completed and paid_order.carrier == "SF"
    [completed] = audit("order.completed")
    assert completed.before == {"status": "partially_refunded"}

    ops.post_form(f"/ops/orders/{paid_order.id}/refund", refund_form(paid_order, full="y"))
    db.session.refresh(paid_order)
    assert paid_order.status == OrderStatus.refunded
    assert not any(paid_order.can_become(s) for s in OrderStatus)


def test_a_partly_refunded_order_not_yet_shipped_is_still_shipped(ops, operator, paid_order):
    ops.post_form(f"/ops/orders/{paid_order.id}/refund", refund_form(paid_order, amount="10"))
    assert "Mark shipped" in text(ops.get(f"/ops/orders/{paid_order.id}"))
    ops.post_form(f"/ops/orders/{paid_order.id}/ship", {"carrier": "SF", "tracking_number": "SF9"})
    db.session.refresh(paid_order)
    assert paid_order.status == OrderStatus.shipped and paid_order.refunded_amount == 1_000


# ---- the service and the database ----------------------------------------------------------------


def test_the_service_refuses_lines_of_other_orders_and_over_refunds(operator, paid_order, employee, product, place):
    tea = lines_of(paid_order)["Tea Set"]
    refunds.refund_order(operator, paid_order, reason="damaged", quantities={tea.id: 1}, amount=3_500)  # less: fine
    db.session.rollback()
    other = place(employee, product.variants[0], 1)
    with pytest.raises(refunds.RefundError, match="not part of this order"):
        refunds.refund_order(operator, paid_order, reason="x", quantities={other.lines[0].id: 1})
    db.session.rollback()
    with pytest.raises(refunds.RefundError, match="Give a reason"):
        refunds.refund_order(operator, paid_order, reason="   ", amount=100)
    db.session.rollback()
    refunds.refund_order(operator, paid_order, reason="first", amount=18_000)
    db.session.commit()
    with pytest.raises(refunds.RefundError, match="At most CN¥10.00"):
        refunds.refund_order(operator, paid_order, reason="second", amount=1_001)


def test_a_card_order_without_a_payment_intent_is_not_refunded(operator, employee, product, place):
    order = place(employee, product.variants[0], 1)
    order.status, order.payment_method, order.paid_at = OrderStatus.paid, PaymentMethod.card, utcnow()
    db.session.commit()
    with pytest.raises(refunds.RefundError, match="no card payment on record"):
        refunds.refund_order(operator, order, reason="x", full=True)


def test_the_database_refuses_refunds_beyond_the_total_or_the_quantity(paid_order):
    with pytest.raises(IntegrityError):
        db.session.execute(update(Order).where(Order.id == paid_order.id).values(refunded_amount=19_001))
        db.session.flush()
    db.session.rollback()
    line = paid_order.lines[0]
    with pytest.raises(IntegrityError):
        db.session.execute(update(OrderLine).where(OrderLine.id == line.id).values(refunded_quantity=line.quantity + 1))
        db.session.flush()
    db.session.rollback()


def test_stripe_answers_are_applied_once(app, operator, employee, product, place):
    """The webhook, a retry and the operator's request may all report the same Stripe refund."""
    order = place(employee, product.variants[0], 2)
    order.status, order.payment_method, order.paid_at = OrderStatus.paid, PaymentMethod.card, utcnow()
    paid_through_intent(order, "pi_test_once")
    db.session.commit()
    stock_before = stock_of(product.variants[0].id)
    pending = refunds.refund_order(operator, order, reason="Broken", quantities={order.lines[0].id: 1}, restock=True)
    db.session.commit()
    assert pending.status == RefundStatus.pending and order.status == OrderStatus.paid
    assert order.refunded_amount == 7_000  # held while Stripe decides
    refunds.refund_order(operator, order, reason="The rest", amount=7_000)  # pending too: all is held now
    with pytest.raises(refunds.RefundError, match="Nothing is left to refund"):
        refunds.refund_order(operator, order, reason="More", full=True)
    db.session.rollback()
    assert [r.refund_id for r in refunds.pending_card_refunds(older_than=timedelta(0))] == [pending.id]

    for _ in range(2):
        refunds.apply_stripe_refund(pending.id, "re_once", "succeeded")
        db.session.commit()
    db.session.refresh(order)
    assert order.status == OrderStatus.partially_refunded and order.refunded_amount == 7_000
    assert stock_of(product.variants[0].id) == stock_before + 1
    assert len(audit("order.refund")) == 1 and len(outbox(app)) == 1
    assert "goes back to the card" in outbox(app)[0]
    assert refunds.pending_card_refunds(older_than=timedelta(0)) == []


def test_a_refund_stripe_reports_failed_gives_back_what_it_held(operator, employee, product, place):
    order = place(employee, product.variants[0], 2)
    order.status, order.payment_method, order.paid_at = OrderStatus.paid, PaymentMethod.card, utcnow()
    paid_through_intent(order, "pi_test_fail")
    db.session.commit()
    pending = refunds.refund_order(operator, order, reason="Broken", full=True)
    db.session.commit()
    assert order.refunded_amount == 14_000 and order.lines[0].refunded_quantity == 2
    refunds.apply_stripe_refund(pending.id, "re_fail", "failed")
    db.session.commit()
    db.session.refresh(order)
    assert (order.status, order.refunded_amount, order.lines[0].refunded_quantity) == (OrderStatus.paid, 0, 0)
    assert pending.status == RefundStatus.failed and "failed" in pending.failure_message
    assert len(audit("order.refund_failed")) == 1 and audit("order.refund") == []
    refunds.apply_stripe_refund(pending.id, "re_fail", "succeeded")  # too late: already settled as failed
    assert pending.status == RefundStatus.failed


# ---- two operators at once ------------------------------------------------------------------------


@pytest.mark.slow
def test_two_refunds_at_once_never_exceed_the_paid_amount(app, make_user, paid_order):
    """Real parallel transactions (threads, a barrier): on PostgreSQL they race on the order's row
    lock, on SQLite on the write lock. Each asks for more than half of what was paid."""
    from tests.test_concurrency import run_together

    operator_ids = [make_user(role="operator").id for _ in range(2)]
    order_id = paid_order.id

    def refund(operator_id, **what):
        def job():
            from shop.accounts.models import User

            actor = db.session.get(User, operator_id)
            return refunds.refund_order(actor, db.session.get(Order, order_id), reason="At once", **what).amount

        return job

    outcomes = run_together(app, [refund(o, amount=15_000) for o in operator_ids])
    assert sorted(type(o).__name__ for o in outcomes) == ["RefundError", "int"], outcomes
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    assert order.refunded_amount == 15_000 and order.status == OrderStatus.partially_refunded
    assert db.session.scalar(select(func.sum(Refund.amount))) == 15_000


@pytest.mark.slow
def test_refunds_of_units_at_once_give_each_unit_back_once(app, make_user, paid_order):
    from tests.test_concurrency import run_together

    tea = lines_of(paid_order)["Tea Set"]
    variant_id, line_id, order_id = tea.variant_id, tea.id, paid_order.id
    stock_before = stock_of(variant_id)
    operator_ids = [make_user(role="operator").id for _ in range(5)]

    def refund_one(operator_id):
        def job():
            from shop.accounts.models import User

            actor = db.session.get(User, operator_id)
            made = refunds.refund_order(
                actor, db.session.get(Order, order_id), reason="Returned", quantities={line_id: 1}, restock=True
            )
            return made.amount

        return job

    outcomes = run_together(app, [refund_one(o) for o in operator_ids])
    assert sorted(type(o).__name__ for o in outcomes) == ["RefundError"] * 3 + ["int"] * 2, outcomes
    db.session.expire_all()
    assert db.session.get(OrderLine, line_id).refunded_quantity == 2
    assert db.session.get(Order, order_id).refunded_amount == 14_000
    assert stock_of(variant_id) == stock_before + 2


def test_a_refund_form_sent_twice_says_why_the_second_refunds_nothing(ops, paid_order):
    """Found playing an operator's day: the second post of the same form (a double click, an
    old tab) answered 422 with nothing shown, its errors on fields the page no longer had."""
    tea = lines_of(paid_order)["Tea Set"]
    url, form = f"/ops/orders/{paid_order.id}/refund", refund_form(paid_order, **{f"line_{tea.id}": "2"})
    assert ops.post_form(url, form).status_code == 302
    again = ops.post_form(url, form)
    assert again.status_code == 422 and "refunded meanwhile" in text(again)
    assert ops.post_form(url, refund_form(paid_order, full="y")).status_code == 302  # the rest
    last = ops.post_form(url, refund_form(paid_order, amount="1"))
    assert last.status_code == 422 and "Only paid orders can be refunded; this one is refunded." in text(last)
    db.session.refresh(paid_order)
    assert paid_order.refunded_amount == 19_000
