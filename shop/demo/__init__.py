"""Demo data for ``flask shop seed-demo``: departments, people, a catalog with pictures, past orders.

``seed()`` is idempotent: every row is found by a natural key (e-mail, employee number, category
and product slug, SKU) and only what is missing is added; past orders are made only while the
database has no order at all. It adds and flushes but never commits (the caller does), and runs
inside the caller's ``shop.database.write_intent()``. Everything is drawn from fixed random seeds,
so two fresh databases get the same demo.

Past orders go through the real services (cart, place, pay by payroll, ship, complete, cancel) at
past moments, so prices, attribution, stock and the audit trail follow the same rules as live ones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from shop.accounts.models import User
from shop.database import utcnow
from shop.demo.catalog import _seed_catalog, catalog_plan
from shop.demo.festivals import _seed_festivals
from shop.demo.orders import _seed_orders
from shop.demo.people import DEMO_PASSWORD, PEOPLE, _seed_people, company_domain, demo_users, email_of, staff_logins
from shop.demo.pictures import _seed_pictures
from shop.demo.progress import Progress, progress_bar
from shop.extensions import db

# What the referrals and community demos and the tests seed with.
__all__ = [
    "DEMO_PASSWORD",
    "PEOPLE",
    "Progress",
    "catalog_plan",
    "company_domain",
    "database_is_empty",
    "demo_logins",
    "demo_users",
    "email_of",
    "progress_bar",
    "register_add_on",
    "seed",
]

# ---- the add-ons' demos --------------------------------------------------------------------
# Referrals and community seed their own demo data, with what this package gives them (the
# people, the password, the progress bar). The app factory registers them, in seeding order
# (shop.register_add_ons), so that this package never imports them.

AddOnSeed = Callable[[Progress | None, datetime], None]
_add_ons: dict[str, tuple[AddOnSeed, Callable[[], list[tuple[str, str]]] | None]] = {}


def register_add_on(name: str, seed: AddOnSeed, logins: Callable[[], list[tuple[str, str]]] | None = None) -> None:
    """``seed(progress, now)`` runs after the core's demo; ``logins()`` gives (label, e-mail)
    of accounts worth logging in with. Registering again under ``name`` changes nothing."""
    _add_ons.setdefault(name, (seed, logins))


def demo_logins() -> list[tuple[str, str, str]]:
    """(role, e-mail, password) of the accounts worth logging in with: staff, employees, and
    what the add-ons add (a contact at each level)."""
    added = [(label, email, DEMO_PASSWORD) for _, logins in _add_ons.values() if logins for label, email in logins()]
    return staff_logins() + added


# ---- the seed ------------------------------------------------------------------------------


def database_is_empty() -> bool:
    """True when there are no users. Reads on its own connection, so the caller's session
    does not start its transaction here, outside ``write_intent()``."""
    with db.engine.connect() as conn:
        return conn.execute(select(User.id).limit(1)).first() is None


def seed(progress: Progress | None = None) -> None:
    """Add whatever demo data is missing. Adds and flushes; the caller commits."""
    now = utcnow()
    _seed_people(progress, now)
    _seed_catalog(progress)
    _seed_pictures(progress)
    _seed_orders(progress, now)
    _seed_festivals(progress, now)
    for add_on_seed, _logins in _add_ons.values():  # contacts, links, leads; articles, questions
        add_on_seed(progress, now)
    db.session.flush()


def __getattr__(name: str):
    # ``DEMO_LOGINS`` depends on the configured company domain, so it is computed on access
    # (inside an app context): ``from shop.demo import DEMO_LOGINS`` works as for a constant.
    if name == "DEMO_LOGINS":
        return demo_logins()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
