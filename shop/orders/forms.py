"""Checkout, payment and fulfilment forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from shop.forms import DateField, coerce_int, month_label, not_before, optional_choice
from shop.orders import regions
from shop.orders.addresses import AddressInput
from shop.orders.places import country_choices

NEW_ADDRESS = 0


class AddressForm(FlaskForm):
    """A new shipping address. The province, city and district lists cascade: a small script
    fills them as the buyer chooses; without it, "Show the cities and districts" (``regions``)
    sends the form back with the lists of what was chosen. Whatever arrives is checked by
    ``shop.orders.addresses.clean_address``, not by the lists offered."""

    country = SelectField(_l("Country or region"), default="CN", validate_choice=False)
    recipient = StringField(_l("Recipient"))
    phone = StringField(_l("Mobile phone"), render_kw={"inputmode": "tel", "autocomplete": "tel"})
    province = SelectField(_l("Province"), validate_choice=False)
    city = SelectField(_l("City"), validate_choice=False)
    district = SelectField(_l("District"), validate_choice=False)
    regions = SubmitField(_l("Show the cities and districts"))
    line1 = StringField(_l("Street address"), render_kw={"autocomplete": "street-address"})
    line2 = StringField(_l("Address (line 2, outside mainland China)"))
    town = StringField(_l("City (outside mainland China)"))
    postcode = StringField(_l("Postcode (optional)"), render_kw={"inputmode": "numeric"})
    submit = SubmitField(_l("Save address"))

    ADDRESS_FIELDS = (
        "country",
        "recipient",
        "phone",
        "province",
        "city",
        "district",
        "line1",
        "line2",
        "town",
        "postcode",
    )

    def offer_choices(self) -> None:
        """The lists: every country, the provinces, the cities of the province chosen and the
        districts of the city chosen."""
        self.country.choices = [SelectChoice(code, name) for code, name in country_choices()]
        choose = SelectChoice("", _l("Choose…"))
        self.province.choices = [choose] + [SelectChoice(r.code, r.name) for r in regions.provinces()]
        self.city.choices = [choose] + [SelectChoice(r.code, r.name) for r in regions.cities(self.province.data)]
        self.district.choices = [choose] + [SelectChoice(r.code, r.name) for r in regions.districts(self.city.data)]

    @property
    def asks_for_regions(self) -> bool:
        """The form came back for its lists (no script), not to be saved."""
        return bool(self.regions.data)

    def address_input(self) -> AddressInput:
        return AddressInput(**{name: getattr(self, name).data or "" for name in self.ADDRESS_FIELDS})

    def show_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            field = getattr(self, name)
            field.errors = [*field.errors, message]


class CheckoutForm(AddressForm):
    # Not validated against the choices: a tampered id must give 404, not a form error.
    address_id = SelectField(_l("Ship to"), coerce=coerce_int, validate_choice=False, validators=[InputRequired()])
    submit = SubmitField(_l("Place order"))


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

    status = SelectField(_l("Status"), validators=[optional_choice()])
    festival = SelectField(_l("Festival"), validators=[optional_choice()])
    payment_method = SelectField(
        _l("Payment"),
        choices=[SelectChoice("", _l("Any payment")), SelectChoice("payroll", _l("Payroll deduction"))]
        + [SelectChoice("card", _l("Card"))],
        validators=[optional_choice()],
    )
    buyer_level = SelectField(
        _l("Buyer level"),
        choices=[SelectChoice("", _l("Any level")), SelectChoice("0", _l("Employees"))]
        + [SelectChoice("1", _l("Contacts L1")), SelectChoice("2", _l("Contacts L2"))],
        validators=[optional_choice()],
    )
    buyer = StringField(_l("Buyer e-mail or name"), validators=[Optional(), Length(max=120)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional(), not_before("date_from")])


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
        validators=[DataRequired(), month_label],
    )
