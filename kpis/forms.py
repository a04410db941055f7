"""The dashboard's cuts, a GET form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from shop.forms import DateField, optional_choice


class CutForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    festival = SelectField(_l("Festival"), validators=[optional_choice()])
    department = SelectField(_l("Department"), validators=[optional_choice()])
    product = SelectField(_l("Product"), validators=[optional_choice()])
    level = SelectField(_l("Buyer level"), validators=[optional_choice()])
    q = StringField(_l("Employee"), validators=[Optional(), Length(max=120)])

    def validate_end(self, field) -> None:
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The range must end on or after its first day."))
