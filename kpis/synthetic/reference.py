"""The rows a synthetic data set refers to: its departments, synthetic products when the
database has fewer than ``PRODUCTS`` variants, and a festival for each launch week of the span."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, select

from kpis.synthetic import names as synthetic_names
from kpis.synthetic.plan import Span
from shop.accounts.models import Department
from shop.catalog.festival_models import Festival
from shop.catalog.models import Category, Product, SalesMode, Variant
from shop.extensions import db

DEPARTMENTS = 12
PRODUCTS = 40


@dataclass(frozen=True)
class Reference:
    departments: list[int]  # ids, in the order of their names
    variants: list[Row]  # (id, product_id, sku, employee_price) of every variant in the database
    festivals: list[tuple[datetime, datetime, int]]  # (launch, end, id), one per launch week of the span

    def festival_at(self, moment: datetime) -> int | None:
        for launch, ends, festival_id in self.festivals:
            if launch <= moment < ends:
                return festival_id
        return None


def write_reference(span: Span) -> Reference:
    """The departments, products and festivals, found by name or slug, or added (a product
    added draws its price)."""
    names = list(synthetic_names.DEPARTMENT_NAMES[:DEPARTMENTS])
    found = {d.name: d.id for d in db.session.scalars(select(Department).where(Department.name.in_(names)))}
    for name in names:
        if name not in found:
            department = Department(name=name)
            db.session.add(department)
            db.session.flush()
            found[name] = department.id
    departments = [found[n] for n in names]
    category = db.session.scalar(select(Category).where(Category.slug == "synthetic"))
    if category is None:
        category = Category(name="内购精选", slug="synthetic")
        db.session.add(category)
        db.session.flush()
    variants = list(db.session.execute(select(Variant.id, Variant.product_id, Variant.sku, Variant.employee_price)))
    if len(variants) < PRODUCTS:
        for k in range(PRODUCTS):
            slug = f"{span.prefix}-product-{k}"
            if db.session.scalar(select(Product.id).where(Product.slug == slug)):
                continue
            price = span.random.choice((1_990, 4_900, 9_900, 19_900, 39_900, 89_900))
            product = Product(
                name=synthetic_names.product(k),
                slug=slug,
                category=category,
                summary="",
                description_md="",
                sales_mode=SalesMode.direct,
                is_active=True,
            )
            product.variants.append(
                Variant(
                    sku=f"{span.prefix}-{k}",
                    name="标准款",
                    currency="CNY",
                    market_price=price,
                    employee_price=price * 7 // 10,
                    contact_price=price * 85 // 100,
                    stock=1_000_000,
                )
            )
            db.session.add(product)
        db.session.flush()
        variants = list(db.session.execute(select(Variant.id, Variant.product_id, Variant.sku, Variant.employee_price)))
    festivals = []
    for k, (launch, ends) in enumerate(span.windows):
        slug = f"{span.prefix}-festival-{k}"
        festival = db.session.scalar(select(Festival).where(Festival.slug == slug))
        if festival is None:
            festival = Festival(
                name=synthetic_names.festival(launch),
                slug=slug,
                preheat_at=launch - timedelta(days=7),
                launch_at=launch,
                ends_at=ends,
            )
            db.session.add(festival)
            db.session.flush()
        festivals.append((launch, ends, festival.id))
    return Reference(departments, variants, festivals)
