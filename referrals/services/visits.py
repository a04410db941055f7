"""Counting link visits honestly: one per visitor, link and (company) day, never the link's
owner, and at most a configured number per link, address and day for visitors without the
cookie (scripts that drop cookies cannot inflate a link)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select, update

from referrals.models import EventKind, Visit
from referrals.services.events import company_day, insert_ignoring_duplicates, record_event
from shop.accounts.models import User
from shop.catalog.models import Product
from shop.database import utcnow
from shop.extensions import db

VISITOR_COOKIE = "neigou_visitor"
_VISITOR_RE = re.compile(r"[A-Za-z0-9_-]{22}")


def new_visitor_id() -> str:
    return secrets.token_urlsafe(16)


def valid_visitor_id(value: str | None) -> str | None:
    return value if value and _VISITOR_RE.fullmatch(value) else None


def visitor_key(user: User | None, visitor_id: str | None) -> str | None:
    if user is not None:
        return f"u:{user.id}"
    return f"a:{visitor_id}" if visitor_id else None


def record_visit(
    owner: User,
    *,
    visitor: str,
    user: User | None = None,
    product: Product | None = None,
    ip: str | None = None,
    now: datetime | None = None,
    capped: bool | None = None,
) -> bool:
    """Count a visit of ``owner``'s link (with ``product`` for a share link). True when counted.
    ``capped``: whether REFERRAL_VISITS_PER_IP_DAY applies: to visitors without the visitor
    cookie only (a returning visitor is counted by the cookie, once a day, whatever the
    address); by default to every anonymous visit."""
    if user is not None and user.id == owner.id:
        return False
    now = now or utcnow()
    day = company_day(now)
    product_key = product.id if product else 0
    if capped is None:
        capped = user is None
    if ip and capped:
        cap = current_app.config["REFERRAL_VISITS_PER_IP_DAY"]
        seen = db.session.scalar(
            select(func.count(Visit.id)).where(
                Visit.link_owner_id == owner.id, Visit.product_key == product_key, Visit.day == day, Visit.ip == ip
            )
        )
        if seen >= cap:
            return False
    inserted = db.session.execute(
        insert_ignoring_duplicates(Visit)
        .values(
            visitor=visitor,
            user_id=user.id if user else None,
            link_owner_id=owner.id,
            product_id=product.id if product else None,
            product_key=product_key,
            day=day,
            ip=ip,
            at=now,
        )
        .on_conflict_do_nothing()
        .returning(Visit.id)
    ).first()
    if inserted is None:
        return False
    record_event(
        EventKind.visit,
        actor=user,
        chain_of=owner,
        link_owner=owner,
        product_id=product.id if product else None,
        source="product" if product else "invite",
        at=now,
        dedupe_key=f"visit:{inserted[0]}",
    )
    return True


def link_visits_to(user: User, visitor_id: str | None) -> int:
    """At sign-up: the anonymous visitor's earlier visits become the new user's."""
    if not visitor_id:
        return 0
    return db.session.execute(
        update(Visit)
        .where(Visit.visitor == f"a:{visitor_id}", Visit.user_id.is_(None))
        .values(user_id=user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
