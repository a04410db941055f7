"""Operator forms for the catalog."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from shop.catalog.models import SalesMode
from shop.forms import MONEY, IntegerField, MoneyField, coerce_int, currency_places
from shop.labels import lazy_label

SLUG = Regexp(r"^[a-z0-9-]*$", message=_l("Lower-case letters, digits and dashes only."))


class CategoryForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    slug = StringField(_l("Slug"), validators=[Optional(), Length(max=80), SLUG])
    position = IntegerField(_l("Position"), default=0, validators=[InputRequired(), NumberRange(min=0, max=10_000)])
    submit = SubmitField(_l("Save"))


class ProductForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(_l("Slug"), validators=[Optional(), Length(max=100), SLUG])
    category_id = SelectField(_l("Category"), coerce=coerce_int)
    summary = StringField(_l("Summary"), validators=[Optional(), Length(max=300)])
    description_md = TextAreaField(_l("Description (Markdown)"), validators=[Optional(), Length(max=50_000)])
    sales_mode = SelectField(_l("Sales mode"), choices=[SelectChoice(m.value, lazy_label(m)) for m in SalesMode])
    is_active = BooleanField(_l("On sale"), default=True)
    submit = SubmitField(_l("Save"))


SKU_RE = Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Letters, digits, dot, dash, underscore."))


class NewProductForm(ProductForm):
    """A new product with its first option and prices, in one form: the option is required for a
    product sold directly (one without a purchasable option is not listed), optional otherwise."""

    option_sku = StringField(_l("First option: SKU"), validators=[Optional(), Length(max=64), SKU_RE])
    option_name = StringField(_l("First option: name"), validators=[Optional(), Length(max=120)])
    market_price = MoneyField(_l("Market price"), places=2, validators=[Optional(), MONEY, currency_places])
    employee_price = MoneyField(_l("Employee price"), places=2, validators=[Optional(), MONEY, currency_places])
    contact_price = MoneyField(_l("Contact price"), places=2, validators=[Optional(), MONEY, currency_places])
    initial_stock = IntegerField(
        _l("Initial stock"), default=0, validators=[Optional(), NumberRange(min=0, max=1_000_000)]
    )

    OPTION_FIELDS = ("option_sku", "option_name", "market_price", "employee_price", "contact_price")

    @staticmethod
    def _blank(field) -> bool:
        """Empty as ``Optional()`` sees it: nothing, or only whitespace (which it lets through
        unchecked, so a blank SKU or name must not count as given either)."""
        return field.data is None or (isinstance(field.data, str) and not field.data.strip())

    def has_option(self) -> bool:
        return self.sales_mode.data == SalesMode.direct.value or any(
            not self._blank(getattr(self, name)) for name in self.OPTION_FIELDS
        )

    def validate(self, extra_validators=None) -> bool:
        """The first option, when there is one, obeys the option form's rules (``VariantForm``):
        SKU, name and prices required, the SKU of ``SKU_RE``."""
        valid = super().validate(extra_validators)
        if self.has_option():
            for name in self.OPTION_FIELDS:
                field = getattr(self, name)
                if self._blank(field) and not field.errors:
                    field.errors = [*field.errors, _l("Needed for the first option.")]
                    valid = False
        return valid


class VariantForm(FlaskForm):
    sku = StringField(
        _l("SKU"),
        validators=[
            DataRequired(),
            Length(max=64),
            SKU_RE,
        ],
    )
    name = StringField(_l("Option name"), validators=[DataRequired(), Length(max=120)])
    market_price = MoneyField(_l("Market price"), places=2, validators=[InputRequired(), MONEY, currency_places])
    employee_price = MoneyField(_l("Employee price"), places=2, validators=[InputRequired(), MONEY, currency_places])
    contact_price = MoneyField(_l("Contact price"), places=2, validators=[InputRequired(), MONEY, currency_places])
    initial_stock = IntegerField(
        _l("Initial stock"), default=0, validators=[Optional(), NumberRange(min=0, max=1_000_000)]
    )
    is_active = BooleanField(_l("On sale"), default=True)
    submit = SubmitField(_l("Save"))


class StockForm(FlaskForm):
    delta = IntegerField(
        _l("Change (+ adds, - removes)"), validators=[InputRequired(), NumberRange(min=-1_000_000, max=1_000_000)]
    )
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Adjust stock"))


class ImageForm(FlaskForm):
    image = FileField(_l("Picture"), validators=[FileRequired()])
    submit = SubmitField(_l("Upload"))


class DeleteForm(FlaskForm):
    submit = SubmitField(_l("Delete"))
