"""Abuse patterns: one mailbox behind several addresses, sign-up bursts from one network
address, and many contacts sharing one shipping address. Operators review the flags."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from referrals.models import Join
from shop.accounts.models import Kind, User
from shop.database import utcnow
from shop.extensions import db
from shop.orders.models import Address


def mailbox(email: str) -> str:
    """The mailbox an address delivers to: ``name+tag@host`` and ``name@host`` are one."""
    local, _, domain = email.lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def mailbox_taken(email: str) -> bool:
    """True when an account already uses this mailbox under another ``+tag`` address."""
    box = mailbox(email)
    local, _, domain = box.rpartition("@")
    escaped = local.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    candidates = db.session.scalars(
        select(User.email).where(func.lower(User.email).like(f"{escaped}%@{domain}", escape="\\"))
    )
    return any(mailbox(candidate) == box for candidate in candidates)


@dataclass
class Burst:
    ip: str
    first: datetime
    last: datetime
    users: list[User] = field(default_factory=list)


def signup_bursts(
    *, minimum: int, window: timedelta, since: timedelta = timedelta(days=30), now: datetime | None = None
) -> list[Burst]:
    """Addresses from which at least ``minimum`` people joined within ``window``."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Join.ip, Join.at, User)
        .join(User, User.id == Join.user_id)
        .where(Join.ip.is_not(None), Join.at >= now - since)
        .order_by(Join.ip, Join.at, Join.id)
    ).all()
    by_ip: dict[str, list[tuple[datetime, User]]] = defaultdict(list)
    for ip, at, user in rows:
        by_ip[ip].append((at, user))
    bursts = []
    for ip, joins in by_ip.items():
        start, best = 0, None
        for end in range(len(joins)):
            while joins[end][0] - joins[start][0] > window:
                start += 1
            if end - start + 1 >= minimum and (best is None or end - start > best[1] - best[0]):
                best = (start, end)
        if best is not None:
            chosen = joins[best[0] : best[1] + 1]
            bursts.append(Burst(ip, chosen[0][0], chosen[-1][0], [user for _, user in chosen]))
    return sorted(bursts, key=lambda b: (-len(b.users), b.ip))


@dataclass
class SharedAddress:
    address: str
    users: list[User] = field(default_factory=list)


def _address_key(address: Address) -> str:
    parts = (address.line1, address.line2, address.city, address.postcode, address.country)
    return re.sub(r"[\s,.\-#]+", " ", " ".join(p or "" for p in parts).lower()).strip()


def shared_addresses(*, minimum: int) -> list[SharedAddress]:
    """Shipping addresses saved by at least ``minimum`` different contacts."""
    rows = db.session.execute(
        select(Address, User)
        .join(User, User.id == Address.user_id)
        .where(User.kind == Kind.contact)
        .order_by(Address.id)
    ).all()
    groups: dict[str, SharedAddress] = {}
    for address, user in rows:
        shown = ", ".join(
            p for p in (address.line1, address.line2, address.city, address.postcode, address.country) if p
        )
        group = groups.setdefault(_address_key(address), SharedAddress(shown))
        if user not in group.users:
            group.users.append(user)
    found = [g for g in groups.values() if len(g.users) >= minimum]
    return sorted(found, key=lambda g: (-len(g.users), g.address))
