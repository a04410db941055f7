"""Revocable sessions (issue 17, point 2): the login id in the session and remember-me cookies
carries the user's session token, and rotating the token refuses every cookie written before:
after log-out, password change and reset, deactivation, role change and "log out everywhere".
Each case runs with the caches off and on (as in production): with no user, session or CSRF
cache left (shop/caching.py keeps the storefront's only), a rotated token is refused at once."""

from __future__ import annotations

import re

import pytest

from shop import caching
from shop.accounts import tokens
from shop.accounts.models import Role
from shop.extensions import db
from tests.conftest import CSRF_RE, PASSWORD, login

NEW_PASSWORD = "a brand new secret 7"


def _caches_on(app, on: bool) -> None:
    app.config["CACHES_ENABLED"] = on  # the testing config has them off
    caching.forget_all()


@pytest.fixture(params=["caches off", "caches on"])
def caches(request, app):
    _caches_on(app, request.param == "caches on")
    yield request.param
    _caches_on(app, False)


def cookie(client, name: str) -> str:
    found = client.get_cookie(name)
    assert found is not None, f"no {name} cookie"
    return found.value


class Stolen:
    """A copy of the victim's cookies (session and remember-me) in another browser."""

    def __init__(self, app, victim):
        self.session_cookie = cookie(victim, app.config["SESSION_COOKIE_NAME"])
        self.remember_cookie = cookie(victim, app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
        self.app = app

    def browser(self, *, session: bool = True, remember: bool = True):
        other = self.app.test_client()
        if session:
            other.set_cookie(self.app.config["SESSION_COOKIE_NAME"], self.session_cookie)
        if remember:
            other.set_cookie(self.app.config.get("REMEMBER_COOKIE_NAME", "remember_token"), self.remember_cookie)
        return other

    def works(self, **which) -> bool:
        """Whether this copy still opens the account page (and a post with its CSRF token)."""
        browser = self.browser(**which)
        page = browser.get("/account")
        if page.status_code != 200:
            assert page.status_code == 302 and page.location.startswith("/login")
            return False
        token = CSRF_RE.search(page.get_data(as_text=True))
        response = browser.post(
            "/account", data={"csrf_token": token.group(1) or token.group(2), "name": "Mallory", "timezone": "UTC"}
        )
        return response.status_code == 302 and response.location == "/account"

    def refused_everywhere(self) -> bool:
        return not any(
            self.works(session=session, remember=remember) for session, remember in ((True, False), (False, True))
        )


def log_in_remembered(client, user, password: str = PASSWORD) -> None:
    response = client.post_form("/login", {"email": user.email, "password": password, "remember": "y"})
    assert response.status_code == 302


@pytest.fixture
def victim(app, client, employee, caches):
    log_in_remembered(client, employee)
    stolen = Stolen(app, client)
    assert stolen.works(session=True, remember=False) and stolen.works(session=False, remember=True)
    db.session.refresh(employee)
    assert employee.name == "Mallory"  # the copies worked, before
    return stolen


def test_the_login_id_is_the_user_and_their_session_token(client, employee):
    assert employee.get_id() == f"{employee.id}:{employee.session_token}" and len(employee.session_token) >= 16
    log_in_remembered(client, employee)
    with client.session_transaction() as session:
        assert session["_user_id"] == employee.get_id()


def test_old_cookies_are_refused_after_log_out(client, employee, victim):
    assert client.post_form("/logout", {}).status_code == 302
    assert victim.refused_everywhere()


def test_old_cookies_are_refused_after_log_out_everywhere(client, employee, victim):
    page = client.get("/account").get_data(as_text=True)
    assert "Log out everywhere" in page
    response = client.post_form("/account/logout-everywhere", {}, token_from="/account")
    assert response.status_code == 302 and response.location == "/login"
    assert victim.refused_everywhere()
    assert client.get("/account").status_code == 302  # this browser too


def test_log_out_everywhere_needs_a_csrf_token(client, employee, caches):
    login(client, employee)
    token_before = employee.session_token
    assert client.post("/account/logout-everywhere").status_code == 400
    assert client.get("/account/logout-everywhere").status_code == 405
    db.session.refresh(employee)
    assert employee.session_token == token_before


def test_old_cookies_are_refused_after_a_password_reset(app, client, employee, victim):
    link = f"/reset/{tokens.make_token(employee, tokens.RESET)}"
    response = app.test_client().post_form(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, token_from=link)
    assert response.status_code == 302 and response.location == "/login"
    assert victim.refused_everywhere()
    assert client.get("/account").status_code == 302


def test_old_cookies_are_refused_after_a_password_change_but_this_session_goes_on(client, employee, victim):
    data = {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    response = client.post_form("/account/password", data, token_from="/account")
    assert response.status_code == 302 and response.location == "/account"
    assert victim.refused_everywhere()
    assert client.get("/account").status_code == 200  # the browser that changed it stays logged in
    db.session.refresh(employee)
    assert employee.check_password(NEW_PASSWORD)


def test_a_password_change_needs_the_current_password(client, employee, caches):
    login(client, employee)
    data = {"current": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    response = client.post_form("/account/password", data, token_from="/account")
    assert response.status_code == 422 and "Your current password is not this one." in response.get_data(as_text=True)
    db.session.refresh(employee)
    assert employee.check_password(PASSWORD)


def admin_posts(app, admin, employee, what: str, data: dict):
    admin_client = login(app.test_client(), admin)
    page = f"/admin/users/{employee.id}"
    response = admin_client.post_form(f"{page}/{what}", data, token_from=page)
    assert response.status_code == 302 and response.location == page


def test_old_cookies_are_refused_after_deactivation(app, admin, employee, victim):
    admin_posts(app, admin, employee, "active", {"active": "0", "reason": "left"})
    db.session.refresh(employee)
    assert not employee.is_active
    # Reactivated at once: the cookies taken before stay refused all the same.
    admin_posts(app, admin, employee, "active", {"active": "1", "reason": "back"})
    db.session.refresh(employee)
    assert employee.is_active
    assert victim.refused_everywhere()


def test_old_cookies_are_refused_after_a_role_change(app, admin, employee, victim):
    admin_posts(app, admin, employee, "role", {"role": Role.operator.value})
    db.session.refresh(employee)
    assert employee.role == Role.operator
    assert victim.refused_everywhere()


def test_a_login_id_without_its_token_or_of_another_user_is_refused(client, employee, make_user, caches):
    other = make_user()
    for forged in (str(employee.id), f"{employee.id}:", f"{employee.id}:{other.session_token}", "1" * 40 + ":x"):
        with client.session_transaction() as session:
            session["_user_id"] = forged
        assert client.get("/account").status_code == 302, forged


def test_log_in_starts_a_new_session_with_a_new_csrf_token(client, employee, caches):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        before = session["csrf_token"]
    log_in_remembered(client, employee)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") in (None,) or session["csrf_token"] != before
    page = client.get("/account").get_data(as_text=True)
    with client.session_transaction() as session:
        assert session["csrf_token"] != before
    assert re.search(r'name="csrf_token"', page)


def test_a_whole_page_cached_for_the_user_is_not_served_to_an_old_cookie(app, client, employee, product):
    """Storefront pages are served from the cache by the session cookie alone (caches on, as in
    production): after log-out the old cookie gets the landing page, not the user's home."""
    _caches_on(app, True)
    try:
        log_in_remembered(client, employee)
        stolen = Stolen(app, client)
        for _ in range(2):  # the second one from the cache
            assert employee.name in client.get("/").get_data(as_text=True)
        other = stolen.browser(remember=False)
        assert employee.name in other.get("/").get_data(as_text=True)
        assert client.post_form("/logout", {}).status_code == 302
        for which in ({"remember": False}, {"session": False}):
            page = stolen.browser(**which).get("/").get_data(as_text=True)
            assert employee.name not in page
    finally:
        _caches_on(app, False)
