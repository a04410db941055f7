"""Which language a page and a mail are in (issue 21): the user's saved choice beats the
browser's Accept-Language, which beats BABEL_DEFAULT_LOCALE (zh_CN for a new install); the
switch in the header and on the account page keeps the choice for members (on their account)
and for visitors (a cookie); mail is written in the recipient's language, not the sender's."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, date, datetime

import pytest
from babel.dates import get_datetime_format
from flask import current_app
from flask_babel import format_date, format_time, get_locale
from sqlalchemy import select

from shop.accounts.models import Role, User
from shop.config import CONFIGS
from shop.extensions import db
from shop.i18n import LOCALE_COOKIE, format_money, local_date, local_datetime
from shop.orders.lifecycle import mark_shipped
from tests.conftest import PASSWORD, login, outbox
from tests.test_fulfilment import paid

ZH = "zh-CN,zh;q=0.9"
EN = "en-US,en;q=0.9"


def lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match, "not a page"
    return match.group(1)


def messages() -> list[email.message.EmailMessage]:
    return [email.message_from_string(raw, policy=email.policy.default) for raw in outbox(current_app)]


@pytest.fixture
def chinese_default(monkeypatch, app):
    """The default of a new install (the suite reads its pages in English)."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "zh_CN")


def test_a_new_install_speaks_chinese_with_english_one_click_away():
    assert CONFIGS["production"].BABEL_DEFAULT_LOCALE == "zh_CN"
    assert CONFIGS["production"].LANGUAGES == ["zh_CN", "en"]


def test_without_a_choice_or_a_browser_language_the_default_decides(client, chinese_default):
    page = client.get("/login")
    assert lang(page) == "zh-CN" and "登录" in page.get_data(as_text=True)


def test_the_browser_language_beats_the_default(client, chinese_default):
    assert lang(client.get("/login", headers={"Accept-Language": EN})) == "en"
    assert lang(client.get("/login", headers={"Accept-Language": "fr-FR, en;q=0.5"})) == "en"
    # A script or region we have no catalogue for counts as its language.
    assert lang(client.get("/login", headers={"Accept-Language": "zh-Hans-CN"})) == "zh-CN"
    assert lang(client.get("/login", headers={"Accept-Language": "zh-TW, en;q=0.5"})) == "zh-CN"


def test_a_language_nobody_asked_for_falls_back_to_the_default(client, chinese_default):
    assert lang(client.get("/login", headers={"Accept-Language": "fr-FR, de;q=0.5"})) == "zh-CN"


def test_the_saved_preference_beats_the_browser(client, make_user):
    chinese = make_user(preferred_locale="zh_CN")
    login(client, chinese)
    page = client.get("/account", headers={"Accept-Language": EN})
    assert lang(page) == "zh-CN" and "我的账户" in page.get_data(as_text=True)


def test_the_switch_is_offered_in_the_header_to_visitors_and_members_and_on_the_account_page(client, employee):
    for path in ("/", "/login", "/signup"):
        html = client.get(path).get_data(as_text=True)
        assert 'action="/language"' in html and 'value="zh_CN"' in html and ">中文<" in html, path
    login(client, employee)
    account = client.get("/account").get_data(as_text=True)
    assert account.count('action="/language"') == 2  # the header's and the account page's
    assert 'lang="en" class="link" aria-current="true" disabled>English<' in account


def test_a_visitors_choice_persists_in_a_cookie_and_beats_the_browser(client):
    token = client.csrf_token("/signup")
    response = client.post(
        "/language",
        data={"csrf_token": token, "locale": "zh_CN"},
        headers={"Referer": "http://localhost/signup?next=%2Fcart%2F"},
    )
    assert response.status_code == 302 and response.location == "/signup?next=%2Fcart%2F"
    cookie = client.get_cookie(LOCALE_COOKIE)
    assert cookie.value == "zh_CN" and cookie.http_only
    assert "samesite=lax" in response.headers["Set-Cookie"].lower()
    page = client.get("/signup", headers={"Accept-Language": EN})
    assert lang(page) == "zh-CN" and "员工注册" in page.get_data(as_text=True)
    assert db.session.scalar(select(User)) is None  # nothing written for a visitor


