"""What is known of quota use and sold-out items (shop/quotas/known_use.py; off in the other
tests): refusals answered without the database, and forgotten when something is given back."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis
import sqlalchemy as sa

from shop.accounts.models import Kind, User
from shop.accounts.session import BuyerFacts
from shop.database import utcnow
from shop.extensions import db
from shop.festivals import item_facts
from shop.festivals.models import FestivalItem
from shop.orders import services as orders
from shop.orders.models import Order, OrderStatus
from shop.quotas import known_use, rule_cache
from shop.quotas import services as quotas
from shop.quotas.engine import Allowance, QuotaExceeded, Take, rules_for
from shop.quotas.models import Measure, Scope, Target, Window
from tests.conftest import PASSWORD, login


@pytest.fixture
def known(app):
    def reset():
        known_use._stores.clear()
        with app.app_context():
            item_facts.forget()
            rule_cache.forget()

    # As in production: the rules kept per process too, or every post would read them.
    app.config.update(KNOWN_USE_SECONDS=60, QUOTA_RULE_CACHE_SECONDS=60)
    reset()
    yield
    app.config.update(KNOWN_USE_SECONDS=0, QUOTA_RULE_CACHE_SECONDS=0, REDIS_URL=None)
    reset()


@pytest.fixture
def yearly(known):
    """A rule that counts use: 10 units a year per buyer."""
    made = quotas.create_rule(
        None, scope=Scope.buyer, target=Target.all, window=Window.year, measure=Measure.units, limit_value=10
    )
    db.session.commit()
    return made


@pytest.fixture
def sale(make_festival, make_festival_item, make_product):
    return make_festival_item(make_festival(), make_product(stock=20).variants[0], 3, per_buyer_limit=1)


def _buy(client, url, quantity, address_id, token):
    return client.post(url, data={"quantity": quantity, "address_id": address_id, "csrf_token": token})


def _url(item) -> str:
    return f"/festivals/{item.festival.slug}/items/{item.id}/buy"


def test_a_buyer_at_their_limit_is_refused_without_the_database(
    known, client, employee, sale, make_address, statements
):
    address_id, url = make_address(employee).id, _url(sale)
    login(client, employee)
    token = client.csrf_token("/")
    assert _buy(client, url, 1, address_id, token).status_code == 303  # learns: 1 of 1 used

    statements.clear()
    refused = _buy(client, url, 1, address_id, token)
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "Refused by the rule" in page and "0 left for you, this order needs 1" in page
    assert statements == [], statements  # not even the user: the session cookie carries the buyer's facts
    assert db.session.query(Order).count() == 1


def test_giving_back_makes_what_was_known_forgotten(known, client, employee, sale, make_address):
    address_id, url = make_address(employee).id, _url(sale)
    login(client, employee)
    token = client.csrf_token("/")
    assert _buy(client, url, 1, address_id, token).status_code == 303
    assert _buy(client, url, 1, address_id, token).status_code == 409
    order = db.session.query(Order).one()
    orders.cancel_order(employee, order)
    db.session.commit()
    assert _buy(client, url, 1, address_id, token).status_code == 303  # counted afresh, and allowed


def test_a_sold_out_item_is_known_to_every_buyer(known, client, employee, make_user, sale, make_address, statements):
    for _ in range(3):
        other = make_user()
        orders.place_festival_order(other, sale, 1, make_address(other))
        db.session.commit()  # the last one learns that nothing is left
    address_id, url = make_address(employee).id, _url(sale)
    login(client, employee)
    token = client.csrf_token("/")
    assert _buy(client, url, 1, address_id, token).status_code == 409  # the first post loads the user ...
    statements.clear()
    refused = _buy(client, url, 1, address_id, token)  # ... the next needs nothing from the database
    assert refused.status_code == 409 and "you want 1, 0 left" in refused.get_data(as_text=True)
    assert statements == []


def test_what_was_learnt_under_an_older_generation_does_not_count(yearly, employee, product):
    take = Take(product.variants[0].id, product.id, product.category_id, 1, 100)
    rules = [rule for rule, _extra in rules_for(employee, [take])]
    assert yearly.id in [rule.id for rule in rules]
    ids = {"buyer_id": employee.id, "root_id": employee.id}
    before = known_use.look(rules, [take], item_ids=[], now=utcnow(), **ids)
    # Something is given back meanwhile (committed) ...
    known_use.gave_back(user_ids=[employee.id])
    db.session.commit()
    # ... and what a refusal counted before it is written only now: it must not count.
    known_use.learn(before, use={(rule, None): 99 for rule in rules}, now=utcnow(), **ids)
    assert known_use.look(rules, [take], item_ids=[], now=utcnow(), **ids).use == {}
    fresh = known_use.look(rules, [take], item_ids=[], now=utcnow(), **ids)
    known_use.learn(fresh, use={(rule, None): 99 for rule in rules}, now=utcnow(), **ids)
    assert set(known_use.look(rules, [take], item_ids=[], now=utcnow(), **ids).use.values()) == {99}


def test_an_orders_use_is_learnt_only_when_it_commits(known, employee, sale, make_address):
    address = make_address(employee)
    orders.place_festival_order(employee, sale, 1, address)
    db.session.rollback()
    # The rolled-back order taught nothing: had its use been learnt, this would be refused.
    assert orders.place_festival_order(employee, sale, 1, address).status == OrderStatus.pending_payment
    db.session.commit()


def test_a_sold_out_allocation_is_refused_without_a_lock(known, employee, make_user, sale, make_address, statements):
    for _ in range(3):
        other = make_user()
        orders.place_festival_order(other, sale, 1, make_address(other))
        db.session.commit()
    address = make_address(employee)
    db.session.refresh(sale)
    statements.clear()
    with pytest.raises(orders.OutOfStock) as refused:
        orders.place_festival_order(employee, sale, 1, address)
    db.session.rollback()
    assert [(s.wanted, s.available) for s in refused.value.shortages] == [(1, 0)]
    assert not [s for s in statements if "FOR UPDATE" in s or "FOR NO KEY UPDATE" in s or "SAVEPOINT" in s]


def test_a_change_to_the_buyers_chain_outdates_the_facts_in_their_cookie(known, employee, make_user, product):
    contact = make_user(kind=Kind.contact, referrer_id=employee.id, root_employee_id=employee.id)
    facts = BuyerFacts(
        contact.id, contact.level, contact.root_employee_id, contact.kind, known_use.user_generation(contact.id)
    )
    take = Take(product.variants[0].id, product.id, product.category_id, 1, 100)
    look = dict(item_ids=[], now=utcnow(), buyer_id=contact.id, root_id=contact.root_employee_id)
    assert known_use.look([], [take], **look).holds(facts)
    contact.root_employee_id = make_user().id  # moved to another chain
    db.session.commit()
    assert not known_use.look([], [take], **look).holds(facts)


def test_without_a_reachable_store_nothing_is_known_and_buying_still_works(known, app, employee, sale, make_address):
    app.config.update(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    known_use._stores.clear()
    address = make_address(employee)
    orders.place_festival_order(employee, sale, 1, address)
    db.session.commit()
    with pytest.raises(QuotaExceeded):
        orders.place_festival_order(employee, sale, 1, address)  # counted in the database
    db.session.rollback()
    assert db.session.query(Order).filter_by(status=OrderStatus.pending_payment).count() == 1


@pytest.fixture
def redis_url(app):
    """The app's known use kept in a Redis database of its own (skipped without Redis)."""
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    app.config.update(REDIS_URL=url)
    known_use._stores.clear()
    return url


