"""Joining through links (issue 3, points 1, 2 and 6): teaser, levels and chains fixed at
sign-up, the depth limit, bad and closed links, abuse rules, honest visit counting."""

from __future__ import annotations

import re

import pytest
from flask import current_app
from sqlalchemy import select

from referrals.models import EventKind, Join, Visit
from referrals.services.visits import VISITOR_COOKIE
from shop.accounts.models import Kind, User
from shop.extensions import db
from tests.conftest import link_in, login, outbox
from tests.referrals.conftest import NEW_PASSWORD, events, footprint, join, mail_body

CONTACT_PRICE, EMPLOYEE_PRICE = "CN¥85.00", "CN¥70.00"


def user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


# ---- the teaser ----------------------------------------------------------------------------


def test_visitor_sees_a_product_teaser_without_prices_and_can_join(client, employee, product):
    response = client.get(f"/p/{product.slug}?ref={employee.referral_code}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Tea Set" in html and "Erin Employee shared this with you." in html
    assert "CN¥" not in html and "/cart/add" not in html and "**Good**" not in html
    assert f'action="/r/{employee.referral_code}"' in html
    assert re.search(r'name="product"[^>]*value="' + product.slug, html)


def test_invite_link_shows_who_invites_and_the_form(client, employee):
    response = client.get(f"/r/{employee.referral_code}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Erin Employee invites you" in html and 'name="password"' in html


def test_product_page_without_ref_still_asks_visitors_to_log_in(client, employee, product):
    response = client.get(f"/p/{product.slug}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# ---- levels and chains ---------------------------------------------------------------------


def test_sign_up_through_an_employee_link_makes_an_l1_contact_who_sees_contact_prices(app, client, employee, product):
    response = join(client, employee.referral_code, "Fay@Gmail.example", product=product.slug)
    assert response.status_code == 200
    assert "fay@gmail.example" in response.get_data(as_text=True)  # check your inbox
    fay = user("fay@gmail.example")
    assert (fay.kind, fay.level, fay.referrer_id, fay.root_employee_id, fay.l1_contact_id) == (
        Kind.contact,
        1,
        employee.id,
        employee.id,
        None,
    )
    assert fay.email_verified_at is None
    joined = db.session.scalar(select(Join).where(Join.user_id == fay.id))
    assert (joined.link_owner_id, joined.product_id, joined.ip) == (employee.id, product.id, "127.0.0.1")
    [signup] = events(EventKind.signup)
    assert (signup.actor_id, signup.link_owner_id, signup.root_employee_id, signup.product_id) == (
        fay.id,
        employee.id,
        employee.id,
        product.id,
    )

    # Not before the e-mailed link is followed; then contact prices.
    login_form = {"email": "fay@gmail.example", "password": NEW_PASSWORD}
    assert client.post_form("/login", login_form).status_code == 422
    [message] = outbox(app)
    assert client.get(link_in(mail_body(message), "/verify/")).status_code == 302
    assert client.post_form("/login", login_form).status_code == 302
    html = client.get(f"/p/{product.slug}").get_data(as_text=True)
    assert f'<span class="price">{CONTACT_PRICE}</span>' in html and EMPLOYEE_PRICE not in html


def test_sign_up_through_an_l1_link_makes_an_l2_contact_of_the_same_chain(client, employee, make_contact):
    l1 = make_contact(employee)
    assert join(client, l1.referral_code, "gus@mail.example").status_code == 200
    gus = user("gus@mail.example")
    assert (gus.level, gus.referrer_id, gus.root_employee_id, gus.l1_contact_id) == (2, l1.id, employee.id, l1.id)
    [signup] = events(EventKind.signup)
    assert (signup.root_employee_id, signup.l1_contact_id, signup.link_owner_id) == (employee.id, l1.id, l1.id)


def test_level_three_is_refused_saying_whom_to_ask_and_the_visit_still_counts(client, employee, make_contact):
    l1 = make_contact(employee, name="Lena One")
    l2 = make_contact(l1, name="Tom Two")
    page = client.get(f"/r/{l2.referral_code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "this link cannot be used to join" in html and "invites you" not in html
    assert "Lena One" not in html  # who invited the L2 contact is not told to a visitor
    assert 'name="password"' not in html
    assert [(v.link_owner_id, v.root_employee_id) for v in events(EventKind.visit)] == [(l2.id, employee.id)]

    before = footprint()
    response = join(client, l2.referral_code, "deep@mail.example")
    assert response.status_code == 422
    assert "Ask an employee you know" in response.get_data(as_text=True)
    assert footprint() == before
    assert user("deep@mail.example") is None


def test_l2_product_link_shows_the_teaser_but_no_form(client, employee, make_contact, product):
    l2 = make_contact(make_contact(employee))
    html = client.get(f"/p/{product.slug}?ref={l2.referral_code}").get_data(as_text=True)
    assert "Tea Set" in html and "cannot be used to join" in html and 'name="password"' not in html
    assert "Join to see" not in html
    assert len(events(EventKind.visit)) == 1


# ---- bad and closed links ------------------------------------------------------------------


@pytest.mark.parametrize("code", ["nope1234", "x", "bad-code!", "a" * 40, "%00", "' OR 1=1 --", "ÄÖÜäöü12"])
def test_unknown_or_malformed_codes_get_a_clear_page(client, employee, product, code):
    for url in (f"/r/{code}", f"/p/{product.slug}?ref={code}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "This link is not valid" in response.get_data(as_text=True)
    before = footprint()
    response = join(client, code, "who@mail.example")
    assert response.status_code == 404
    assert footprint() == before


def test_share_link_of_an_unknown_product_offers_the_invite_instead(client, employee):
    response = client.get(f"/p/no-such-thing?ref={employee.referral_code}")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "not available any more" in html and f'href="/r/{employee.referral_code}"' in html
    assert events(EventKind.visit) == []


def test_empty_ref_on_the_product_page_is_a_bad_link_not_an_error(client, product):
    assert client.get(f"/p/{product.slug}?ref=").status_code == 404


def test_links_of_deactivated_users_count_the_visit_and_refuse_sign_up(client, make_user, product):
    gone = make_user(name="Gone Employee", active=False)
    for url in (f"/r/{gone.referral_code}", f"/p/{product.slug}?ref={gone.referral_code}"):
        response = client.get(url)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "no longer active" in html and 'name="password"' not in html
    assert len(events(EventKind.visit)) == 2  # the invite link and the product link
    before = footprint()
    assert join(client, gone.referral_code, "late@mail.example").status_code == 422
    assert footprint() == before


def test_links_of_unverified_employees_admit_nobody(client, make_user):
    pending = make_user(verified=False)
    before = footprint()
    assert join(client, pending.referral_code, "x@mail.example").status_code == 422
    assert footprint() == before


# ---- abuse ---------------------------------------------------------------------------------


def test_self_referral_is_refused(client, employee):
    before = footprint()
    response = join(client, employee.referral_code, employee.email.upper())
    assert response.status_code == 422
    assert "you cannot invite yourself" in response.get_data(as_text=True)
    assert footprint() == before


def test_members_cannot_join_again_through_a_link(client, employee, make_user):
    other = make_user()
    login(client, other)
    before = footprint()
    response = client.post_form(f"/r/{employee.referral_code}", {"name": "x", "email": "x@mail.example"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert footprint() == before


@pytest.mark.parametrize("email", ["taken@mail.example", "TAKEN@mail.example", "taken+shop@mail.example"])
def test_one_account_per_mailbox(client, employee, make_user, email):
    make_user(kind=Kind.contact, email="taken@mail.example", referrer_id=employee.id, root_employee_id=employee.id)
    before = footprint()
    response = join(client, employee.referral_code, email)
    # The answer of a sign-up ("check your inbox"); the mailbox is told it has an account.
    assert response.status_code == 200 and "Check your inbox" in response.get_data(as_text=True)
    assert footprint() == before | {"mail": before["mail"] + 1}
    [message] = outbox(current_app)
    assert "You already have an account" in message and "/reset" in mail_body(message)


def test_plus_address_taken_blocks_the_plain_one_too(client, employee, make_user):
    make_user(kind=Kind.contact, email="ann+a@mail.example", referrer_id=employee.id, root_employee_id=employee.id)
    before = footprint()
    assert join(client, employee.referral_code, "ann@mail.example").status_code == 200
    assert footprint()["User"] == before["User"]
    assert join(client, employee.referral_code, "anna@mail.example").status_code == 200
    assert footprint()["User"] == before["User"] + 1


def test_company_addresses_sign_up_as_employees_not_contacts(client, employee):
    before = footprint()
    response = join(client, employee.referral_code, "colleague@neigou.example")
    assert response.status_code == 422
    assert "sign up as an employee" in response.get_data(as_text=True)
    assert footprint() == before


@pytest.mark.parametrize(
    "fields",
    [
        {"password": "short", "email": "a@mail.example"},
        {"email": "not-an-email"},
        {"name": "   ", "email": "b@mail.example"},
    ],
)
def test_invalid_forms_re_render_with_422_and_write_nothing(client, employee, fields):
    before = footprint()
    email = fields.pop("email")
    response = join(client, employee.referral_code, email, **fields)
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert footprint() == before


def test_sign_ups_are_rate_limited_per_code(app, client, employee, make_user):
    app.config["RATELIMIT_REFERRAL_SIGNUP_CODE"] = "2 per hour"
    other = make_user()
    try:
        # Refused attempts do not use up the code's sign-ups...
        assert join(client, employee.referral_code, "bad-address").status_code == 422
        assert join(client, employee.referral_code, "one@mail.example").status_code == 200
        assert join(client, employee.referral_code, "two@mail.example").status_code == 200
        before = footprint()
        assert join(client, employee.referral_code, "three@mail.example").status_code == 429
        assert footprint() == before
        # ... and another employee's link is not affected.
        assert join(client, other.referral_code, "four@mail.example").status_code == 200
    finally:
        app.config["RATELIMIT_REFERRAL_SIGNUP_CODE"] = "20 per hour"


def test_sign_up_attempts_are_rate_limited_per_address(app, client, employee, make_user):
    app.config["RATELIMIT_REFERRAL_SIGNUP_IP"] = "3 per hour"
    codes = [make_user().referral_code for _ in range(4)]
    try:
        assert [join(client, code, f"p{n}@mail.example").status_code for n, code in enumerate(codes)] == [
            200,
            200,
            200,
            429,
        ]
        assert user("p3@mail.example") is None
    finally:
        app.config["RATELIMIT_REFERRAL_SIGNUP_IP"] = "20 per hour"


# ---- visits --------------------------------------------------------------------------------


def test_one_visit_per_visitor_link_and_day_with_a_visitor_cookie(client, employee, product):
    response = client.get(f"/r/{employee.referral_code}")
    cookie = client.get_cookie(VISITOR_COOKIE)
    assert cookie is not None and cookie.http_only and "samesite=lax" in response.headers["Set-Cookie"].lower()
    client.get(f"/r/{employee.referral_code}")
    client.get(f"/p/{product.slug}?ref={employee.referral_code}")
    client.get(f"/p/{product.slug}?ref={employee.referral_code}")
    visits = db.session.scalars(select(Visit).order_by(Visit.id)).all()
    assert [(v.visitor, v.product_id) for v in visits] == [
        (f"a:{cookie.value}", None),
        (f"a:{cookie.value}", product.id),
    ]
    assert [e.product_id for e in events(EventKind.visit)] == [None, product.id]
    assert all(e.actor_id is None and e.link_owner_id == employee.id for e in events(EventKind.visit))

    # Another visitor (no cookie) counts once more.
    client.delete_cookie(VISITOR_COOKIE)
    client.get(f"/r/{employee.referral_code}")
    assert len(events(EventKind.visit)) == 3


def test_a_forged_cookie_is_replaced(client, employee):
    client.set_cookie(VISITOR_COOKIE, "<script>")
    client.get(f"/r/{employee.referral_code}")
    assert client.get_cookie(VISITOR_COOKIE).value != "<script>"
    [visit] = db.session.scalars(select(Visit)).all()
    assert visit.visitor != "a:<script>"


def test_earlier_visits_belong_to_the_new_user_after_sign_up(client, employee, make_user, product):
    other = make_user()
    client.get(f"/p/{product.slug}?ref={other.referral_code}")
    client.get(f"/r/{employee.referral_code}")
    assert join(client, employee.referral_code, "vic@mail.example").status_code == 200
    vic = user("vic@mail.example")
    assert sorted(v.link_owner_id for v in db.session.scalars(select(Visit).where(Visit.user_id == vic.id))) == sorted(
        [other.id, employee.id]
    )


def test_members_visits_count_once_a_day_and_owners_own_never(client, employee, make_user, product):
    friend = make_user()
    login(client, friend)
    for _ in range(2):
        assert client.get(f"/p/{product.slug}?ref={employee.referral_code}").status_code == 200
    [visit] = events(EventKind.visit)
    assert (visit.actor_id, visit.link_owner_id) == (friend.id, employee.id)
    login(client, employee)
    client.get(f"/p/{product.slug}?ref={employee.referral_code}")
    client.get(f"/r/{employee.referral_code}")
    assert len(events(EventKind.visit)) == 1
    # A member's bad ref is ignored: the product page still shows.
    assert client.get(f"/p/{product.slug}?ref=nonsense").status_code == 200


def test_cookieless_scripts_cannot_inflate_a_link(app, client, employee):
    app.config["REFERRAL_VISITS_PER_IP_DAY"] = 3
    try:
        for _ in range(6):
            client.delete_cookie(VISITOR_COOKIE)
            client.get(f"/r/{employee.referral_code}")
    finally:
        app.config["REFERRAL_VISITS_PER_IP_DAY"] = 50
    assert len(events(EventKind.visit)) == 3
