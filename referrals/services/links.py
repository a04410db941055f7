"""Referral codes and links: whose a code is, the invite and product share links, whether a
link still admits sign-ups, and the share poster for a link."""

from __future__ import annotations

import re
from pathlib import Path

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from referrals.services import ReferralError, poster_cache
from referrals.services.poster import card_png, invite_poster_png, poster_png
from shop.accounts.models import MAX_LEVEL, User
from shop.catalog.images import upload_dir
from shop.catalog.models import Product
from shop.catalog.services import product_by_slug
from shop.extensions import db
from shop.lettering import font_path
from shop.urls import public_url

CODE_RE = re.compile(r"[A-Za-z0-9]{4,16}")


class BadLink(ReferralError):
    """The code is malformed or unknown."""


class LinkClosed(ReferralError):
    """The link is known but admits no sign-up (deactivated owner, depth limit). Visits count."""


def owner_by_code(code: str | None) -> User:
    """The owner of a well-formed, known code; BadLink otherwise (never a server error)."""
    if not code or not CODE_RE.fullmatch(code):
        raise BadLink(_("This link is not valid. Check that you copied all of it."))
    owner = db.session.scalar(select(User).where(User.referral_code == code))
    if owner is None:
        raise BadLink(_("This link is not valid. Check that you copied all of it."))
    return owner


def closed_reason(owner: User) -> str | None:
    """Why nobody can join through ``owner``'s links, or None when they can."""
    if not owner.is_active_flag or owner.email_verified_at is None:
        return _(
            "This link is no longer active, so it cannot be used to join. Ask an employee you know for a new link."
        )
    if owner.level >= MAX_LEVEL:
        # Shown to anonymous visitors: who invited the link's owner is not theirs to know.
        return _(
            "Our shop admits friends of employees and their friends only, so this link cannot be used to "
            "join. Ask an employee you know, or the person who shared it, for an employee's link."
        )
    return None


def check_open(owner: User) -> None:
    reason = closed_reason(owner)
    if reason:
        raise LinkClosed(reason)


def invite_url(user: User) -> str:
    return public_url("referrals.join", code=user.referral_code)


def share_url(user: User, product: Product) -> str:
    return public_url("catalog.product", slug=product.slug, ref=user.referral_code)


def shareable_product(slug: str) -> Product | None:
    return product_by_slug(slug)


def _picture_path(product: Product) -> Path | None:
    if product.cover is None:
        return None
    path = upload_dir() / product.cover.filename
    return path if path.is_file() else None


def product_poster(user: User, product: Product) -> bytes:
    # A poster travels beyond the shop (chats, walls): visitors never see prices (DESIGN.md).
    return _poster(
        poster_png,
        title=product.name,
        picture=_picture_path(product),
        sharer=_("Shared by %(name)s", name=user.name),
        url=share_url(user, product),
        caption=_("Scan the code or long-press it to see it"),
        heading=_company_heading(),
        lines=(product.summary,) if product.summary else (),
    )


def invite_poster(user: User, company: str) -> bytes:
    """The invite poster; only for those whose link admits sign-ups (``may_invite``)."""
    return _poster(
        invite_poster_png,
        title=_("Join the internal purchase shop of %(company)s", company=company),
        sharer=_("Invited by %(name)s", name=user.name),
        url=invite_url(user),
        caption=_("Scan the code or long-press it to join"),
        heading=_company_heading(),
        lines=_benefits(),
    )


def link_card() -> bytes:
    """The picture chat apps show for an invite link (og:image): the same for every link."""
    company = current_app.config["COMPANY_NAME"]
    return _poster(
        card_png,
        heading=_company_heading(),
        title=_("Join the internal purchase shop of %(company)s", company=company),
        lines=_benefits(),
    )


def _benefits() -> tuple[str, ...]:
    return (
        _("Friends-and-family prices on what employees buy"),
        _("Recommended by someone you know who works here"),
        _("Shipped by the company, with its guarantee"),
    )


def _company_heading() -> str:
    return _("%(company)s · internal purchase", company=current_app.config["COMPANY_NAME"])


def _poster(draw, **shown) -> bytes:
    """The poster of what it shows, drawn once per distinct content (``poster_cache``); the
    words are in the viewer's language, so the language is part of the key."""
    shown["font"] = font_path(current_app.config.get("POSTER_FONT"))
    key = {**shown, "kind": draw.__name__, "locale": str(get_locale())}
    return poster_cache.cached(key, lambda: draw(**shown))
