"""Sign-up, e-mail verification, log-in, log-out and password reset pages."""

from __future__ import annotations

import hashlib
import math
import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from wtforms.fields.choices import SelectChoice

from shop.accounts import invitations, services
from shop.accounts.forms import (
    ChangePasswordForm,
    EndSessionsForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignupForm,
)
from shop.extensions import limiter
from shop.i18n import LOCALE_COOKIE, current_locale, is_time_zone, supported_locale, time_zones, zone_name
from shop.urls import safe_local_path
from shop.web import unit_of_work

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
        with unit_of_work(flash_refusal=False) as work:
            email = services.register_employee(
                form.email.data, form.name.data, form.password.data, locale=current_locale()
            )
        if not work.refused:
            return render_template("accounts/check_inbox.html", email=email)
        _beside_its_field(form, work.refusal, default="email")
    return render_template("accounts/signup.html", form=form), 200 if request.method == "GET" else 422


@bp.route("/verify/<token>")
def verify(token: str):
    with unit_of_work(_("Your e-mail address is confirmed. You can log in now.")) as work:
        services.verify_email(token)
    if work.refused:
        return redirect(url_for("accounts.login"))
    # Joined through a product's share link: after the log-in, that product, not the home page.
    landing = safe_local_path(request.args.get("next"), "") or None
    return redirect(url_for("accounts.login", next=landing))


def _login_account_key() -> str:
    """The account a log-in tries, known or not (the same limit either way, so that it tells
    nothing about which addresses have accounts), hashed: no addresses in the limiter's store."""
    email = (request.form.get("email") or "").strip().lower()
    return "login-account:" + hashlib.sha256(email.encode()).hexdigest()


def _login_failed(response) -> bool:
    return response.status_code == 422


def _account_throttled(limit):
    """The log-in page again, saying when this account can be tried again."""
    form = LoginForm()
    # Every limit reached (a minute's, a quarter of an hour's...): the longest wait counts.
    reset_at = max([limit.reset_at, *(other.reset_at for other in limiter.current_limits if other.breached)])
    wait = max(1, math.ceil((reset_at - time.time()) / 60))
    form.password.errors = [
        _(
            "Too many failed log-ins for this account. Try again in %(minutes)d minute(s), or set a new "
            "password with “Forgot password”.",
            minutes=wait,
        )
    ]
    return make_response(render_template("accounts/login.html", form=form), 429)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_rate("RATELIMIT_LOGIN"), methods=["POST"])
@limiter.limit(
    _rate("RATELIMIT_LOGIN_ACCOUNT"),
    key_func=_login_account_key,
    methods=["POST"],
    deduct_when=_login_failed,
    on_breach=_account_throttled,
)
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            user = services.authenticate(form.email.data, form.password.data)
            services.note_login(user, current_locale(), chosen=supported_locale(request.cookies.get(LOCALE_COOKIE)))
        if work.refused:
            form.password.errors.append(work.refusal.message)
        else:
            # Nothing of the visitor's session carries over (a session id planted before the
            # log-in is not the logged-in one), and the CSRF token is a new one.
            session.clear()
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    status = 200 if request.method == "GET" else 422
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out: this session's cookie, and every other cookie of this user, stop working (a
    copy of the cookie taken before is refused as well)."""
    with unit_of_work():
        _end_sessions(current_user._get_current_object())
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
        with unit_of_work():
            services.request_password_reset(form.email.data)
        flash(_("If this address has an account, a reset link is on its way."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_request.html", form=form), 200 if request.method == "GET" else 422


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_rate("RATELIMIT_RESET"), methods=["POST"])
def reset_password(token: str):
    return _set_password_page(
        "accounts/reset_password.html",
        check=lambda: services.reset_link_user(token),
        save=lambda password: services.reset_password(token, password),
        again="accounts.reset_request",
    )


def _beside_its_field(form, refusal, *, default: str) -> None:
    """A refusal's message beside the field it is about (``details["field"]``), else ``default``."""
    form[refusal.details.get("field", default)].errors.append(refusal.message)