def test_workers_share_what_is_known_through_redis(yearly, redis_url, employee, product):
    take = Take(product.variants[0].id, product.id, product.category_id, 1, 100)
    rules = [rule for rule, _extra in rules_for(employee, [take])]
    ids = {"buyer_id": employee.id, "root_id": employee.id}
    seen = known_use.look(rules, [take], item_ids=[7], now=utcnow(), **ids)
    known_use.learn(seen, use={(rule, None): 3 for rule in rules}, sold_out=[7], now=utcnow(), **ids)
    known_use._stores.clear()  # another worker: a client of its own, the same Redis
    again = known_use.look(rules, [take], item_ids=[7], now=utcnow(), **ids)
    assert set(again.use.values()) == {3} and again.sold_out == {7}
    known_use.gave_back(user_ids=[employee.id], item_ids=[7])
    db.session.commit()
    after = known_use.look(rules, [take], item_ids=[7], now=utcnow(), **ids)
    assert after.use == {} and after.sold_out == set()


def test_a_thread_reads_through_one_connection_and_one_the_server_closed_is_opened_again(redis_url):
    store = known_use._store()
    keys, generations = [f"neigou:test:{uuid.uuid4().hex}"], [f"neigou:test:{uuid.uuid4().hex}"]
    assert store.read(keys, generations) == ([None], [None])
    reader = store._reader()
    connection_id = reader.client_id()
    store.read(keys, generations)
    assert store._reader() is reader and reader.client_id() == connection_id

    others = []
    thread = threading.Thread(target=lambda: others.append(store._reader().client_id()))
    thread.start()
    thread.join()
    assert others and others[0] != connection_id  # another thread, a connection of its own

    redis.Redis.from_url(redis_url).client_kill_filter(_id=connection_id)  # Redis restarted, or dropped us
    redis.Redis.from_url(redis_url).set(keys[0], "7", ex=60)
    assert store.read(keys, generations) == (["7"], [None])
    assert reader.client_id() != connection_id


