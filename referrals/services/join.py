"""Joining through a link: a contact one level below the link's owner, chain fixed for good."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from referrals.models import EventKind, Join
from referrals.services import ReferralError
from referrals.services.abuse import mailbox_taken
from referrals.services.events import record_event
from referrals.services.links import check_open, owner_by_code
from referrals.services.visits import link_visits_to
from shop.accounts import services as accounts
from shop.accounts.models import Kind, User
from shop.catalog.models import Product
from shop.database import utcnow
from shop.extensions import db


@dataclass(frozen=True)
class Signup:
    name: str
    email: str
    password: str


def join(
    code: str,
    signup: Signup,
    *,
    product: Product | None = None,
    ip: str | None = None,
    visitor_id: str | None = None,
    now: datetime | None = None,
    verified_at: datetime | None = None,
    password_hash: str | None = None,
    locale: str | None = None,
) -> User | None:
    """Sign up a contact through ``code``'s link. Every check comes before the first write, so a
    refused sign-up leaves nothing behind. None when the address has an account already: its
    owner is mailed, nothing is written, and the visitor sees the same answer as a sign-up. For demo data, ``verified_at`` skips the e-mailed link
    and ``password_hash`` (of ``signup.password``) saves hashing the shared password again."""
    now = now or utcnow()
    owner = owner_by_code(code)
    check_open(owner)
    # One sign-up at a time per link: the owner's row is the lock (PostgreSQL; SQLite has one writer).
    db.session.execute(select(User.id).where(User.id == owner.id).with_for_update())
    try:
        email = accounts.normalise_email(signup.email)
    except accounts.AccountError as exc:
        raise ReferralError(exc.message) from exc
    name = (signup.name or "").strip()
    if not name:
        raise ReferralError(_("Enter your name."))
    if email == owner.email.lower():
        raise ReferralError(_("This is your own link: you cannot invite yourself."))
    if accounts.is_company_email(email):
        raise ReferralError(_("This is a company address: sign up as an employee instead."))
    if accounts.is_under_company_domain(email):
        raise ReferralError(
            _(
                "This address is under the company's e-mail domain but is not one that signs up as an "
                "employee, and it cannot join as a contact. Use your main company address, or another one."
            )
        )
    try:
        accounts.check_password_rules(signup.password, user_inputs=(email, name))
    except accounts.AccountError as exc:
        raise ReferralError(exc.message) from exc
    existing = accounts.find_by_email(email)
    if existing is not None or mailbox_taken(email):
        # The same answer as a sign-up ("check your inbox"), after as much work: the owner is
        # told by mail, so that the form does not say which addresses have accounts.
        generate_password_hash(signup.password)
        accounts.tell_owner_of_signup(email, existing)
        return None

    user = User(
        locale=locale,  # the language the form was filled in: the confirmation mail's
        email=email,
        name=name,
        kind=Kind.contact,
        level=owner.level + 1,
        referrer_id=owner.id,
        root_employee_id=owner.chain_root_id,
        l1_contact_id=owner.id if owner.level == 1 else None,
        created_at=now,
        email_verified_at=verified_at,
    )
    if password_hash:
        user.password_hash = password_hash
    else:
        user.set_password(signup.password)
    db.session.add(user)
    db.session.flush()
    db.session.add(
        Join(user_id=user.id, link_owner_id=owner.id, product_id=product.id if product else None, ip=ip, at=now)
    )
    link_visits_to(user, visitor_id)
    record_event(
        EventKind.signup,
        actor=user,
        link_owner=owner,
        product_id=product.id if product else None,
        source="product" if product else "invite",
        at=now,
        dedupe_key=f"signup:{user.id}",
    )
    if verified_at is None:
        landing = url_for("catalog.product", slug=product.slug) if product is not None else None
        accounts.send_verification(user, landing=landing)
    return user
