"""The festival "buy now" form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SubmitField
from wtforms.validators import InputRequired, NumberRange


class BuyForm(FlaskForm):
    quantity = IntegerField(_l("Quantity"), default=1, validators=[InputRequired(), NumberRange(min=1, max=99)])
    # Not checked against a list of choices: an address that is not the buyer's gives 404.
    address_id = IntegerField(_l("Ship to"), validators=[InputRequired()])
    submit = SubmitField(_l("Buy now"))