def test_a_read_that_times_out_is_not_retried_and_the_next_read_is_not_given_its_late_reply(redis_url):
    store, server = known_use._store(), redis.Redis.from_url(redis_url, decode_responses=True)
    key = f"neigou:test:{uuid.uuid4().hex}"
    server.set(key, "1", ex=60)
    assert store.read([key], []) == (["1"], [])
    server.client_pause(500)  # every client waits: the read times out after 0.25 s
    started = time.monotonic()
    with pytest.raises(redis.TimeoutError):
        store.read([key], [])
    assert time.monotonic() - started < 0.45  # given up once, not tried again
    time.sleep(0.5)
    server.set(key, "2", ex=60)
    assert store.read([key], []) == (["2"], [])  # a connection of its own, not the late "1"


def test_a_write_sets_every_entry_with_its_expiry_in_one_command_even_after_redis_forgot_the_script(redis_url):
    store, server = known_use._store(), redis.Redis.from_url(redis_url, decode_responses=True)
    entries = {f"neigou:test:{uuid.uuid4().hex}": f"{n}:{n * 2}" for n in range(3)}
    store.write(entries, 30)
    assert server.mget(list(entries)) == list(entries.values())
    assert all(0 < server.ttl(key) <= 30 for key in entries)
    server.script_flush()  # Redis restarted: the script is loaded again
    store.write({key: "9:9" for key in entries}, 60)
    assert server.mget(list(entries)) == ["9:9"] * 3 and all(30 < server.ttl(key) <= 60 for key in entries)


def test_logging_in_puts_the_buyers_facts_in_the_cookie_and_logging_out_takes_them_away(known, client, employee):
    token = client.csrf_token("/login")
    assert client.post(
        "/login", data={"email": employee.email, "password": PASSWORD, "csrf_token": token}
    ).status_code in (302, 303)
    with client.session_transaction() as session:
        assert session["_buyer_facts"][:4] == [employee.id, 0, None, "employee"]
    client.post_form("/logout")
    with client.session_transaction() as session:
        assert "_buyer_facts" not in session and "_user_id" not in session


