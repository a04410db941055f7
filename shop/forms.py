"""What the forms of every area share. Fields that refuse, with a form error, values the database or the arithmetic behind them
cannot take. Every form in the project takes its integer, money, date and month fields from
here, and ``coerce=coerce_int`` for select fields of ids, so that input never reaches a query
as a value the database refuses with an error (integers beyond 64 bits), a comparison that
raises (``Decimal("NaN") < 0``) or date arithmetic that overflows (``9999-12-31`` + 1 day)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import wtforms
from babel.numbers import get_currency_precision
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms.validators import NumberRange, Optional, StopValidation, ValidationError

MAX_INT = 2**63 - 1  # BIGINT, and SQLite's INTEGER


def coerce_int(value) -> int:
    """``coerce`` for select fields of ids and numbers: a whole number within 64 bits (a
    ValueError otherwise, which the field shows as "could not coerce")."""
    number = int(value)
    if not -MAX_INT <= number <= MAX_INT:
        raise ValueError(_l("Enter a smaller number."))
    return number


def optional_choice() -> Optional:
    """For a select field whose "" means "any": nothing, or one of its choices. Plain
    ``Optional()`` takes " " for nothing and clears the field's "Not a valid choice", which
    leaves " " for the view to read as a status or an id."""
    return Optional(strip_whitespace=False)


class _StopAfterProcessError:
    """A value that could not be read stops validation there, with its one message: the
    validators after it would compare a missing value. A blank one is left to the validators
    (``Optional`` accepts it, ``InputRequired`` does not)."""

    def pre_validate(self, form) -> None:
        if self.process_errors and self.raw_data and str(self.raw_data[0]).strip():
            raise StopValidation()
        super().pre_validate(form)


class IntegerField(_StopAfterProcessError, wtforms.IntegerField):
    """A whole number within 64 bits."""

    def process_formdata(self, valuelist) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not -MAX_INT <= self.data <= MAX_INT:
            self.data = None
            raise ValueError(_l("Enter a smaller number."))


class MoneyField(_StopAfterProcessError, wtforms.DecimalField):
    """An amount (or a quota's limit): a finite decimal number, never NaN or Infinity."""

    def process_formdata(self, valuelist) -> None:
        super().process_formdata(valuelist)
        if isinstance(self.data, Decimal) and not self.data.is_finite():
            self.data = None
            raise ValueError(_l("Enter an amount as a number, such as 12.50."))


# Dates this shop has any business with; beyond them a filter would only overflow.
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2099, 12, 31)
_DATES_MESSAGE = _l("Enter a date from 2000-01-01 to 2099-12-31.")


class _WithinDates(_StopAfterProcessError):
    def process_formdata(self, valuelist) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not EARLIEST_DATE <= _day_of(self.data) <= LATEST_DATE:
            self.data = None
            raise ValueError(_DATES_MESSAGE)


def _day_of(value) -> date:
    return value.date() if hasattr(value, "date") else value


class DateField(_WithinDates, wtforms.DateField):
    """A date from 2000 to 2099."""


class DateTimeLocalField(_WithinDates, wtforms.DateTimeLocalField):
    """A local date and time from 2000 to 2099."""


def not_before(other: str):
    """Validator for the end of a date range: not before the field named ``other``."""

    def check(form, field) -> None:
        start = form[other].data
        if field.data is not None and start is not None and field.data < start:
            raise ValidationError(_l("The end date is before the start date."))

    return check


_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])", re.ASCII)  # ASCII digits; fullmatch: no "\n" after it


def month_label(form, field) -> None:
    """Validator: a month as YYYY-MM within the dates above."""
    match = _MONTH.fullmatch(field.data or "")
    if not match:
        raise ValidationError(_l("Use YYYY-MM."))
    if not EARLIEST_DATE.year <= int(match.group(1)) <= LATEST_DATE.year:
        raise ValidationError(_l("Choose a month from 2000-01 to 2099-12."))


# Money amounts in the shop's currency.
MONEY = NumberRange(min=0, max=10_000_000, message=_l("Enter an amount from 0 to 10,000,000."))


def currency_places(form, field) -> None:
    """No more decimals than the shop's currency has (2 for CNY, 0 for JPY)."""
    places = get_currency_precision(current_app.config["CURRENCY"])
    if field.data is not None and field.data.as_tuple().exponent < -places:
        raise ValidationError(_l("Use at most %(n)d decimals.", n=places))
