"""Forms for sign-up, log-in, password reset and the admin's people pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length

from shop.accounts.models import PASSWORD_MAX, PASSWORD_MIN, Role
from shop.labels import lazy_label


class SignupForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Company e-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)])
    confirm = PasswordField(_l("Repeat password"), validators=[EqualTo("password", _l("The passwords differ."))])
    submit = SubmitField(_l("Sign up"))


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    remember = BooleanField(_l("Keep me logged in"))
    submit = SubmitField(_l("Log in"))


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    submit = SubmitField(_l("Send reset link"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)]
    )
    confirm = PasswordField(_l("Repeat password"), validators=[EqualTo("password", _l("The passwords differ."))])
    submit = SubmitField(_l("Set password"))


class InviteForm(FlaskForm):
    submit = SubmitField(_l("Send the invitation again"))


class ProfileForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    timezone = SelectField(_l("Time zone"), validators=[DataRequired()])
    submit = SubmitField(_l("Save"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)]
    )
    confirm = PasswordField(_l("Repeat password"), validators=[EqualTo("password", _l("The passwords differ."))])
    submit = SubmitField(_l("Change password"))


class EndSessionsForm(FlaskForm):
    submit = SubmitField(_l("Log out everywhere"))


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[SelectChoice(r.value, lazy_label(r)) for r in Role])
    submit = SubmitField(_l("Change role"))


class ActivationForm(FlaskForm):
    # The state asked for, not a toggle: a repeated "deactivate" must not reactivate anyone.
    active = HiddenField(validators=[AnyOf(["0", "1"])])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Confirm"))


class RosterUploadForm(FlaskForm):
    roster = FileField(
        _l("Roster (CSV or Excel .xlsx)"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Upload a .csv or .xlsx file."))],
    )
    deactivate_missing = BooleanField(_l("Deactivate employees missing from this file"))
    submit = SubmitField(_l("Import"))
