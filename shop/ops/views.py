"""The operators' area under /ops. Catalog and fulfilment routes live in their own modules."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from shop import caching
from shop.accounts.session import operator_required
from shop.catalog.models import Product, Variant
from shop.extensions import db
from shop.orders.models import Order, OrderStatus

bp = Blueprint("ops", __name__, url_prefix="/ops")


@bp.route("/")
@operator_required
def dashboard():
    counts = dict(db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
    low_stock = db.session.scalars(
        select(Variant)
        .join(Variant.product)
        .where(Variant.is_active.is_(True), Variant.stock < 5)
        .order_by(Variant.stock, Variant.id)
        .limit(20)
    ).all()
    products = db.session.scalar(select(func.count(Product.id)))
    return render_template(
        "ops/dashboard.html", counts=counts, statuses=list(OrderStatus), low_stock=low_stock, products=products
    )


@bp.route("/caches")
@operator_required
def caches():
    """Each cache of this worker: whether it is on, its entries, hits and misses."""
    return render_template("ops/caches.html", caches=caching.caches())


from shop.ops import catalog, festivals, fulfilment, payroll, quotas, refunds, shipping  # noqa: E402,F401  (routes register on bp)