def test_a_members_choice_is_saved_on_the_account_and_follows_them_to_another_device(app, client, employee):
    login(client, employee)
    response = client.post_form("/language", {"locale": "zh_CN"}, headers={"Referer": "http://localhost/orders"})
    assert response.status_code == 302 and response.location == "/orders"
    db.session.refresh(employee)
    assert employee.preferred_locale == "zh_CN"

    phone = app.test_client()  # another browser, which asks for English
    login(phone, employee)
    assert lang(phone.get("/orders", headers={"Accept-Language": EN})) == "zh-CN"

    client.post_form("/language", {"locale": "en"})
    db.session.refresh(employee)
    assert employee.preferred_locale == "en"
    assert lang(phone.get("/orders", headers={"Accept-Language": ZH})) == "en"


def test_a_visitors_choice_becomes_the_members_at_log_in_unless_they_have_one(client, make_user):
    newcomer = make_user(email="nina@neigou.example")
    settled = make_user(email="sam@neigou.example", preferred_locale="en")
    for user in (newcomer, settled):
        client.set_cookie(LOCALE_COOKIE, "zh_CN")
        response = client.post_form("/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 302
        client.post_form("/logout", {})
    db.session.refresh(newcomer)
    db.session.refresh(settled)
    assert (newcomer.preferred_locale, settled.preferred_locale) == ("zh_CN", "en")


@pytest.mark.parametrize("value", ["fr", "", "zh_CN\x00", "x" * 300])
def test_a_language_not_offered_is_refused_and_changes_nothing(client, employee, value):
    login(client, employee)
    response = client.post_form("/language", {"locale": value})
    assert response.status_code == 400
    assert LOCALE_COOKIE not in response.headers.get("Set-Cookie", "")
    db.session.refresh(employee)
    assert employee.preferred_locale is None


def test_the_switch_goes_back_only_to_a_page_of_this_site(client):
    token = client.csrf_token("/login")
    for referrer in ("https://evil.example/login", "http://localhost//evil.example/", None):
        headers = {"Referer": referrer} if referrer else {}
        response = client.post("/language", data={"csrf_token": token, "locale": "en"}, headers=headers)
        assert response.status_code == 302 and response.location == "/", referrer


def test_the_switch_needs_a_csrf_token(client):
    assert client.post("/language", data={"locale": "zh_CN"}).status_code == 400
    assert client.get_cookie(LOCALE_COOKIE) is None


def test_dates_times_and_money_follow_the_language(app):
    moment = datetime(2026, 12, 6, 7, 41, tzinfo=UTC)  # 15:41 in Shanghai
    # Each in its own app context, as each request has (Flask-Babel keeps the locale on ``g``).
    with app.app_context(), app.test_request_context(headers={"Accept-Language": ZH}):
        assert (local_datetime(moment), format_money(18445)) == ("2026年12月6日 15:41", "¥184.45")
    with app.app_context(), app.test_request_context(headers={"Accept-Language": EN}):
        assert local_datetime(moment) == "Dec 6, 2026, 3:41\u202fPM"


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "UTC"])
def test_a_moment_is_written_as_its_date_and_time_in_the_viewers_zone(app, zone, monkeypatch):
    """``local_datetime`` converts once and writes the date and the time in the locale's
    pattern: the same text as Flask-Babel's own date and time of the moment, on either side of
    midnight and of a daylight-saving change."""
    moments = [
        datetime(2026, 12, 6, 15, 59, tzinfo=UTC),
        datetime(2026, 12, 6, 16, 0, tzinfo=UTC),
        datetime(2026, 3, 8, 6, 59, tzinfo=UTC),  # 01:59 in New York, before the clocks go forward
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # 03:00 after
        datetime(2026, 3, 8, 7, 0),  # naive: UTC
    ]
    monkeypatch.setitem(app.config, "DEFAULT_TIMEZONE", zone)
    for language in (ZH, EN):
        with app.app_context(), app.test_request_context(headers={"Accept-Language": language}):
            pattern = get_datetime_format("medium", locale=get_locale())
            for moment in moments:
                expected = pattern.replace("{1}", format_date(moment, "medium"))
                assert local_datetime(moment) == expected.replace("{0}", format_time(moment, "short"))


