"""Account rules: sign-up, verification, log-in, password reset, roles, deactivation."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from shop.accounts import signals, tokens
from shop.accounts.models import PASSWORD_MAX, PASSWORD_MIN, Kind, Role, User
from shop.audit.services import record
from shop.database import utcnow
from shop.errors import DomainError
from shop.extensions import db
from shop.mail import queue_mail


class AccountError(DomainError):
    pass


def normalise_email(raw: str) -> str:
    """Lower-cased, validated address; raises AccountError when it is not an e-mail."""
    try:
        return validate_email((raw or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(_("This is not a valid e-mail address.")) from exc


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1]


def is_company_email(email: str) -> bool:
    return email_domain(email) in current_app.config["COMPANY_EMAIL_DOMAINS"]


def check_password_rules(password: str) -> None:
    if not PASSWORD_MIN <= len(password or "") <= PASSWORD_MAX:
        raise AccountError(_("A password has %(min)d to %(max)d characters.", min=PASSWORD_MIN, max=PASSWORD_MAX))


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))


def register_employee(email: str, name: str, password: str) -> User:
    """Sign up an employee with a company address; they log in after following the e-mailed link."""
    email = normalise_email(email)
    if not is_company_email(email):
        raise AccountError(_("Sign-up is open to company e-mail addresses only."))
    check_password_rules(password)
    if find_by_email(email) is not None:
        raise AccountError(_("An account with this e-mail already exists. Log in, or use “Forgot password”."))
    user = User(email=email, name=name.strip(), kind=Kind.employee, level=0)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    send_verification(user)
    return user


def send_verification(user: User) -> None:
    link = url_for("accounts.verify", token=tokens.make_token(user, tokens.VERIFY), _external=True)
    queue_mail(
        user.email,
        _("Confirm your e-mail address"),
        _(
            "Hello %(name)s,\n\nconfirm your address to start shopping:\n%(link)s\n\n"
            "The link works for %(hours)d hours.",
            name=user.name,
            link=link,
            hours=int(current_app.config["EMAIL_TOKEN_MAX_AGE"].total_seconds() // 3600),
        ),
    )


def verify_email(token: str) -> User:
    try:
        user = tokens.read_token(token, tokens.VERIFY, current_app.config["EMAIL_TOKEN_MAX_AGE"])
    except tokens.TokenError as exc:
        raise AccountError(_("This confirmation link is invalid, used or expired.")) from exc
    user.email_verified_at = utcnow()
    return user


def note_login(user: User, locale: str | None, *, now: datetime | None = None) -> None:
    """Remember when the person last logged in (admins see it) and the language their browser
    asked for (mail sent to them later is written in it)."""
    user.last_login_at = now or utcnow()
    if locale:
        user.locale = locale


def authenticate(email: str, password: str) -> User:
    """The user behind these credentials, or AccountError with one message for all failures."""
    failure = AccountError(_("Wrong e-mail or password."))
    try:
        email = normalise_email(email)
    except AccountError:
        raise failure from None
    user = find_by_email(email)
    if user is None or not user.check_password(password):
        raise failure
    if not user.is_active:
        raise AccountError(_("This account has been deactivated. Ask an administrator."))
    if user.email_verified_at is None:
        raise AccountError(_("Confirm your e-mail address first: follow the link we sent you."))
    return user


def request_password_reset(email: str) -> None:
    """Mail a reset link when the address belongs to an active account; say nothing otherwise."""
    try:
        user = find_by_email(normalise_email(email))
    except AccountError:
        return
    if user is None or not user.is_active:
        return
    link = url_for("accounts.reset_password", token=tokens.make_token(user, tokens.RESET), _external=True)
    queue_mail(
        user.email,
        _("Reset your password"),
        _(
            "Hello %(name)s,\n\nset a new password here:\n%(link)s\n\n"
            "If you did not ask for this, ignore this message.",
            name=user.name,
            link=link,
        ),
    )


def reset_password(token: str, password: str) -> User:
    try:
        user = tokens.read_token(token, tokens.RESET, current_app.config["RESET_TOKEN_MAX_AGE"])
    except tokens.TokenError as exc:
        raise AccountError(_("This reset link is invalid, used or expired.")) from exc
    check_password_rules(password)
    user.set_password(password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the link reached this inbox
    return user


def update_profile(user: User, *, name: str, timezone: str) -> None:
    if timezone not in available_timezones():
        raise AccountError(_("Choose a time zone from the list."))
    if not name.strip():
        raise AccountError(_("Enter your name."))
    user.name, user.timezone = name.strip(), timezone


def create_admin(email: str, name: str, password: str) -> User:
    """The first admin, from the CLI. An existing employee account is promoted instead."""
    email = normalise_email(email)
    check_password_rules(password)
    user = find_by_email(email)
    if user is not None and user.kind != Kind.employee:
        raise AccountError(_("Only employees can be admins; this address belongs to a contact."))
    if user is None:
        user = User(email=email, name=name, kind=Kind.employee, level=0, role=Role.member)
        db.session.add(user)
        db.session.flush()
    reactivate(None, user, "create-admin")
    if user.role != Role.admin:
        record(
            "user.role",
            user,
            actor=None,
            before={"role": str(user.role)},
            after={"role": "admin"},
            reason="create-admin",
        )
        user.role = Role.admin
    user.email_verified_at = user.email_verified_at or utcnow()
    user.set_password(password)
    return user


def set_role(actor: User, user: User, role: Role) -> None:
    if user.id == actor.id and role != Role.admin:
        raise AccountError(_("You cannot take away your own admin role."))
    if role in (Role.operator, Role.sales, Role.admin) and user.kind != Kind.employee:
        raise AccountError(_("Only employees can be operators, sales reps or admins."))
    if user.role == role:
        return
    before = {"role": str(user.role)}
    user.role = role
    record("user.role", user, actor=actor, before=before, after={"role": str(role)})
    if role == Role.sales and user.is_active_flag:
        signals.sales_rep_available.send(user)


def deactivate(actor: User | None, user: User, reason: str) -> None:
    if actor is not None and user.id == actor.id:
        raise AccountError(_("You cannot deactivate yourself."))
    if not user.is_active_flag:
        return
    user.is_active_flag = False
    user.deactivated_at = utcnow()
    record("user.deactivate", user, actor=actor, before={"active": True}, after={"active": False}, reason=reason)


def reactivate(actor: User | None, user: User, reason: str) -> None:
    if user.is_active_flag:
        return
    user.is_active_flag = True
    user.deactivated_at = None
    record("user.reactivate", user, actor=actor, before={"active": False}, after={"active": True}, reason=reason)
    if user.role == Role.sales:
        signals.sales_rep_available.send(user)
