"""The site header: the same for one user on every page, so it is rendered once and cached
(with the storefront fragments, see shop/catalog/page_cache.py); only the CSRF token of the
log-out form is filled in per request."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from shop.catalog.page_cache import CSRF_SLOT, cached_fragment, with_csrf


def site_header() -> Markup:
    search_value = request.args.get("q", "") if request.endpoint == "catalog.search" else ""
    user = current_user
    who = (user.id, user.name, user.role, user.kind) if user.is_authenticated else None
    key = ("header", who, str(get_locale()), search_value)
    header = cached_fragment(
        key, lambda: Markup(render_template("_header.html", search_value=search_value, csrf_slot=CSRF_SLOT))
    )
    return with_csrf(header)  # the log-out form, and the language switch for everyone
