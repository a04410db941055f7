"""Locale, time zone and money formatting for the current user."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_skeleton
from babel.numbers import get_currency_precision
from flask import current_app, has_request_context, request
from flask_babel import format_currency, format_date, format_datetime, get_locale
from flask_login import current_user


def select_locale() -> str | None:
    if not has_request_context():
        return None  # the default locale (CLI, jobs)
    return request.accept_languages.best_match(current_app.config["LANGUAGES"]) or None


def select_timezone() -> str:
    user_zone = getattr(current_user, "timezone", None) if current_user else None
    return user_zone or current_app.config["DEFAULT_TIMEZONE"]


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
    """A calendar day (already in the company's or the user's terms) in the locale's format."""
    return format_date(value, fmt) if value else ""


def local_month(value: date | None) -> str:
    """A month (its first day) as the locale writes it: "December 2026", "2026年12月"."""
    return format_skeleton("yMMMM", value, locale=get_locale()) if value else ""


def local_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """A UTC timestamp shown in the viewer's time zone."""
    return format_datetime(value, fmt) if value else ""
