"""Flask-Login wiring and the permission decorators every area uses.

The user is loaded from the database on every request (by primary key, through the session's
identity map), so a deactivated account cannot act or read, and there is one copy of the
user's row per request, whatever asks for it.

The login id in the session and remember-me cookies is ``"<user id>:<session token>"``
(``User.get_id``); the loader refuses a cookie whose token is not the user's current one, so a
rotated token (log out everywhere, password change) refuses every older cookie at once."""

from __future__ import annotations

import hmac
from functools import wraps

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from shop.accounts.models import User, parse_login_id
from shop.extensions import db, login_manager


def init_login(app) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)


def load_user(login_id: str) -> User | None:
    """The active user of this login id (session or remember-me cookie) if its session token is
    still theirs; None otherwise, and Flask-Login treats the request as anonymous."""
    parsed = parse_login_id(login_id)
    if parsed is None:
        return None
    user_id, token = parsed
    user = db.session.get(User, user_id)
    if user is None or not _same_token(user.session_token, token):
        return None
    return user if user.is_active else None


def _same_token(held: str | None, given: str) -> bool:
    return held is not None and hmac.compare_digest(held.encode(), given.encode())


def login_required_unless(visitor_allowed):
    """``login_required``, except for the requests ``visitor_allowed()`` lets a visitor make
    (a product page opened through a share link shows visitors its teaser)."""

    def decorator(view):
        guarded = login_required(view)

        @wraps(view)
        def wrapped(*args, **kwargs):
            if visitor_allowed():
                return view(*args, **kwargs)
            return guarded(*args, **kwargs)

        return wrapped

    return decorator


def _requires(check):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not check(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


operator_required = _requires(lambda user: user.is_operator)
admin_required = _requires(lambda user: user.is_admin)
sales_required = _requires(lambda user: user.is_sales)
employee_required = _requires(lambda user: user.is_employee)
