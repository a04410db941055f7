"""The caches (shop/caching.py): the storefront's pages, personal parts kept personal, forgotten
after a commit in every process, switched off, counted (off in the other tests)."""

from __future__ import annotations

from shop import caching
from shop.accounts import services as accounts
from shop.catalog import services as catalog
from shop.extensions import db
from tests.conftest import login


def forget_everything():
    caching.forget_all()  # ids come back after each test empties the tables


def test_a_cached_product_page_reads_only_the_user_and_keeps_the_csrf_token_personal(
    caches_on, app, client, make_user, product, statements
):
    first, second = make_user(), make_user()
    url, first_name = f"/p/{product.slug}", first.name
    login(client, first)
    assert client.get(url).status_code == 200  # fills both caches
    statements.clear()
    page = client.get(url).get_data(as_text=True)
    assert [s for s in statements if "SELECT" in s.upper() and "FROM users" not in s] == []
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
    assert all("FROM users" in s for s in statements if "SELECT" in s)  # the user only: the page was kept
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


def test_a_change_is_forgotten_in_every_process_after_the_commit_and_not_before(caches_on, app, redis_url):
    storefront = caching.declare("storefront", "PAGE_CACHE_SECONDS", "")
    app.config["REDIS_URL"] = redis_url
    try:
        with app.test_request_context("/"):
            storefront.set("key", "old")
        storefront.forget_after_commit()  # nothing forgotten until the commit
        with app.test_request_context("/"):
            assert storefront.get("key") == "old"
        db.session.commit()
        with app.test_request_context("/"):
            assert storefront.get("key") is None
            storefront.set("key", "kept by another worker")
        caching.declare("storefront", "PAGE_CACHE_SECONDS", "").forget_everywhere()
        # Another worker: its entries were made under the old generation, which Redis moved on.
        storefront._generation -= 1  # noqa: SLF001 - this process plays the other worker
        with app.test_request_context("/"):
            assert storefront.get("key") is None
    finally:
        app.config["REDIS_URL"] = None


def test_the_switches_turn_a_cache_off(caches_on, app):
    storefront = caching.declare("storefront", "PAGE_CACHE_SECONDS", "")
    assert storefront.get_or_compute("k", lambda: "one") == "one"
    assert storefront.get_or_compute("k", lambda: "two") == "one"
    app.config["CACHES_DISABLED"] = ["storefront"]
    try:
        assert storefront.get_or_compute("k", lambda: "three") == "three"
    finally:
        app.config["CACHES_DISABLED"] = []
    app.config["CACHES_ENABLED"] = False
    assert storefront.get_or_compute("k", lambda: "four") == "four"


def test_operators_see_each_cache_with_its_hits_and_misses(caches_on, client, operator, employee, product):
    login(client, employee)
    client.get(f"/p/{product.slug}")
    client.get(f"/p/{product.slug}")
    login(client, operator)
    page = client.get("/ops/caches").get_data(as_text=True)
    assert "storefront" in page and "hits" in page.lower()
    login(client, employee)
    assert client.get("/ops/caches").status_code == 403


def test_a_member_opening_their_own_invite_link_after_another_page_is_told_they_are_a_member(
    caches_on, client, employee, product
):
    code = employee.referral_code
    login(client, employee)
    assert client.get(f"/p/{product.slug}").status_code == 200
    assert client.get("/").status_code == 200
    response = client.get(f"/r/{code}", follow_redirects=True)
    assert response.status_code == 200
    assert "You are a member already" in response.get_data(as_text=True)


def test_one_request_has_one_copy_of_the_user_whatever_loads_it(caches_on, app, client, employee, product):
    from flask_login import current_user
    from sqlalchemy import select

    from referrals.services import links
    from shop.accounts.models import User
    from shop.accounts.session import load_user

    user_id, login_id, code = employee.id, employee.get_id(), employee.referral_code
    login(client, employee)
    client.get(f"/p/{product.slug}")  # a page kept in the cache, with the user
    with client.session_transaction() as cookie_session:
        cookie = dict(cookie_session)
    with app.test_request_context(f"/r/{code}"):
        from flask import session

        session.update(cookie)
        seen = [
            current_user._get_current_object(),
            load_user(login_id),
            db.session.get(User, user_id),
            db.session.scalar(select(User).where(User.id == user_id)),
            links.owner_by_code(code),
        ]
        assert all(user is seen[0] for user in seen)
        db.session.add(seen[0])  # the copy is the session's own: nothing to attach twice
        db.session.flush()


def test_the_cached_header_shows_each_user_their_own_name_escaped_and_a_new_name_at_once(
    caches_on, app, client, make_user
):
    first = make_user(name="<b>Li & Wang</b>")
    second = make_user(name="Zhao Lei")
    login(client, first)
    page_first = client.get("/").get_data(as_text=True)
    other = app.test_client()
    login(other, second)
    page_second = other.get("/").get_data(as_text=True)
    assert "&lt;b&gt;Li &amp; Wang&lt;/b&gt;" in page_first and "<b>Li" not in page_first
    assert "Zhao Lei" in page_second and "Li &amp; Wang" not in page_second

    first.name = "Li Wei"  # a renamed user sees the new name on the next page
    db.session.commit()
    assert "Li Wei" in client.get("/").get_data(as_text=True)


def test_a_user_taken_from_the_users_cache_is_the_sessions_own_copy(
    caches_on, app, client, employee, product, statements
):
    from flask import session
    from flask_login import current_user

    from referrals.services import links
    from shop.accounts.models import User

    user_id, code, name = employee.id, employee.referral_code, employee.name
    login(client, employee)
    client.get(f"/p/{product.slug}")  # the user's row kept in the users cache
    with client.session_transaction() as cookie_session:
        cookie = dict(cookie_session)
    db.session.remove()  # a request's session of its own, holding nothing yet
    statements.clear()
    with app.test_request_context(f"/r/{code}"):
        session.update(cookie)
        user = current_user._get_current_object()
        assert not any("FROM users" in s for s in statements)  # from the cache
        assert user in db.session and user.name == name
        assert db.session.get(User, user_id) is user
        assert links.owner_by_code(code) is user
        user.name = "Renamed"  # a change made to the copy is flushed like any other
        db.session.commit()
    db.session.remove()
    assert db.session.get(User, user_id).name == "Renamed"
