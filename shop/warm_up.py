"""A worker warms up before it serves.

What the hottest requests use is compiled on its first use, once per process: the templates,
the quota rules' query, and the SQL statements of "buy now". A fresh worker (after a deploy,
or one gunicorn recycled) would otherwise pay for all of it on the first posts of a flash
sale, a tenth of a second of CPU while every buyer waits. ``gunicorn.conf.py`` calls
``warm_up`` in each worker before it accepts a connection.

Nothing is written and nothing is locked: "buy now"'s statements run for every festival item on
sale now, as a buyer and as a contact of user id 0, which matches no row (the take included,
so its order is never written), in a transaction that is rolled back. If the database cannot
be read, the statements compile on first use as before.
"""

from __future__ import annotations

import logging
import time
from contextlib import suppress

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from shop.accounts.models import Kind
from shop.database import utcnow
from shop.errors import DomainError
from shop.extensions import db

logger = logging.getLogger(__name__)

ITEMS_WARMED = 20  # festival items on sale at once: more share their statements anyway
NOBODY = 0  # a user id that matches no row


def warm_up(app: Flask) -> None:
    """Compile the templates and run the hot statements once; for the shop's app only (gunicorn's
    settings may serve another)."""
    if getattr(app, "import_name", None) != "shop":
        return
    started = time.monotonic()
    with app.app_context():
        for name in app.jinja_env.list_templates(extensions=["html"]):
            app.jinja_env.get_template(name)
        try:
            items = _buy_now_statements()
        except SQLAlchemyError:
            logger.warning("warm-up: the database could not be read; statements compile on first use", exc_info=True)
            items = 0
        finally:
            db.session.rollback()
            db.session.remove()
    logger.info("warmed up in %.2f s (%d festival items on sale)", time.monotonic() - started, items)


def _buy_now_statements() -> int:
    """ "Buy now" for every festival item on sale, up to the take and the write, as nobody."""
    from shop.accounts.session import BuyerFacts, load_user
    from shop.catalog.services import tier_of_kind
    from shop.festivals import item_facts
    from shop.festivals.models import Festival, FestivalItem
    from shop.orders import stock, writing
    from shop.orders.services import Wanted, lock_buyer_reading, lock_users
    from shop.quotas import known_use, rule_cache
    from shop.quotas.engine import Enforcement, rules_for, users_to_lock

    now = utcnow()
    rule_cache.active_rules()
    load_user(f"{NOBODY}:")  # a login id (user id and session token) of nobody
    known_use.user_generation(NOBODY)
    on_sale = db.session.execute(
        select(Festival.slug, FestivalItem.id)
        .join(Festival, Festival.id == FestivalItem.festival_id)
        .where(Festival.launch_at <= now, Festival.ends_at > now)
        .order_by(FestivalItem.id)
        .limit(ITEMS_WARMED)
    ).all()
    # An employee (their own chain) and a contact (the chain's employee locked too).
    buyers = [BuyerFacts(NOBODY, 0, None, Kind.employee, 0), BuyerFacts(NOBODY, 1, NOBODY - 1, Kind.contact, 0)]
    for slug, item_id in on_sale:
        facts = item_facts.read(slug, item_id)
        item_facts.read_with_address(slug, item_id, user_id=NOBODY, address_id=NOBODY)
        for buyer in buyers:
            tier = tier_of_kind(buyer.kind)
            wanted = Wanted.of_festival_item(facts, 1)
            takes = [wanted.take(tier)]
            rules = rules_for(buyer, takes)
            ids = users_to_lock(buyer, [rule for rule, _extra in rules])
            lock_users(ids)
            lock_buyer_reading(ids, buyer_id=NOBODY, slug=slug, item_id=item_id, address_id=NOBODY)
            with suppress(DomainError):  # a rule allowing nothing at all: its use query ran all the same
                Enforcement(buyer, takes, now, currency=facts.sellable.currency, rules=rules).check()
            line = {
                "variant_id": facts.sellable.variant_id,
                "festival_item_id": NOBODY,
                "product_name": "",
                "variant_name": "",
                "sku": "",
                "unit_price": 0,
                "market_price": 0,
                "quantity": 1,
                "refunded_quantity": 0,
            }
            # There is no item NOBODY: nothing is taken, so nothing is written.
            stock.take_allocation({NOBODY: 1})
            if writing.in_one_statement([line]):
                writing.take_and_write_order(
                    buyer=buyer, ship_to="", line=line, currency="", tier=tier, festival_id=facts.festival_id, now=now
                )
    return len(on_sale)
