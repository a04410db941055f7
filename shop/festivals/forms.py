"""Festival forms: the buyers' (remind me, buy; the address form is shop/orders/forms.py) and the operators'
(schedule, allocation)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from shop.forms import MONEY, DateTimeLocalField, IntegerField, MoneyField, currency_places

LOCAL_TIME = "%Y-%m-%dT%H:%M"  # what a datetime-local input sends


class RemindForm(FlaskForm):
    submit = SubmitField(_l("Remind me"))


class BuyForm(FlaskForm):
    quantity = IntegerField(
        _l("Quantity"),
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=1_000, message=_l("Choose from 1 to 1,000 units."))],
    )
    # Not checked against the choices: another user's address id is not found (404).
    address_id = IntegerField(_l("Ship to"), validators=[InputRequired(message=_l("Choose an address."))])
    submit = SubmitField(_l("Buy now"))


class FestivalForm(FlaskForm):
    """Times are entered in the operator's time zone and stored in UTC."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5_000)])
    preheat_at = DateTimeLocalField(_l("Preheat starts"), format=LOCAL_TIME, validators=[InputRequired()])
    launch_at = DateTimeLocalField(_l("Buying opens (launch)"), format=LOCAL_TIME, validators=[InputRequired()])
    continuation_at = DateTimeLocalField(
        _l("Continuation starts (optional)"), format=LOCAL_TIME, validators=[Optional()]
    )
    ends_at = DateTimeLocalField(_l("Ends"), format=LOCAL_TIME, validators=[InputRequired()])
    submit = SubmitField(_l("Save festival"))


class AllocateForm(FlaskForm):
    # The option picked from the search results (radio buttons of variant ids).
    variant_id = IntegerField(_l("Item"), validators=[InputRequired(message=_l("Pick an item from the list."))])
    quantity = IntegerField(_l("Units to set apart"), validators=[InputRequired(), NumberRange(min=1, max=1_000_000)])
    employee_price = MoneyField(
        _l("Festival price for employees"), places=2, validators=[InputRequired(), MONEY, currency_places]
    )
    contact_price = MoneyField(
        _l("Festival price for contacts"), places=2, validators=[InputRequired(), MONEY, currency_places]
    )
    per_buyer_limit = IntegerField(
        _l("Per-buyer limit (optional)"), validators=[Optional(), NumberRange(min=1, max=1_000)]
    )
    submit = SubmitField(_l("Allocate"))


class BannerForm(FlaskForm):
    picture = FileField(_l("Banner picture"), validators=[FileRequired(message=_l("Choose a picture to upload."))])
    submit = SubmitField(_l("Upload the banner"))


class RemoveBannerForm(FlaskForm):
    submit = SubmitField(_l("Remove the banner"))
