"""Accounts: sign-up, e-mail verification, log-in, log-out, password reset, rate limits,
open redirects, CSRF, deactivated sessions, and mail that waits for the commit."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from email import message_from_string
from urllib.parse import urlsplit

import pytest
from flask import current_app
from freezegun import freeze_time
from sqlalchemy import func, select

from shop.accounts import services, tokens
from shop.accounts.models import Kind, Role, User
from shop.accounts.views import _safe_next
from shop.extensions import db
from shop.mail import queue_mail
from tests.conftest import PASSWORD, link_in, login, outbox

NEW_PASSWORD = "a brand new secret 7"


# --- helpers ---------------------------------------------------------------------------------


def field_errors(response) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="error">(.*?)</p>', response.get_data(as_text=True))]


def flashes(response) -> list[tuple[str, str]]:
    found = re.findall(r'<p class="flash (\w+)" role="status">(.*?)</p>', response.get_data(as_text=True))
    return [(category, html.unescape(text)) for category, text in found]


def committed_users() -> int:
    """Users that a request committed; what a request left uncommitted is rolled back, as the
    end of a real request would."""
    db.session.rollback()
    return db.session.scalar(select(func.count(User.id)))


def logged_in_as(client) -> str | None:
    """The id of the user this client's session is logged in as (the login id is "id:token")."""
    with client.raw.session_transaction() as session:
        login_id = session.get("_user_id")
    return login_id.partition(":")[0] if login_id else None


def mails() -> list:
    return [message_from_string(text) for text in outbox(current_app)]


def body(message) -> str:
    """The decoded text: long lines are quoted-printable in the .eml, so a link can be split
    there by a soft line break that any mail client removes."""
    return message.get_payload(decode=True).decode()


def _without_tokens(response) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', response.get_data(as_text=True))


def signup_data(**overrides) -> dict:
    data = {"name": "Nora New", "email": "nora@neigou.example", "password": PASSWORD, "confirm": PASSWORD}
    data.update(overrides)
    return data


def tamper(token: str) -> str:
    """The same token with one character in the middle of its signature changed (the last
    character of a base64 signature carries padding bits, so changing it may change nothing)."""
    rest, signature = token.rsplit(".", 1)
    i = len(signature) // 2
    return f"{rest}.{signature[:i]}{'A' if signature[i] != 'A' else 'B'}{signature[i + 1 :]}"


# --- sign-up, verification, log-in, log-out ----------------------------------------------------


