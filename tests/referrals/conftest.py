"""Fixtures for the referral tests: contacts below an owner, joining through a link by the
real form, counting rows."""

from __future__ import annotations

import email
import email.policy

import pytest
from sqlalchemy import func, select

from referrals.models import EventKind, FunnelEvent, Join, Lead, Visit
from shop.accounts.models import Role, User
from shop.audit.models import AuditEntry
from shop.extensions import db
from shop.mail import outbox_dir

NEW_PASSWORD = "a fine password 7"


@pytest.fixture
def sales_rep(make_user) -> User:
    return make_user(name="Sam Sales", email="sam@neigou.example", role=Role.sales)


def mail_body(message: str) -> str:
    return email.message_from_string(message, policy=email.policy.default).get_content()


def join_form(email: str, *, name: str = "Fay Friend", password: str = NEW_PASSWORD, product: str = "") -> dict:
    return {"name": name, "email": email, "password": password, "confirm": password, "product": product}


def join(client, code: str, email: str, **kwargs):
    """Post the join form of ``code``'s link, as a visitor who opened it."""
    return client.post_form(f"/r/{code}", join_form(email, **kwargs))


def events(kind: EventKind | None = None) -> list[FunnelEvent]:
    query = select(FunnelEvent).order_by(FunnelEvent.id)
    if kind is not None:
        query = query.where(FunnelEvent.kind == kind)
    return list(db.session.scalars(query))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def footprint() -> dict[str, int]:
    """Rows in every table a sign-up or a lead could write, and the mail sent."""
    outbox = outbox_dir()
    mails = len(list(outbox.glob("*.eml"))) if outbox.exists() else 0
    return {m.__name__: count(m) for m in (User, Join, Visit, FunnelEvent, Lead, AuditEntry)} | {"mail": mails}
