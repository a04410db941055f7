"""Storefront pages: landing (anonymous), home, category, product, search.

Home, category and product pages are cached fragments (see page_cache) inside a personal shell.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, session
from flask_babel import get_locale
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from shop.accounts.session import login_required_unless
from shop.catalog import page_cache, services, signals
from shop.catalog.models import Category, SalesMode
from shop.catalog.signals import first_answer
from shop.extensions import db
from shop.markdown import render_markdown
from shop.pagination import page_arg

bp = Blueprint("catalog", __name__)


def _shell(body: Markup | None, title: str | None = None, aside: Markup | None = None):
    if body is None:
        abort(404)
    return render_template("catalog/page.html", body=page_cache.with_csrf(body), title=title, aside=aside)


def _key(*parts):
    return (*parts, services.tier_for(current_user), str(get_locale()))


def _personal(*parts):
    """The key of a whole page for the current user: everything the header and the share
    panel show of them, and the page's parts."""
    user = current_user
    tier = services.tier_for(user)
    return (user.id, user.name, user.role, user.kind, user.referral_code, tier, str(get_locale()), *parts)


@bp.route("/")
def home():
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
                banner_slot=page_cache.BANNER_SLOT,
            )
        )

    page = page_cache.personal_page(_personal("home"), lambda: _shell(page_cache.cached_fragment(_key("home"), render)))
    banner = first_answer(signals.home_banner, None) or Markup("")
    return page_cache.fill_slot(Markup(page), page_cache.BANNER_SLOT, banner)


@bp.route("/c/<slug>")
@login_required
def category(slug: str):
    number = page_arg()
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
@login_required_unless(lambda: "ref" in request.args)
def product(slug: str):
    """The product page; ``?ref=<code>`` makes it a share link: a visitor sees the teaser and
    can join, and the visit counts for the link's owner (shop/catalog/signals.py)."""
    ref = request.args.get("ref")
    if not current_user.is_authenticated:
        return first_answer(signals.visitor_opened_share_link, slug, ref=ref) or abort(404)
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
                lead_form=first_answer(signals.product_lead_form, slug) if found.sales_mode == SalesMode.lead else None,
            )
        )

    def page():
        body = page_cache.cached_fragment(_key("product", slug), render)
        if body is not None and ref:
            signals.member_opened_share_link.send(slug, ref=ref)
        if body is not None:
            panel = first_answer(signals.product_quota_panel, slug, tier=tier) or Markup("")
            body = page_cache.fill_slot(body, page_cache.QUOTA_SLOT, panel)
        return _shell(body, aside=first_answer(signals.product_aside, slug) if body is not None else None)

    if ref:  # a visit through a share link is counted: never served from the cache
        return page()
    # What is left of the quotas counts the cart: the cart's pages mark the session when they
    # change it, so that the page kept for the buyer is not the one before the change.
    return page_cache.personal_page(_personal("product", slug, session.get("cart_mark")), page)
