"""The active quota rules, read once and kept per process for a few seconds.

Every checkout and every product or cart page needs the rules; operators change them a few
times a year. In a flash sale, reading them (with what their sentences name) on every "buy"
cost more than the rest of the checkout's reads together. So the rules are read in a session
of their own, kept as detached rows for ``QUOTA_RULE_CACHE_SECONDS``, and filtered per buyer in
Python. A change made in this process is seen at once (``forget``); one made in another
process is seen within those seconds. With 0 (as in tests) they are read on every call, in the
caller's session.

What is cached decides only which rules apply. What a buyer or chain has used is always counted
afresh, under the checkout's locks.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from shop.database import read_only
from shop.extensions import db
from shop.quotas.models import QuotaException, QuotaRule

_lock = threading.Lock()


@dataclass(frozen=True)
class ActiveRule:
    rule: QuotaRule  # with its category, product, festival and festival item loaded
    has_exceptions: bool  # whether any buyer or chain was granted extra on it


def active_rules() -> list[ActiveRule]:
    """Every active rule, by id."""
    seconds = current_app.config["QUOTA_RULE_CACHE_SECONDS"]
    if seconds <= 0:
        return _read(db.session)
    store = current_app.extensions.setdefault("quota_rule_cache", {})
    held = store.get("rules")
    now = time.monotonic()
    if held is not None and now - held[0] < seconds:
        return held[1]
    with _lock:
        held = store.get("rules")
        if held is None or now - held[0] >= seconds:
            # A session of its own, closed at once: the rows stay loaded, detached. Read-only,
            # or on SQLite it would wait for the write lock its own caller may hold.
            with read_only(), Session(db.engine) as session:
                held = (time.monotonic(), _read(session))
            store["rules"] = held
    return held[1]


def forget() -> None:
    """After a rule or an exception changed here: read them again on next use."""
    current_app.extensions.get("quota_rule_cache", {}).pop("rules", None)


def _read(session: Session) -> list[ActiveRule]:
    from shop.quotas.services import sentence_loads

    granted = exists().where(QuotaException.rule_id == QuotaRule.id)
    query = (
        select(QuotaRule, granted)
        .where(QuotaRule.is_active.is_(True))
        .options(*sentence_loads())
        .order_by(QuotaRule.id)
    )
    return [ActiveRule(rule, bool(has)) for rule, has in session.execute(query)]