def test_databases_sharing_one_redis_keep_apart(known, app, employee):
    known_use.gave_back(user_ids=[employee.id])
    db.session.commit()
    assert known_use.user_generation(employee.id) == 1
    app.extensions.pop("known_use_prefix")
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        app.config["SQLALCHEMY_DATABASE_URI"] = uri + "-another"  # only the keys' names are derived from it
        assert known_use.user_generation(employee.id) == 0
    finally:
        app.config["SQLALCHEMY_DATABASE_URI"] = uri
        app.extensions.pop("known_use_prefix")
    assert known_use.user_generation(employee.id) == 1


def test_buyers_refused_for_the_same_reason_get_one_page_rendered_once(
    known, app, client, employee, make_user, sale, make_address, monkeypatch
):
    from shop.catalog import page_cache
    from shop.festivals import views

    rendered = []
    render = views.render_without_user
    monkeypatch.setattr(views, "render_without_user", lambda *a, **kw: rendered.append(a) or render(*a, **kw))
    for _ in range(3):
        other = make_user()
        orders.place_festival_order(other, sale, 1, make_address(other))
        db.session.commit()  # the last one learns that nothing is left
    buyers = [employee, make_user(), make_user()]
    posts = [(login(app.test_client(), buyer), make_address(buyer).id) for buyer in buyers]  # CsrfClients
    app.config.update(PAGE_CACHE_SECONDS=60)
    page_cache.clear()
    try:
        pages = []
        for client, address_id in posts[:2]:
            token = client.csrf_token("/")
            _buy(client, _url(sale), 1, address_id, token)  # the first post loads the user and learns the facts
            refused = _buy(client, _url(sale), 1, address_id, token)
            assert refused.status_code == 409
            pages.append(refused.get_data(as_text=True))
        assert pages[0] == pages[1] and "you want 1, 0 left" in pages[0]
        assert len(rendered) == 1  # the second buyer got the page the first one's refusal rendered

        # A flash message waiting is shown on the page, and that page is not kept for others.
        client, address_id = posts[2]
        token = client.csrf_token("/")
        _buy(client, _url(sale), 1, address_id, token)
        with client.raw.session_transaction() as session:
            session["_flashes"] = [("success", "Address saved.")]
        with_flash = _buy(client, _url(sale), 1, address_id, token)
        assert with_flash.status_code == 409 and "Address saved." in with_flash.get_data(as_text=True)
        again = _buy(posts[0][0], _url(sale), 1, posts[0][1], posts[0][0].csrf_token("/"))
        assert again.get_data(as_text=True) == pages[0] and "Address saved." not in pages[0]
    finally:
        app.config.update(PAGE_CACHE_SECONDS=0)
        page_cache.clear()


def test_quota_refusals_for_the_same_reason_share_a_page_worded_once(
    known, app, employee, make_user, sale, make_address, monkeypatch
):
    from shop.catalog import page_cache
    from shop.quotas import engine

    worded = []
    describe = engine.describe
    monkeypatch.setattr(engine, "describe", lambda rule: worded.append(rule.id) or describe(rule))
    posts = []
    for buyer in (employee, make_user(), make_user()):
        client = login(app.test_client(), buyer)
        posts.append((client, make_address(buyer).id, client.csrf_token("/")))
    app.config.update(PAGE_CACHE_SECONDS=60)
    page_cache.clear()
    try:
        pages = []
        for client, address_id, token in posts[:2]:
            assert _buy(client, _url(sale), 1, address_id, token).status_code == 303
            refused = _buy(client, _url(sale), 1, address_id, token)  # at the per-buyer limit of 1
            assert refused.status_code == 409
            pages.append(refused.get_data(as_text=True))
        assert pages[0] == pages[1] and "0 left for you, this order needs 1" in pages[0]
        assert len(worded) == 1  # the second refusal was never worded: its page was kept

        client, address_id, token = posts[2]
        outright = _buy(client, _url(sale), 2, address_id, token)  # more than the rule allows in all
        assert outright.status_code == 409 and "it allows 1 in all, this order needs 2" in outright.get_data(
            as_text=True
        )
        assert len(worded) == 2
    finally:
        app.config.update(PAGE_CACHE_SECONDS=0)
        page_cache.clear()


