"""Checkout, payment and fulfilment forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

NEW_ADDRESS = 0


class CheckoutForm(FlaskForm):
    # Not validated against the choices: a tampered id must give 404, not a form error.
    address_id = SelectField(_l("Ship to"), coerce=int, validate_choice=False, validators=[InputRequired()])
    recipient = StringField(_l("Recipient"), validators=[Optional(), Length(max=120)])
    phone = StringField(
        _l("Phone"),
        validators=[Optional(), Length(max=40), Regexp(r"^[0-9 +()-]{5,40}$", message=_l("Enter a phone number."))],
    )
    line1 = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    line2 = StringField(_l("Address (line 2)"), validators=[Optional(), Length(max=200)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=20)])
    country = StringField(
        _l("Country code"),
        default="CN",
        validators=[Optional(), Regexp(r"^[A-Za-z]{2}$", message=_l("Two letters, e.g. CN."))],
    )
    submit = SubmitField(_l("Place order"))

    REQUIRED_FOR_NEW = ("recipient", "phone", "line1", "city", "postcode")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.address_id.data == NEW_ADDRESS:
            for name in self.REQUIRED_FOR_NEW:
                field = getattr(self, name)
                if not (field.data or "").strip():
                    field.errors = [*field.errors, _l("This field is required.")]
                    valid = False
        return valid

    def address_fields(self) -> dict:
        return {name: getattr(self, name).data for name in (*self.REQUIRED_FOR_NEW, "line2", "country")}


class PayrollPayForm(FlaskForm):
    submit = SubmitField(_l("Pay by payroll deduction"))


class CancelForm(FlaskForm):
    submit = SubmitField(_l("Cancel order"))


class ShipForm(FlaskForm):
    carrier = StringField(_l("Carrier"), validators=[DataRequired(), Length(max=80)])
    tracking_number = StringField(_l("Tracking number"), validators=[DataRequired(), Length(max=80)])
    submit = SubmitField(_l("Mark shipped"))


class CompleteForm(FlaskForm):
    submit = SubmitField(_l("Mark completed"))


class OrderFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form

    status = SelectField(_l("Status"), validators=[Optional()])
    festival = SelectField(_l("Festival"), validators=[Optional()])
    payment_method = SelectField(
        _l("Payment"),
        choices=[SelectChoice("", _l("Any payment")), SelectChoice("payroll", _l("Payroll deduction"))]
        + [SelectChoice("card", _l("Card"))],
        validators=[Optional()],
    )
    buyer_level = SelectField(
        _l("Buyer level"),
        choices=[SelectChoice("", _l("Any level")), SelectChoice("0", _l("Employees"))]
        + [SelectChoice("1", _l("Contacts L1")), SelectChoice("2", _l("Contacts L2"))],
        validators=[Optional()],
    )
    buyer = StringField(_l("Buyer e-mail or name"), validators=[Optional(), Length(max=120)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])


class BulkShipForm(FlaskForm):
    """Ship the orders ticked on the orders page: one carrier, a tracking number per order
    (fields ``tracking_<order id>``, read by the view)."""

    carrier = StringField(_l("Carrier"), validators=[DataRequired(), Length(max=80)])
    submit = SubmitField(_l("Mark the selected orders shipped"))


class ShipmentUploadForm(FlaskForm):
    shipments = FileField(
        _l("Shipments CSV (order number, carrier, tracking number)"),
        validators=[FileRequired(), FileAllowed(["csv", "txt"], _l("Upload a .csv file."))],
    )
    submit = SubmitField(_l("Ship the orders in the file"))


class PayrollExportForm(FlaskForm):
    class Meta:
        csrf = False

    month = StringField(
        _l("Month (YYYY-MM)"),
        validators=[DataRequired(), Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", message=_l("Use YYYY-MM."))],
    )
