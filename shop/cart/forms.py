"""Cart forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField
from wtforms.validators import InputRequired, NumberRange

from shop.forms import IntegerField, coerce_int


class AddToCartForm(FlaskForm):
    variant_id = SelectField(_l("Option"), coerce=coerce_int, validate_choice=False)
    quantity = IntegerField(_l("Quantity"), default=1, validators=[InputRequired(), NumberRange(min=1, max=999)])
    submit = SubmitField(_l("Add to cart"))


class QuantityForm(FlaskForm):
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(), NumberRange(min=0, max=999)])
    submit = SubmitField(_l("Update"))


class RemoveForm(FlaskForm):
    submit = SubmitField(_l("Remove"))
