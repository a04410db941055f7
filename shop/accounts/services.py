"""Account rules: sign-up, verification, log-in, password reset, roles, deactivation."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from functools import cache

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from shop.accounts import signals, tokens
from shop.accounts.models import PASSWORD_MAX, PASSWORD_MIN, Kind, Role, User
from shop.audit.services import record
from shop.database import utcnow
from shop.errors import DomainError
from shop.extensions import db
from shop.i18n import in_language_of, is_time_zone
from shop.mail import queue_mail
from shop.urls import public_url


class AccountError(DomainError):
    pass


def lock_person(user: User) -> None:
    """One of the person's submissions at a time: their row is the lock (PostgreSQL; SQLite has
    one writer), so a form sent twice at the same moment finds the first when it checks for a
    repeat. ``FOR NO KEY UPDATE``: rows that merely refer to the user are not held up."""
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update(key_share=True))


def normalise_email(raw: str) -> str:
    """Lower-cased, validated address; raises AccountError when it is not an e-mail."""
    try:
        return validate_email((raw or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(_("This is not a valid e-mail address.")) from exc


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1]


def is_company_email(email: str) -> bool:
    """An address on an allowed company domain: it may sign up as an employee. A subdomain
    (``sub.neigou.example``) counts only with ``COMPANY_EMAIL_SUBDOMAINS``, or when listed."""
    domain = email_domain(email)
    domains = current_app.config["COMPANY_EMAIL_DOMAINS"]
    if domain in domains:
        return True
    return current_app.config["COMPANY_EMAIL_SUBDOMAINS"] and _under(domain, domains)


def is_under_company_domain(email: str) -> bool:
    """An address on a company domain or any subdomain of one: the company's own mail system,
    whether or not it may sign up as an employee. Such an address never joins as a contact (it
    may reach an employee's own mailbox, and employees are roots of their chains)."""
    domain = email_domain(email)
    domains = current_app.config["COMPANY_EMAIL_DOMAINS"]
    return domain in domains or _under(domain, domains)


def _under(domain: str, domains: list[str]) -> bool:
    return any(domain.endswith("." + parent) for parent in domains)


def check_password_rules(password: str, *, user_inputs: tuple[str, ...] = ()) -> None:
    """Length, then how guessable: zxcvbn's estimate, from the common passwords, words, names
    and keyboard patterns it ships as data (no network), and the user's own name and address."""
    if not PASSWORD_MIN <= len(password or "") <= PASSWORD_MAX:
        raise AccountError(
            _("A password has %(min)d to %(max)d characters.", min=PASSWORD_MIN, max=PASSWORD_MAX), field="password"
        )
    if password_strength(password, user_inputs) < current_app.config["PASSWORD_MIN_SCORE"]:
        raise AccountError(
            _(
                "This password is too easy to guess: it is a common password, or close to one, or "
                "made of your name or address. Try a longer one, e.g. a few unrelated words."
            ),
            field="password",  # the form shows it beside the password, not the e-mail
        )


def password_strength(password: str, user_inputs: tuple[str, ...] = ()) -> int:
    """zxcvbn's score, 0 (among the most common passwords) to 4 (very hard to guess), of the
    first ``_SCORED_CHARACTERS``: its time grows fast with length (a 128-character password
    can take a third of a second), and a prefix never scores higher than the whole."""
    words = [
        part
        for value in user_inputs
        if value
        for part in (value, value.partition("@")[0], "".join(value.split()), *re.split(r"[@.\s]+", value))
        if part
    ]
    return zxcvbn(password[:_SCORED_CHARACTERS], user_inputs=words)["score"]


_SCORED_CHARACTERS = 40


def _inputs(email: str, name: str | None = None) -> tuple[str, ...]:
    return (email, name or "")


@cache
def _dummy_password_hash() -> str:
    """A hash made as users' are, checked for unknown addresses so that a log-in takes as long
    whether or not the address has an account."""
    return generate_password_hash(secrets.token_urlsafe(16))


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))


def register_employee(email: str, name: str, password: str, *, locale: str | None = None) -> str:
    """Sign up an employee with a company address; they log in after following the e-mailed link.

    Returns the normalised address. When it has an account already, the answer is the same
    ("check your inbox") and so is the work done (a password hashed): the mail tells the owner
    instead, so that sign-up does not say which addresses have accounts. ``locale``: the
    language the form was filled in, which the confirmation mail is written in."""
    email = normalise_email(email)
    if not is_company_email(email):
        raise AccountError(_("Sign-up is open to company e-mail addresses only."))
    check_password_rules(password, user_inputs=_inputs(email, name))
    existing = find_by_email(email)
    if existing is not None:
        generate_password_hash(password)  # as long as a sign-up that creates the account
        tell_owner_of_signup(email, existing)
        return email
    user = User(email=email, name=name.strip(), kind=Kind.employee, level=0, locale=locale)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    send_verification(user)
    return email


