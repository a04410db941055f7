"""Hooks from the community into the funnel event log (DESIGN.md, Events and KPIs).

A question or a ticket by a chain member is a *consultation* event of that chain. It is written
in the same transaction that creates the post, so both commit or roll back together; the event
log stamps the user's chain (every employee is the root of their own, contacts are bound to one).
"""

from __future__ import annotations

from typing import Literal

from referrals.services.events import record_consultation as _record_in_event_log
from shop.accounts.models import User

ConsultationSource = Literal["question", "ticket"]


def record_consultation(
    user: User, *, product_id: int | None = None, source: ConsultationSource, key: int | None = None
) -> None:
    """Write a consultation event for ``user``'s chain; ``key`` (the post's id) makes a fact
    reported twice count once. Adds and flushes only: the caller's transaction holds the post."""
    _record_in_event_log(user, product_id=product_id, source=source, key=key)
