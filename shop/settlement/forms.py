"""The operator's form to record a month's payroll export."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired, Regexp

MONTH = Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", message=_l("Use YYYY-MM."))


class SettleForm(FlaskForm):
    month = HiddenField(_l("Month (YYYY-MM)"), validators=[DataRequired(), MONTH])
    submit = SubmitField(_l("Export to HR and record it"))