def test_a_quota_refusal_is_worded_from_its_reason(known, employee, sale, make_address):
    rules = rules_for(
        employee, [orders.Wanted.of_festival_item(item_facts.ItemFacts.of(sale), 1).take(orders.tier_for(employee))]
    )
    [limit] = [rule for rule, _extra in rules if rule.festival_item_id == sale.id and rule.scope == Scope.buyer]
    first = QuotaExceeded(Allowance(limit, 1, 1), 1, "CNY")
    assert first.reason == QuotaExceeded(Allowance(limit, 1, 1), 1, "CNY").reason
    assert first.reason != QuotaExceeded(Allowance(limit, 1, 0), 2, "CNY").reason
    assert first.reason != QuotaExceeded(Allowance(limit, 1, 1), 1, "CNY", outright=True).reason
    assert str(first) == first.message and "0 left for you, this order needs 1" in first.message


# ---- placing with the session's buyer facts: the row is read with its lock -----------------------


def _user_statements(statements) -> list[str]:
    return [s for s in statements if " FROM users" in s]


def test_an_order_placed_with_the_sessions_facts_reads_the_buyer_only_with_the_lock(
    known, client, employee, make_festival, make_festival_item, make_product, make_address, statements
):
    item = make_festival_item(make_festival(), make_product(stock=20).variants[0], 5, per_buyer_limit=2)
    address_id, url = make_address(employee).id, _url(item)
    login(client, employee)
    token = client.csrf_token("/")
    statements.clear()
    assert _buy(client, url, 1, address_id, token).status_code == 303  # loads the user; keeps its facts
    assert len(_user_statements(statements)) == 2  # Flask-Login's read, then the lock
    statements.clear()
    assert _buy(client, url, 1, address_id, token).status_code == 303  # placed with the facts
    (read,) = _user_statements(statements)  # one statement: the lock, reading the row
    assert read.startswith("SELECT users.id, users.kind, users.level, users.root_employee_id")
    assert "FOR NO KEY UPDATE" in read or db.engine.dialect.name == "sqlite"  # SQLite locks the database
    placed = db.session.query(Order).order_by(Order.id).all()
    assert [(o.buyer_id, o.root_employee_id, o.buyer_level) for o in placed] == [(employee.id, employee.id, 0)] * 2


def test_a_buyer_whose_row_no_longer_matches_the_facts_is_placed_with_the_row(
    known, client, employee, make_contact, make_festival, make_festival_item, make_product, make_address, statements
):
    # A change made behind the ORM's back bumps no generation: the facts still hold, but the
    # row read with the lock says otherwise, and placing starts again with the user loaded.
    item = make_festival_item(make_festival(), make_product(stock=20).variants[0], 5, per_buyer_limit=3)
    contact = make_contact(employee)
    address_id, url = make_address(contact).id, _url(item)
    login(client, contact)
    token = client.csrf_token("/")
    assert _buy(client, url, 1, address_id, token).status_code == 303  # keeps the facts: level 1
    db.session.execute(sa.update(User).where(User.id == contact.id).values(level=2, l1_contact_id=None))
    db.session.commit()
    statements.clear()
    assert _buy(client, url, 1, address_id, token).status_code == 303
    # The lock read the row (level 2, not 1), rolled back; then Flask-Login's read and the lock.
    assert len(_user_statements(statements)) == 3
    levels = [level for (level,) in db.session.execute(sa.select(Order.buyer_level).order_by(Order.id))]
    assert levels == [1, 2]  # the second order says what the row says


def test_a_deactivated_buyer_behind_the_facts_is_sent_to_log_in(
    known, client, employee, make_festival, make_festival_item, make_product, make_address
):
    item = make_festival_item(make_festival(), make_product(stock=20).variants[0], 5, per_buyer_limit=3)
    address_id, url = make_address(employee).id, _url(item)
    login(client, employee)
    token = client.csrf_token("/")
    assert _buy(client, url, 1, address_id, token).status_code == 303
    db.session.execute(sa.update(User).where(User.id == employee.id).values(is_active_flag=False))
    db.session.commit()
    refused = _buy(client, url, 1, address_id, token)
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    assert db.session.query(Order).count() == 1


