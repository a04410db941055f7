"""What the forms of every area share: money amounts in the shop's currency."""

from __future__ import annotations

from babel.numbers import get_currency_precision
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms.validators import NumberRange, ValidationError

MONEY = NumberRange(min=0, max=10_000_000, message=_l("Enter an amount from 0 to 10,000,000."))


def currency_places(form, field) -> None:
    """No more decimals than the shop's currency has (2 for CNY, 0 for JPY)."""
    places = get_currency_precision(current_app.config["CURRENCY"])
    if field.data is not None and field.data.as_tuple().exponent < -places:
        raise ValidationError(_l("Use at most %(n)d decimals.", n=places))
