"""A worker's warm-up before it serves (shop/warm_up.py, called from gunicorn.conf.py): the hot
statements and templates are compiled, and nothing is written or taken."""

from __future__ import annotations

import gc
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine.default import CACHE_MISS

from shop.audit.models import AuditEntry
from shop.extensions import db
from shop.festivals.models import FestivalItem
from shop.orders.models import Order, OrderLine
from shop.warm_up import warm_up
from tests.conftest import login


def _gunicorn_settings():
    path = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
    spec = importlib.util.spec_from_file_location("gunicorn_settings", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _counts():
    return [
        db.session.scalar(sa.select(sa.func.count()).select_from(model)) for model in (Order, OrderLine, AuditEntry)
    ]


def test_warming_up_compiles_buy_nows_statements_and_writes_nothing(
    app, client, employee, make_festival, make_festival_item, product, make_address
):
    item = make_festival_item(make_festival(), product.variants[0], 3, per_buyer_limit=2)
    address_id = make_address(employee).id
    login(client, employee)
    token = client.csrf_token("/")
    before = _counts()
    db.engine._compiled_cache.clear()  # as in a fresh worker
    app.jinja_env.cache.clear()

    try:
        _gunicorn_settings().post_worker_init(SimpleNamespace(wsgi=app))
    finally:
        gc.unfreeze()
    assert _counts() == before
    assert db.session.get(FestivalItem, item.id).sold == 0
    assert "festivals/refused.html" in {template.name for template in app.jinja_env.cache.values()}

    missed = []

    def note_misses(conn, cursor, statement, params, context, executemany):
        if context is not None and context.cache_hit is CACHE_MISS:
            missed.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", note_misses)
    try:
        placed = client.post(
            f"/festivals/{item.festival.slug}/items/{item.id}/buy",
            data={"quantity": "1", "address_id": str(address_id), "csrf_token": token},
        )
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note_misses)
    assert placed.status_code == 303
    buying = [s for s in missed if "festival_items" in s or "FOR" in s or "subject_orders" in s]
    assert buying == [], buying  # the item, the locks, the use and the take were compiled already


def test_another_app_under_the_same_settings_is_left_alone():
    hello = Flask("hello")
    warm_up(hello)  # no shop extensions: nothing to warm, nothing raised
    assert hello.jinja_env.cache is None or len(hello.jinja_env.cache) == 0
