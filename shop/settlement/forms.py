"""The operator's form to record a month's payroll export."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired

from shop.forms import month_label


class SettleForm(FlaskForm):
    month = HiddenField(_l("Month (YYYY-MM)"), validators=[DataRequired(), month_label])
    submit = SubmitField(_l("Export to HR and record it"))
