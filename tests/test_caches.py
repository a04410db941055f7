"""The storefront fragment cache and the logged-in user cache (both off in the other tests)."""

from __future__ import annotations

import pytest

from shop import sessions
from shop.accounts import services as accounts
from shop.accounts.session import forget_all_users
from shop.catalog import page_cache
from shop.catalog import services as catalog
from shop.extensions import db
from tests.conftest import login


@pytest.fixture
def caches_on(app):
    app.config.update(PAGE_CACHE_SECONDS=60, USER_CACHE_SECONDS=60, SESSION_CACHE_SECONDS=60, CSRF_CACHE_SECONDS=60)
    forget_everything()
    yield
    app.config.update(PAGE_CACHE_SECONDS=0, USER_CACHE_SECONDS=0, SESSION_CACHE_SECONDS=0, CSRF_CACHE_SECONDS=0)
    forget_everything()


def forget_everything():
    page_cache.clear()
    forget_all_users()  # ids come back after each test empties the tables, and so do session cookies
    sessions._opened.clear()
    sessions._signed_tokens.clear()


def test_a_cached_product_page_needs_no_query_and_keeps_the_csrf_token_personal(
    caches_on, app, client, make_user, product, statements
):
    first, second = make_user(), make_user()
    url, first_name = f"/p/{product.slug}", first.name
    login(client, first)
    assert client.get(url).status_code == 200  # fills both caches
    statements.clear()
    page = client.get(url).get_data(as_text=True)
    assert [s for s in statements if "SELECT" in s.upper()] == []
    assert "Tea Set" in page and first_name in page
    token_first = client.csrf_token(f"/p/{product.slug}")

    other = app.test_client()
    login(other, second)
    page_second = other.get(f"/p/{product.slug}").get_data(as_text=True)
    assert second.name in page_second and first.name not in page_second
    assert other.csrf_token(f"/p/{product.slug}") != token_first
    assert "<csrf-token-slot>" not in page_second


def test_an_operator_change_is_shown_at_once(caches_on, client, employee, operator, product):
    login(client, employee)
    assert "Tea Set" in client.get(f"/p/{product.slug}").get_data(as_text=True)
    catalog.save_product(
        operator,
        product,
        name="Tea Set Deluxe",
        slug=product.slug,
        category_id=product.category_id,
        summary="",
        description_md="",
        sales_mode=product.sales_mode,
        is_active=True,
    )
    db.session.commit()
    assert "Tea Set Deluxe" in client.get(f"/p/{product.slug}").get_data(as_text=True)


def test_prices_are_cached_per_tier(caches_on, app, client, make_user, employee, product):
    from shop.accounts.models import Kind

    contact = make_user(kind=Kind.contact, level=1, referrer_id=employee.id, root_employee_id=employee.id)
    login(client, employee)
    assert "70.00" in client.get(f"/p/{product.slug}").get_data(as_text=True)
    other = app.test_client()
    login(other, contact)
    page = other.get(f"/p/{product.slug}").get_data(as_text=True)
    assert "85.00" in page and "70.00" not in page


def test_unknown_pages_are_not_cached(caches_on, client, employee):
    login(client, employee)
    assert client.get("/p/nothing-here").status_code == 404
    assert client.get("/c/nothing-here").status_code == 404