def _set_password_page(template: str, *, check, save, again: str):
    """A mailed link's page to set a password (reset, invitation). A link that cannot be used is
    said when it is opened, before a password is typed; a password the rules refuse is said
    beside it, the link still usable."""
    form = ResetPasswordForm()
    if request.method == "GET":
        with unit_of_work() as work:
            check()
        if work.refused:
            return redirect(url_for(again))
    elif form.validate_on_submit():
        with unit_of_work(_("Your password is set. Log in with it now."), flash_refusal=False) as work:
            save(form.password.data)
        if not work.refused:
            return redirect(url_for("accounts.login"))
        if work.refusal.details.get("field") != "password":  # the link itself: ask for another
            flash(work.refusal.message, "error")
            return redirect(url_for(again))
        form.password.errors.append(work.refusal.message)
    return render_template(template, form=form), 200 if request.method == "GET" else 422


@bp.route("/welcome/<token>", methods=["GET", "POST"])
@limiter.limit(_rate("RATELIMIT_RESET"), methods=["POST"])
def welcome(token: str):
    """The invitation's link: an imported employee sets their password, once."""
    return _set_password_page(
        "accounts/welcome.html",
        check=lambda: invitations.invited_user(token),
        save=lambda password: invitations.accept(token, password),
        again="accounts.reset_request",
    )


def _profile_form() -> ProfileForm:
    form = ProfileForm(obj=current_user)
    # The zone as it is written (some share a name: Asia/Shanghai, PRC) and as people call it
    # (the user's own too, should it be a zone no longer offered: saving the page keeps it)
    zones = time_zones()
    if is_time_zone(current_user.timezone) and current_user.timezone not in zones:
        zones = tuple(sorted((*zones, current_user.timezone)))
    form.timezone.choices = [SelectChoice(zone, f"{zone} · {zone_name(zone)}") for zone in zones]
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
        with unit_of_work(_("Saved."), flash_refusal=False) as work:
            services.update_profile(current_user, name=form.name.data, timezone=form.timezone.data)
        if not work.refused:
            return redirect(url_for("accounts.account"))
        form.timezone.errors.append(work.refusal.message)
    return _account_page(form, ChangePasswordForm(formdata=None), 200 if request.method == "GET" else 422)


@bp.route("/language", methods=["POST"])
def set_language():
    """The language switch (header, account page), for visitors and members alike: the choice
    is kept in a cookie, and for a member also on their account (every device, their mail).
    Back to the page the switch was pressed on."""
    locale = supported_locale(request.form.get("locale"))
    if locale not in current_app.config["LANGUAGES"]:
        abort(400, description=_("Choose one of the languages offered."))
    if current_user.is_authenticated:
        with unit_of_work():
            services.set_preferred_locale(current_user, locale)
    response = redirect(_same_site_referrer() or url_for("catalog.home"))
    response.set_cookie(
        LOCALE_COOKIE,
        locale,
        max_age=current_app.config["LOCALE_COOKIE_DAYS"] * 86400,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


def _same_site_referrer() -> str | None:
    """The page the request came from, when it is one of this site's."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    path = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return safe_local_path(path, "") or None


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_rate("RATELIMIT_LOGIN"), methods=["POST"])
def change_password():
    """A new password: every other session of the user ends, this one goes on. A GET (the
    refused form's page reopened) goes to the account page, where the form is."""
    if request.method == "GET":
        return redirect(url_for("accounts.account"))
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        done = _("Your password is changed. Your other sessions are logged out.")
        with unit_of_work(done, flash_refusal=False) as work:
            services.change_password(user, form.current.data, form.password.data)
            remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
            session.clear()
            login_user(user, remember=remember)  # this session, under the new session token
        if not work.refused:
            return redirect(url_for("accounts.account"))
        form.password.errors.append(work.refusal.message)
    return _account_page(_profile_form(), form, 422)


@bp.route("/account/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    form = EndSessionsForm()
    if not form.validate_on_submit():
        return redirect(url_for("accounts.account"))
    user = current_user._get_current_object()
    with unit_of_work():
        services.end_all_sessions(user)
        _end_sessions(user)
    flash(_("You are logged out everywhere: on this device and on every other."), "info")
    return redirect(url_for("accounts.login"))