def test_signup_verify_login_and_logout_through_the_pages(app, client):
    assert client.get("/signup").status_code == 200
    response = client.post_form("/signup", signup_data(email="Nora.New@NEIGOU.example", name="  Nora New "))
    assert response.status_code == 200
    assert "Check your inbox" in response.get_data(as_text=True)

    user = db.session.scalar(select(User))
    assert (user.email, user.name, user.kind, user.level, user.role) == (
        "nora.new@neigou.example",
        "Nora New",
        Kind.employee,
        0,
        Role.member,
    )
    assert user.email_verified_at is None and user.is_active
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash

    [message] = mails()
    assert message["To"] == "nora.new@neigou.example"
    assert "48 hours" in body(message)
    verify_path = link_in(body(message), "/verify/")

    # Before the link is followed, the log-in is refused with a clear message.
    response = client.post_form("/login", {"email": "nora.new@neigou.example", "password": PASSWORD})
    assert response.status_code == 422
    assert any("Confirm your e-mail address first" in e for e in field_errors(response))
    assert logged_in_as(client) is None

    response = client.get(verify_path, follow_redirects=True)
    assert response.request.path == "/login"
    assert ("success", "Your e-mail address is confirmed. You can log in now.") in flashes(response)
    db.session.refresh(user)
    assert user.email_verified_at is not None

    response = client.post_form("/login", {"email": "NORA.NEW@neigou.example", "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/"
    assert logged_in_as(client) == str(user.id)
    assert client.get("/orders").status_code == 200

    response = client.post_form("/logout", {})
    assert response.status_code == 302
    assert logged_in_as(client) is None
    response = client.get("/orders")
    assert response.status_code == 302 and response.location.startswith("/login")


@pytest.mark.parametrize(
    "address",
    [
        "someone@gmail.com",
        "someone@neigou.example.evil.example",  # the company domain as a prefix of another
        "someone@evilneigou.example",  # ... or as a suffix
        "someone@mail.neigou.example",  # a sub-domain is not on the allow-list
    ],
)
def test_signup_refuses_addresses_outside_the_company_domains(client, address):
    response = client.post_form("/signup", signup_data(email=address))
    assert response.status_code == 422
    assert "Sign-up is open to company e-mail addresses only." in field_errors(response)
    assert committed_users() == 0
    assert outbox(current_app) == []


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"password": "x" * 7, "confirm": "x" * 7}, "Field must be between 8 and 128 characters long."),
        ({"password": "x" * 129, "confirm": "x" * 129}, "Field must be between 8 and 128 characters long."),
        ({"confirm": PASSWORD + "!"}, "The passwords differ."),
        ({"name": "   "}, "This field is required."),
        ({"email": ""}, "This field is required."),
        ({"email": "not-an-email"}, "This is not a valid e-mail address."),
        ({"name": "n" * 121}, "Field cannot be longer than 120 characters."),
    ],
)
def test_signup_with_invalid_fields_rerenders_with_errors_and_writes_nothing(client, overrides, error):
    response = client.post_form("/signup", signup_data(**overrides))
    assert response.status_code == 422
    assert error in field_errors(response)
    assert '<form method="post"' in response.get_data(as_text=True)
    assert committed_users() == 0
    assert outbox(current_app) == []


def test_signup_with_an_existing_address_in_any_case_answers_as_any_sign_up_and_mails_the_owner(client, employee):
    """No account enumeration: the page is the one a new sign-up gets; the owner learns by mail."""
    response = client.post_form("/signup", signup_data(email="ERIN@Neigou.example"))
    fresh = client.post_form("/signup", signup_data(email="nora@neigou.example"))
    assert response.status_code == fresh.status_code == 200
    # The same page but for the address, and the CSRF token (the header's forms), which is signed with the time.
    assert _without_tokens(response).replace("erin@", "nora@") == _without_tokens(fresh)
    assert committed_users() == 2  # Erin, and Nora who is new
    [to_owner, to_nora] = mails()
    assert to_owner["To"] == employee.email and to_owner["Subject"] == "You already have an account"
    assert "/login" in body(to_owner) and "/reset" in body(to_owner)
    assert to_nora["Subject"] == "Confirm your e-mail address"


def test_signup_again_before_confirming_sends_the_confirmation_again(client, make_user):
    user = make_user(email="nora@neigou.example", verified=False)
    response = client.post_form("/signup", signup_data())
    assert response.status_code == 200 and committed_users() == 1
    [message] = mails()
    assert message["To"] == user.email and message["Subject"] == "Confirm your e-mail address"


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("", False),
        (None, False),
        ("k7#Qp2v", False),
        ("k7#Qp2vL", True),
        (("mZ4$rX8&" * 16)[:128], True),
        (("mZ4$rX8&" * 17)[:129], False),
    ],
)
def test_password_length_rule_is_8_to_128_characters(password, ok):
    if ok:
        services.check_password_rules(password)
    else:
        with pytest.raises(services.AccountError, match="8 to 128"):
            services.check_password_rules(password)


def test_register_employee_rejects_a_long_password_before_hashing():
    with pytest.raises(services.AccountError, match="8 to 128"):
        services.register_employee("nora@neigou.example", "Nora", "x" * 129)
    assert committed_users() == 0


def test_signup_page_of_a_logged_in_user_goes_home(client, employee):
    login(client, employee)
    response = client.get("/signup")
    assert response.status_code == 302 and response.location == "/"


# --- verification links ------------------------------------------------------------------------


