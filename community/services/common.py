"""Small helpers the community services share: tags, products, pages of results."""

from __future__ import annotations

import re
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from community.errors import CommunityError
from community.models import Tag
from shop.accounts.models import Role, User
from shop.catalog.models import Product
from shop.extensions import db

# The same post by the same person again within this time is the first one sent twice (a double
# tap on a phone, a page sent again): nothing new is made, the person lands on the first one.
REPOST_WINDOW = timedelta(minutes=10)

MAX_TAGS = 8
TAG_MAX_LENGTH = 40
_TAG_SPLIT = re.compile(r"[,，、;；]")


def parse_tags(text: str | None) -> list[str]:
    """Comma-separated tags (Chinese commas too), trimmed, lower case, without duplicates."""
    names: list[str] = []
    for part in _TAG_SPLIT.split(text or ""):
        name = " ".join(part.split()).lower()
        if not name:
            continue
        if len(name) > TAG_MAX_LENGTH:
            raise CommunityError(_("A tag can have at most %(n)d characters.", n=TAG_MAX_LENGTH))
        if name not in names:
            names.append(name)
    if len(names) > MAX_TAGS:
        raise CommunityError(_("At most %(n)d tags.", n=MAX_TAGS))
    return names


def tags_named(names: list[str]) -> list[Tag]:
    """The tags of these names, creating the missing ones."""
    if not names:
        return []
    found = {tag.name: tag for tag in db.session.scalars(select(Tag).where(Tag.name.in_(names)))}
    for name in names:
        if name not in found:
            found[name] = Tag(name=name)
            db.session.add(found[name])
    return [found[name] for name in names]


def active_product(product_id: int | None) -> Product | None:
    """The product a post is about; an unknown or withdrawn one is refused."""
    if not product_id:
        return None
    product = db.session.get(Product, product_id)
    if product is None or not product.is_active:
        raise CommunityError(_("Choose a product from the catalog."))
    return product


def product_choices() -> list[tuple[int, str]]:
    return list(
        db.session.execute(
            select(Product.id, Product.name).where(Product.is_active.is_(True)).order_by(Product.name)
        ).all()
    )


def operators() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_((Role.operator, Role.admin)), User.is_active_flag.is_(True))
            .order_by(User.name)
        )
    )


def can_write_articles(user: User) -> bool:
    """Employees and operators write articles; contacts read and ask."""
    return user.is_employee or user.is_operator


def same_text(first: str | None, second: str | None) -> bool:
    """The same words, whatever the spaces and line breaks between them (a page sent again may
    carry other line endings)."""
    return (first or "").split() == (second or "").split()
