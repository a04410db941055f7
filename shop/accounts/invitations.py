"""Invitations: an employee imported from the HR roster gets an e-mail with a link to set their
password and come in (no detour through "forgot password"); an admin re-sends it in one click.

The link is a signed token (shop/accounts/tokens.py, purpose ``invite``) that carries a
fingerprint of the password: once a password is set, every link sent before stops working, so
a link sets a password once. It lives ``INVITATION_TOKEN_HOURS``. Links are built on
``PUBLIC_URL``, since the roster may be imported by the CLI, outside any request.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from shop.accounts import tokens
from shop.accounts.models import Kind, User
from shop.accounts.services import AccountError, check_password_rules
from shop.audit.services import record
from shop.errors import DomainError
from shop.i18n import in_language_of
from shop.mail import queue_mail
from shop.urls import public_url


class InvitationError(DomainError):
    pass


def can_be_invited(user: User) -> bool:
    return user.kind == Kind.employee and user.is_active and not user.password_hash


def invite(user: User, *, actor: User | None, again: bool = False) -> None:
    """Queue the invitation mail (sent after the commit) and audit it."""
    if not can_be_invited(user):
        raise InvitationError(
            _("Only an active employee without a password can be invited; others use “forgot password”.")
        )
    link = public_url("accounts.welcome", token=tokens.make_token(user, tokens.INVITE))
    hours = int(current_app.config["INVITATION_TOKEN_MAX_AGE"].total_seconds() // 3600)
    with in_language_of(user):
        queue_mail(
            user.email,
            _("Welcome to %(company)s's internal shop", company=current_app.config["COMPANY_NAME"]),
            _(
                "Hello %(name)s,\n\nyou can now buy at the employee price in %(company)s's internal shop. "
                "Set your password here (the link works once, for %(hours)d hours):\n%(link)s\n\n"
                "Your log-in is this e-mail address.",
                name=user.name,
                company=current_app.config["COMPANY_NAME"],
                hours=hours,
                link=link,
            ),
        )
    record("user.invite_again" if again else "user.invite", user, actor=actor, after={"email": user.email})


def invited_user(token: str) -> User:
    """The employee an invitation link is for, or AccountError when it cannot be used (invalid,
    used, expired, or the account deactivated): said when the link is opened."""
    try:
        user = tokens.read_token(token, tokens.INVITE, current_app.config["INVITATION_TOKEN_MAX_AGE"])
    except tokens.TokenError as exc:
        raise AccountError(
            _("This invitation link is invalid, used or expired. Ask for a new one, or use “forgot password”.")
        ) from exc
    if not user.is_active:
        raise AccountError(_("This account has been deactivated. Ask an administrator."))
    return user


def accept(token: str, password: str) -> User:
    """Set the password of the invited employee; the link stops working once it is used."""
    user = invited_user(token)
    check_password_rules(password, user_inputs=(user.email, user.name or ""))
    user.set_password(password)
    record("user.invitation_accepted", user, actor=user)
    return user