def test_verification_link_works_once(client, make_user):
    user = make_user(verified=False)
    token = tokens.make_token(user, tokens.VERIFY)
    client.get(f"/verify/{token}")
    db.session.refresh(user)
    verified_at = user.email_verified_at
    assert verified_at is not None

    response = client.get(f"/verify/{token}", follow_redirects=True)
    assert ("error", "This confirmation link is invalid, used or expired.") in flashes(response)
    db.session.refresh(user)
    assert user.email_verified_at == verified_at


@pytest.mark.parametrize(
    "make_bad_token",
    [
        lambda user: tamper(tokens.make_token(user, tokens.VERIFY)),
        lambda user: tokens.make_token(user, tokens.RESET),  # a reset link is no confirmation link
        lambda user: "not-a-token",
    ],
)
def test_tampered_or_foreign_verification_link_is_refused(client, make_user, make_bad_token):
    user = make_user(verified=False)
    response = client.get(f"/verify/{make_bad_token(user)}", follow_redirects=True)
    assert response.request.path == "/login"
    assert ("error", "This confirmation link is invalid, used or expired.") in flashes(response)
    db.session.refresh(user)
    assert user.email_verified_at is None


def test_verification_link_expires_after_the_configured_age(client, make_user):
    user = make_user(verified=False)
    with freeze_time("2030-03-01 12:00:00"):
        token = tokens.make_token(user, tokens.VERIFY)
    with freeze_time("2030-03-03 12:00:01"):  # 48 hours and a second later
        response = client.get(f"/verify/{token}", follow_redirects=True)
        assert ("error", "This confirmation link is invalid, used or expired.") in flashes(response)
    db.session.refresh(user)
    assert user.email_verified_at is None
    with freeze_time("2030-03-03 11:59:00"):  # the same link, within its 48 hours
        client.get(f"/verify/{token}")
    db.session.refresh(user)
    assert user.email_verified_at is not None


def test_verification_max_age_comes_from_the_config(app, make_user, monkeypatch):
    user = make_user(verified=False)
    monkeypatch.setitem(app.config, "EMAIL_TOKEN_MAX_AGE", timedelta(minutes=10))
    with freeze_time("2030-03-01 12:00:00"):
        token = tokens.make_token(user, tokens.VERIFY)
    with freeze_time("2030-03-01 12:11:00"), pytest.raises(services.AccountError, match="expired"):
        services.verify_email(token)


# --- log-in -------------------------------------------------------------------------------------


def test_wrong_password_and_unknown_address_get_the_same_answer(client, employee):
    wrong_password = client.post_form("/login", {"email": employee.email, "password": "not the password"})
    unknown = client.post_form("/login", {"email": "nobody@neigou.example", "password": PASSWORD})
    for response in (wrong_password, unknown):
        assert response.status_code == 422
        assert field_errors(response) == ["Wrong e-mail or password."]
    assert logged_in_as(client) is None


def test_deactivated_user_cannot_log_in(client, make_user):
    user = make_user(active=False)
    response = client.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 422
    assert "This account has been deactivated. Ask an administrator." in field_errors(response)
    assert logged_in_as(client) is None


def test_unverified_user_cannot_log_in(client, make_user):
    user = make_user(verified=False)
    response = client.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 422
    assert any("Confirm your e-mail address first" in e for e in field_errors(response))
    assert logged_in_as(client) is None


@pytest.mark.parametrize(
    "data",
    [
        {"email": "", "password": PASSWORD},
        {"email": "erin@neigou.example", "password": ""},
        {"email": "erin@neigou.example", "password": "x" * 129},
    ],
)
def test_login_form_with_invalid_fields_rerenders_with_errors(client, employee, data):
    response = client.post_form("/login", data)
    assert response.status_code == 422
    assert field_errors(response)
    assert logged_in_as(client) is None


