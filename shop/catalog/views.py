"""Storefront pages: landing (anonymous), home, category, product, search."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from shop.cart.forms import AddToCartForm
from shop.catalog import services
from shop.catalog.models import Category
from shop.extensions import db
from shop.markdown import render_markdown

bp = Blueprint("catalog", __name__)


def _page_arg() -> int:
    return request.args.get("page", 1, type=int) or 1


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return render_template("catalog/landing.html")
    return render_template(
        "catalog/home.html",
        categories=services.list_categories(),
        products=services.featured_products(),
        tier=services.tier_for(current_user),
    )


@bp.route("/c/<slug>")
@login_required
def category(slug: str):
    found = db.session.scalar(select(Category).where(Category.slug == slug)) or abort(404)
    page = services.products_in_category(found, _page_arg(), current_app.config["PAGE_SIZE"])
    return render_template("catalog/category.html", category=found, page=page,
                           categories=services.list_categories(), tier=services.tier_for(current_user))


@bp.route("/search")
@login_required
def search():
    query = request.args.get("q", "").strip()[:100]
    page = services.search_products(query, _page_arg(), current_app.config["PAGE_SIZE"]) if query else None
    return render_template("catalog/search.html", query=query, page=page, tier=services.tier_for(current_user))


@bp.route("/p/<slug>")
@login_required
def product(slug: str):
    found = services.product_by_slug(slug) or abort(404)
    form = AddToCartForm()
    form.variant_id.choices = [SelectChoice(v.id, v.name) for v in found.active_variants]
    return render_template(
        "catalog/product.html",
        product=found,
        description=render_markdown(found.description_md),
        tier=services.tier_for(current_user),
        form=form,
        retail_cap=current_app.config["RETAIL_UNIT_CAP"],
    )
