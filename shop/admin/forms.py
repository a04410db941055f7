"""Admin forms that are not about one account (those live in shop/accounts/forms.py)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form

    actor = StringField(_l("Who (name or e-mail)"), validators=[Optional(), Length(max=120)])
    subject_type = SelectField(_l("Kind of subject"), validators=[Optional()])
    subject = StringField(_l("Subject (order number, e-mail or id)"), validators=[Optional(), Length(max=254)])
    action = StringField(_l("Action (or its beginning)"), validators=[Optional(), Length(max=64)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