def test_login_follows_a_local_next_page(client, employee):
    response = client.post_form("/login?next=/orders", {"email": employee.email, "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/orders"


def test_login_never_redirects_off_site(client, employee):
    # More hostile targets are checked against _safe_next below, without the cost of a log-in each.
    response = client.post_form("/login?next=//evil.example", {"email": employee.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.location == "/"
    assert logged_in_as(client) == str(employee.id)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "///evil.example",
        "//evil.example/path",
        "https://evil.example",
        "http:evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "evil.example",
        "",
        None,
    ],
)
def test_safe_next_refuses_anything_that_leaves_the_site(app, target):
    with app.test_request_context():
        assert _safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/orders", "/p/tea-set?ref=abc", "/c/home#top"])
def test_safe_next_keeps_local_paths(app, target):
    with app.test_request_context():
        assert _safe_next(target) == target


def test_a_backslash_in_next_does_not_lead_off_site(client, employee):
    # _safe_next lets "/\evil.example" through, and browsers read a backslash as "/"; what saves it is
    # that Werkzeug percent-encodes the backslash in the Location header. This test keeps that true.
    response = client.post_form("/login?next=/%5Cevil.example", {"email": employee.email, "password": PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "\\" not in location
    assert urlsplit(location.replace("\\", "/")).netloc in ("", "localhost")
    assert not location.startswith("//")


def test_login_is_rate_limited_per_address(client, employee):
    token = client.csrf_token()
    for n in range(10):  # RATELIMIT_LOGIN: 10 per minute (other accounts each: not the per-account limit)
        response = client.post(
            "/login", data={"csrf_token": token, "email": f"nobody{n}@neigou.example", "password": "x"}
        )
        assert response.status_code == 422
    response = client.post("/login", data={"csrf_token": token, "email": employee.email, "password": PASSWORD})
    assert response.status_code == 429
    assert logged_in_as(client) is None
    # Another client address is not held back by this one.
    other = client.post(
        "/login",
        data={"csrf_token": token, "email": "nobody@neigou.example", "password": "x"},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert other.status_code == 422
    # Pages are not rate-limited, only attempts.
    assert client.get("/login").status_code == 200


def test_password_reset_request_is_rate_limited(client):
    token = client.csrf_token("/reset")
    for _ in range(5):  # RATELIMIT_RESET: 5 per hour
        assert client.post("/reset", data={"csrf_token": token, "email": "nobody@neigou.example"}).status_code == 302
    assert client.post("/reset", data={"csrf_token": token, "email": "nobody@neigou.example"}).status_code == 429


def test_setting_a_new_password_by_link_is_rate_limited(client, employee):
    old_hash = employee.password_hash
    token = client.csrf_token("/reset")
    data = {"csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    for _ in range(5):  # guessing links: RATELIMIT_RESET, 5 per hour
        assert client.post("/reset/not-a-token", data=data).status_code == 302
    good_link = f"/reset/{tokens.make_token(employee, tokens.RESET)}"
    assert client.post(good_link, data=data).status_code == 429
    db.session.rollback()
    assert employee.password_hash == old_hash


# --- log-out and CSRF ---------------------------------------------------------------------------


def test_logout_needs_a_post_with_a_csrf_token(client, employee):
    login(client, employee)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert logged_in_as(client) == str(employee.id)
    response = client.post_form("/logout", {}, follow_redirects=True)
    assert ("info", "You are logged out.") in flashes(response)
    assert logged_in_as(client) is None


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/login", {"email": "erin@neigou.example", "password": PASSWORD}),
        ("/signup", signup_data()),
        ("/reset", {"email": "erin@neigou.example"}),
    ],
)
def test_posts_without_a_csrf_token_are_refused(client, employee, url, data):
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert logged_in_as(client) is None
    assert committed_users() == 1
    assert outbox(current_app) == []


def test_posts_with_a_wrong_csrf_token_are_refused(client, employee):
    client.get("/login")
    response = client.post("/login", data={"csrf_token": "forged", "email": employee.email, "password": PASSWORD})
    assert response.status_code == 400
    assert logged_in_as(client) is None


# --- password reset -----------------------------------------------------------------------------


def test_password_reset_through_the_mailed_link(app, client, employee):
    old_hash = employee.password_hash
    response = client.post_form("/reset", {"email": "Erin@NEIGOU.example"}, follow_redirects=True)
    assert response.request.path == "/login"
    assert ("info", "If this address has an account, a reset link is on its way.") in flashes(response)
    [message] = mails()
    assert message["To"] == employee.email and message["Subject"] == "Reset your password"
    reset_path = link_in(body(message), "/reset/")

    assert client.get(reset_path).status_code == 200
    mismatch = client.post_form(reset_path, {"password": NEW_PASSWORD, "confirm": "something else"})
    assert mismatch.status_code == 422 and "The passwords differ." in field_errors(mismatch)
    db.session.rollback()
    assert employee.password_hash == old_hash

    response = client.post_form(reset_path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, follow_redirects=True)
    assert response.request.path == "/login"
    assert ("success", "Your password is set. Log in with it now.") in flashes(response)
    db.session.refresh(employee)
    new_hash = employee.password_hash
    assert new_hash != old_hash and new_hash.startswith("scrypt:")

    # The link is used up: the second try is refused and changes nothing.
    again = client.post_form(
        reset_path, {"password": "yet another secret", "confirm": "yet another secret"}, follow_redirects=True
    )
    assert again.request.path == "/reset"
    assert ("error", "This reset link is invalid, used or expired.") in flashes(again)
    db.session.refresh(employee)
    assert employee.password_hash == new_hash

    response = client.post_form("/login", {"email": employee.email, "password": NEW_PASSWORD})
    assert response.status_code == 302 and logged_in_as(client) == str(employee.id)


@pytest.mark.parametrize("address", ["nobody@neigou.example", "not an address", "gone@neigou.example"])
def test_reset_request_answers_the_same_and_mails_nothing_for_unknown_or_deactivated(client, make_user, address):
    make_user(email="gone@neigou.example", active=False)
    response = client.post_form("/reset", {"email": address}, follow_redirects=True)
    assert response.request.path == "/login"
    assert ("info", "If this address has an account, a reset link is on its way.") in flashes(response)
    assert outbox(current_app) == []


def test_reset_request_with_an_empty_address_rerenders(client):
    response = client.post_form("/reset", {"email": ""}, token_from="/reset")
    assert response.status_code == 422
    assert "This field is required." in field_errors(response)


@pytest.mark.parametrize(
    "make_bad_token",
    [
        lambda user: tamper(tokens.make_token(user, tokens.RESET)),
        lambda user: tokens.make_token(user, tokens.VERIFY),  # a confirmation link cannot set a password
    ],
)
def test_tampered_or_foreign_reset_link_is_refused(client, employee, make_bad_token):
    old_hash = employee.password_hash
    response = client.post_form(
        f"/reset/{make_bad_token(employee)}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, follow_redirects=True
    )
    assert response.request.path == "/reset"
    assert ("error", "This reset link is invalid, used or expired.") in flashes(response)
    db.session.rollback()
    assert employee.password_hash == old_hash


def test_reset_link_expires_after_two_hours(client, employee):
    old_hash = employee.password_hash
    with freeze_time("2030-03-01 12:00:00"):
        token = tokens.make_token(employee, tokens.RESET)
    with freeze_time("2030-03-01 14:00:01"):
        response = client.post_form(
            f"/reset/{token}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, follow_redirects=True
        )
        assert ("error", "This reset link is invalid, used or expired.") in flashes(response)
    db.session.rollback()
    assert employee.password_hash == old_hash


@pytest.mark.parametrize("password", ["short", "x" * 129])
def test_reset_form_with_a_bad_password_rerenders_and_keeps_the_old_one(client, employee, password):
    old_hash = employee.password_hash
    token = tokens.make_token(employee, tokens.RESET)
    response = client.post_form(f"/reset/{token}", {"password": password, "confirm": password})
    assert response.status_code == 422
    assert "Field must be between 8 and 128 characters long." in field_errors(response)
    db.session.rollback()
    assert employee.password_hash == old_hash


def test_reset_of_a_bad_password_through_the_service_is_refused_before_anything_changes(employee):
    old_hash = employee.password_hash
    token = tokens.make_token(employee, tokens.RESET)
    with pytest.raises(services.AccountError, match="8 to 128"):
        services.reset_password(token, "short")
    assert employee.password_hash == old_hash


def test_reset_confirms_an_unconfirmed_address(make_user):
    user = make_user(verified=False)
    services.reset_password(tokens.make_token(user, tokens.RESET), NEW_PASSWORD)
    db.session.commit()
    assert user.email_verified_at is not None
    assert services.authenticate(user.email, NEW_PASSWORD) is user


# --- sessions of deactivated users -----------------------------------------------------------


def test_session_of_a_deactivated_user_stops_working(client, employee, admin):
    login(client, employee)
    assert client.get("/orders").status_code == 200
    services.deactivate(admin, employee, "left the company")
    db.session.commit()
    response = client.get("/orders")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert client.get("/cart/").status_code == 302
    # The landing page treats them as anonymous: no shop, no name in the header.
    page = client.get("/").get_data(as_text=True)
    assert employee.name not in page and "Log out" not in page


# --- roles ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "operator", "sales", "admin"),
    [
        (Role.member, False, False, False),
        (Role.operator, True, False, False),
        (Role.sales, False, True, False),
        (Role.admin, True, True, True),
    ],
)
def test_roles_grant_what_they_name_and_admin_everything(role, operator, sales, admin):
    user = User(email="x@neigou.example", name="X", role=role, kind=Kind.employee)
    assert (user.is_operator, user.is_sales, user.is_admin) == (operator, sales, admin)


# --- mail waits for the commit ----------------------------------------------------------------


def test_mail_queued_in_a_rolled_back_transaction_is_never_written(app, employee):
    queue_mail("erin@neigou.example", "Never", "This must not be sent.")
    employee.name = "Changed"
    db.session.flush()
    assert outbox(app) == []
    db.session.rollback()
    assert outbox(app) == []
    # A later transaction that commits does not pick the dropped mail up.
    employee.name = "Erin Again"
    db.session.commit()
    assert outbox(app) == []


def test_mail_is_written_as_eml_only_once_the_transaction_commits(app, employee):
    queue_mail("erin@neigou.example", "Hello", "Body text")
    assert outbox(app) == []
    db.session.commit()
    [text] = outbox(app)
    message = message_from_string(text)
    assert (message["To"], message["Subject"]) == ("erin@neigou.example", "Hello")
    assert message["From"] == app.config["MAIL_SENDER"]
    assert body(message).strip() == "Body text"
    db.session.commit()  # a second commit does not send it again
    assert len(outbox(app)) == 1


def test_mail_survives_a_rolled_back_savepoint_of_its_transaction(app):
    queue_mail("erin@neigou.example", "Kept", "Queued before the savepoint.")
    savepoint = db.session.begin_nested()
    savepoint.rollback()
    db.session.commit()
    assert [message_from_string(t)["Subject"] for t in outbox(app)] == ["Kept"]


def test_sign_up_rolled_back_sends_no_confirmation(app):
    with app.test_request_context():
        services.register_employee("nora@neigou.example", "Nora", PASSWORD)
    db.session.rollback()
    assert committed_users() == 0
    assert outbox(app) == []


def test_mail_goes_by_smtp_when_a_server_is_configured(app, monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            sent.append(("starttls",))

        def login(self, user, password):
            sent.append(("login", user, password))

        def send_message(self, message):
            sent.append(("send", message["To"], message["Subject"]))

    monkeypatch.setattr("shop.mail.smtplib.SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.neigou.example")
    monkeypatch.setitem(app.config, "MAIL_USERNAME", "mailer")
    monkeypatch.setitem(app.config, "MAIL_PASSWORD", "pw")
    queue_mail("erin@neigou.example", "Hi", "Body")
    assert sent == []
    db.session.commit()
    assert sent == [
        ("connect", "smtp.neigou.example", 587),
        ("starttls",),
        ("login", "mailer", "pw"),
        ("send", "erin@neigou.example", "Hi"),
    ]
    assert outbox(app) == []
