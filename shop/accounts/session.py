"""Flask-Login wiring and the permission decorators every area uses.

The user is loaded by primary key through the session's identity map, so there is one copy of
the user's row per request, whatever asks for it. A request that may change something (any
method but GET, HEAD, OPTIONS) reads the row from the database, so a deactivated account cannot
act. A page view may take it from the ``users`` cache (shop/caching.py, ``USER_CACHE_SECONDS``):
a detached copy merged into the session without a query (``Session.merge(load=False)``), so
the session holds its own instance as if it had loaded it. Any change to a user, flushed by
any session, forgets the cache in every process once it commits (``_forget_changed_users``),
so a deactivated account or a rotated session token is refused by the next page view too.

The login id in the session and remember-me cookies is ``"<user id>:<session token>"``
(``User.get_id``); the loader refuses a cookie whose token is not the user's current one, so a
rotated token (log out everywhere, password change) refuses every older cookie at once."""

from __future__ import annotations

import hmac
from functools import wraps

from flask import abort, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from shop import caching
from shop.accounts.models import User, parse_login_id
from shop.database import SAFE_METHODS
from shop.extensions import db, login_manager

_users = caching.declare(
    "users", "USER_CACHE_SECONDS", _l("logged-in users' rows, by id, for page views (a write reads the database)")
)


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
    user = _read_user(user_id)
    if user is None or not _same_token(user.session_token, token):
        return None
    return user if user.is_active else None


def _read_user(user_id: int) -> User | None:
    if not (has_request_context() and request.method in SAFE_METHODS and _users.enabled):
        return db.session.get(User, user_id)
    held = db.session.identity_map.get(db.session.identity_key(User, user_id))
    if held is not None:
        return held
    kept = _users.get(user_id)
    if kept is not None:
        return db.session.merge(kept, load=False)
    user = db.session.get(User, user_id)
    if user is not None:
        _users.set(user_id, _detached_copy(user))
    return user


def _detached_copy(user: User) -> User:
    """A copy of ``user``'s columns belonging to no session, never changed once kept."""
    # The mapper is read here, not at import: inspecting it configures every mapper, and at
    # import (during app creation) not every model module has been imported yet.
    copy = User(**{column.key: getattr(user, column.key) for column in inspect(User).column_attrs})
    make_transient_to_detached(copy)
    return copy


@event.listens_for(Session, "after_flush")
def _forget_changed_users(session, _flush_context) -> None:
    """A user changed or deleted (the lists still show what was flushed): forget the cached rows
    once this commits, in every process."""
    if any(isinstance(obj, User) for obj in (*session.dirty, *session.deleted)):
        _users.forget_after_commit(session)


@event.listens_for(Session, "do_orm_execute")
def _forget_after_bulk_change(state) -> None:
    """``update(User)`` / ``delete(User)`` run through a session: the same."""
    if (state.is_update or state.is_delete) and any(mapper.class_ is User for mapper in state.all_mappers):
        _users.forget_after_commit(state.session)


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