def test_a_moment_is_written_as_the_day_it_fell_on_in_the_viewers_zone(app, monkeypatch):
    """``local_date`` of a UTC moment (a member's "joined on"): the viewer's day, not UTC's."""
    late = datetime(2026, 12, 6, 16, 30)  # naive UTC: 00:30 on 7 December in Shanghai
    for zone, zh, en in [("Asia/Shanghai", "2026年12月7日", "Dec 7, 2026"), ("UTC", "2026年12月6日", "Dec 6, 2026")]:
        monkeypatch.setitem(app.config, "DEFAULT_TIMEZONE", zone)
        with app.app_context(), app.test_request_context(headers={"Accept-Language": ZH}):
            assert local_date(late) == zh
        with app.app_context(), app.test_request_context(headers={"Accept-Language": EN}):
            assert local_date(late) == en
            assert local_date(date(2026, 12, 6)) == "Dec 6, 2026"  # a calendar day is never shifted


# ---- mail in the recipient's language -----------------------------------------------------


def test_mail_is_in_the_recipients_language_not_the_senders(client, make_user):
    chinese = make_user(email="wang@neigou.example", name="王芳", preferred_locale="zh_CN")
    english = make_user(email="tom@neigou.example", name="Tom", preferred_locale="en")
    client.post_form("/reset", {"email": chinese.email}, headers={"Accept-Language": EN})
    client.set_cookie(LOCALE_COOKIE, "zh_CN")
    client.post_form("/reset", {"email": english.email}, headers={"Accept-Language": ZH})
    by_recipient = {m["To"]: m for m in messages()}
    assert by_recipient[chinese.email]["Subject"] == "重置密码"
    assert "王芳，你好" in by_recipient[chinese.email].get_content()
    assert by_recipient[english.email]["Subject"] == "Reset your password"
    assert "Hello Tom" in by_recipient[english.email].get_content()


def test_without_a_saved_choice_mail_follows_the_language_last_used_then_the_default(
    app, client, make_user, chinese_default
):
    last_used = make_user(email="li@neigou.example", locale="en")
    never_chose = make_user(email="zhao@neigou.example")
    for user in (last_used, never_chose):
        client.post_form("/reset", {"email": user.email}, headers={"Accept-Language": ZH})
    by_recipient = {m["To"]: m["Subject"] for m in messages()}
    assert by_recipient == {last_used.email: "Reset your password", never_chose.email: "重置密码"}


def test_signing_up_in_chinese_sends_the_confirmation_in_chinese(client):
    client.set_cookie(LOCALE_COOKIE, "zh_CN")
    data = {"name": "陈静", "email": "chen@neigou.example", "password": PASSWORD, "confirm": PASSWORD}
    assert client.post_form("/signup", data, token_from="/signup").status_code == 200
    [message] = messages()
    assert message["Subject"] == "请验证你的邮箱" and "48 小时内有效" in message.get_content()
    user = db.session.scalar(select(User))
    assert user.locale == "zh_CN" and user.preferred_locale is None  # the cookie is theirs until they log in


def test_a_job_writes_to_each_recipient_in_their_own_language(employee, make_user, product, place):
    """Outside any request (a job marking orders shipped): each buyer's mail in their language."""
    chinese = make_user(email="wang@neigou.example", name="王芳", preferred_locale="zh_CN")
    orders = {buyer.email: paid(buyer, product.variants[0], place=place) for buyer in (employee, chinese)}
    for order in orders.values():
        mark_shipped(None, order, "顺丰速运", "SF42")
    db.session.commit()
    subjects = {m["To"]: m["Subject"] for m in messages()}
    assert subjects[chinese.email] == f"你的订单 {orders[chinese.email].number} 已发货"
    assert subjects[employee.email] == f"Your order {orders[employee.email].number} is on its way"


def test_form_errors_are_in_the_pages_language_wtforms_own_messages_too(client, make_user):
    operator = make_user(role=Role.operator, preferred_locale="zh_CN")
    login(client, operator)
    response = client.post_form("/ops/categories", {"name": "", "position": "-5"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "该字段是必填字段。" in html  # WTForms' own catalogue
    assert "数值大小必须介于 0 到 10000 之间。" in html