# ---- placing from the item's facts kept by the worker: the item and address read with the lock --------


def test_an_order_placed_from_kept_facts_reads_the_item_and_the_address_only_with_the_lock(
    known, client, employee, make_festival, make_festival_item, make_product, make_address, statements
):
    item = make_festival_item(make_festival(), make_product(stock=20).variants[0], 5, per_buyer_limit=2)
    address = make_address(employee)
    address_id, line, url = address.id, address.one_line(), _url(item)
    login(client, employee)
    token = client.csrf_token("/")
    assert _buy(client, url, 1, address_id, token).status_code == 303  # keeps the buyer's and the item's facts
    statements.clear()
    assert _buy(client, url, 1, address_id, token).status_code == 303
    reads = [s for s in statements if s.startswith("SELECT") and ("festival_items" in s or "addresses" in s)]
    (lock,) = _user_statements(statements)
    assert reads == [lock]  # the item and the address are read by the lock's statement, and nowhere else
    assert "FOR NO KEY UPDATE OF users" in lock or db.engine.dialect.name == "sqlite"
    placed = db.session.scalars(sa.select(Order).order_by(Order.id)).all()
    assert [(o.buyer_id, o.ship_to, o.total_amount) for o in placed] == [(employee.id, line, item.employee_price)] * 2


def test_an_item_changed_since_its_facts_were_kept_is_placed_from_the_row(
    known, client, employee, make_festival, make_festival_item, make_product, make_address
):
    item = make_festival_item(make_festival(), make_product(stock=20).variants[0], 5, per_buyer_limit=2)
    address_id, url, old_price = make_address(employee).id, _url(item), item.employee_price
    login(client, employee)
    token = client.csrf_token("/")
    assert _buy(client, url, 1, address_id, token).status_code == 303  # the worker keeps the item's facts
    # Changed behind the worker's back (another worker's operator): the kept facts are out of date.
    db.session.execute(sa.update(FestivalItem).where(FestivalItem.id == item.id).values(employee_price=old_price - 100))
    db.session.commit()
    assert item_facts.cached(item.festival.slug, item.id).employee_price == old_price
    assert _buy(client, url, 1, address_id, token).status_code == 303
    totals = db.session.scalars(sa.select(Order.total_amount).order_by(Order.id)).all()
    assert totals == [old_price, old_price - 100]  # the second order at the row's price


def test_another_buyers_address_is_not_found_when_placing_from_kept_facts(
    known, client, employee, make_user, make_festival, make_festival_item, make_product, make_address
):
    item = make_festival_item(make_festival(), make_product(stock=20).variants[0], 5, per_buyer_limit=2)
    mine, theirs, url = make_address(employee).id, make_address(make_user()).id, _url(item)
    login(client, employee)
    token = client.csrf_token("/")
    assert _buy(client, url, 1, mine, token).status_code == 303
    assert _buy(client, url, 1, theirs, token).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 1
    db.session.expire_all()
    assert item.sold == 1


def test_a_refusal_counted_in_the_database_from_kept_facts_shows_the_purchase_to_try_again(
    known, client, employee, make_festival, make_festival_item, make_product, make_address
):
    item = make_festival_item(make_festival(), make_product(stock=20).variants[0], 2, per_buyer_limit=2)
    address = make_address(employee)
    url = _url(item)
    login(client, employee)
    token = client.csrf_token("/")
    assert _buy(client, url, 1, address.id, token).status_code == 303  # keeps the facts; 1 unit left
    # The last unit goes behind the store's back: nothing known says the item is sold out.
    db.session.execute(sa.update(FestivalItem).where(FestivalItem.id == item.id).values(sold=2))
    db.session.commit()
    refused = _buy(client, url, 1, address.id, token)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "you want 1, 0 left" in page
    assert address.one_line() in page and 'class="buy-now"' in page and 'name="csrf_token"' in page
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 1
