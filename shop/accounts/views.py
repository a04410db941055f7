"""Sign-up, e-mail verification, log-in, log-out and password reset pages."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from wtforms.fields.choices import SelectChoice

from shop.accounts import services
from shop.accounts.forms import (
    ChangePasswordForm,
    EndSessionsForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignupForm,
)
from shop.accounts.session import keep_buyer_facts
from shop.extensions import db, limiter
from shop.urls import safe_local_path

bp = Blueprint("accounts", __name__)


def _rate(name: str):
    return lambda: current_app.config[name]


def _safe_next(target: str | None) -> str:
    return safe_local_path(target, url_for("catalog.home"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_rate("RATELIMIT_SIGNUP"), methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("catalog.home"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = services.register_employee(form.email.data, form.name.data, form.password.data)
        except services.AccountError as exc:
            form.email.errors.append(exc.message)
        else:
            db.session.commit()
            return render_template("accounts/check_inbox.html", email=user.email)
    return render_template("accounts/signup.html", form=form), 200 if request.method == "GET" else 422


@bp.route("/verify/<token>")
def verify(token: str):
    try:
        services.verify_email(token)
    except services.AccountError as exc:
        flash(exc.message, "error")
        return redirect(url_for("accounts.login"))
    db.session.commit()
    flash(_("Your e-mail address is confirmed. You can log in now."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_rate("RATELIMIT_LOGIN"), methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("catalog.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.AccountError as exc:
            form.password.errors.append(exc.message)
        else:
            # Nothing of the visitor's session carries over (a session id planted before the
            # log-in is not the logged-in one), and the CSRF token is a new one.
            session.clear()
            login_user(user, remember=form.remember.data)
            keep_buyer_facts(user)
            return redirect(_safe_next(request.args.get("next")))
    status = 200 if request.method == "GET" else 422
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out: this session's cookie, and every other cookie of this user, stop working (a
    copy of the cookie taken before is refused as well)."""
    _end_sessions(current_user._get_current_object())
    db.session.commit()
    flash(_("You are logged out."), "info")
    return redirect(url_for("catalog.home"))


def _end_sessions(user) -> None:
    user.end_sessions()
    session.clear()
    logout_user()


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_rate("RATELIMIT_RESET"), methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(_("If this address has an account, a reset link is on its way."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_request.html", form=form), 200 if request.method == "GET" else 422


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_rate("RATELIMIT_RESET"), methods=["POST"])
def reset_password(token: str):
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except services.AccountError as exc:
            flash(exc.message, "error")
            return redirect(url_for("accounts.reset_request"))
        db.session.commit()
        flash(_("Your password is set. Log in with it now."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form), 200 if request.method == "GET" else 422


def _profile_form() -> ProfileForm:
    form = ProfileForm(obj=current_user)
    form.timezone.choices = [SelectChoice(zone) for zone in sorted(available_timezones())]
    if request.method == "GET" or request.endpoint != "accounts.account":
        form.timezone.data = current_user.timezone or current_app.config["DEFAULT_TIMEZONE"]
    return form


def _account_page(form: ProfileForm, password_form: ChangePasswordForm, status: int):
    page = render_template(
        "accounts/account.html", form=form, password_form=password_form, end_sessions_form=EndSessionsForm()
    )
    return page, status


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = _profile_form()
    if form.validate_on_submit():
        try:
            services.update_profile(current_user, name=form.name.data, timezone=form.timezone.data)
        except services.AccountError as exc:
            form.timezone.errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("accounts.account"))
    return _account_page(form, ChangePasswordForm(formdata=None), 200 if request.method == "GET" else 422)


@bp.route("/account/password", methods=["POST"])
@login_required
@limiter.limit(_rate("RATELIMIT_LOGIN"))
def change_password():
    """A new password: every other session of the user ends, this one goes on."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current.data, form.password.data)
        except services.AccountError as exc:
            form.password.errors.append(exc.message)
        else:
            remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
            session.clear()
            login_user(user, remember=remember)  # this session, under the new session token
            db.session.commit()
            flash(_("Your password is changed. Your other sessions are logged out."), "success")
            return redirect(url_for("accounts.account"))
    return _account_page(_profile_form(), form, 422)


@bp.route("/account/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    form = EndSessionsForm()
    if not form.validate_on_submit():
        return redirect(url_for("accounts.account"))
    user = current_user._get_current_object()
    services.end_all_sessions(user)
    _end_sessions(user)
    db.session.commit()
    flash(_("You are logged out everywhere: on this device and on every other."), "info")
    return redirect(url_for("accounts.login"))
