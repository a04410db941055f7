"""Headers, cookies, CSRF, error pages and the health check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from shop import create_app
from shop.extensions import db
from tests.conftest import PASSWORD, login


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "<script>" not in response.get_data(as_text=True)  # no inline script under this CSP


def test_session_cookie_is_httponly_and_lax(client, employee):
    response = client.post_form("/login", {"email": employee.email, "password": PASSWORD})
    assert response.status_code == 302
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_config_marks_the_session_cookie_secure(tmp_path, monkeypatch, database_url):
    monkeypatch.setenv("NEIGOU_INSTANCE_PATH", str(tmp_path))
    settings = {"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": database_url, "PUBLIC_URL": "https://shop.example"}
    production = create_app(settings)
    assert production.config["SESSION_COOKIE_SECURE"] is True
    # The remember-me cookie too, and it does not live for Flask-Login's default year.
    assert production.config["REMEMBER_COOKIE_SECURE"] is True
    assert production.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert production.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=14)
    assert production.config["TRUSTED_HOSTS"] == ["shop.example"]
    assert (tmp_path / "secret_key").read_text().strip() == production.config["SECRET_KEY"]
    again = create_app(settings)
    assert again.config["SECRET_KEY"] == production.config["SECRET_KEY"]  # generated once, then kept
    with production.app_context():
        db.engine.dispose()
    with again.app_context():
        db.engine.dispose()


def test_post_without_csrf_token_is_refused(client, employee):
    login(client, employee)
    response = client.post("/logout")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This page has expired" in page and "Reload the page and try again." in page
    assert "The CSRF token is missing" not in page  # Flask-WTF's reason: for developers, English only
    assert client.get("/cart/").status_code == 200  # still logged in


def test_a_form_left_open_across_a_log_out_says_so_in_the_readers_language(client, employee, product):
    """Log in, open a product, log out in another tab, then add to the cart from the first."""
    employee.preferred_locale = "zh_CN"
    db.session.commit()
    login(client, employee)
    token = client.csrf_token(f"/p/{product.slug}")
    client.post_form("/logout")
    client.set_cookie("neigou_locale", "zh_CN")
    response = client.post("/cart/add", data={"variant_id": product.variants[0].id, "quantity": 1, "csrf_token": token})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "页面已过期" in page and "刷新页面" in page and "CSRF session token" not in page


def test_a_text_too_large_is_not_called_a_file(client, employee, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    login(client, employee)
    response = client.post_form("/community/ask", {"title": "x" * 4096})
    assert response.status_code == 413
    assert "What was sent is too large" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("url", "code", "text"),
    [
        ("/no-such-page", 404, "Page not found"),
        ("/ops/", 403, "You may not see this page"),
    ],
)
def test_friendly_error_pages(client, employee, url, code, text):
    login(client, employee)
    response = client.get(url)
    assert response.status_code == code
    assert text in response.get_data(as_text=True)
    assert "Back to the shop" in response.get_data(as_text=True)


def test_method_not_allowed_page(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "Method not allowed" in response.get_data(as_text=True)


def test_server_error_page_hides_the_details(app, client, monkeypatch, employee):
    login(client, employee)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        monkeypatch.setattr(
            "shop.catalog.views.services.featured_products",
            lambda: (_ for _ in ()).throw(RuntimeError("secret detail")),
        )
        response = client.get("/")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body and "secret detail" not in body


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["database"], body["worker"]["status"]) == ("ok", "ok", "missing")


def test_healthz_answers_503_when_the_database_is_down(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_healthz_against_an_unreachable_server(tmp_path, monkeypatch):
    monkeypatch.setenv("NEIGOU_INSTANCE_PATH", str(tmp_path))
    down = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
        }
    )
    with down.app_context():
        response = down.test_client().get("/healthz")
        db.engine.dispose()
    assert response.status_code == 503


def test_times_are_shown_in_the_users_zone(client, employee, product, place):
    from shop.extensions import db as _db

    order = place(employee, product.variants[0], 1)
    utc_hour = order.created_at.hour
    login(client, employee)
    response = client.post_form("/account", {"name": employee.name, "timezone": "America/New_York"})
    assert response.status_code == 302
    _db.session.refresh(employee)
    assert employee.timezone == "America/New_York"
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    new_york_hour = (utc_hour - 5) % 24 if order.created_at.month in (1, 2, 3, 11, 12) else (utc_hour - 4) % 24
    hour_12 = new_york_hour % 12 or 12
    assert f"{hour_12}:{order.created_at.minute:02d}" in page


def test_unknown_time_zone_is_refused(client, employee):
    login(client, employee)
    response = client.post_form("/account", {"name": employee.name, "timezone": "Mars/Olympus"})
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True) or "time zone" in response.get_data(as_text=True)
    db.session.refresh(employee)
    assert employee.timezone is None


def test_mail_and_files_follow_the_transaction(app):
    """Mail goes out only after commit; a picture written for a rolled-back change is removed."""
    import io

    from PIL import Image

    from shop.catalog.images import store_image, upload_dir
    from shop.mail import queue_mail
    from tests.conftest import outbox

    queue_mail("someone@neigou.example", "Rolled back", "never sent")
    png = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(png, "PNG")
    filename, _, _ = store_image(png.getvalue())
    assert (upload_dir() / filename).exists()
    db.session.rollback()
    assert outbox(app) == []
    assert not (upload_dir() / filename).exists()

    queue_mail("someone@neigou.example", "Committed", "sent")
    kept, _, _ = store_image(png.getvalue())
    db.session.commit()
    assert [m for m in outbox(app) if "Subject: Committed" in m]
    assert (upload_dir() / kept).exists()


@pytest.mark.parametrize("zone", ["Factory", "localtime"])
def test_a_zone_the_pages_cannot_show_times_in_is_neither_offered_nor_saved(client, employee, zone):
    """The system's zone database has names pytz (Flask-Babel's converter) does not: saved, they
    broke every page with a time on it."""
    login(client, employee)
    assert f'value="{zone}"' not in client.get("/account").get_data(as_text=True)
    response = client.post_form("/account", {"name": employee.name, "timezone": zone})
    assert response.status_code == 422
    db.session.refresh(employee)
    assert employee.timezone is None


def test_a_zone_saved_before_it_was_refused_falls_back_to_the_companys(client, employee, product, place):
    order = place(employee, product.variants[0], 1)
    employee.timezone = "Factory"
    db.session.commit()
    login(client, employee)
    for path in ("/", "/orders", f"/orders/{order.id}", "/network", "/account"):
        assert client.get(path).status_code == 200, path


def test_a_zone_still_known_but_no_longer_offered_stays_on_the_account_page(client, employee):
    """PRC is an alias of Asia/Shanghai: not offered to new choices, kept for whoever has it."""
    employee.timezone = "PRC"
    db.session.commit()
    login(client, employee)
    page = client.get("/account").get_data(as_text=True)
    assert 'value="PRC" selected' in page or 'selected value="PRC"' in page
    assert client.post_form("/account", {"name": employee.name, "timezone": "PRC"}).status_code == 302
