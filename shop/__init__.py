"""neigou: the employee internal-purchase storefront. ``create_app`` builds the Flask app."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from flask_babel import get_locale
from sqlalchemy.engine import make_url
from werkzeug.middleware.proxy_fix import ProxyFix

from shop.config import CONFIGS
from shop.extensions import babel, csrf, db, limiter, login_manager, migrate
from shop.input_checks import init_input_checks
from shop.routing import init_converters
from shop.urls import public_host, public_url


def create_app(config: str | dict | None = None) -> Flask:
    """Build the app. ``config`` names a config class or is a dict of overrides (tests)."""
    app = Flask(__name__, instance_path=os.environ.get("NEIGOU_INSTANCE_PATH") or None, instance_relative_config=True)
    load_config(app, config)
    init_proxy(app)
    init_extensions(app)
    init_converters(app)
    init_input_checks(app)
    register_blueprints(app)
    register_reactions()
    register_add_ons()
    register_template_helpers(app)
    register_error_pages(app)
    register_cli(app)
    register_reports(app)
    from shop.security import init_security_headers  # at app creation, as the other steps

    init_security_headers(app)
    return app


def load_config(app: Flask, config: str | dict | None) -> None:
    overrides = config if isinstance(config, dict) else {}
    name = (
        config if isinstance(config, str) else overrides.get("ENV_NAME") or os.environ.get("NEIGOU_ENV", "production")
    )
    app.config.from_object(CONFIGS[name])
    app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path) / "secret_key")
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'neigou.db'}"
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://") or uri.startswith("postgresql://"):
        # psycopg 3 is the driver we install.
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri.split("://", 1)[1]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        session_options = app.config["DB_SESSION_OPTIONS"]
        if "options" in make_url(app.config["SQLALCHEMY_DATABASE_URI"]).query:
            session_options = ""  # the URL's own
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_size": app.config["DB_POOL_SIZE"],
            "max_overflow": app.config["DB_MAX_OVERFLOW"],
            **({"connect_args": {"options": session_options}} if session_options else {}),
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        }
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or "memory://"
    _check_public_url(app, overrides)
    if not app.debug:
        logging.basicConfig(level=logging.INFO)


def _check_public_url(app: Flask, overrides: dict) -> None:
    """``PUBLIC_URL`` must be an absolute http(s) URL; Flask's ``TRUSTED_HOSTS`` is its host
    plus ``EXTRA_TRUSTED_HOSTS``, so a request with any other Host header is refused (400)."""
    public = app.config.get("PUBLIC_URL")
    try:
        host = public_host(public or "")
    except ValueError:
        raise RuntimeError(
            "PUBLIC_URL must be set to the site's address, e.g. PUBLIC_URL=https://shop.example.com: "
            f"links in mail and share links are built on it (got {public!r})"
        ) from None
    if urlsplit(public).scheme not in ("http", "https"):
        raise RuntimeError(f"PUBLIC_URL must start with https:// or http:// (got {public!r})")
    if "TRUSTED_HOSTS" not in overrides:
        app.config["TRUSTED_HOSTS"] = [host, *app.config["EXTRA_TRUSTED_HOSTS"]]


def init_proxy(app: Flask) -> None:
    """Behind ``PROXY_COUNT`` reverse proxies, take the client's address, scheme and host from
    the headers they set (werkzeug's ProxyFix), so that per-address limits see the client, not
    the proxy. The forwarded host is still held to ``TRUSTED_HOSTS``."""
    count = app.config["PROXY_COUNT"]
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def _instance_secret(path: Path) -> str:
    """A secret generated once into the instance folder, which is never committed."""
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def init_extensions(app: Flask) -> None:
    # At app creation, not import: these modules import this package (shop.extensions, models).
    from shop.accounts.session import init_login
    from shop.database import configure_sqlite
    from shop.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)
    init_login(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def register_blueprints(app: Flask) -> None:
    # At app creation, not import: these modules import this package (shop.extensions, models).
    from community.views import bp as community_bp
    from referrals.views import bp as referrals_bp
    from shop.accounts.views import bp as accounts_bp
    from shop.admin.views import bp as admin_bp
    from shop.cart.views import bp as cart_bp
    from shop.catalog.views import bp as catalog_bp
    from shop.checkout.views import bp as orders_bp
    from shop.festivals.leaderboard_views import bp as leaderboards_bp
    from shop.festivals.views import bp as festivals_bp
    from shop.health import bp as health_bp
    from shop.media import bp as media_bp
    from shop.ops.views import bp as ops_bp
    from shop.payments.views import bp as payments_bp

    for blueprint in (
        health_bp,
        media_bp,
        accounts_bp,
        catalog_bp,
        cart_bp,
        orders_bp,
        festivals_bp,
        ops_bp,
        admin_bp,
        payments_bp,
        referrals_bp,
        community_bp,
        leaderboards_bp,
    ):
        app.register_blueprint(blueprint)


def register_reactions() -> None:
    """Packages that react to what the core does subscribe to its signals here, so that the
    core never imports them. Each receiver is a module-level function: blinker keeps one
    connection per receiver, however many apps are created."""
    # At app creation, not import: the add-ons import the core.
    from referrals import views as referrals_views
    from referrals.services.events import on_order_paid
    from referrals.services.leads import subscribe as subscribe_leads
    from shop.cart.quota_panel import on_product_quota_panel
    from shop.catalog import signals as catalog_signals
    from shop.festivals.banner import on_home_banner
    from shop.orders.signals import order_paid, orders_closed
    from shop.payments.card import on_orders_closed

    order_paid.connect(on_order_paid)
    orders_closed.connect(on_orders_closed)
    catalog_signals.visitor_opened_share_link.connect(referrals_views.on_visitor_opened_share_link)
    catalog_signals.member_opened_share_link.connect(referrals_views.on_member_opened_share_link)
    catalog_signals.product_aside.connect(referrals_views.on_product_aside)
    catalog_signals.product_lead_form.connect(referrals_views.on_product_lead_form)
    catalog_signals.product_quota_panel.connect(on_product_quota_panel)
    catalog_signals.home_banner.connect(on_home_banner)
    subscribe_leads()  # shop.accounts.signals.sales_rep_available: waiting leads go to the new rep


def register_add_ons() -> None:
    """The add-ons' demo data, seeded after the core's by ``flask shop seed-demo``."""
    # At app creation, not import: the add-ons import the core (their demos import shop.demo).
    from community.demo import seed_community
    from referrals.demo import contact_logins, seed_referrals
    from shop.demo import register_add_on

    register_add_on("referrals", seed_referrals, contact_logins)
    register_add_on("community", seed_community)


def register_template_helpers(app: Flask) -> None:
    # At app creation, not import: these modules import this package (shop.extensions, models).
    from shop.i18n import (
        currency_name,
        current_locale,
        format_money,
        in_parentheses,
        language_choices,
        local_date,
        local_datetime,
        local_month,
        with_colon,
        zone_name,
    )
    from shop.labels import label, level_label
    from shop.layout import site_header

    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["currency_name"] = currency_name
    app.jinja_env.filters["colon"] = with_colon
    app.jinja_env.filters["parens"] = in_parentheses
    app.jinja_env.filters["local_dt"] = local_datetime
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["local_month"] = local_month
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["level"] = level_label
    app.jinja_env.filters["zone_name"] = zone_name
    app.jinja_env.globals["company_name"] = lambda: app.config["COMPANY_NAME"]
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["current_locale"] = current_locale
    app.jinja_env.globals["language_choices"] = language_choices
    app.jinja_env.globals["site_header"] = site_header
    app.jinja_env.globals["public_url"] = public_url


def register_error_pages(app: Flask) -> None:
    # At app creation, not import: these modules import this package (shop.extensions, models).
    from shop.errors import init_error_pages

    init_error_pages(app)


def register_reports(app: Flask) -> None:
    """The KPI dashboard reads every area, so it is wired in last (kpis/__init__.py says why
    it lives outside shop/)."""
    import kpis  # at app creation: the KPIs read every area of the shop

    kpis.init_app(app)


def register_cli(app: Flask) -> None:
    # At app creation, not import: these modules import this package (shop.extensions, models).
    from shop.cli import shop_cli

    app.cli.add_command(shop_cli)