def test_deactivation_in_this_process_ends_the_cached_session_at_once(caches_on, client, employee, admin):
    login(client, employee)
    assert client.get("/cart/").status_code == 200
    accounts.deactivate(admin, employee, "left")
    db.session.commit()
    response = client.get("/cart/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_write_always_loads_the_user_from_the_database(caches_on, client, employee, statements):
    login(client, employee)
    client.get("/cart/")
    token = client.csrf_token("/")
    statements.clear()
    client.post("/account", data={"csrf_token": token, "name": "New Name", "timezone": "Asia/Shanghai"})
    assert any("FROM users" in s for s in statements)
    db.session.refresh(employee)
    assert employee.name == "New Name"


def test_a_whole_page_is_cached_per_user_but_never_with_a_flash_message(
    caches_on, client, employee, product, statements
):
    url = f"/p/{product.slug}"
    login(client, employee)
    assert client.get(url).status_code == 200
    statements.clear()
    cached = client.get(url).get_data(as_text=True)
    assert statements == []  # not even the user's row: the whole page came from the cache
    assert cached.count('name="csrf_token"') >= 2 and "<csrf-token-slot>" not in cached

    added = client.post_form(
        "/cart/add", {"variant_id": product.variants[0].id, "quantity": 1, "back": url}, token_from=url
    )
    assert added.status_code in (302, 303)
    assert "Added to your cart." in client.get(url).get_data(as_text=True)
    assert "Added to your cart." not in client.get(url).get_data(as_text=True)


def test_a_share_link_visit_is_counted_even_when_the_page_is_cached(caches_on, client, employee, make_user, product):
    from referrals.models import Visit

    owner = make_user()
    login(client, employee)
    client.get(f"/p/{product.slug}")
    client.get(f"/p/{product.slug}")  # now served from the cache
    assert client.get(f"/p/{product.slug}?ref={owner.referral_code}").status_code == 200
    assert db.session.query(Visit).count() == 1


def test_a_cached_page_is_served_without_loading_the_user_but_never_after_log_out(caches_on, client, employee, product):
    url = f"/p/{product.slug}"
    login(client, employee)
    client.get(url)
    client.get(f"/c/{product.category.slug}")
    assert "Tea Set" in client.get(url).get_data(as_text=True)
    assert client.get(f"/c/{product.category.slug}").status_code == 200
    assert client.post_form("/logout", token_from=url).status_code in (302, 303)
    for page in (url, f"/c/{product.category.slug}"):
        gone = client.get(page)
        assert gone.status_code == 302 and "/login" in gone.headers["Location"]


def test_cached_sessions_and_tokens_stay_personal_and_posts_still_check_the_token(
    caches_on, app, client, make_user, product
):
    first, second = make_user(), make_user()
    url = f"/p/{product.slug}"
    login(client, first)
    token = client.csrf_token(url)
    assert client.csrf_token(url) == token  # signed once, then reused
    other = login(app.test_client(), second)
    assert other.csrf_token(url) != token
    added = client.post_form("/cart/add", {"variant_id": product.variants[0].id, "quantity": 1}, token_from=url)
    assert added.status_code in (302, 303)
    forged = client.post(
        "/cart/add", data={"variant_id": product.variants[0].id, "quantity": 1, "csrf_token": other.csrf_token(url)}
    )
    assert forged.status_code == 400


def test_a_session_holding_the_buyers_facts_is_cached_and_each_request_gets_its_own_list(
    caches_on, app, client, employee
):
    from flask import request

    login(client, employee)
    with client.session_transaction() as session:
        session["_buyer_facts"] = [employee.id, 0, None, "employee", 0, 1]
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    with app.test_request_context("/", headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}):
        first = app.session_interface.open_session(app, request)
        assert sessions._opened.get(cookie) is not None  # kept: the next open is from memory
        second = app.session_interface.open_session(app, request)
    assert first == second and first["_buyer_facts"] == [employee.id, 0, None, "employee", 0, 1]
    assert first["_buyer_facts"] is not second["_buyer_facts"]


def test_a_post_opens_the_session_cookie_from_the_cache_too(caches_on, app, client, employee, monkeypatch):
    from flask import request
    from flask.sessions import SecureCookieSessionInterface

    login(client, employee)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    opened = []
    verify = SecureCookieSessionInterface.open_session
    monkeypatch.setattr(
        SecureCookieSessionInterface, "open_session", lambda self, *args: opened.append(1) or verify(self, *args)
    )
    headers = {"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}
    for method in ("GET", "POST", "POST"):
        with app.test_request_context("/cart/add", method=method, headers=headers):
            session = app.session_interface.open_session(app, request)
            assert session["_user_id"] == employee.get_id()
            session["changed_by_this_request"] = method  # its own object: nothing leaks into the cache
    assert len(opened) == 1  # verified once; the posts reuse it
    with app.test_request_context("/", headers=headers):
        assert "changed_by_this_request" not in app.session_interface.open_session(app, request)


def test_a_post_reuses_the_csrf_token_its_session_had_signed(
    caches_on, app, client, employee, make_festival, make_festival_item, make_product, monkeypatch
):
    from itsdangerous import URLSafeTimedSerializer

    item = make_festival_item(make_festival(), make_product(stock=5).variants[0], 3)
    url = f"/festivals/{item.festival.slug}/items/{item.id}/buy"
    login(client, employee)
    token = client.csrf_token("/")  # a read signs the session's token and keeps it
    signed = []
    dumps = URLSafeTimedSerializer.dumps
    monkeypatch.setattr(
        URLSafeTimedSerializer, "dumps", lambda self, *a, **kw: signed.append(self.salt) or dumps(self, *a, **kw)
    )
    # An invalid post renders the festival page and its forms again: with the kept token,
    # nothing is signed.
    page = client.post(url, data={"quantity": "many", "address_id": "", "csrf_token": token})
    assert page.status_code == 422 and token in page.get_data(as_text=True)
    assert b"wtf-csrf-token" not in signed, signed
    forged = client.post(url, data={"quantity": "1", "address_id": "1", "csrf_token": "not-a-token"})
    assert forged.status_code == 400  # the posted token is still checked


def test_the_session_cookies_serializer_is_built_once_per_set_of_keys(app):
    from itsdangerous import BadSignature

    interface = app.session_interface
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    signed = first.dumps({"_user_id": "1"})
    old, fallbacks = app.secret_key, app.config.get("SECRET_KEY_FALLBACKS")
    app.secret_key = "another secret key for this test only"
    try:
        other = interface.get_signing_serializer(app)
        assert other is not first
        with pytest.raises(BadSignature):
            other.loads(signed)
        app.config["SECRET_KEY_FALLBACKS"] = [old]  # the old key still opens what it signed
        assert interface.get_signing_serializer(app).loads(signed) == {"_user_id": "1"}
    finally:
        app.secret_key = old
        app.config["SECRET_KEY_FALLBACKS"] = fallbacks
    assert interface.get_signing_serializer(app).loads(signed) == {"_user_id": "1"}
