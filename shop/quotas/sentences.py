"""A quota rule said as one sentence: "At most 10 units of X per chain during Spring Festival"."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import joinedload

from shop.catalog.festival_models import FestivalItem
from shop.catalog.models import Variant
from shop.i18n import format_money
from shop.quotas.models import Audience, Measure, QuotaRule, Scope, Target, Window


def _what(rule: QuotaRule) -> str:
    if rule.target == Target.category:
        name = rule.category.name if rule.category else "?"
        return (
            _("any one item in %(category)s", category=name)
            if rule.per_sku
            else _("items in %(category)s", category=name)
        )
    if rule.target == Target.product:
        name = rule.product.name if rule.product else "?"
        return _("any one option of %(product)s", product=name) if rule.per_sku else name
    if rule.target == Target.festival_item:
        item = rule.festival_item
        return f"{item.variant.product.name} ({item.variant.name})" if item else "?"
    return _("any one item") if rule.per_sku else _("all items")


def _who(rule: QuotaRule) -> str:
    if rule.scope == Scope.chain:
        return {
            Audience.employees: _("per chain, counting its employee's own orders"),
            Audience.contacts: _("per chain, counting its contacts' orders"),
        }.get(rule.audience, _("per chain"))
    return {Audience.employees: _("per employee"), Audience.contacts: _("per contact")}.get(
        rule.audience, _("per buyer")
    )


def _when(rule: QuotaRule) -> str:
    if rule.window == Window.festival:
        return _("during %(festival)s", festival=rule.festival.name if rule.festival else "?")
    return {
        Window.order: _("per order"),
        Window.day: _("per day"),
        Window.month: _("per month"),
        Window.year: _("per year"),
    }[rule.window]


def describe(rule: QuotaRule) -> str:
    if rule.measure == Measure.amount:
        limit = format_money(rule.limit_value, current_app.config["CURRENCY"])
        return _(
            "At most %(limit)s spent on %(what)s %(who)s %(when)s",
            limit=limit,
            what=_what(rule),
            who=_who(rule),
            when=_when(rule),
        )
    return ngettext(
        "At most %(limit)d unit of %(what)s %(who)s %(when)s",
        "At most %(limit)d units of %(what)s %(who)s %(when)s",
        rule.limit_value,
        limit=rule.limit_value,
        what=_what(rule),
        who=_who(rule),
        when=_when(rule),
    )


def sentence_loads():
    """What ``describe`` reads, loaded with the rule."""
    return (
        joinedload(QuotaRule.category),
        joinedload(QuotaRule.product),
        joinedload(QuotaRule.festival),
        joinedload(QuotaRule.festival_item).joinedload(FestivalItem.variant).joinedload(Variant.product),
    )
