"""What is left for this buyer and their chain, item by item, for the product and cart pages,
and the cart's check of the per-order rules. Everything is counted by engine.standings."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from shop.accounts.models import User
from shop.catalog import page_cache
from shop.catalog.models import PriceTier, Product, SalesMode, Variant
from shop.catalog.services import product_by_slug
from shop.database import utcnow
from shop.quotas.engine import Standing, Take, standings
from shop.quotas.models import Measure, Scope, Window
from shop.quotas.sentences import describe


@dataclass(frozen=True)
class ItemLeft:
    """For one item (a product's option, a cart line): how many more units fit under every
    rule that applies, and the rule that sets that number."""

    key: Hashable  # what the page knows the item by: an option's name, a cart line's id
    take: Take
    units: int
    binding: Standing

    @property
    def limit_kind(self) -> str:
        return _("chain limit") if self.binding.rule.scope == Scope.chain else _("limit")

    @property
    def sentence(self) -> str:
        return describe(self.binding.rule)


@dataclass(frozen=True)
class Breach:
    """A rule that the items together would break: what is left of it and what they want."""

    standing: Standing

    @property
    def sentence(self) -> str:
        return describe(self.standing.rule)

    def amounts(self, currency: str) -> tuple[str, str]:
        allowance = self.standing.allowance
        return allowance.amount_text(allowance.left, currency), allowance.amount_text(self.standing.wanted, currency)


def variant_takes(product: Product | None, tier: PriceTier) -> tuple[tuple[str, Take], ...]:
    """The product's options for sale as takes of nothing yet (what is left, not what is
    wanted), labelled by option name: plain data that a page may cache."""
    if product is None or product.sales_mode != SalesMode.direct:
        return ()
    return tuple((variant.name, Take.of(variant, 0, tier)) for variant in product.active_variants)


def items_left(
    buyer: User, keyed: Sequence[tuple[Hashable, Take]], now: datetime
) -> tuple[list[ItemLeft], list[Breach]]:
    """Per item that some rule limits, the units that still fit on top of what the takes
    already want; and every rule the takes together break, once each."""
    found = standings(buyer, [take for _key, take in keyed], now)
    items = []
    for key, take in keyed:
        fits = [
            (units, standing)
            for standing in found
            if standing.covers(take) and (units := standing.units_more(take)) is not None
        ]
        if fits:
            units, binding = min(
                fits, key=lambda pair: (pair[0], pair[1].rule.measure != Measure.units, pair[1].rule.id)
            )
            items.append(ItemLeft(key, take, units, binding))
    return items, [Breach(standing) for standing in found if standing.broken]


def order_rule_breach(buyer: User, variants: dict[Variant, int], tier: PriceTier, now: datetime) -> Breach | None:
    """The first per-order rule that one order of ``variants`` (a cart) would break, if any."""
    takes = [Take.of(variant, quantity, tier) for variant, quantity in variants.items()]
    for standing in standings(buyer, takes, now, windows={Window.order}):
        if standing.broken:
            return Breach(standing)
    return None


def on_product_quota_panel(slug: str, *, tier, **_signal) -> Markup:
    """``shop.catalog.signals.product_quota_panel``: what is left of the buyer's and their
    chain's quotas for each option. Personal, so outside the product's cached fragment (one
    query, none when nothing is for sale); inside the buyer's own cached page, so it
    may lag like the stock shown. Placing an order reads the rules and the use afresh."""
    takes = page_cache.cached_value(("product-takes", slug, tier), lambda: variant_takes(product_by_slug(slug), tier))
    items = items_left(current_user, takes, utcnow())[0] if takes else []
    return Markup(render_template("quotas/_left.html", items=items)) if items else Markup("")
