"""Links that leave the request (issue 17, point 1): every absolute link is built on the configured
PUBLIC_URL, never on the request's Host header, and a request for an unknown host is refused.

The mail tests switch the host check off (``TRUSTED_HOSTS = None``) and forge the Host header,
as an attacker would where a proxy passes any Host through: the mailed link still points at
PUBLIC_URL (testing: http://shop.neigou.test)."""

from __future__ import annotations

import re
from email import message_from_string
from pathlib import Path

import pytest
from sqlalchemy import select

from referrals.models import Lead
from shop import create_app
from shop.accounts.models import Role
from shop.catalog.models import SalesMode
from shop.extensions import db
from tests.conftest import CSRF_RE, PASSWORD, login, outbox
from tests.fixtures.community import make_ticket

PUBLIC = "http://shop.neigou.test"
EVIL = "http://evil.example"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def any_host(app, monkeypatch):
    """The host check off: what a deployment without it would do with a forged Host."""
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", None)


def forged_post(client, url: str, data: dict, *, token_from: str | None = None):
    """A form posted as a browser would on ``evil.example``: the token from a page on that host."""
    page = client.get(token_from or url, base_url=EVIL)
    assert page.status_code == 200, page.status_code
    match = CSRF_RE.search(page.get_data(as_text=True))
    return client.post(url, data={"csrf_token": match.group(1) or match.group(2), **data}, base_url=EVIL)


def links(message: str) -> list[str]:
    body = message_from_string(message).get_payload(decode=True).decode()
    return re.findall(r"https?://[^\s]+", body)


def assert_public_links_only(messages: list[str]) -> None:
    assert messages
    for message in messages:
        found = links(message)
        assert found and all(link.startswith(PUBLIC + "/") for link in found), found
        assert "evil.example" not in message


def test_the_reset_mail_links_to_the_public_url_whatever_the_host(app, client, employee, any_host):
    response = forged_post(client, "/reset", {"email": employee.email})
    assert response.status_code == 302
    assert_public_links_only(outbox(app))
    assert "/reset/" in outbox(app)[0]


def test_the_verification_mail_links_to_the_public_url_whatever_the_host(app, client, any_host):
    data = {"name": "Nora New", "email": "nora@neigou.example", "password": PASSWORD, "confirm": PASSWORD}
    response = forged_post(client, "/signup", data)
    assert response.status_code == 200
    assert_public_links_only(outbox(app))
    assert "/verify/" in outbox(app)[0]


def test_lead_mails_link_to_the_public_url_whatever_the_host(app, client, employee, make_user, make_product, any_host):
    rep = make_user(name="Rep", role=Role.sales)
    product = make_product(name="Water Purifier", sales_mode=SalesMode.lead)
    login(client, employee, base_url=EVIL)
    form = {"customer_name": "Carl", "customer_phone": "+86 139 1234 5678", "need": "A quote", "consent": "y"}
    form |= {"timeline": "quarter", "customer_email": "", "company": "", "budget": ""}
    assert forged_post(client, f"/refer/{product.slug}", form).status_code == 302
    [new_lead_mail] = outbox(app)
    assert_public_links_only([new_lead_mail])
    # The lead-status mail to the referrer, from the rep's page on the forged host.
    lead = db.session.scalar(select(Lead))
    login(client, rep, base_url=EVIL)
    url = f"/sales/leads/{lead.id}"
    assert forged_post(client, url, {"status": "lost", "reason": "No budget"}).status_code == 302
    assert_public_links_only(outbox(app))
    assert len(outbox(app)) == 2


def test_ticket_reply_mails_link_to_the_public_url_whatever_the_host(app, client, employee, operator, any_host):
    ticket = make_ticket(employee, "Where is my parcel?")
    login(client, operator, base_url=EVIL)
    url = f"/community/tickets/{ticket.id}"
    response = forged_post(client, f"{url}/reply", {"body_md": "On its way."}, token_from=url)
    assert response.status_code == 302
    assert_public_links_only(outbox(app))


def test_share_links_and_their_posters_use_the_public_url(client, employee, product, any_host):
    login(client, employee, base_url=EVIL)
    page = client.get(f"/share/p/{product.slug}", base_url=EVIL).get_data(as_text=True)
    assert f"{PUBLIC}/p/{product.slug}?ref={employee.referral_code}" in page and "evil.example" not in page


@pytest.mark.parametrize("method, path", [("GET", "/"), ("GET", "/login"), ("POST", "/reset")])
def test_a_request_for_an_unknown_host_is_refused(app, client, employee, method, path):
    response = client.open(path, method=method, data={"email": employee.email}, base_url=EVIL)
    assert response.status_code == 400
    assert response.get_data(as_text=True) == "This site does not answer for this host name.\n"
    assert outbox(app) == []
    # The configured host and the listed extra ones are served.
    assert client.get("/login", base_url=PUBLIC).status_code == 200
    assert client.get("/login").status_code == 200  # localhost, in the testing EXTRA_TRUSTED_HOSTS


def test_trusted_hosts_come_from_the_public_url_and_the_extra_list(app, tmp_path, monkeypatch, database_url):
    assert app.config["TRUSTED_HOSTS"] == ["shop.neigou.test", "localhost", "127.0.0.1"]
    monkeypatch.setenv("NEIGOU_INSTANCE_PATH", str(tmp_path))
    base = {"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": database_url}
    production = create_app(
        base | {"PUBLIC_URL": "https://shop.example:8443/", "EXTRA_TRUSTED_HOSTS": ["alias.example"]}
    )
    assert production.config["TRUSTED_HOSTS"] == ["shop.example", "alias.example"]
    with production.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("public_url", [None, "", "shop.example", "ftp://shop.example"])
def test_production_refuses_to_start_without_a_public_url(tmp_path, monkeypatch, database_url, public_url):
    monkeypatch.setenv("NEIGOU_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        create_app({"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": database_url, "PUBLIC_URL": public_url})


def test_no_absolute_link_is_built_from_the_request():
    """``url_for(..., _external=True)`` builds on the Host header: ``shop.urls.public_url`` instead."""
    sources = [
        path
        for package in ("shop", "referrals", "community")
        for path in (ROOT / package).rglob("*")
        if path.suffix in (".py", ".html", ".txt") and re.search(r"\b_external\b", path.read_text(encoding="utf-8"))
    ]
    assert sources == []
