"""What is left for this buyer and their chain, item by item, for the product, cart and
festival pages, and the cart's check of the per-order rules. Everything is counted by
engine.standings; the pages only hint, placing an order decides under its locks."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from shop.accounts.models import User
from shop.catalog.festival_models import FestivalItem
from shop.catalog.models import PriceTier, Product, SalesMode, Variant
from shop.quotas.engine import Standing, Take, standings
from shop.quotas.models import Measure, Scope, Window
from shop.quotas.sentences import describe


@dataclass(frozen=True)
class RuleLeft:
    """One rule that limits an item: how many more units of the item it lets in."""

    units: int
    standing: Standing

    @property
    def limit_kind(self) -> str:
        return _limit_kind(self.standing)

    @property
    def sentence(self) -> str:
        return describe(self.standing.rule)


def _limit_kind(standing: Standing) -> str:
    return _("chain limit") if standing.rule.scope == Scope.chain else _("limit")


@dataclass(frozen=True)
class ItemLeft:
    """For one item (a product's option, a cart line, a festival item): how many more units fit
    under every rule that applies, and the rule that sets that number."""

    key: Hashable  # what the page knows the item by: an option's name, a cart line's id
    take: Take
    units: int
    binding: Standing
    rules: tuple[RuleLeft, ...] = ()  # every rule that limits the item, the tightest first

    @property
    def limit_kind(self) -> str:
        return _limit_kind(self.binding)

    @property
    def sentence(self) -> str:
        return describe(self.binding.rule)

    @property
    def used_up_by(self) -> Scope | None:
        """Whose use leaves nothing of this item: the buyer's own first, then the chain's;
        None when something is left or only a rule of one order leaves nothing."""
        if self.units > 0:
            return None
        spent = {
            rule.standing.rule.scope
            for rule in self.rules
            if rule.units == 0 and rule.standing.rule.window != Window.order
        }
        for scope in (Scope.buyer, Scope.chain):
            if scope in spent:
                return scope
        return None


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


@dataclass(frozen=True)
class ProductTakes:
    """The product's options for sale and in stock as takes of nothing yet (what is left, not
    what is wanted), labelled by option name; ``several`` when the product has more than one
    option for sale (sold out or not), so that the panel names them. Plain data that a page
    may cache, like the stock shown beside it."""

    takes: tuple[tuple[str, Take], ...] = ()
    several: bool = False


def variant_takes(product: Product | None, tier: PriceTier) -> ProductTakes:
    if product is None or product.sales_mode != SalesMode.direct:
        return ProductTakes()
    variants = product.active_variants
    in_stock = tuple((variant.name, Take.of(variant, 0, tier)) for variant in variants if variant.stock > 0)
    return ProductTakes(in_stock, len(variants) > 1)


def festival_item_take(item: FestivalItem, tier: PriceTier) -> Take:
    """Buying nothing yet of a festival item at its festival price, as placing an order takes it."""
    variant = item.variant
    return Take(
        variant.id, variant.product_id, variant.product.category_id, 0, item.price_for(tier), item.id, item.festival_id
    )


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
            fits.sort(key=lambda pair: (pair[0], pair[1].rule.measure != Measure.units, pair[1].rule.id))
            units, binding = fits[0]
            items.append(ItemLeft(key, take, units, binding, tuple(RuleLeft(*pair) for pair in fits)))
    return items, [Breach(standing) for standing in found if standing.broken]


def order_rule_breach(buyer: User, variants: dict[Variant, int], tier: PriceTier, now: datetime) -> Breach | None:
    """The first per-order rule that one order of ``variants`` (a cart) would break, if any."""
    takes = [Take.of(variant, quantity, tier) for variant, quantity in variants.items()]
    for standing in standings(buyer, takes, now, windows={Window.order}):
        if standing.broken:
            return Breach(standing)
    return None