def tell_owner_of_signup(email: str, user: User | None) -> None:
    """Someone signed up with ``email``, which has an account (``user``; None when it is
    another ``+tag`` address of an account's mailbox). Not yet confirmed: the confirmation link
    again. Active: a note with the log-in and reset links. Deactivated: nothing."""
    if user is not None and not user.is_active:
        return
    if user is not None and user.email_verified_at is None:
        send_verification(user)
        return
    with in_language_of(user):
        queue_mail(
            email,
            _("You already have an account"),
            _(
                "Hello,\n\nsomeone, perhaps you, tried to sign up with this e-mail address, which "
                "already has an account. Log in here:\n%(login)s\n\nForgot your password? Set a new "
                "one here:\n%(reset)s\n\nIf it was not you, ignore this message: nothing has changed.",
                login=public_url("accounts.login"),
                reset=public_url("accounts.reset_request"),
            ),
        )


def send_verification(user: User, *, landing: str | None = None) -> None:
    """Mail the confirmation link; ``landing`` is the shop's own path the person is taken to
    once confirmed and logged in (the product whose share link they joined through)."""
    link = public_url("accounts.verify", token=tokens.make_token(user, tokens.VERIFY), next=landing)
    with in_language_of(user):
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


def note_login(user: User, locale: str | None, *, chosen: str | None = None, now: datetime | None = None) -> None:
    """Remember when the person last logged in (admins see it) and the language they used
    (mail sent to them later is written in it). ``chosen``: the language they picked with the
    switch before logging in, which becomes their choice unless they have one already."""
    user.last_login_at = now or utcnow()
    if locale:
        user.locale = locale
    if chosen and not user.preferred_locale:
        user.preferred_locale = chosen


def set_preferred_locale(user: User, locale: str) -> None:
    """The language ``user`` chose: every page and mail in it from now on, on every device."""
    user.preferred_locale = locale
    user.locale = locale


def authenticate(email: str, password: str) -> User:
    """The user behind these credentials, or AccountError with one message for all failures."""
    failure = AccountError(_("Wrong e-mail or password."))
    try:
        email = normalise_email(email)
    except AccountError:
        raise failure from None
    user = find_by_email(email)
    if user is None or not user.password_hash:
        check_password_hash(_dummy_password_hash(), password or "")  # as long as a real check
        raise failure
    if not user.check_password(password):
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
    link = public_url("accounts.reset_password", token=tokens.make_token(user, tokens.RESET))
    with in_language_of(user):
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


def reset_link_user(token: str) -> User:
    """The user a password-reset link is for, or AccountError when it is invalid, used (the
    password changed since) or expired: said when the link is opened, before a password is typed."""
    try:
        return tokens.read_token(token, tokens.RESET, current_app.config["RESET_TOKEN_MAX_AGE"])
    except tokens.TokenError as exc:
        raise AccountError(_("This reset link is invalid, used or expired.")) from exc


def reset_password(token: str, password: str) -> User:
    user = reset_link_user(token)
    check_password_rules(password, user_inputs=_inputs(user.email, user.name))
    user.set_password(password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the link reached this inbox
    return user


def change_password(user: User, current: str, new: str) -> None:
    """A new password for a logged-in user who knows the current one; their other sessions end."""
    if not user.check_password(current or ""):
        raise AccountError(_("Your current password is not this one."))
    check_password_rules(new, user_inputs=_inputs(user.email, user.name))
    user.set_password(new)
    record("user.password", user, actor=user, after={"sessions": "ended"})


def end_all_sessions(user: User) -> None:
    """Log ``user`` out everywhere: every session and remember-me cookie stops working."""
    user.end_sessions()
    record("user.sessions", user, actor=user, after={"sessions": "ended"})


def update_profile(user: User, *, name: str, timezone: str) -> None:
    if not is_time_zone(timezone):
        raise AccountError(_("Choose a time zone from the list."))
    if not name.strip():
        raise AccountError(_("Enter your name."))
    user.name, user.timezone = name.strip(), timezone


def create_admin(email: str, name: str, password: str) -> User:
    """The first admin, from the CLI. An existing employee account is promoted instead."""
    email = normalise_email(email)
    check_password_rules(password, user_inputs=_inputs(email, name))
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
        user.end_sessions()
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
    user.end_sessions()  # what a session may do is decided again at the next log-in
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
    user.end_sessions()
    record("user.deactivate", user, actor=actor, before={"active": True}, after={"active": False}, reason=reason)


def reactivate(actor: User | None, user: User, reason: str) -> None:
    if user.is_active_flag:
        return
    user.is_active_flag = True
    user.deactivated_at = None
    record("user.reactivate", user, actor=actor, before={"active": False}, after={"active": True}, reason=reason)
    if user.role == Role.sales:
        signals.sales_rep_available.send(user)
