"""The demo catalog in the database: every product's variants with their prices and starting
stock (``catalog_plan``, drawn from the demo's seed), and the categories, products (described
from their highlights) and variants seeded from them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from shop.catalog.models import Category, Product, SalesMode, Variant
from shop.demo.products import CATEGORIES, PRODUCTS, DemoProduct, product_slug
from shop.demo.progress import SEED, Progress, progress_bar
from shop.extensions import db
from shop.i18n import to_minor


@dataclass(frozen=True)
class VariantPlan:
    sku: str
    name: str
    market_price: int
    employee_price: int
    contact_price: int
    stock: int


def catalog_plan() -> dict[str, list[VariantPlan]]:
    """Product slug -> its variants, prices in minor units and starting stock (deterministic)."""
    currency = current_app.config["CURRENCY"]
    rng = random.Random(SEED)
    plan: dict[str, list[VariantPlan]] = {}
    for n, spec in enumerate(PRODUCTS, start=1):
        variants = []
        for j, (name, market) in enumerate(spec.variants, start=1):
            employee_pct = rng.randint(62, 78)
            contact_pct = rng.randint(employee_pct + 6, 94)
            draw = rng.random()
            if draw < 0.08:
                stock = 0
            elif draw < 0.18:
                stock = rng.randint(1, 5)
            else:
                stock = rng.randint(20, 200)
            variants.append(
                VariantPlan(
                    sku=f"DEMO-{n:03d}-{j}",
                    name=name,
                    market_price=to_minor(Decimal(market), currency),
                    employee_price=to_minor(Decimal(market * employee_pct // 100), currency),
                    contact_price=to_minor(Decimal(market * contact_pct // 100), currency),
                    stock=stock,
                )
            )
        plan[product_slug(spec)] = variants
    return plan


def _description(spec: DemoProduct, category_name: str, variants: list[VariantPlan]) -> str:
    """The product page's text, in Chinese as the rest of the demo's catalog: the summary, the
    highlights, a small table (category, options) and a line on how the product is bought."""
    lines = [spec.summary, "", "**产品亮点**", ""]
    lines += [f"- {item}" for item in spec.highlights]
    lines += ["", "| | |", "| --- | --- |", f"| 分类 | {category_name} |"]
    if variants:
        lines.append(f"| 规格 | {'、'.join(v.name for v in variants)} |")
    lines.append("")
    if spec.mode == SalesMode.lead:
        lines.append("*在“推荐客户”中留下联系方式，销售顾问会主动联系，安排后续事宜。*")
    elif spec.mode == SalesMode.share_only:
        lines.append("*本品暂不在内购商城销售，欢迎分享给亲友。*")
    else:
        lines.append("*员工享员工价；你邀请的亲友享亲友价。*")
    return "\n".join(lines) + "\n"


def _seed_catalog(progress: Progress | None) -> None:
    """Categories, products and variants (no audit entries: nobody edited the catalog)."""
    currency = current_app.config["CURRENCY"]
    existing = db.session.scalars(select(Category)).all()
    by_slug, by_name = {c.slug: c for c in existing}, {c.name: c for c in existing}
    categories = {}
    for position, (slug, name) in enumerate(CATEGORIES):
        category = by_slug.get(slug) or by_name.get(name)
        if category is None:
            category = Category(name=name, slug=slug, position=position)
            db.session.add(category)
        categories[slug] = category

    plan = catalog_plan()
    products = {p.slug: p for p in db.session.scalars(select(Product).where(Product.slug.in_(plan)))}
    skus = set(
        db.session.scalars(
            select(Variant.sku).where(Variant.sku.in_([v.sku for variants in plan.values() for v in variants]))
        )
    )
    with progress_bar(progress, "Products", len(PRODUCTS)) as bar:
        for spec in PRODUCTS:
            slug = product_slug(spec)
            product = products.get(slug)
            if product is None:
                category = categories[spec.category]
                product = Product(
                    slug=slug,
                    name=spec.name,
                    summary=spec.summary,
                    category=category,
                    description_md=_description(spec, category.name, plan[slug]),
                    sales_mode=spec.mode,
                    is_active=True,
                )
                db.session.add(product)
            for v in plan[slug]:
                if v.sku not in skus:
                    db.session.add(
                        Variant(
                            product=product,
                            sku=v.sku,
                            name=v.name,
                            currency=currency,
                            market_price=v.market_price,
                            employee_price=v.employee_price,
                            contact_price=v.contact_price,
                            stock=v.stock,
                        )
                    )
            bar.update(1)
    db.session.flush()
