"""Card refunds end to end against localstripe, a fake Stripe server started for this module on a
free port: the SDK talks to it over HTTP, nothing is patched. localstripe ignores idempotency
keys, so the retry's own protection (it looks for the refund an earlier attempt made) is what
keeps a retry from refunding twice here."""

from __future__ import annotations

import html
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import stripe
from sqlalchemy import func, select, update

from shop.database import utcnow
from shop.extensions import db
from shop.orders.models import Order, OrderStatus, PaymentMethod
from shop.refunds import card
from shop.refunds import services as refunds
from shop.refunds.models import Refund, RefundStatus
from tests.conftest import CsrfClient, login, outbox
from tests.test_refunds import intent_of, paid_through_intent

SECRET_KEY = "sk_test_neigou_refunds"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def localstripe_url():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    try:
        while True:
            assert process.poll() is None, "localstripe exited at start"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "localstripe did not start within 30 s"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def stripe_app(app, localstripe_url):
    app.config.update(STRIPE_SECRET_KEY=SECRET_KEY, STRIPE_API_BASE=localstripe_url)
    yield app
    app.config.pop("STRIPE_SECRET_KEY")
    app.config.pop("STRIPE_API_BASE")


@pytest.fixture
def stripe_api(localstripe_url) -> stripe.StripeClient:
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe_url})


@pytest.fixture
def ops(client, operator) -> CsrfClient:
    return login(client, operator)


@pytest.fixture
def card_order(stripe_app, stripe_api, make_user, make_product, place):
    """A contact's order of 2 x 85.00, paid by card at localstripe (a confirmed PaymentIntent)."""
    from shop.accounts.models import Kind

    contact = make_user(kind=Kind.contact, level=1)
    order = place(contact, make_product(name="Kettle").variants[0], 2)
    intent = stripe_api.v1.payment_intents.create(
        params={
            "amount": order.total_amount,
            "currency": "cny",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "metadata": {"order_id": str(order.id)},
        }
    )
    assert intent.status == "succeeded"
    order.status, order.payment_method, order.paid_at = OrderStatus.paid, PaymentMethod.card, utcnow()
    paid_through_intent(order, intent.id)
    db.session.commit()
    return order


def stripe_refunds(api: stripe.StripeClient, order: Order) -> list:
    return list(api.v1.refunds.list(params={"payment_intent": intent_of(order)}).data)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def form(order: Order, **fields) -> dict:
    return {**{f"line_{line.id}": "" for line in order.lines}, "reason": "Arrived broken", **fields}


def test_a_card_refund_goes_back_through_stripe(app, ops, stripe_api, card_order):
    variant_id = card_order.lines[0].variant_id
    stock_before = card_order.lines[0].variant.stock
    page = text(
        ops.post_form(
            f"/ops/orders/{card_order.id}/refund", form(card_order, full="y", restock="y"), follow_redirects=True
        )
    )
    assert "Refunded CN¥170.00." in page

    made = db.session.scalar(select(Refund))
    [at_stripe] = stripe_refunds(stripe_api, card_order)
    assert (at_stripe.id, at_stripe.amount, at_stripe.status) == (made.stripe_refund_id, 17_000, "succeeded")
    assert at_stripe.metadata[card.METADATA_KEY] == str(made.id)
    assert made.status == RefundStatus.succeeded and made.method == PaymentMethod.card
    db.session.refresh(card_order)
    assert card_order.status == OrderStatus.refunded and card_order.refunded_amount == 17_000
    assert db.session.get(type(card_order.lines[0].variant), variant_id).stock == stock_before + 2
    [mail] = outbox(app)
    assert "goes back to the card" in mail and "refunded to the card" in page


def test_a_partial_card_refund_and_then_the_rest(ops, stripe_api, card_order):
    line = card_order.lines[0]
    ops.post_form(f"/ops/orders/{card_order.id}/refund", form(card_order, **{f"line_{line.id}": "1"}))
    ops.post_form(f"/ops/orders/{card_order.id}/refund", form(card_order, full="y"))
    assert sorted(r.amount for r in stripe_refunds(stripe_api, card_order)) == [8_500, 8_500]
    db.session.refresh(card_order)
    assert card_order.status == OrderStatus.refunded and card_order.refunded_amount == 17_000


