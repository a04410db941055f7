"""Flask-Login wiring and the permission decorators every area uses.

Loading the user is the one query every page makes. For safe methods (GET, HEAD) the user's
row may come from a short per-process cache (``USER_CACHE_SECONDS``); any change to a user in
this process drops their entry when it is flushed, and other processes see it when their
entry expires. Requests that change something always load the user from the database, so a
deactivated account cannot act, and can read for at most that many seconds.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, has_request_context, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session

from shop.accounts.models import User
from shop.database import SAFE_METHODS, attach_loaded
from shop.extensions import db, login_manager
from shop.ttl_cache import ConfiguredCache

_USER_COLUMNS = tuple(attr.key for attr in User.__mapper__.column_attrs)
_rows = ConfiguredCache("USER_CACHE_SECONDS", "USER_CACHE_ENTRIES", 10_000)


def init_login(app) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)


_READ_USER = select(User.__table__).where(User.id == bindparam("user_id"))


def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    if not (_rows.enabled and has_request_context() and request.method in SAFE_METHODS):
        return _active(_read_user(int(user_id)))
    row = _rows.get(int(user_id))
    if row is None:
        user = _active(_read_user(int(user_id)))
        if user is not None:
            _rows.set(user.id, {key: getattr(user, key) for key in _USER_COLUMNS})
        return user
    return _active(attach_loaded(db.session, User, row))


def _read_user(user_id: int) -> User | None:
    """The user's row, read with Core (every request reads it) unless this session holds it."""
    held = db.session.identity_map.get(db.session.identity_key(User, user_id))
    if held is not None:
        return held
    row = db.session.connection().execute(_READ_USER, {"user_id": user_id}).one_or_none()
    return None if row is None else attach_loaded(db.session, User, row)


def cached_identity() -> dict | None:
    """For a read served whole from the page cache: the logged-in user's cached row, found
    from the session cookie alone, without Flask-Login, an ORM object or a database session.
    None when that is not possible (not logged in by session, row not cached, inactive, or a
    write); the caller then goes the usual way through ``current_user``."""
    if not (_rows.enabled and request.method in SAFE_METHODS):
        return None
    user_id = session.get("_user_id")
    if not (isinstance(user_id, str) and user_id.isdigit()):
        return None
    row = _rows.get(int(user_id))
    return row if row is not None and row["is_active_flag"] else None


def _active(user: User | None) -> User | None:
    return user if user is not None and user.is_active else None


@event.listens_for(Session, "after_flush")
def _forget_changed_users(session, _flush_context):
    changed = [obj for obj in (*session.dirty, *session.deleted) if isinstance(obj, User)]
    _rows.discard(*(user.id for user in changed))


def forget_all_users() -> None:
    _rows.clear()


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
