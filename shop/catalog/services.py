"""Catalog rules and queries: price tiers, product editing, stock adjustment, storefront lists."""

from __future__ import annotations

import re
import secrets
import unicodedata

from flask_babel import gettext as _
from pypinyin import lazy_pinyin
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from shop.accounts.models import Kind, User
from shop.audit.services import record
from shop.catalog import page_cache
from shop.catalog.images import Bounded, bound_stored, delete_image_file, store_image
from shop.catalog.models import (
    Category,
    PriceTier,
    Product,
    ProductImage,
    SalesMode,
    Variant,
)
from shop.database import after_commit
from shop.errors import DomainError
from shop.extensions import db
from shop.pagination import Page, paginate


class CatalogError(DomainError):
    pass


def tier_for(user: User) -> PriceTier:
    return tier_of_kind(user.kind)


def tier_of_kind(kind: Kind) -> PriceTier:
    return PriceTier.employee if kind == Kind.employee else PriceTier.contact


def slugify(text: str) -> str:
    """A readable slug: Chinese characters by their pinyin (pypinyin, which knows the readings
    of words as well as characters: our own table of readings would not), other letters folded
    to ASCII; text with nothing readable gets a short random id (``unique_slug`` keeps slugs
    unique either way)."""
    romanised = "-".join(lazy_pinyin(text or ""))
    ascii_text = unicodedata.normalize("NFKD", romanised).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:90].strip("-")
    return slug or f"p-{secrets.token_hex(3)}"


def unique_slug(model, base: str, *, exclude_id: int | None = None) -> str:
    """``base``, or ``base-2``, ``base-3``... the first that no other row of ``model`` uses."""
    taken = set(
        db.session.scalars(
            select(model.slug).where(model.slug.startswith(base, autoescape=True), model.id != (exclude_id or 0))
        )
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


# ---- storefront queries ---------------------------------------------------------------------


def _storefront_products():
    """Active products that can be had: one sold directly needs an active option to be listed."""
    purchasable = select(Variant.id).where(Variant.product_id == Product.id, Variant.is_active.is_(True)).exists()
    return (
        select(Product)
        .join(Product.category)
        .where(Product.is_active.is_(True), or_(Product.sales_mode != SalesMode.direct, purchasable))
        .options(selectinload(Product.variants), selectinload(Product.images))
    )


def list_categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))


def featured_products(limit: int = 12) -> list[Product]:
    return list(
        db.session.scalars(_storefront_products().order_by(Product.created_at.desc(), Product.id.desc()).limit(limit))
    )


def products_in_category(category: Category, page: int, per_page: int) -> Page:
    query = _storefront_products().where(Product.category_id == category.id).order_by(Product.name, Product.id)
    return paginate(query, page, per_page)


def search_products(text: str, page: int, per_page: int) -> Page:
    words = [w for w in (text or "").split() if w][:8]
    query = _storefront_products()
    for word in words:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Product.name.ilike(f"%{escaped}%", escape="\\"))
    return paginate(query.order_by(Product.name, Product.id), page, per_page)


def product_by_slug(slug: str, *, include_inactive: bool = False) -> Product | None:
    query = (
        select(Product)
        .where(Product.slug == slug)
        .options(selectinload(Product.variants), selectinload(Product.images), selectinload(Product.category))
    )
    product = db.session.scalar(query)
    if product is None or (not product.is_active and not include_inactive):
        return None
    return product


# ---- operator edits ------------------------------------------------------------------------


def save_category(actor: User, category: Category | None, *, name: str, slug: str, position: int) -> Category:
    _changed()
    creating = category is None
    category = category or Category()
    before = None if creating else {"name": category.name, "slug": category.slug, "position": category.position}
    category.name, category.position = name.strip(), position
    category.slug = slugify(slug) if slug else unique_slug(Category, slugify(name), exclude_id=category.id)
    db.session.add(category)
    _flush_unique(_("A category with this name or slug exists already."))
    record(
        "category.create" if creating else "category.update",
        category,
        actor=actor,
        before=before,
        after={"name": category.name, "slug": category.slug, "position": category.position},
    )
    return category


def save_product(
    actor: User,
    product: Product | None,
    *,
    name: str,
    slug: str,
    category_id: int,
    summary: str,
    description_md: str,
    sales_mode: SalesMode,
    is_active: bool,
) -> Product:
    _changed()
    if db.session.get(Category, category_id) is None:
        raise CatalogError(_("Choose an existing category."))
    creating = product is None
    product = product or Product()
    before = None if creating else _product_state(product)
    product.name = name.strip()
    # A slug the operator typed must be free (refused below otherwise); one made from the name
    # is made unique.
    product.slug = slugify(slug) if slug else unique_slug(Product, slugify(name), exclude_id=product.id)
    product.category_id = category_id
    product.summary = summary.strip()
    product.description_md = description_md
    product.sales_mode = sales_mode
    product.is_active = is_active
    db.session.add(product)
    _flush_unique(_("A product with this slug exists already."))
    record(
        "product.create" if creating else "product.update",
        product,
        actor=actor,
        before=before,
        after=_product_state(product),
    )
    return product


