"""A user's place in a referral chain, stated once so orders, events and leads agree."""

from __future__ import annotations

from shop.accounts.models import User


def root_of(user: User) -> int | None:
    """The chain's employee: the user themself at level 0."""
    return user.id if user.level == 0 else user.root_employee_id


def l1_of(user: User) -> int | None:
    """The L1 contact above a level-2 user; none for levels 0 and 1 (as on orders)."""
    return user.l1_contact_id if user.level == 2 else None
