"""Storefront pages: landing (anonymous), home, category, product, search.

Home, category and product pages are cached fragments (see page_cache) inside a personal shell.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import get_locale
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from referrals import views as referrals
from shop.accounts.session import cached_identity
from shop.catalog import page_cache, services
from shop.catalog.models import Category, SalesMode
from shop.database import utcnow
from shop.extensions import db
from shop.markdown import render_markdown
from shop.pagination import page_arg
from shop.quotas.left import items_left, variant_takes

bp = Blueprint("catalog", __name__)


def _shell(body: Markup | None, title: str | None = None, aside: Markup | None = None):
    if body is None:
        abort(404)
    return render_template("catalog/page.html", body=page_cache.with_csrf(body), title=title, aside=aside)


def _key(*parts):
    return (*parts, services.tier_for(current_user), str(get_locale()))


def _personal(*parts):
    """The key of a whole page for the current user: everything the header and the share
    panel show of them (the same fields ``_served_from_cache`` reads), and the page's parts."""
    user = current_user
    return _page_key(user.id, user.name, user.role, user.kind, user.referral_code, services.tier_for(user), parts)


def _page_key(user_id, name, role, kind, referral_code, tier, parts) -> tuple:
    return (user_id, name, role, kind, referral_code, tier, str(get_locale()), *parts)


def _served_from_cache(*parts) -> str | None:
    """The whole page from the cache when the session's user is known there, without
    loading the user at all (the fast path of storefront reads); else None."""
    row = cached_identity()
    if row is None:
        return None
    return page_cache.cached_personal_page(
        _page_key(
            row["id"],
            row["name"],
            row["role"],
            row["kind"],
            row["referral_code"],
            services.tier_of_kind(row["kind"]),
            parts,
        )
    )


@bp.route("/")
def home():
    if (page := _served_from_cache("home")) is not None:
        return page
    if not current_user.is_authenticated:
        return render_template("catalog/landing.html")
    tier = services.tier_for(current_user)

    def render():
        return Markup(
            render_template(
                "catalog/home.html",
                categories=services.list_categories(),
                products=services.featured_products(),
                tier=tier,
            )
        )

    return page_cache.personal_page(_personal("home"), lambda: _shell(page_cache.cached_fragment(_key("home"), render)))


@bp.route("/c/<slug>")
def category(slug: str):
    number = page_arg()
    if (page := _served_from_cache("category", slug, number)) is not None:
        return page
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    tier = services.tier_for(current_user)

    def render():
        found = db.session.scalar(select(Category).where(Category.slug == slug))
        if found is None:
            return None
        page = services.products_in_category(found, number, current_app.config["PAGE_SIZE"])
        return Markup(
            render_template(
                "catalog/category.html", category=found, page=page, categories=services.list_categories(), tier=tier
            )
        )

    key = _key("category", slug, number)
    return page_cache.personal_page(
        _personal("category", slug, number), lambda: _shell(page_cache.cached_fragment(key, render))
    )


@bp.route("/search")
@login_required
def search():
    query = request.args.get("q", "").strip()[:100]
    page = services.search_products(query, page_arg(), current_app.config["PAGE_SIZE"]) if query else None
    return render_template("catalog/search.html", query=query, page=page, tier=services.tier_for(current_user))


@bp.route("/p/<slug>")
def product(slug: str):
    """The product page; ``?ref=<code>`` makes it a share link: a visitor sees the teaser and
    can join, and the visit counts for the link's owner."""
    ref = request.args.get("ref")
    if ref is None and (cached := _served_from_cache("product", slug)) is not None:
        return cached
    if not current_user.is_authenticated:
        if ref is not None:
            return referrals.product_teaser(slug, ref)
        return current_app.login_manager.unauthorized()
    tier = services.tier_for(current_user)

    def render():
        found = services.product_by_slug(slug)
        if found is None:
            return None
        return Markup(
            render_template(
                "catalog/_product_body.html",
                product=found,
                tier=tier,
                csrf_slot=page_cache.CSRF_SLOT,
                quota_slot=page_cache.QUOTA_SLOT,
                description=render_markdown(found.description_md),
                lead_form=referrals.lead_form_for_fragment() if found.sales_mode == SalesMode.lead else None,
            )
        )

    def page():
        body = page_cache.cached_fragment(_key("product", slug), render)
        if body is not None and ref:
            referrals.count_member_visit(slug, ref)
        if body is not None:
            body = page_cache.fill_slot(body, page_cache.QUOTA_SLOT, _quota_left(slug, tier))
        return _shell(body, aside=referrals.share_panel(slug) if body is not None else None)

    if ref:  # a visit through a share link is counted: never served from the cache
        return page()
    return page_cache.personal_page(_personal("product", slug), page)


def _quota_left(slug: str, tier) -> Markup:
    """What is left of the buyer's and their chain's quotas for each option: personal, so
    outside the product's cached fragment (two small queries, none when nothing is for sale);
    inside the buyer's own cached page, so it may lag like the stock shown. Ordering checks."""
    takes = page_cache.cached_value(
        ("product-takes", slug, tier), lambda: variant_takes(services.product_by_slug(slug), tier)
    )
    items = items_left(current_user, takes, utcnow())[0] if takes else []
    return Markup(render_template("quotas/_left.html", items=items)) if items else Markup("")