def _product_state(product: Product) -> dict:
    return {
        "name": product.name,
        "slug": product.slug,
        "category_id": product.category_id,
        "summary": product.summary,
        "description_md": product.description_md,
        "sales_mode": str(product.sales_mode),
        "is_active": product.is_active,
    }


def _check_prices(market: int, employee: int, contact: int) -> None:
    if min(market, employee, contact) < 0:
        raise CatalogError(_("Prices cannot be negative."))
    if employee > market or contact > market:
        raise CatalogError(_("Employee and contact prices cannot be above the market price."))


def save_variant(
    actor: User,
    product: Product,
    variant: Variant | None,
    *,
    sku: str,
    name: str,
    currency: str,
    market_price: int,
    employee_price: int,
    contact_price: int,
    is_active: bool,
    initial_stock: int = 0,
) -> Variant:
    _changed()
    _check_prices(market_price, employee_price, contact_price)
    creating = variant is None
    if creating:
        if initial_stock < 0:
            raise CatalogError(_("Stock cannot be negative."))
        variant = Variant(product=product, stock=initial_stock)
    before = None if creating else _variant_state(variant)
    variant.sku, variant.name, variant.currency = sku.strip(), name.strip(), currency
    variant.market_price, variant.employee_price, variant.contact_price = market_price, employee_price, contact_price
    variant.is_active = is_active
    db.session.add(variant)
    _flush_unique(_("This SKU exists already."))
    record(
        "variant.create" if creating else "variant.update",
        variant,
        actor=actor,
        before=before,
        after=_variant_state(variant),
    )
    return variant


def _variant_state(variant: Variant) -> dict:
    return {
        "sku": variant.sku,
        "name": variant.name,
        "market_price": variant.market_price,
        "employee_price": variant.employee_price,
        "contact_price": variant.contact_price,
        "stock": variant.stock,
        "is_active": variant.is_active,
    }


def adjust_stock(actor: User, variant: Variant, delta: int, reason: str) -> int:
    _changed()
    """Add (or, with a negative delta, remove) stock atomically; never below zero."""
    if delta == 0:
        raise CatalogError(_("Enter a change other than zero."))
    result = db.session.execute(
        update(Variant)
        .where(Variant.id == variant.id, Variant.stock + delta >= 0)
        .values(stock=Variant.stock + delta)
        .returning(Variant.stock)
    ).first()
    if result is None:
        raise CatalogError(_("Only %(stock)d in stock: cannot remove %(n)d.", stock=variant.stock, n=-delta))
    new_stock = result[0]
    db.session.refresh(variant)
    record(
        "stock.adjust",
        variant,
        actor=actor,
        before={"stock": new_stock - delta},
        after={"stock": new_stock},
        reason=reason,
    )
    return new_stock


def add_image(actor: User, product: Product, data: bytes) -> ProductImage:
    _changed()
    filename, width, height = store_image(data)
    position = max((image.position for image in product.images), default=-1) + 1
    image = ProductImage(product=product, filename=filename, width=width, height=height, position=position)
    db.session.add(image)
    record("product.image_add", product, actor=actor, after={"image": filename})
    return image


def bound_image(image: ProductImage) -> Bounded | None:
    """Replace a stored picture larger than ``IMAGE_MAX_EDGE`` by a bounded copy (pictures
    uploaded before uploads were bounded); the old file goes once the change commits."""
    result = bound_stored(image.filename)
    if result is None:
        return None
    _changed()
    image.filename, (image.width, image.height) = result.new, result.after
    record(
        "product.image_bound",
        image.product,
        actor=None,
        before={"image": result.old, "size": list(result.before)},
        after={"image": result.new, "size": list(result.after)},
    )
    after_commit(lambda: delete_image_file(result.old))
    return result


def remove_image(actor: User, image: ProductImage) -> None:
    _changed()
    product = image.product
    db.session.delete(image)
    record("product.image_remove", product, actor=actor, before={"image": image.filename})
    filename = image.filename
    after_commit(lambda: delete_image_file(filename))


def _changed() -> None:
    """The storefront shows the change once it commits, in every worker."""
    page_cache.forget_after_commit()


def _flush_unique(message: str) -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise CatalogError(message) from exc
