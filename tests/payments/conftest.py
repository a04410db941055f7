"""A real fake-Stripe server (localstripe) for the card payment tests; the SDK talks to it over
HTTP and is never patched. Also: a contact with a pending order, signed webhook posts, and the
app served by a real HTTP server so the fake server's own webhooks reach it."""

from __future__ import annotations

import json
import threading
import time

import pytest
import stripe
from sqlalchemy import func, select
from werkzeug.serving import make_server

from shop.accounts.models import Kind
from shop.audit.models import AuditEntry
from shop.extensions import db
from shop.payments import fake_stripe

WEBHOOK_SECRET = "whsec_neigou_tests"
KEYS = {
    "STRIPE_SECRET_KEY": "sk_test_neigou_tests",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_neigou_tests",
    "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
}
NOWHERE = "http://127.0.0.1:9/"  # the discard port: deliveries to it fail at once


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory):
    """localstripe on a free port for the whole session; stopped afterwards."""
    port = fake_stripe.free_port()
    process = fake_stripe.start(port, tmp_path_factory.mktemp("localstripe") / "localstripe.log")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_on(app, localstripe_url):
    """Card payments configured against localstripe, emptied, for one test."""
    fake_stripe.clear(localstripe_url)
    settings = {**KEYS, "STRIPE_API_BASE": localstripe_url}
    before = {key: app.config.get(key) for key in settings}
    app.config.update(settings)
    yield stripe.StripeClient(KEYS["STRIPE_SECRET_KEY"], base_addresses={"api": localstripe_url})
    app.config.update(before)


@pytest.fixture
def contact(make_user, employee):
    return make_user(
        kind=Kind.contact,
        level=1,
        referrer_id=employee.id,
        root_employee_id=employee.id,
        email="cora@friends.example",
        name="Cora Contact",
    )


@pytest.fixture
def pending_order(contact, product, place):
    return place(contact, product.variants[0], 2)


def sign(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


def event_payload(event_id: str, event_type: str, obj: dict, *, created: int | None = None) -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": created or int(time.time()),
            "api_version": "2026-10-28.endive",
            "data": {"object": obj},
        }
    )


def post_event(client, payload: str, signature: str | None = None):
    headers = {"Content-Type": "application/json", "Stripe-Signature": signature or sign(payload)}
    return client.post("/stripe/webhook", data=payload, headers=headers)


def audit_count(action: str) -> int:
    return db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == action))


@pytest.fixture
def live_server(app, stripe_on, localstripe_url):
    """The app on a real HTTP server in a thread; localstripe delivers its webhooks to it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    # localstripe sends each event a second after it happens, to the webhooks registered then:
    # let an earlier test's events go out first, or this app would write them to the database
    # while the test's own rows are being written (SQLite: "database is locked").
    time.sleep(1.5)
    fake_stripe.register_webhook(localstripe_url, f"{base}/stripe/webhook", WEBHOOK_SECRET)
    yield base
    fake_stripe.register_webhook(localstripe_url, NOWHERE, WEBHOOK_SECRET)
    time.sleep(1.5)  # localstripe sends each event a second after it happens: let those finish
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def wait_for(predicate, timeout: float = 15.0):
    """Poll the database (a fresh transaction each time) until ``predicate()`` is true."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.commit()
        db.session.expire_all()
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)
