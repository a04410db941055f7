"""Festival rules: scheduling, allocating stock, and giving the leftovers back at the end."""

from __future__ import annotations

import functools
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from shop.accounts.models import User
from shop.audit.services import record
from shop.catalog.festival_models import Festival, FestivalItem, Phase
from shop.catalog.models import Product, SalesMode, Variant
from shop.catalog.services import slugify
from shop.database import utcnow
from shop.errors import DomainError
from shop.extensions import db
from shop.orders import stock
from shop.quotas.models import Audience, Measure, QuotaRule, Scope, Target, Window


class FestivalError(DomainError):
    pass


def check_schedule(
    preheat_at: datetime, launch_at: datetime, continuation_at: datetime | None, ends_at: datetime
) -> None:
    if not preheat_at < launch_at:
        raise FestivalError(_("The preheat must start before the launch."))
    if continuation_at is not None and not launch_at < continuation_at < ends_at:
        raise FestivalError(_("The continuation must start after the launch and before the end."))
    if not launch_at < ends_at:
        raise FestivalError(_("The festival must end after its launch."))


def _unique_slug(name: str, festival_id: int | None = None) -> str:
    base = slugify(name)
    slug, n = base, 1
    while (found := db.session.scalar(select(Festival.id).where(Festival.slug == slug))) and found != festival_id:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _schedule(festival: Festival) -> dict:
    return {
        key: getattr(festival, key).isoformat() if getattr(festival, key) else None
        for key in ("preheat_at", "launch_at", "continuation_at", "ends_at")
    }


def create_festival(
    actor: User,
    *,
    name: str,
    description: str = "",
    preheat_at: datetime,
    launch_at: datetime,
    continuation_at: datetime | None,
    ends_at: datetime,
) -> Festival:
    name = (name or "").strip()
    if not name:
        raise FestivalError(_("Give the festival a name."))
    check_schedule(preheat_at, launch_at, continuation_at, ends_at)
    festival = Festival(
        name=name,
        slug=_unique_slug(name),
        description=(description or "").strip(),
        preheat_at=preheat_at,
        launch_at=launch_at,
        continuation_at=continuation_at,
        ends_at=ends_at,
        created_by_id=actor.id,
    )
    db.session.add(festival)
    record("festival.create", festival, actor=actor, after={"name": name, **_schedule(festival)})
    return festival


def update_festival(
    actor: User,
    festival: Festival,
    *,
    name: str,
    description: str,
    preheat_at: datetime,
    launch_at: datetime,
    continuation_at: datetime | None,
    ends_at: datetime,
    now: datetime | None = None,
) -> Festival:
    """Change the name or schedule. An ended festival is history and stays as it was."""
    now = now or utcnow()
    if festival.phase(now) == Phase.ended:
        raise FestivalError(_("An ended festival cannot be changed."))
    name = (name or "").strip()
    if not name:
        raise FestivalError(_("Give the festival a name."))
    check_schedule(preheat_at, launch_at, continuation_at, ends_at)
    if ends_at <= now:
        raise FestivalError(_("To end a festival early, set its end to a time from now on."))
    before = {"name": festival.name, "description": festival.description, **_schedule(festival)}
    festival.name, festival.description = name, (description or "").strip()
    festival.preheat_at = _to_the_minute(festival.preheat_at, preheat_at)
    festival.launch_at = _to_the_minute(festival.launch_at, launch_at)
    festival.continuation_at = _to_the_minute(festival.continuation_at, continuation_at)
    festival.ends_at = _to_the_minute(festival.ends_at, ends_at)
    after = {"name": name, "description": festival.description, **_schedule(festival)}
    record("festival.update", festival, actor=actor, before=before, after=after)
    return festival


def _to_the_minute(stored: datetime | None, given: datetime | None) -> datetime | None:
    """``given``, or ``stored`` when ``given`` is ``stored`` as the form shows it (to the minute):
    saving the page unchanged must not move a time set to the second elsewhere."""
    if stored is not None and given is not None and given == stored.replace(second=0, microsecond=0):
        return stored
    return given


def check_prices(variant: Variant, employee_price: int, contact_price: int) -> None:
    """A festival's prices obey the rule of an option's own: never above its market price. The
    error names the fields (``fields``) that break it, for the form to show it beside them."""
    above = tuple(
        name
        for name, price in (("employee_price", employee_price), ("contact_price", contact_price))
        if price > variant.market_price
    )
    if above:
        raise FestivalError(_("Employee and contact prices cannot be above the market price."), fields=above)