def test_a_refund_stripe_refuses_changes_nothing(app, ops, card_order):
    from shop.payments.models import CardPayment

    db.session.execute(
        update(CardPayment)
        .where(CardPayment.order_id == card_order.id)
        .values(payment_intent_id="pi_unknown_to_stripe")
    )
    db.session.commit()
    page = text(ops.post_form(f"/ops/orders/{card_order.id}/refund", form(card_order, full="y"), follow_redirects=True))
    assert "Stripe refused the refund of CN¥170.00" in page and "Nothing was refunded." in page
    db.session.refresh(card_order)
    assert (card_order.status, card_order.refunded_amount) == (OrderStatus.paid, 0)
    assert card_order.lines[0].refunded_quantity == 0
    made = db.session.scalar(select(Refund))
    assert made.status == RefundStatus.failed and made.stripe_refund_id is None
    assert outbox(app) == []
    assert "can still be refunded" in page  # the operator may try again


def test_without_keys_a_card_refund_is_refused_before_anything_is_sent(app, ops, card_order):
    app.config["STRIPE_SECRET_KEY"] = ""
    page = text(ops.post_form(f"/ops/orders/{card_order.id}/refund", form(card_order, full="y"), follow_redirects=True))
    assert "Card refunds need STRIPE_SECRET_KEY" in page
    db.session.refresh(card_order)
    assert card_order.refunded_amount == 0


def test_no_answer_leaves_the_refund_pending_and_a_retry_completes_it_once(
    app, ops, stripe_api, card_order, localstripe_url
):
    app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{_free_port()}"  # nobody listens there
    page = text(
        ops.post_form(f"/ops/orders/{card_order.id}/refund", form(card_order, amount="50"), follow_redirects=True)
    )
    assert "waiting for Stripe's confirmation" in page and "in progress" in page
    db.session.refresh(card_order)
    assert card_order.status == OrderStatus.paid and card_order.refunded_amount == 5_000  # held
    assert "CN¥120.00 can still be refunded" in page
    assert stripe_refunds(stripe_api, card_order) == []

    app.config["STRIPE_API_BASE"] = localstripe_url
    runner = app.test_cli_runner()
    result = runner.invoke(args=["shop", "retry-refunds", "--older-than", "0"])
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output and "1 pending card refund(s) retried" in result.output
    again = runner.invoke(args=["shop", "retry-refunds", "--older-than", "0"])
    assert "0 pending card refund(s) retried" in again.output

    [at_stripe] = stripe_refunds(stripe_api, card_order)
    db.session.expire_all()
    made = db.session.scalar(select(Refund))
    assert made.status == RefundStatus.succeeded and made.stripe_refund_id == at_stripe.id
    assert db.session.get(Order, card_order.id).status == OrderStatus.partially_refunded
    assert len(outbox(app)) == 1


def test_a_retry_after_a_lost_answer_adopts_the_refund_stripe_made(app, operator, stripe_api, card_order):
    """Stripe made the refund, but its answer never reached us (or we crashed before recording
    it): the retry finds it by our refund id and does not refund again."""
    pending = refunds.refund_order(operator, card_order, reason="Lost answer", full=True)
    request = refunds.card_request(pending)
    db.session.commit()
    lost = card.issue_card_refund(
        request.payment_intent_id, request.amount, request.idempotency_key, refund_id=request.refund_id
    )
    assert db.session.get(Refund, request.refund_id).status == RefundStatus.pending

    [retry] = refunds.pending_card_refunds(older_than=timedelta(0))
    refunds.send_card_refund(retry, actor=None, retry=True)
    db.session.commit()
    assert [r.id for r in stripe_refunds(stripe_api, card_order)] == [lost.id]
    made = db.session.get(Refund, request.refund_id)
    assert made.status == RefundStatus.succeeded and made.stripe_refund_id == lost.id
    assert db.session.scalar(select(func.count(Refund.id))) == 1
