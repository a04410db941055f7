"""Flask-Login wiring and the permission decorators every area uses.

Loading the user is the one query every page makes. For safe methods (GET, HEAD) the user's
row may come from a short per-process cache (``USER_CACHE_SECONDS``); any change to a user in
this process drops their entry when it is flushed, and other processes see it when their
entry expires. Requests that change something always load the user from the database, so a
deactivated account cannot act, and can read for at most that many seconds.

The login id in the session and remember-me cookies is ``"<user id>:<session token>"``
(``User.get_id``); the loader refuses a cookie whose token is not the user's current one. A
cached row answers only a cookie carrying the token it holds; any other token is checked
against the database. A change to a user drops their entry in this process when it is flushed
and again after it commits (a read in between could have put the old row back).
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from functools import wraps

from flask import abort, has_request_context, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import bindparam, event, inspect, select
from sqlalchemy.orm import Session

from shop.accounts.models import Kind, User, parse_login_id
from shop.database import SAFE_METHODS, after_commit, attach_loaded
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


def load_user(login_id: str) -> User | None:
    """The active user of this login id (session or remember-me cookie) if its session token is
    still theirs; None otherwise, and Flask-Login treats the request as anonymous."""
    parsed = parse_login_id(login_id)
    if parsed is None:
        return None
    user_id, token = parsed
    if not (_rows.enabled and has_request_context() and request.method in SAFE_METHODS):
        return _current(_read_user(user_id), token)
    row = _rows.get(user_id)
    if row is None or not _same_token(row["session_token"], token):
        user = _current(_read_user(user_id), token)
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
    login = parse_login_id(session.get("_user_id"))
    if login is None:
        return None
    row = _rows.get(login[0])
    if row is None or not (row["is_active_flag"] and _same_token(row["session_token"], login[1])):
        return None
    return row


def _active(user: User | None) -> User | None:
    return user if user is not None and user.is_active else None


def _current(user: User | None, token: str) -> User | None:
    """``user`` when active and ``token`` is their session token now."""
    if user is None or not _same_token(user.session_token, token):
        return None
    return _active(user)


def _same_token(held: str | None, given: str) -> bool:
    return held is not None and hmac.compare_digest(held.encode(), given.encode())


_CHAIN_FACTS = ("level", "root_employee_id", "l1_contact_id", "kind", "is_active_flag")


@event.listens_for(Session, "after_flush")
def _forget_changed_users(session, _flush_context):
    changed = [obj for obj in (*session.dirty, *session.deleted) if isinstance(obj, User)]
    user_ids = [user.id for user in changed]
    if user_ids:
        _rows.discard(*user_ids)
        after_commit(lambda: _rows.discard(*user_ids))  # a read before the commit may have kept the old row
    moved = [user.id for user in changed if any(inspect(user).attrs[key].history.has_changes() for key in _CHAIN_FACTS)]
    if moved:  # facts kept in session cookies (``buyer_facts``) stop counting once this commits
        from shop.quotas import known_use

        known_use.gave_back(user_ids=moved)


# ---- a buyer's chain facts, kept in the session cookie ------------------------------------------
# "Buy now" answers refusals that are certain from what is known (shop/quotas/known_use.py)
# before loading the user: what it needs of the buyer rides in the signed session cookie, with
# the generation of the buyer's known use when it was read. A change to the buyer's chain, kind
# or activity bumps that generation, and the facts stop counting; they are also read again
# after ``BUYER_FACTS_MAX_AGE`` seconds. They only ever refuse, never grant.

_FACTS_KEY = "_buyer_facts"
BUYER_FACTS_MAX_AGE = 600


@dataclass(frozen=True)
class BuyerFacts:
    """Enough of a logged-in user for the quota rules: duck-typed like ``User`` there."""

    id: int
    level: int
    root_employee_id: int | None
    kind: Kind
    generation: int


def buyer_facts() -> BuyerFacts | None:
    """The facts this session's cookie holds for its logged-in user, or None."""
    login, held = parse_login_id(session.get("_user_id")), session.get(_FACTS_KEY)
    if not (login is not None and isinstance(held, list) and len(held) == 6):
        return None
    facts_user, level, root_id, kind, generation, written = held
    if facts_user != login[0] or time.time() - written > BUYER_FACTS_MAX_AGE or kind not in Kind.__members__:
        return None
    return BuyerFacts(facts_user, level, root_id, Kind[kind], generation)


def keep_buyer_facts(user: User, generation: int | None = None) -> None:
    """Put ``user``'s facts in the session cookie, as read under ``generation`` (default: the
    current one). Nothing is kept when nothing can be known."""
    from shop.quotas import known_use

    if generation is None:
        generation = known_use.user_generation(user.id)
    if generation is None:
        return
    held = buyer_facts()
    if (
        held == BuyerFacts(user.id, user.level, user.root_employee_id, user.kind, generation)
        and time.time() - session[_FACTS_KEY][-1] < BUYER_FACTS_MAX_AGE / 2
    ):
        return  # the cookie holds them already: no new cookie on every post
    session[_FACTS_KEY] = [user.id, user.level, user.root_employee_id, user.kind.name, generation, int(time.time())]


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