def allocate(
    actor: User,
    festival: Festival,
    variant: Variant,
    quantity: int,
    *,
    employee_price: int,
    contact_price: int,
    per_buyer_limit: int | None,
    now: datetime | None = None,
) -> FestivalItem:
    """Set ``quantity`` more units of ``variant`` apart for the festival, taken from general stock
    in the same transaction; refused when stock is short. Adding to an item also updates its
    prices and per-buyer limit."""
    now = now or utcnow()
    if festival.phase(now) == Phase.ended:
        raise FestivalError(_("The festival has ended; nothing more can be allocated to it."))
    if quantity < 1:
        raise FestivalError(_("Allocate at least one unit."))
    if variant.product.sales_mode != SalesMode.direct or not variant.is_active:
        raise FestivalError(_("Only items sold directly can be allocated to a festival."))
    if employee_price < 0 or contact_price < 0:
        raise FestivalError(_("Prices cannot be negative."))
    check_prices(variant, employee_price, contact_price)
    if per_buyer_limit is not None and per_buyer_limit < 1:
        raise FestivalError(_("A per-buyer limit must be at least 1, or empty for none."))
    item = db.session.scalar(
        select(FestivalItem)
        .where(FestivalItem.festival_id == festival.id, FestivalItem.variant_id == variant.id)
        .with_for_update()
    )
    stock.lock_variants([variant.id])
    short = stock.reserve({variant.id: quantity})
    if short:
        name = f"{variant.product.name} ({variant.name})"
        raise FestivalError(
            _("Only %(left)d units of %(name)s are in general stock.", left=short[variant.id], name=name)
        )
    if item is None:
        item = FestivalItem(festival_id=festival.id, variant_id=variant.id, allocated=0, sold=0, returned_units=0)
        db.session.add(item)
    before = {
        "allocated": item.allocated,
        "employee_price": item.employee_price,
        "contact_price": item.contact_price,
        "per_buyer_limit": item.per_buyer_limit,
    }
    item.allocated += quantity
    item.employee_price, item.contact_price, item.per_buyer_limit = employee_price, contact_price, per_buyer_limit
    _sync_buyer_limit(actor, item)
    record(
        "festival.allocate",
        item,
        actor=actor,
        before=before,
        after={
            "allocated": item.allocated,
            "added": quantity,
            "employee_price": employee_price,
            "contact_price": contact_price,
            "per_buyer_limit": per_buyer_limit,
            "festival_id": festival.id,
        },
    )
    return item


def _sync_buyer_limit(actor: User, item: FestivalItem) -> None:
    """A festival item's per-buyer limit is enforced as a quota rule like any other."""

    db.session.flush()
    rule = db.session.scalar(
        select(QuotaRule).where(
            QuotaRule.festival_item_id == item.id,
            QuotaRule.scope == Scope.buyer,
            QuotaRule.window == Window.festival,
            QuotaRule.measure == Measure.units,
            QuotaRule.audience == Audience.everyone,
            QuotaRule.created_by_id.is_(None),
        )
    )
    if item.per_buyer_limit is None:
        if rule is not None and rule.is_active:
            rule.is_active = False
        return
    if rule is None:
        rule = QuotaRule(
            scope=Scope.buyer,
            target=Target.festival_item,
            festival_item_id=item.id,
            window=Window.festival,
            festival_id=item.festival_id,
            measure=Measure.units,
            audience=Audience.everyone,
            limit_value=item.per_buyer_limit,
            created_by_id=None,
        )
        db.session.add(rule)
    rule.limit_value, rule.is_active = item.per_buyer_limit, True


def return_allocations(*, now: datetime | None = None, actor: User | None = None) -> int:
    """Give every ended festival's unsold allocation back to general stock, each item once,
    even when run twice or by two processes at the same time. Returns the units given back."""
    now = now or utcnow()
    due = list(
        db.session.scalars(
            select(FestivalItem.id)
            .join(Festival)
            .where(Festival.ends_at <= now, FestivalItem.returned_at.is_(None))
            .order_by(FestivalItem.id)
        )
    )
    total = 0
    for item_id in due:
        # Lock the item, then its variant (the fixed order); whoever comes second sees it returned.
        item = db.session.scalar(
            select(FestivalItem)
            .where(FestivalItem.id == item_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if item is None or item.returned_at is not None:
            continue
        stock.lock_variants([item.variant_id])
        left = item.allocated - item.sold
        done = db.session.execute(
            update(FestivalItem)
            .where(FestivalItem.id == item.id, FestivalItem.returned_at.is_(None))
            .values(returned_at=now, returned_units=left)
            .execution_options(synchronize_session=False)
        ).rowcount
        if done != 1:
            continue
        stock.release({item.variant_id: left})
        db.session.expire(item)
        record("festival.return_allocation", item, actor=actor, after={"returned_units": left, "at": now.isoformat()})
        total += left
    return total


def festival_by_slug(slug: str) -> Festival | None:
    return db.session.scalar(select(Festival).where(Festival.slug == slug))


def festival_item_by_slug(slug: str, item_id: int) -> FestivalItem | None:
    """One item of the festival called ``slug``, with its festival, variant and product: what
    buying it reads, in one query."""
    return db.session.scalar(_item_by_slug(), {"slug": slug, "item_id": item_id})  # every "buy now" asks it


@functools.cache  # one statement, built on first use: at import the models are not all mapped yet
def _item_by_slug() -> Select:
    return (
        select(FestivalItem)
        .join(FestivalItem.festival)
        .where(Festival.slug == bindparam("slug"), FestivalItem.id == bindparam("item_id"))
        .options(contains_eager(FestivalItem.festival), joinedload(FestivalItem.variant).joinedload(Variant.product))
    )


def festivals_visible(now: datetime | None = None) -> list[Festival]:
    """Festivals past their draft phase, the running and upcoming ones first."""
    now = now or utcnow()
    found = db.session.scalars(select(Festival).where(Festival.preheat_at <= now).order_by(Festival.launch_at.desc()))
    return sorted(found, key=lambda f: (f.phase(now) == Phase.ended, -f.launch_at.timestamp()))


def items_of(festival: Festival) -> list[FestivalItem]:
    """The festival's items with their variants, products and pictures, for its pages."""

    return list(
        db.session.scalars(
            select(FestivalItem)
            .where(FestivalItem.festival_id == festival.id)
            .order_by(FestivalItem.id)
            .options(selectinload(FestivalItem.variant).selectinload(Variant.product).selectinload(Product.images))
        )
    )
