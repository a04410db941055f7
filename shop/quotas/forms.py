"""Operator forms for quota rules and their exceptions.

Limits and extra allowances are typed in the rule's measure: whole units, or money in major
units (``12.50``) that the views turn into minor units.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from shop.forms import MoneyField, coerce_int, currency_places
from shop.quotas.models import Audience, Measure, Scope, Target, Window

NONE = 0  # the "nothing chosen" choice of the optional id selects

SCOPE_CHOICES = [
    SelectChoice(Scope.buyer.value, _l("Each buyer")),
    SelectChoice(Scope.chain.value, _l("Each chain (an employee and their contacts)")),
]
TARGET_CHOICES = [
    SelectChoice(Target.all.value, _l("All items")),
    SelectChoice(Target.category.value, _l("A category")),
    SelectChoice(Target.product.value, _l("A product")),
    SelectChoice(Target.festival_item.value, _l("A festival item")),
]
WINDOW_CHOICES = [
    SelectChoice(Window.order.value, _l("Per order")),
    SelectChoice(Window.day.value, _l("Per day")),
    SelectChoice(Window.month.value, _l("Per month")),
    SelectChoice(Window.year.value, _l("Per year")),
    SelectChoice(Window.festival.value, _l("During a festival")),
]
MEASURE_CHOICES = [
    SelectChoice(Measure.units.value, _l("Units")),
    SelectChoice(Measure.amount.value, _l("Money spent")),
]
AUDIENCE_CHOICES = [
    SelectChoice(Audience.everyone.value, _l("Everyone")),
    SelectChoice(Audience.employees.value, _l("Employees")),
    SelectChoice(Audience.contacts.value, _l("Contacts")),
]

LIMIT_RANGE = NumberRange(min=Decimal("0.01"), max=100_000_000, message=_l("Enter a number from 0.01 to 100,000,000."))


def whole_units_unless_money(measure_of):
    """A limit in units is a whole number; one in money may have the currency's decimals."""

    def check(form, field) -> None:
        if field.data is None:
            return
        if measure_of(form) == Measure.units.value:
            if field.data != field.data.to_integral_value():
                raise ValidationError(_l("Units are whole numbers."))
        else:
            currency_places(form, field)

    return check


class RuleForm(FlaskForm):
    scope = SelectField(_l("Counted for"), choices=SCOPE_CHOICES, default=Scope.buyer.value)
    target = SelectField(_l("On"), choices=TARGET_CHOICES, default=Target.all.value)
    category_id = SelectField(_l("Category"), coerce=coerce_int, default=NONE)
    product_id = SelectField(_l("Product"), coerce=coerce_int, default=NONE)
    festival_item_id = SelectField(_l("Festival item"), coerce=coerce_int, default=NONE)
    window = SelectField(_l("Window"), choices=WINDOW_CHOICES, default=Window.order.value)
    festival_id = SelectField(_l("Festival"), coerce=coerce_int, default=NONE)
    measure = SelectField(_l("Measure"), choices=MEASURE_CHOICES, default=Measure.units.value)
    limit = MoneyField(
        _l("Limit (units, or an amount such as 200.00)"),
        places=2,
        validators=[InputRequired(), LIMIT_RANGE, whole_units_unless_money(lambda form: form.measure.data)],
    )
    per_sku = BooleanField(_l("Count each option (SKU) on its own"))
    audience = SelectField(_l("Applies to"), choices=AUDIENCE_CHOICES, default=Audience.everyone.value)
    submit = SubmitField(_l("Create rule"))


class ChangeRuleForm(FlaskForm):
    limit = MoneyField(
        _l("Limit"),
        places=2,
        validators=[InputRequired(), LIMIT_RANGE, whole_units_unless_money(lambda form: form.measure)],
    )
    is_active = BooleanField(_l("In force"))
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, measure: Measure, **kwargs):
        super().__init__(*args, **kwargs)
        self.measure = measure.value


class ExceptionForm(FlaskForm):
    email = EmailField(_l("Who (e-mail)"), validators=[DataRequired(), Length(max=254)])
    extra = MoneyField(
        _l("Extra allowance"),
        places=2,
        validators=[InputRequired(), LIMIT_RANGE, whole_units_unless_money(lambda form: form.measure)],
    )
    reason = StringField(_l("Why"), validators=[DataRequired(), Length(max=300)])
    submit = SubmitField(_l("Grant exception"))

    def __init__(self, *args, measure: Measure, **kwargs):
        super().__init__(*args, **kwargs)
        self.measure = measure.value


class RevokeExceptionForm(FlaskForm):
    # No DataRequired: an empty reason reaches the service, which says why it is needed.
    reason = StringField(_l("Why it is revoked"), validators=[Length(max=300)])
    submit = SubmitField(_l("Revoke"))
