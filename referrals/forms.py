"""Forms: joining through a link, sharing, referring a customer, the sales pipeline, chain tools."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, Optional

from referrals.models import LeadStatus
from referrals.models.leads import Timeline
from shop.accounts.models import PASSWORD_MAX, PASSWORD_MIN
from shop.forms import DateField, MoneyField, coerce_int
from shop.labels import lazy_label
from shop.ops.forms import MONEY, currency_places


class JoinForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)])
    confirm = PasswordField(_l("Repeat password"), validators=[EqualTo("password", _l("The passwords differ."))])
    product = HiddenField(validators=[Optional(), Length(max=120)])
    submit = SubmitField(_l("Join"))


class ShareForm(FlaskForm):
    what = HiddenField(validators=[AnyOf(["link", "poster"])])


TIMELINES = [
    SelectChoice(Timeline.now.value, _l("As soon as possible")),
    SelectChoice(Timeline.quarter.value, _l("Within three months")),
    SelectChoice(Timeline.half_year.value, _l("Within six months")),
    SelectChoice(Timeline.later.value, _l("Later or not sure")),
]


class LeadForm(FlaskForm):
    customer_name = StringField(_l("Customer's name"), validators=[DataRequired(), Length(max=120)])
    customer_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    customer_email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=200)])
    need = TextAreaField(_l("What do they need?"), validators=[DataRequired(), Length(max=4000)])
    budget = MoneyField(_l("Budget"), places=2, validators=[Optional(), MONEY, currency_places])
    timeline = SelectField(_l("When"), choices=TIMELINES, validators=[DataRequired()])
    consent = BooleanField(
        _l("The customer agreed that a sales consultant contacts them"),
        validators=[DataRequired(_l("Without the customer's consent we cannot contact them."))],
    )
    submit = SubmitField(_l("Refer this customer"))


class LeadStatusForm(FlaskForm):
    status = SelectField(_l("Move to"), choices=[SelectChoice(s.value, lazy_label(s)) for s in LeadStatus])
    amount = MoneyField(_l("Amount won"), places=2, validators=[Optional(), MONEY, currency_places])
    reason = StringField(_l("Why lost"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Save"))


class LeadNoteForm(FlaskForm):
    body = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=4000)])
    submit = SubmitField(_l("Add the note"))


class FollowUpForm(FlaskForm):
    follow_up_on = DateField(_l("Next follow-up"), validators=[Optional()])
    submit = SubmitField(_l("Set the follow-up"))


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Assigned to"), coerce=coerce_int, validators=[DataRequired()])
    submit = SubmitField(_l("Reassign"))


class MoveChainForm(FlaskForm):
    departed = SelectField(_l("Departed employee"), coerce=coerce_int, validators=[DataRequired()])
    target = SelectField(_l("Give the contacts to"), coerce=coerce_int, validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Move contacts"))


class PromoteForm(FlaskForm):
    email = EmailField(_l("Contact's e-mail"), validators=[DataRequired(), Length(max=254)])
    employee_no = StringField(_l("Employee number"), validators=[Optional(), Length(max=40)])
    reason = StringField(_l("How was the staff status verified?"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Make an employee"))
