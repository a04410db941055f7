"""Locale, time zone and money formatting for the current user.

The language of a page: the user's saved choice (``User.preferred_locale``), else the choice a
visitor made with the switch (a cookie), else the browser's ``Accept-Language``, else
``BABEL_DEFAULT_LOCALE``. Mail is written in its recipient's language, whoever's request sends
it: ``recipient_locale(user)`` and ``in_language_of(user)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import available_timezones

import pytz
from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel.dates import format_skeleton, get_datetime_format, get_timezone_location
from babel.numbers import get_currency_name, get_currency_precision
from flask import current_app, has_request_context, request
from flask_babel import (
    force_locale,
    format_currency,
    format_date,
    format_datetime,
    get_locale,
    gettext,
    to_user_timezone,
)
from flask_login import current_user
from markupsafe import Markup, escape

LOCALE_COOKIE = "neigou_locale"
# How each language names itself in the switch (never translated: a reader of the other
# language must recognise their own).
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def supported_locale(value: str | None) -> str | None:
    """``value`` as one of ``LANGUAGES`` (``zh``, ``zh-CN`` and ``zh_Hans_CN`` are ``zh_CN``), or None."""
    if not value:
        return None
    languages = current_app.config["LANGUAGES"]
    if value in languages:
        return value
    try:
        wanted = Locale.parse(value.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    for language in languages:
        if Locale.parse(language).language == wanted.language:
            return language
    return None


def default_locale() -> str:
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_locale() -> str:
    if not has_request_context():
        return default_locale()  # the CLI, jobs
    if current_user and current_user.is_authenticated and current_user.preferred_locale:
        return supported_locale(current_user.preferred_locale) or default_locale()
    chosen = supported_locale(request.cookies.get(LOCALE_COOKIE))
    if chosen:
        return chosen
    return browser_locale() or default_locale()


def browser_locale() -> str | None:
    """The first language of ``Accept-Language`` (by quality) that the shop is written in; a
    region or script we have no catalogue for counts as its language (``zh-Hans-CN``, ``en-GB``)."""
    for value, _quality in request.accept_languages:  # werkzeug sorts them by quality
        found = supported_locale(value)
        if found:
            return found
    return None


def recipient_locale(user) -> str:
    """The language of mail to ``user``: their saved choice, else the language they last used
    the shop in, else the default; never the language of whoever's request sends it."""
    if user is None:
        return default_locale()
    return supported_locale(user.preferred_locale) or supported_locale(user.locale) or default_locale()


@contextmanager
def in_language_of(user) -> Iterator[str]:
    """Write what is inside (subject, body, money, dates) in ``user``'s language."""
    locale = recipient_locale(user)
    with force_locale(locale):
        yield locale


def current_locale() -> str:
    """The page's language as one of ``LANGUAGES`` (``zh_CN``, ``en``; Babel's own name for
    the first is ``zh_Hans_CN``)."""
    return supported_locale(str(get_locale())) or default_locale()


def language_choices() -> list[tuple[str, str]]:
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"]]


def select_timezone() -> str:
    user_zone = getattr(current_user, "timezone", None) if current_user else None
    return user_zone if is_time_zone(user_zone) else current_app.config["DEFAULT_TIMEZONE"]


def is_time_zone(zone: str | None) -> bool:
    """A zone pages can be shown in: Flask-Babel converts times with pytz, whose database lacks
    a few names the system's has (``Factory``, ``localtime``)."""
    return zone in _known_zones()


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    """The zones both databases know, read once: the system's list is a walk of its zoneinfo
    folders (about 3.6 ms), and a user's zone is checked on every request."""
    return frozenset(pytz.all_timezones_set) & available_timezones()


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """The zones offered to choose from: pytz's common ones (places, not aliases such as PRC
    or Etc/GMT-8) that the system knows too."""
    return tuple(sorted(zone for zone in pytz.common_timezones if is_time_zone(zone)))


def with_colon(label: str) -> Markup:
    """A label and the language's colon after it: "Total: " in English, "合计：" in Chinese."""
    return Markup(gettext("%(label)s: ", label=escape(label)))


def in_parentheses(text: str) -> Markup:
    """A remark in the language's parentheses: " (operator)" after a word in English, "（运营）"
    in Chinese (no space before it)."""
    return Markup(gettext(" (%(text)s)", text=escape(text)))


def currency_name(currency: str) -> str:
    """A currency as people name it in the page's language: "人民币", "Chinese Yuan"."""
    return get_currency_name(currency, locale=get_locale())


def to_major(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-get_currency_precision(currency))


def to_minor(amount_major: Decimal, currency: str) -> int:
    scaled = Decimal(amount_major).scaleb(get_currency_precision(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError("more decimals than the currency has")
    return int(scaled)


def format_money(amount_minor: int | None, currency: str | None = None) -> str:
    if amount_minor is None:
        return ""
    currency = currency or current_app.config["CURRENCY"]
    return format_currency(to_major(amount_minor, currency), currency)


def local_date(value: date | None, fmt: str = "medium") -> str:
    """A calendar day in the locale's format: a ``date`` as it is (already in the company's or
    the user's terms), a UTC ``datetime`` as the day it fell on in the viewer's time zone."""
    return format_date(value, fmt) if value else ""


def local_month(value: date | None, *, short: bool = False) -> str:
    """A month (its first day) as the locale writes it: "December 2026", "2026年12月"; short,
    for tables and charts: "Dec 2026", "2026年12月"."""
    return format_skeleton("yMMM" if short else "yMMMM", value, locale=get_locale()) if value else ""


def local_datetime(value: datetime | None, fmt: str | None = None) -> str:
    """A UTC timestamp shown in the viewer's time zone: by default the day as the locale writes
    it and the time to the minute ("2026年12月6日 15:41", "Dec 6, 2026, 3:41 PM"); ``fmt`` is a
    Babel format or pattern for anything else."""
    if not value:
        return ""
    if fmt is not None:
        return format_datetime(value, fmt)
    locale, local = get_locale(), to_user_timezone(value)  # converted once for both halves
    pattern = get_datetime_format("medium", locale=locale)
    day = babel_dates.format_date(local, "medium", locale=locale)
    return pattern.replace("{1}", day).replace("{0}", babel_dates.format_time(local, "short", locale=locale))


def zone_name(zone: str | None) -> str:
    """A time zone as people name it in the page's language: "中国（上海）时间", "China (Shanghai) Time"."""
    return _zone_name(zone, current_locale()) if zone else ""


@lru_cache(maxsize=4096)
def _zone_name(zone: str, locale: str) -> str:
    try:
        return get_timezone_location(zone, locale=locale)
    except (LookupError, ValueError):
        return zone
