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
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from wtforms.fields.choices import SelectChoice

from shop.accounts import invitations, services
from shop.accounts.forms import (
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignupForm,
)
from shop.accounts.session import forget_buyer_facts, keep_buyer_facts
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
            services.note_login(user, str(get_locale()) if request.accept_languages else None)
            db.session.commit()
            login_user(user, remember=form.remember.data)
            keep_buyer_facts(user)
            return redirect(_safe_next(request.args.get("next")))
    status = 200 if request.method == "GET" else 422
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    forget_buyer_facts()
    flash(_("You are logged out."), "info")
    return redirect(url_for("catalog.home"))


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


@bp.route("/welcome/<token>", methods=["GET", "POST"])
@limiter.limit(_rate("RATELIMIT_RESET"), methods=["POST"])
def welcome(token: str):
    """The invitation's link: an imported employee sets their password, once."""
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            invitations.accept(token, form.password.data)
        except services.AccountError as exc:
            flash(exc.message, "error")
            return redirect(url_for("accounts.reset_request"))
        db.session.commit()
        flash(_("Your password is set. Log in with it now."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/welcome.html", form=form), 200 if request.method == "GET" else 422


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ProfileForm(obj=current_user)
    form.timezone.choices = [SelectChoice(zone) for zone in sorted(available_timezones())]
    if request.method == "GET":
        form.timezone.data = current_user.timezone or current_app.config["DEFAULT_TIMEZONE"]
    if form.validate_on_submit():
        try:
            services.update_profile(current_user, name=form.name.data, timezone=form.timezone.data)
        except services.AccountError as exc:
            form.timezone.errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form), 200 if request.method == "GET" else 422
